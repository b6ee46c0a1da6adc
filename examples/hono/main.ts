/**
 * Socket.IO in a Hono app: the `socketIo(io)` middleware takes `/socket.io/`, your routes the rest,
 * on one port. The same file runs on Deno, Bun and Node:
 *
 *   ./node_modules/.bin/deno run --allow-net --allow-env --allow-read examples/hono/main.ts
 *   ./node_modules/.bin/bun examples/hono/main.ts
 *   ./node_modules/.bin/node examples/hono/main.ts     (needs @hono/node-server)
 *
 * then connect a client: `io("http://localhost:3000")` (ours from `client.ts`, or socket.io-client).
 * PORT (default 3000) and HOST (default 0.0.0.0) come from the environment.
 *
 * @module
 */
import process from "node:process";
import { Hono } from "hono";
import { bunWebSocketHandler, Server } from "../../server.ts";
import { socketIo } from "../../src/hono/mod.ts";

const io = new Server();

io.on("connection", (socket) => {
  socket.on("echo", (payload: unknown, ack: (payload: unknown) => void) => ack(payload));
  socket.on("chat", (text: string) => io.emit("chat", socket.id, String(text).slice(0, 500)));
});

const app = new Hono();
app.use(socketIo(io)); // polling, WebSocket upgrades and the client bundle under /socket.io/
app.get("/", (c) => c.text("Socket.IO in Hono: connect a client to this URL\n"));
app.get("/online", (c) => c.json({ clients: io.engine.clientsCount }));

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? "0.0.0.0";
const listening = (port: number) => console.log(`listening on http://localhost:${port}`);
let stop: () => unknown;

/** Bun's global, the part used here (declared locally: no dependency on Bun's types). */
declare const Bun: {
  serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): Promise<void> };
};

if ("Deno" in globalThis) {
  const server = Deno.serve({ port, hostname, onListen: (addr) => listening(addr.port) }, app.fetch);
  stop = () => server.shutdown();
} else if ("Bun" in globalThis) {
  // idleTimeout 0: Bun would otherwise cut long polls after 10 s.
  const server = Bun.serve({ port, hostname, fetch: app.fetch, websocket: bunWebSocketHandler, idleTimeout: 0 });
  listening(server.port);
  stop = () => server.stop();
} else {
  // Node: @hono/node-server for the app, and io.attach for Socket.IO's requests and upgrades.
  const { serve } = await import("@hono/node-server");
  const server = serve({ fetch: app.fetch, port, hostname }, (info) => listening(info.port));
  io.attach(server as import("node:http").Server); // Socket.IO's requests and WebSocket upgrades
  stop = () => {}; // io.close() stops the attached server: idle connections at once, the rest after 1 s
}

process.on("SIGTERM", async () => {
  await io.close(); // every client is disconnected
  await stop();
  process.exit(0);
});
