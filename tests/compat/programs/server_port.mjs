// `new Server(port)`, as socket.io's docs start a standalone server, then io.close(callback): the
// port is free again afterwards.
import { createServer } from "node:net";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";

const port = Number(process.env.PORT);
const io = new Server(port, { cors: { origin: "*" } });

io.on("connection", (socket) => {
  socket.emit("hello", "world");
});

const socket = connect(`http://localhost:${port}`);
socket.on("hello", (value) => {
  socket.disconnect();
  io.close((err) => {
    const probe = createServer();
    probe.once("error", (e) => report(value, err, e.code));
    probe.listen(port, () => probe.close(() => report(value, err, "free")));
  });
});

function report(hello, closeError, port) {
  console.log(JSON.stringify({ hello, closeError: closeError?.message ?? null, port }));
}
