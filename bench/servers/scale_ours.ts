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
import { serveAndAnnounce } from "./_app.ts";
import { flag, redisPair, setupScaleApp } from "./_scale_app.ts";

const wanted = Number(flag("port") ?? 0);
const host = flag("host") ?? "127.0.0.1";
const redis = flag("redis");

const io = new Server(redis ? { adapter: createAdapter(...await redisPair(redis)) } : {});
setupScaleApp(io);

await serveAndAnnounce(io, wanted, host);
