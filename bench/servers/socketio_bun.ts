/**
 * socket.io 4.8 with `@socket.io/bun-engine` on Bun, default options, on 127.0.0.1 and a free
 * port. Prints `listening on PORT`.
 *
 *   bun bench/servers/socketio_bun.ts
 *
 * @module
 */

import process from "node:process";
import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";
import { announce, setupApp } from "./_app.ts";

// deno-lint-ignore no-explicit-any
const Bun = (globalThis as any).Bun;

const io = new Server();
const engine = new Engine({ path: "/socket.io/" });
io.bind(engine as never);
setupApp(io);

const server = Bun.serve({ port: Number(process.argv[2] ?? 0), hostname: "127.0.0.1", ...engine.handler() });
await announce(server.port);
