/**
 * Socket.IO on Bun: `Bun.serve` with `bunOptions(io)` (Bun's native WebSockets; room broadcasts use
 * its publish/subscribe).
 *
 *   ./node_modules/.bin/bun examples/bun/main.ts
 *
 * then connect a client: `io("http://localhost:3000")` (ours from `client.ts`, or socket.io-client).
 * PORT (default 3000) and HOST (default 0.0.0.0) come from the environment.
 *
 * @module
 */
import process from "node:process";
import { bunOptions, Server } from "../../server.ts";

/** The part of Bun's global this file uses (declared here: no dependency on Bun's types). */
declare const Bun: {
  serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): Promise<void> };
};

const io = new Server();

io.on("connection", (socket) => {
  socket.on("echo", (payload: unknown, ack: (payload: unknown) => void) => ack(payload));
  socket.on("chat", (text: string) => io.emit("chat", socket.id, String(text).slice(0, 500)));
});

const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? "0.0.0.0",
  // fetch, websocket and an idleTimeout above the ping interval; /socket.io/ to the server (and its
  // client bundle at /socket.io/socket.io.min.js), the rest to the fallback.
  ...bunOptions(io, { fallback: () => new Response("Socket.IO on Bun: connect a client to this URL\n") }),
});
console.log(`listening on http://localhost:${server.port}`);

process.on("SIGTERM", async () => {
  await io.close(); // every client is disconnected
  await server.stop();
  process.exit(0);
});
