/**
 * socket.io 4.8 for the scale benchmark, default options (heartbeat 25 s / 20 s), on 127.0.0.1 (or
 * `--host`) and a free port (or `--port`): on Node with its default `ws` server, on Bun with
 * `@socket.io/bun-engine`; `--redis URL` joins a cluster through `@socket.io/redis-adapter`.
 * Prints `listening on PORT`.
 *
 *   node --expose-gc bench/servers/scale_socketio.ts [--port P] [--redis redis://127.0.0.1:6379]
 *   bun bench/servers/scale_socketio.ts [--port P]
 *
 * @module
 */

import { Server } from "socket.io";
import { announce } from "./_app.ts";
import { flag, redisPair, setupScaleApp } from "./_scale_app.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const wanted = Number(flag("port") ?? 0);
const host = flag("host") ?? "127.0.0.1";
const redis = flag("redis");

const io = new Server();
if (redis) {
  const { createAdapter } = await import("@socket.io/redis-adapter");
  io.adapter(createAdapter(...await redisPair(redis)));
}
setupScaleApp(io);

if (g.Bun?.serve) {
  const { Server: Engine } = await import("@socket.io/bun-engine");
  const engine = new Engine({ path: "/socket.io/" });
  io.bind(engine as never);
  const server = g.Bun.serve({ port: wanted, hostname: host, ...engine.handler() });
  await announce(server.port);
} else {
  const { createServer } = await import("node:http");
  const httpServer = createServer();
  io.attach(httpServer);
  await new Promise<void>((resolve) => httpServer.listen(wanted, host, resolve));
  await announce((httpServer.address() as { port: number }).port);
}
