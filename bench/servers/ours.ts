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
import { serveAndAnnounce, setupApp } from "./_app.ts";

const wanted = Number(process.argv[2] ?? 0);

const io = new Server();
setupApp(io);

await serveAndAnnounce(io, wanted, "127.0.0.1");
