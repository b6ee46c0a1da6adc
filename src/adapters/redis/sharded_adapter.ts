/**
 * The Redis adapter over sharded pub/sub (Redis 7: SPUBLISH / SSUBSCRIBE), wire-compatible with
 * `@socket.io/redis-adapter`'s `createShardedAdapter`: our servers and Node socket.io servers using
 * it (same `channelPrefix` and `subscriptionMode`) form one cluster. On a Redis Cluster, sharded
 * channels spread over the nodes instead of every message reaching every node.
 *
 * Channels (prefix `socket.io`, namespace `/`): `socket.io#/#` for every message, `socket.io#/#UID#`
 * for the responses to server UID, and with `subscriptionMode: "dynamic"` `socket.io#/#ROOM#` for
 * the broadcasts to exactly one room. Messages are socket.io-adapter's cluster messages, JSON or
 * (when they hold binary) msgpack. `serverCount()` is `PUBSUB SHARDNUMSUB socket.io#/#`.
 *
 * Pub/sub keeps nothing: connection state recovery does not reach across servers with this
 * adapter (nor with Node's); `createStreamsAdapter` or the classic `createAdapter` do.
 *
 * @module
 */

import type { AnyNamespace, Room } from "../../io/adapter.ts";
import type { ClusterAdapterOptions } from "../cluster.ts";
import { type ClusterMessage, ClusterMessageAdapter, MessageType } from "../cluster_message.ts";
import { type RedisClient, type RedisOps, wrapClient } from "./_client.ts";
import { encodeMsgpack } from "./_msgpack.ts";
import { decodeJsonOrMsgpack, needsMsgpack } from "./_wire.ts";
import { atMost } from "../../util/within.ts";

/**
 * Options of the sharded adapter (the names and defaults of `@socket.io/redis-adapter`'s).
 *
 * @example
 * ```ts
 * import type { ShardedRedisAdapterOptions } from "./sharded_adapter.ts";
 * const opts: ShardedRedisAdapterOptions = { channelPrefix: "socket.io", subscriptionMode: "dynamic" };
 * ```
 */
export interface ShardedRedisAdapterOptions extends ClusterAdapterOptions {
  /** The prefix of the channels (default `socket.io`). */
  channelPrefix?: string;
  /**
   * Which channels carry broadcasts to a single room (default `"dynamic"`):
   * - `"static"`: none, everything goes on the namespace's channel (2 subscriptions per namespace);
   * - `"dynamic"`: one channel per public room (not a socket's own room), subscribed to while the
   *   room has members here, so a server receives only the room broadcasts it has receivers for;
   * - `"dynamic-private"`: one channel per room, socket rooms included.
   * Every server of the cluster must use the same mode.
   */
  subscriptionMode?: "static" | "dynamic" | "dynamic-private";
}

/** socket.io's socket ids are 20 characters long (so are ours). */
function looksLikeASocketId(room: Room): boolean {
  return typeof room === "string" && room.length === 20;
}

/**
 * The sharded adapter of one namespace; build it with {@linkcode createShardedAdapter}.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts";
 * import { createShardedAdapter, type ShardedRedisAdapter } from "./sharded_adapter.ts";
 * const pub = createClient();
 * const sub = pub.duplicate();
 * const io = new Server({ adapter: createShardedAdapter(pub, sub) });
 * const adapter = io.of("/").adapter as ShardedRedisAdapter;
 * console.log(adapter.channel, await adapter.serverCount());
 * ```
 */
export class ShardedRedisAdapter extends ClusterMessageAdapter {
  /** The namespace's channel (`socket.io#/#`). */
  readonly channel: string;
  /** This server's response channel (`socket.io#/#UID#`). */
  readonly responseChannel: string;
  /** The subscription mode. */
  readonly subscriptionMode: "static" | "dynamic" | "dynamic-private";
  readonly #pub: RedisOps;
  readonly #sub: RedisOps;
  /** Room channel -> what undoes its subscription. */
  readonly #roomSubscriptions: Map<string, Promise<(() => Promise<void>) | undefined>> = new Map();
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;

  /** Creates the adapter of `nsp` over a publishing and a subscribing client. */
  constructor(
    nsp: AnyNamespace,
    pubClient: RedisClient,
    subClient: RedisClient,
    options: ShardedRedisAdapterOptions = {},
  ) {
    super(nsp, options);
    const prefix = options.channelPrefix ?? "socket.io";
    this.channel = `${prefix}#${nsp.name}#`;
    this.responseChannel = `${this.channel}${this.uid}#`;
    this.subscriptionMode = options.subscriptionMode ?? "dynamic";
    if (!["static", "dynamic", "dynamic-private"].includes(this.subscriptionMode)) {
      throw new TypeError(`Unknown subscription mode: ${this.subscriptionMode}`);
    }
    this.#pub = wrapClient(pubClient);
    this.#sub = wrapClient(subClient);
  }

