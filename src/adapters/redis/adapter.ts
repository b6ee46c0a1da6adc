/**
 * The Redis adapter, wire-compatible with `@socket.io/redis-adapter` 8.x: our servers and Node
 * socket.io servers using that adapter (same `key`) form one cluster.
 *
 * Channels (with the default key `socket.io`, namespace `/`):
 * - `socket.io#/#` broadcasts, `socket.io#/#ROOM#` broadcasts to exactly one room; msgpack
 *   `[uid, packet, { rooms, except, flags }]` (listened to with the pattern `socket.io#/#*`);
 * - `socket.io-request#/#` requests (JSON; broadcasts with acks in msgpack);
 * - `socket.io-response#/#` responses (JSON; broadcast acks in msgpack), and
 *   `socket.io-response#/#UID#` when `publishOnSpecificResponseChannel` is set.
 * `serverCount()` is `PUBSUB NUMSUB socket.io-request#/#` (summed over the nodes of a Redis
 * Cluster, where each node counts only its own subscribers).
 *
 * Clients: pass your own connected client instances, one to publish and one to subscribe (a
 * subscribed connection cannot send other commands). Tested: node-redis v5 (`redis` on npm,
 * `createClient`, and `createCluster` for a Redis Cluster) and ioredis (`new Redis()`,
 * `new Cluster()`); node-redis v4 has the same shapes. All work on Deno, Bun and Node (they need
 * `node:net`).
 *
 * With `connectionStateRecovery` on the server, recoverable broadcasts are also appended to a
 * Redis Stream and sessions are stored as expiring keys, so a client recovers on any of our
 * servers (Node servers in the same cluster ignore the extra offset field).
 *
 * @module
 */

import type { AnyNamespace, BroadcastOptions, Session, SessionToPersist } from "../../io/adapter.ts";
import type { Packet } from "../../parser/socket_io.ts";
import {
  ClusterAdapter,
  type ClusterAdapterOptions,
  type ClusterBroadcast,
  type ClusterRequest,
  type ClusterResponse,
  RequestType,
} from "../cluster.ts";
import { type RedisClient, type RedisOps, wrapClient } from "./_client.ts";
import { decodeMsgpack, encodeMsgpack } from "./_msgpack.ts";
import { RedisSessionStore, type SessionStoreOptions } from "./_session_store.ts";
import { atMost } from "../../util/within.ts";

/**
 * Options of the Redis adapter.
 *
 * @example
 * ```ts
 * import type { RedisAdapterOptions } from "./adapter.ts";
 * const opts: RedisAdapterOptions = { key: "socket.io", requestsTimeout: 5000 };
 * ```
 */
export interface RedisAdapterOptions extends ClusterAdapterOptions, SessionStoreOptions {
  /** The channel prefix (default `socket.io`, as `@socket.io/redis-adapter`). */
  key?: string;
  /** Answer on the requester's own response channel (same option as `@socket.io/redis-adapter`). */
  publishOnSpecificResponseChannel?: boolean;
}

const OPEN_BRACE = 0x7b;

function decodeRequestOrResponse(bytes: Uint8Array): unknown {
  if (bytes[0] === OPEN_BRACE) return JSON.parse(new TextDecoder().decode(bytes));
  return decodeMsgpack(bytes);
}

/**
 * The adapter of one namespace; build it with {@linkcode createAdapter}.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts";
 * import { createAdapter, type RedisAdapter } from "./adapter.ts";
 * const pub = createClient();
 * const sub = pub.duplicate();
 * const io = new Server({ adapter: createAdapter(pub, sub) });
 * const adapter = io.of("/").adapter as RedisAdapter;
 * console.log(adapter.uid, await adapter.serverCount());
 * ```
 */
export class RedisAdapter extends ClusterAdapter {
  /** The broadcast channel prefix (`socket.io#/#`). */
  readonly channel: string;
  /** The request channel. */
  readonly requestChannel: string;
  /** The shared response channel. */
  readonly responseChannel: string;
  /** This server's own response channel. */
  readonly specificResponseChannel: string;
  readonly #pub: RedisOps;
  readonly #sub: RedisOps;
  readonly #specific: boolean;
  readonly #store: RedisSessionStore;
  #unsubscribe: Array<Promise<() => Promise<void>>> = [];
  #closed = false;

