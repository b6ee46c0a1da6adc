/**
 * python-socketio's `AsyncRedisManager` for our servers: a member of a python-socketio cluster over
 * Redis pub/sub (one channel, `socketio` by default), or a write-only manager that emits to the
 * clients of such a cluster from any process.
 *
 * Bring your own clients, as for `./redis`: node-redis (`redis` v4/v5) or ioredis, one to publish
 * and one to subscribe (a write-only manager needs only the first).
 *
 * ```ts
 * import { createClient } from "redis";
 * import { AsyncServer } from "./mod.ts"; // "@sio/socket.io/python"
 * import { AsyncRedisManager } from "./redis_manager.ts"; // "@sio/socket.io/python/redis"
 *
 * const pub = createClient({ url: "redis://127.0.0.1:6379" });
 * const sub = pub.duplicate();
 * await Promise.all([pub.connect(), sub.connect()]);
 * const sio = new AsyncServer({ clientManager: new AsyncRedisManager(pub, sub, { format: "legacy" }) });
 * ```
 *
 * @module
 */

import { type RedisClient, type RedisOps, wrapClient } from "../adapters/redis/_client.ts";
import { PubSubManager, type PubSubManagerOptions } from "./pubsub_manager.ts";

export type { RedisClient } from "../adapters/redis/_client.ts";

/**
 * A python-socketio compatible client manager on Redis pub/sub.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { AsyncRedisManager } from "./redis_manager.ts";
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * await client.connect();
 * // a write-only manager, as python's AsyncRedisManager(url, write_only=True)
 * const external = new AsyncRedisManager(client, undefined, { writeOnly: true });
 * await external.emit("news", { title: "hi" }, { to: "lobby" });
 * ```
 */
export class AsyncRedisManager extends PubSubManager {
  readonly #pub: RedisOps;
  readonly #sub: RedisOps | undefined;

  /**
   * Publishes with `pubClient` and listens with `subClient` (not needed with `writeOnly`); both
   * connected node-redis or ioredis clients.
   */
  constructor(pubClient: RedisClient, subClient?: RedisClient, options: PubSubManagerOptions = {}) {
    super(options);
    this.#pub = wrapClient(pubClient);
    if (subClient) this.#sub = wrapClient(subClient);
    else if (!this.writeOnly) throw new TypeError("A listening AsyncRedisManager needs a subscriber client");
  }

  /** PUBLISH on the channel. */
  protected publish(payload: string | Uint8Array): Promise<unknown> {
    return this.#pub.publish(this.channel, payload);
  }

  /** SUBSCRIBE to the channel. */
  protected listen(onMessage: (payload: Uint8Array) => void): Promise<() => Promise<void>> {
    if (!this.#sub) return Promise.reject(new Error("A write-only manager does not listen"));
    return this.#sub.subscribe([this.channel], (_channel, message) => onMessage(message));
  }
}