  /** Subscribes to the namespace's and its own response channel (and then to rooms as they come). */
  override init(): Promise<void> {
    const handler = (_channel: string, message: Uint8Array) => this.#onRawMessage(message);
    // its own channel first: once counted (on the namespace's channel), it hears the responses
    this.#unsubscribe = this.#sub.ssubscribe([this.responseChannel, this.channel], handler);
    if (this.subscriptionMode !== "static") {
      this.on("create-room", (room) => {
        if (this.#hasOwnChannel(room)) this.#subscribeRoom(room, handler);
      });
      this.on("delete-room", (room) => {
        if (this.#hasOwnChannel(room)) this.#unsubscribeRoom(room);
      });
    }
    return this.#unsubscribe.then(() => {});
  }

  /** Whether broadcasts to `room` alone travel on a channel of their own (dynamic modes). */
  #hasOwnChannel(room: Room): boolean {
    return this.subscriptionMode === "dynamic-private" ||
      this.subscriptionMode === "dynamic" && !this.sids.has(room);
  }

  #roomChannel(room: Room): string {
    return `${this.channel}${room}#`;
  }

  #subscribeRoom(room: Room, handler: (channel: string, message: Uint8Array) => void): void {
    if (this.#closed) return;
    const channel = this.#roomChannel(room);
    const previous = this.#roomSubscriptions.get(channel);
    // after a pending unsubscription of the same room (left and joined again at once)
    const subscribed = (previous ?? Promise.resolve(undefined)).then(() => this.#sub.ssubscribe([channel], handler))
      .catch((err) => {
        this.onPublishError(err, `ssubscribe ${channel}`);
        return undefined;
      });
    this.#roomSubscriptions.set(channel, subscribed);
  }

  #unsubscribeRoom(room: Room): void {
    const channel = this.#roomChannel(room);
    const subscribed = this.#roomSubscriptions.get(channel);
    if (!subscribed) return;
    const undone = subscribed.then(async (undo) => {
      await undo?.().catch((err) => this.onPublishError(err, `sunsubscribe ${channel}`));
      return undefined;
    });
    this.#roomSubscriptions.set(channel, undone);
    undone.then(() => {
      if (this.#roomSubscriptions.get(channel) === undone) this.#roomSubscriptions.delete(channel);
    });
  }

  #onRawMessage(raw: Uint8Array): void {
    if (this.#closed) return;
    let message: ClusterMessage;
    try {
      message = decodeJsonOrMsgpack(raw) as ClusterMessage;
    } catch {
      return; // malformed
    }
    // Nothing may throw into the Redis client's callback (onMessage does not).
    this.onMessage(message);
  }

  /** The channel of a message: a room's own one for a broadcast (without acks) to exactly that room. */
  #channelOf(message: ClusterMessage): string {
    if (message.type !== MessageType.BROADCAST || message.data?.requestId !== undefined) return this.channel;
    const rooms = (message.data?.opts as { rooms?: Room[] } | undefined)?.rooms;
    if (!rooms || rooms.length !== 1) return this.channel;
    const room = rooms[0];
    const own = this.subscriptionMode === "dynamic-private" ||
      this.subscriptionMode === "dynamic" && !looksLikeASocketId(room);
    return own ? this.#roomChannel(room) : this.channel;
  }

  #encode(message: ClusterMessage): string | Uint8Array {
    return needsMsgpack(message) ? encodeMsgpack(message) : JSON.stringify(message);
  }

  /** SPUBLISHes a message on the namespace's channel (or a room's). */
  protected doPublish(message: ClusterMessage): Promise<unknown> {
    return this.#pub.spublish(this.#channelOf(message), this.#encode(message));
  }

  /** SPUBLISHes a response on the requester's channel. */
  protected doPublishResponse(requesterUid: string, response: ClusterMessage): Promise<unknown> {
    return this.#pub.spublish(`${this.channel}${requesterUid}#`, this.#encode(response));
  }

  /** How many servers subscribe to the namespace's channel (`PUBSUB SHARDNUMSUB`). */
  override serverCount(): Promise<number> {
    return this.#pub.shardNumsub(this.channel);
  }

  /**
   * Fails pending requests and unsubscribes from every channel, waiting at most a second for
   * Redis (with Redis down the commands wait in the client's queue).
   */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await super.close();
    const all = [this.#unsubscribe, ...this.#roomSubscriptions.values()];
    this.#roomSubscriptions.clear();
    const undone = Promise.allSettled(all.map(async (subscribed) => (await subscribed)?.()));
    await atMost(undone, 1000);
  }
}

/**
 * Returns the sharded adapter factory for `new Server({ adapter })`, as
 * `@socket.io/redis-adapter`'s `createShardedAdapter` (Redis 7 or later).
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts"; // "@sio/socket.io/server"
 * import { createShardedAdapter } from "./sharded_adapter.ts"; // "@sio/socket.io/redis"
 *
 * const pub = createClient({ url: "redis://127.0.0.1:6379" });
 * const sub = pub.duplicate();
 * await Promise.all([pub.connect(), sub.connect()]);
 * const io = new Server({ adapter: createShardedAdapter(pub, sub, { subscriptionMode: "dynamic" }) });
 * ```
 */
export function createShardedAdapter(
  pubClient: RedisClient,
  subClient: RedisClient,
  options: ShardedRedisAdapterOptions = {},
): (nsp: AnyNamespace) => ShardedRedisAdapter {
  return (nsp) => new ShardedRedisAdapter(nsp, pubClient, subClient, options);
}
