/**
 * Socket.IO on Node (22.18+ or 24, which run TypeScript as is): `io.attach(httpServer)` on a
 * `node:http` server (WebSockets through the `ws` package); other paths stay with your handler.
 *
 *   ./node_modules/.bin/node examples/node/main.ts
 *
 * then connect a client: `io("http://localhost:3000")` (ours from `client.ts`, or socket.io-client).
 * PORT (default 3000) and HOST (default 0.0.0.0) come from the environment.
 *
 * @module
 */
import { createServer } from "node:http";
import process from "node:process";
import { Server } from "../../server.ts";

const io = new Server();

io.on("connection", (socket) => {
  socket.on("echo", (payload: unknown, ack: (payload: unknown) => void) => ack(payload));
  socket.on("chat", (text: string) => io.emit("chat", socket.id, String(text).slice(0, 500)));
});

const httpServer = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("Socket.IO on Node: connect a client to this URL\n");
});
// /socket.io/ (and the client bundle at /socket.io/socket.io.min.js) to the server, the rest above.
io.attach(httpServer);

httpServer.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "0.0.0.0", () => {
  const { port } = httpServer.address() as { port: number };
  console.log(`listening on http://localhost:${port}`);
});

process.on("SIGTERM", async () => {
  // Every client is disconnected, then httpServer stops: idle connections at once, the others after 1 s.
  await io.close();
});
