/**
 * Socket.IO on Deno: `Deno.serve` with `io.handler()` (WebSockets through `Deno.upgradeWebSocket`).
 *
 *   ./node_modules/.bin/deno run --allow-net --allow-env --allow-read examples/deno/main.ts
 *
 * then connect a client: `io("http://localhost:3000")` (ours from `client.ts`, or socket.io-client).
 * PORT (default 3000) and HOST (default 0.0.0.0) come from the environment.
 *
 * @module
 */
import { Server } from "../../server.ts";

const io = new Server();

io.on("connection", (socket) => {
  socket.on("echo", (payload: unknown, ack: (payload: unknown) => void) => ack(payload));
  socket.on("chat", (text: string) => io.emit("chat", socket.id, String(text).slice(0, 500)));
});

const server = Deno.serve(
  {
    port: Number(Deno.env.get("PORT") ?? 3000),
    hostname: Deno.env.get("HOST") ?? "0.0.0.0",
    onListen: ({ port }) => console.log(`listening on http://localhost:${port}`),
  },
  // /socket.io/ to the server (and its client bundle at /socket.io/socket.io.min.js), the rest here.
  io.handler({ fallback: () => new Response("Socket.IO on Deno: connect a client to this URL\n") }),
);

Deno.addSignalListener("SIGTERM", async () => {
  await io.close(); // every client is disconnected
  await server.shutdown();
  Deno.exit(0);
});
