// The client scenario server on the real npm socket.io 4.8 (the oracle for the client suite).
//
//   node tests/client/node_server.mjs PORT     (0 picks a free port)
//
// Prints `listening on http://127.0.0.1:PORT`; exits on SIGTERM/SIGINT. The scenarios (the same in
// python_server.py and our_server.ts) are described in tests/client/_suite.ts.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 0);
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  connectTimeout: 1000,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
});
// On another path, a server with connection state recovery (which appends an offset to every
// event it sends, so the other tests do not use it).
const recovering = new Server(httpServer, {
  path: "/recovery/",
  pingInterval: 300,
  pingTimeout: 200,
  cors: { origin: "*" },
  connectionStateRecovery: { maxDisconnectionDuration: 10000, skipMiddlewares: true },
});
recovering.on("connection", (socket) => {
  socket.on("broadcast", (...args) => recovering.emit("broadcast-back", ...args));
  socket.on("drop", () => socket.conn.close());
});

const tries = new Map();

function scenarios(socket) {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("ack-never", () => {});
  socket.on("flaky", (key, ack) => {
    const n = (tries.get(key) ?? 0) + 1;
    tries.set(key, n);
    if (n >= 2) ack(`ok after ${n}`);
  });
  socket.on("ask", (question) => {
    socket.emit("question", question, (answer) => socket.emit("answer", answer));
  });
  socket.on("broadcast", (...args) => io.emit("broadcast-back", ...args));
  socket.on("drop", () => socket.conn.close());
  socket.on("server-disconnect", () => socket.disconnect());
  socket.on(
    "whoami",
    (ack) => ack({ id: socket.id, recovered: socket.recovered, transport: socket.conn.transport.name }),
  );
  socket.on(
    "headers",
    (ack) => ack({ cookie: cookies.get(socket.conn.id) ?? null, extra: socket.handshake.headers["x-extra"] ?? null }),
  );
}

io.on("connection", scenarios);
io.of("/custom").on("connection", scenarios);
io.of("/private").use((socket, next) => {
  if (socket.handshake.auth?.token === "ok") return next();
  const err = new Error("not authorized");
  err.data = { reason: "bad token" };
  next(err);
}).on("connection", scenarios);

// A sticky-session cookie, as a load balancer would set it.
// The cookie of each session's latest request is kept for the `headers` scenario.
const cookies = new Map();
io.engine.on("initial_headers", (headers) => {
  headers["set-cookie"] = ["lb=node-1; Path=/; HttpOnly"];
});
io.engine.on("headers", (_headers, req) => {
  const sid = new URL(req.url, "http://localhost").searchParams.get("sid");
  if (sid) cookies.set(sid, req.headers.cookie);
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});

function stop() {
  io.close();
  recovering.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
