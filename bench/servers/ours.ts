/**
 * Our server on whichever runtime runs this file (Deno, Bun or Node), default options, on
 * 127.0.0.1 and a free port (or PORT, the first argument). Prints `listening on PORT`.
 *
 *   deno run -A bench/servers/ours.ts | bun bench/servers/ours.ts | node bench/servers/ours.ts
 *
 * @module
 */

import process from "node:process";
import { Server } from "../../server.ts";
import { announce, setupApp } from "./_app.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const wanted = Number(process.argv[2] ?? 0);

const io = new Server();
setupApp(io);

if (g.Deno?.serve) {
  const ready = Promise.withResolvers<number>();
  g.Deno.serve({
    port: wanted,
    hostname: "127.0.0.1",
    onListen: (addr: { port: number }) => ready.resolve(addr.port),
  }, io.handler());
  await announce(await ready.promise);
} else if (g.Bun?.serve) {
  // Straight to the engine (no routing: the benchmark's clients only speak to /socket.io/).
  const { bunServeOptions } = await import("../../server.ts");
  const engine = io.engine;
  const server = g.Bun.serve({
    port: wanted,
    hostname: "127.0.0.1",
    ...bunServeOptions((request, options) => engine.handle(request, options)),
  });
  await announce(server.port);
} else {
  const { createServer } = await import("node:http");
  const server = createServer();
  io.attach(server);
  await new Promise<void>((resolve) => server.listen(wanted, "127.0.0.1", resolve));
  await announce((server.address() as { port: number }).port);
}