  /** Creates the adapter of `nsp` over a publishing and a subscribing client. */
  constructor(nsp: AnyNamespace, pubClient: RedisClient, subClient: RedisClient, options: RedisAdapterOptions = {}) {
    super(nsp, options);
    const key = options.key ?? "socket.io";
    this.channel = `${key}#${nsp.name}#`;
    this.requestChannel = `${key}-request#${nsp.name}#`;
    this.responseChannel = `${key}-response#${nsp.name}#`;
    this.specificResponseChannel = `${this.responseChannel}${this.uid}#`;
    this.#specific = options.publishOnSpecificResponseChannel === true;
    this.#pub = wrapClient(pubClient);
    this.#sub = wrapClient(subClient);
    this.#store = new RedisSessionStore(this.#pub, nsp.name, {
      streamName: options.streamName ?? `${key}-stream`,
      sessionKeyPrefix: options.sessionKeyPrefix ?? `${key}-session:`,
      maxLen: options.maxLen ?? 10000,
    }, this.requestsTimeout);
  }

  /** Subscribes to the namespace's channels. */
  override init(): Promise<void> {
    const onBroadcast = (channel: string, message: Uint8Array) => this.#onBroadcastMessage(channel, message);
    const onRequest = (channel: string, message: Uint8Array) => this.#onRequestMessage(channel, message);
    this.#unsubscribe = [
      this.#sub.psubscribe(this.channel + "*", onBroadcast),
      this.#sub.subscribe([this.requestChannel, this.responseChannel, this.specificResponseChannel], onRequest),
    ];
    return Promise.all(this.#unsubscribe).then(() => {});
  }

  #onBroadcastMessage(channel: string, message: Uint8Array): void {
    if (this.#closed || !channel.startsWith(this.channel)) return;
    const room = channel.slice(this.channel.length, -1);
    if (room !== "" && !this.rooms.has(room)) return; // nobody here: skip decoding
    let decoded: unknown;
    try {
      decoded = decodeMsgpack(message);
    } catch {
      return;
    }
    if (!Array.isArray(decoded)) return;
    const [uid, packet, opts] = decoded as [string, Packet, ClusterBroadcast["opts"]];
    if (packet && typeof packet === "object" && packet.nsp === undefined) packet.nsp = "/";
    // Nothing from the bus may throw into the Redis client's callback (ioredis rethrows it and the
    // process ends; node-redis resets its decoder and the subscription goes deaf).
    try {
      this.onBroadcast({ uid, packet, opts: opts ?? { rooms: [], except: [] } });
    } catch (err) {
      this.onPublishError(err, "broadcast message");
    }
  }

  #onRequestMessage(channel: string, message: Uint8Array): void {
    if (this.#closed) return;
    let decoded: unknown;
    try {
      decoded = decodeRequestOrResponse(message);
    } catch {
      return; // malformed
    }
    try {
      if (channel.startsWith(this.responseChannel)) this.onResponse(decoded as ClusterResponse);
      else if (channel === this.requestChannel) {
        this.onRequest(decoded as ClusterRequest).catch((err) => this.onPublishError(err, "request"));
      }
    } catch (err) {
      this.onPublishError(err, "response message");
    }
  }

  /** Publishes a broadcast on the namespace's channel (or the room's, for a single room). */
  protected publishBroadcast(message: ClusterBroadcast): Promise<unknown> {
    const { rooms } = message.opts;
    const channel = rooms.length === 1 ? `${this.channel}${rooms[0]}#` : this.channel;
    return this.#pub.publish(channel, encodeMsgpack([message.uid, message.packet, message.opts]));
  }

  /** Publishes a request on the request channel (msgpack for broadcasts, JSON otherwise). */
  protected publishRequest(request: ClusterRequest): Promise<unknown> {
    const payload = request.type === RequestType.BROADCAST ? encodeMsgpack(request) : JSON.stringify(request);
    return this.#pub.publish(this.requestChannel, payload);
  }

  /** Publishes a response on the response channel (or the requester's own one). */
  protected publishResponse(request: ClusterRequest, response: ClusterResponse): Promise<unknown> {
    const channel = this.#specific && request.uid ? `${this.responseChannel}${request.uid}#` : this.responseChannel;
    const payload = response.type === RequestType.BROADCAST_ACK ? encodeMsgpack(response) : JSON.stringify(response);
    return this.#pub.publish(channel, payload);
  }

  /**
   * How many servers subscribe to this namespace's request channel (`PUBSUB NUMSUB`, summed over
   * the nodes of a Redis Cluster).
   */
  override serverCount(): Promise<number> {
    return this.#pub.numsub(this.requestChannel);
  }

  /** Appends a recoverable broadcast to the Redis Stream; its entry id is the offset. */
  protected override appendToLog(packet: Packet, opts: BroadcastOptions): Promise<string> {
    return this.#store.append(packet.data as unknown[], opts);
  }

  /** Stores the session in Redis for `maxDisconnectionDuration`. */
  override persistSession(session: SessionToPersist): Promise<void> {
    const ttl = this.nsp.server._recovery?.maxDisconnectionDuration ?? 120000;
    return this.#store.persist(session, ttl);
  }

  /** Takes the session from Redis and replays the stream after `offset`. */
  override restoreSession(pid: string, offset: string): Promise<Session | null> {
    return this.#store.restore(pid, offset);
  }

  /**
   * Fails pending requests and unsubscribes, waiting at most a second for Redis: with Redis down
   * the commands wait in the client's queue, and `io.close()` would wait with them. Messages that
   * still arrive are ignored from the start.
   */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await super.close();
    const unsubscribed = Promise.allSettled(this.#unsubscribe)
      .then((undo) => Promise.allSettled(undo.map((r) => r.status === "fulfilled" ? r.value() : undefined)));
    await atMost(unsubscribed, 1000);
  }
}

/**
 * Returns the adapter factory for `new Server({ adapter })` or `io.adapter(...)`.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts"; // "@sio/socket.io/server"
 * import { createAdapter } from "./adapter.ts"; // "@sio/socket.io/redis"
 *
 * const pub = createClient({ url: "redis://127.0.0.1:6379" });
 * const sub = pub.duplicate();
 * await Promise.all([pub.connect(), sub.connect()]);
 * const io = new Server({ adapter: createAdapter(pub, sub) });
 * ```
 */
export function createAdapter(
  pubClient: RedisClient,
  subClient: RedisClient,
  options: RedisAdapterOptions = {},
): (nsp: AnyNamespace) => RedisAdapter {
  return (nsp) => new RedisAdapter(nsp, pubClient, subClient, options);
}
