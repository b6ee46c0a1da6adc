/**
 * Scale-out through Redis, wire-compatible with `@socket.io/redis-adapter` 8.x and
 * `@socket.io/redis-emitter` 5.x: {@linkcode createAdapter} joins servers (ours and Node
 * socket.io's) into one cluster, {@linkcode Emitter} sends to its clients from any process.
 *
 * Bring your own clients: node-redis v5 (`redis` on npm; tested), node-redis v4 or ioredis.
 *
 * ```ts ignore
 * import { createClient } from "redis";
 * import { Server } from "@sio/socket.io/server";
 * import { createAdapter } from "@sio/socket.io/redis";
 *
 * const pub = createClient({ url: "redis://127.0.0.1:6379" });
 * const sub = pub.duplicate();
 * pub.on("error", console.error);
 * sub.on("error", console.error);
 * await Promise.all([pub.connect(), sub.connect()]);
 * const io = new Server({ adapter: createAdapter(pub, sub), connectionStateRecovery: {} });
 * ```
 *
 * @module
 */

export { createAdapter, RedisAdapter } from "./adapter.ts";
export type { RedisAdapterOptions } from "./adapter.ts";
export { createShardedAdapter, ShardedRedisAdapter } from "./sharded_adapter.ts";
export type { ShardedRedisAdapterOptions } from "./sharded_adapter.ts";
export { createStreamsAdapter, RedisStreamsAdapter } from "./streams_adapter.ts";
export type { RedisStreamsAdapterOptions } from "./streams_adapter.ts";
export { Emitter, EmitterBroadcastOperator } from "./emitter.ts";
export type { EmitterOptions } from "./emitter.ts";
export type { RedisClient } from "./_client.ts";
export type { SessionStoreOptions } from "./_session_store.ts";
