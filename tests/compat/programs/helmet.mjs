// io.engine.use() with helmet, as socket.io's docs show it ("Usage with Express" / engine
// middlewares): helmet's headers on the engine's answers, and the connection still works.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import helmet from "helmet";

const httpServer = createServer();
const io = new Server(httpServer);

io.engine.use(helmet());

io.on("connection", (socket) => {
  socket.on("hello", (callback) => callback("world"));
});

httpServer.listen(process.env.PORT, async () => {
  const url = `http://localhost:${process.env.PORT}`;
  const handshake = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  await handshake.text();
  const headers = {};
  for (
    const name of ["x-content-type-options", "x-frame-options", "strict-transport-security", "x-dns-prefetch-control"]
  ) {
    headers[name] = handshake.headers.get(name);
  }
  const socket = connect(url);
  const reply = await socket.emitWithAck("hello");
  socket.disconnect();
  io.close();
  console.log(JSON.stringify({ status: handshake.status, headers, reply }));
});
