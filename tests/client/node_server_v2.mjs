// A scenario server on the real npm socket.io 2.5.1 (Socket.IO v4 over Engine.IO v3), for our
// client with `protocol: 4` (tests/client_socket_io_v2.test.ts).
//
//   node tests/client/node_server_v2.mjs PORT     (0 picks a free port)
//
// Prints `listening on http://127.0.0.1:PORT`; exits on SIGTERM/SIGINT. Namespaces `/`, `/custom`
// and `/private` (whose middleware refuses unless the query has token=ok: `not authorized`, or
// with token=data the error's data `{ reason: "bad token" }`). On connection each socket emits
// `hello` with its id and the namespace's query token, then:
// - `message` -> `message-back`; `message-with-ack` -> ack(...args); `ack-never` -> no ack
// - `ask(q)` -> `question(q, ack)` to the client, then `answer(answer)`
// - `join(room, ack)`; `to-room(room, ...args)` -> `room-back(...args)` to the room;
//   `broadcast(...args)` -> `broadcast-back(...args)` to the namespace
// - `drop` -> closes the Engine.IO connection; `server-disconnect` -> socket.disconnect()
// - `whoami` -> ack({ id, transport, rooms })
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const createIo = require("socket.io-v2");

const port = Number(process.argv[2] ?? 0);
const httpServer = createServer();
const io = createIo(httpServer, { pingInterval: 300, pingTimeout: 200, cookie: false });

function scenarios(nsp) {
  return (socket) => {
    socket.emit("hello", { id: socket.id, token: socket.handshake.query.token ?? null });
    socket.on("message", (...args) => socket.emit("message-back", ...args));
    socket.on("message-with-ack", (...args) => {
      const ack = args.pop();
      ack(...args);
    });
    socket.on("ack-never", () => {});
    socket.on("ask", (question) => {
      socket.emit("question", question, (answer) => socket.emit("answer", answer));
    });
    socket.on("join", (room, ack) => {
      socket.join(room, () => ack?.(true));
    });
    socket.on("to-room", (room, ...args) => nsp.to(room).emit("room-back", ...args));
    socket.on("broadcast", (...args) => nsp.emit("broadcast-back", ...args));
    socket.on("drop", () => socket.conn.close());
    socket.on("server-disconnect", () => socket.disconnect());
    socket.on(
      "whoami",
      (ack) => ack({ id: socket.id, transport: socket.conn.transport.name, rooms: Object.keys(socket.rooms) }),
    );
  };
}

io.on("connection", scenarios(io.of("/")));
io.of("/custom").on("connection", scenarios(io.of("/custom")));
io.of("/private").use((socket, next) => {
  const token = socket.handshake.query.token;
  if (token === "ok") return next();
  const err = new Error("not authorized");
  if (token === "data") err.data = { reason: "bad token" };
  next(err);
}).on("connection", scenarios(io.of("/private")));

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});

function stop() {
  io.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
