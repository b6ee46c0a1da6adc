/**
 * Our server for the scale benchmark on whichever runtime runs this file (Deno, Bun or Node), with
 * socket.io's default options (heartbeat 25 s / 20 s), on 127.0.0.1 (or `--host`) and a free port
 * (or `--port`); `--redis URL` joins a cluster through our Redis adapter. Prints `listening on PORT`.
 *
 *   deno run -A --v8-flags=--expose-gc bench/servers/scale_ours.ts [--port P] [--redis redis://127.0.0.1:6379]
 *   bun bench/servers/scale_ours.ts ...        node --expose-gc bench/servers/scale_ours.ts ...
 *
 * @module
 */

import { Server } from "../../server.ts";
import { createAdapter } from "../../src/adapters/redis/mod.ts";
import { announce } from "./_app.ts";
import { flag, redisPair, setupScaleApp } from "./_scale_app.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const wanted = Number(flag("port") ?? 0);
const host = flag("host") ?? "127.0.0.1";
const redis = flag("redis");

const io = new Server(redis ? { adapter: createAdapter(...await redisPair(redis)) } : {});
setupScaleApp(io);

if (g.Deno?.serve) {
  const ready = Promise.withResolvers<number>();
  g.Deno.serve({
    port: wanted,
    hostname: host,
    onListen: (addr: { port: number }) => ready.resolve(addr.port),
  }, io.handler());
  await announce(await ready.promise);
} else if (g.Bun?.serve) {
  const { bunServeOptions } = await import("../../server.ts");
  const engine = io.engine;
  const server = g.Bun.serve({
    port: wanted,
    hostname: host,
    ...bunServeOptions((request, options) => engine.handle(request, options)),
  });
  await announce(server.port);
} else {
  const { createServer } = await import("node:http");
  const server = createServer();
  io.attach(server); // returns the io, as socket.io's attach does
  await new Promise<void>((resolve) => server.listen(wanted, host, resolve));
  await announce((server.address() as { port: number }).port);
}
