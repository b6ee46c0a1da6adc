/**
 * Scale-out through Redis, wire-compatible with `@socket.io/redis-adapter` 8.x,
 * `@socket.io/redis-emitter` 5.x and `@socket.io/redis-streams-adapter` 0.3: each adapter joins
 * servers (ours and Node socket.io's using its counterpart) into one cluster, and
 * {@linkcode Emitter} sends to the clients of a pub/sub cluster from any process.
 *
 * - {@linkcode createAdapter}: classic pub/sub (every message reaches every server), recovery
 *   through a Redis Stream of its own;
 * - {@linkcode createShardedAdapter}: Redis 7 sharded pub/sub (`@socket.io/redis-adapter`'s
 *   `createShardedAdapter`), which spreads channels over the nodes of a Redis Cluster and, with
 *   `subscriptionMode: "dynamic"`, sends a room's broadcasts only to the servers with members;
 * - {@linkcode createStreamsAdapter}: a Redis Stream (`@socket.io/redis-streams-adapter`'s
 *   `createAdapter`), read again after a Redis disconnection so no message is lost, with
 *   connection state recovery across the cluster built in.
 *
 * Bring your own clients: node-redis v5 (`redis` on npm; tested), node-redis v4 or ioredis.
 *
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts"; // "@sio/socket.io/server"
 * import { createAdapter } from "./mod.ts"; // "@sio/socket.io/redis"
 *
 * const pub = createClient({ url: "redis://127.0.0.1:6379" });
 * const sub = pub.duplicate();
 * pub.on("error", console.error);
 * sub.on("error", console.error);
 * await Promise.all([pub.connect(), sub.connect()]);
 * const io = new Server({ adapter: createAdapter(pub, sub), connectionStateRecovery: {} });
 * ```
 *
 * Coming from `@socket.io/redis-streams-adapter`, only the import changes:
 *
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts";
 * import { createStreamsAdapter as createAdapter } from "./mod.ts"; // "@sio/socket.io/redis"
 * const redisClient = createClient();
 * const io = new Server({ adapter: createAdapter(redisClient), connectionStateRecovery: {} });
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
