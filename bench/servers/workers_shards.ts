/**
 * The benchmark app (`_app.ts`'s handlers) on Workers in sharded mode: `SHARDS` Durable Objects (a text
 * binding) of the `BENCH` namespace, each new session on a random shard. Started by
 * `bench/shards.ts` in workerd:
 *
 *   node tests/workers/_start.mjs bench/servers/workers_shards.ts PORT BENCH=BenchShard --var SHARDS=4
 *
 * @module
 */

import {
  defineShardedSocketIoObject,
  type DurableObjectNamespaceLike,
  routeToSocketIoShard,
  type SocketIoShards,
} from "../../src/runtime/durable_object_shards.ts";
import type { Server } from "../../src/io/server.ts";

/** `_app.ts`'s handlers (that module also holds process code a Worker bundle cannot take). */
function setupApp(io: Server): void {
  io.on("connection", (socket) => {
    if (socket.handshake.query.room === "1") socket.join("room");
    socket.on("echo", (data: unknown) => socket.emit("echo", data));
    socket.on("ack", (data: unknown, ack: (data: unknown) => void) => ack(data));
    socket.on("bcast", (seq: number, pad: string) => io.to("room").emit("b", seq, pad));
  });
}

function shards(env: unknown): SocketIoShards {
  return { count: Number((env as { SHARDS?: string }).SHARDS ?? 1), binding: "BENCH", name: "bench" };
}

/** One shard of the benchmark app. */
export const BenchShard = defineShardedSocketIoObject((io) => setupApp(io), {
  shards,
  pingInterval: 25000,
  pingTimeout: 20000,
});

export default {
  fetch(request: Request, env: { BENCH: DurableObjectNamespaceLike }): Promise<Response> | Response {
    return routeToSocketIoShard(request, env.BENCH, shards(env)) ?? new Response("Not found", { status: 404 });
  },
};
