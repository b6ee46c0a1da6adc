/**
 * The Redis Streams adapter, wire-compatible with `@socket.io/redis-streams-adapter` 0.3: our
 * servers and Node socket.io servers using it (same `streamName`, `streamCount`, `channelPrefix`)
 * form one cluster.
 *
 * Broadcasts, `socketsJoin`/`socketsLeave` and `disconnectSockets` are appended to a Redis Stream
 * (`XADD socket.io MAXLEN ~ 10000 * uid U nsp / type 3 data D`, `data` JSON, or base64 msgpack when
 * it holds binary) that every server reads with a blocking `XREAD` on a connection of its own: a
 * server that loses its Redis connection for a while reads what it missed when it comes back. The
 * requests that wait for answers (broadcasts with acks, `fetchSockets`, `serverSideEmit`) go by
 * pub/sub on `socket.io#/#` (msgpack), and their responses on the requester's `socket.io#/#UID#`.
 * `serverCount()` is `PUBSUB NUMSUB socket.io#/#`.
 *
 * Connection state recovery needs no extra writes: a broadcast's entry id is its offset, a
 * disconnected socket's session is the key `sio:session:PID` (base64 msgpack, expiring after
 * `maxDisconnectionDuration`), and any server (ours or Node's) restores it by replaying the stream.
 *
 * @module
 */

import type { AnyNamespace, Session, SessionToPersist } from "../../io/adapter.ts";
import type { Packet } from "../../parser/socket_io.ts";
import { isRecoverablePacket, shouldIncludePacket } from "../../io/recovery.ts";
import type { ClusterAdapterOptions, WireOptions } from "../cluster.ts";
import { type ClusterMessage, ClusterMessageAdapter, MessageType } from "../cluster_message.ts";
import { closeClient, duplicateClient, type RedisClient, type RedisOps, wrapClient } from "./_client.ts";
import { decodeMsgpack, encodeMsgpack } from "./_msgpack.ts";
import { fromBase64, needsMsgpack, text, toBase64 } from "./_wire.ts";
import { atMost, within } from "../../util/within.ts";

/**
 * Options of the Streams adapter (the names and defaults of `@socket.io/redis-streams-adapter`'s).
 *
 * @example
 * ```ts
 * import type { RedisStreamsAdapterOptions } from "./streams_adapter.ts";
 * const opts: RedisStreamsAdapterOptions = { streamName: "socket.io", maxLen: 10000, readCount: 100 };
 * ```
 */
export interface RedisStreamsAdapterOptions extends ClusterAdapterOptions {
  /** The stream's name (default `socket.io`). */
  streamName?: string;
  /**
   * How many streams the namespaces are spread over (default 1): with more, namespace `nsp` uses
   * `${streamName}-${hash(nsp) % streamCount}`, each read on a connection of its own.
   */
  streamCount?: number;
  /** The prefix of the pub/sub channels (default `socket.io`). */
  channelPrefix?: string;
  /** Use sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7) for requests and responses (default false). */
  useShardedPubSub?: boolean;
  /** Approximate maximum length of the stream (`MAXLEN ~`, default 10000). */
  maxLen?: number;
  /** How many entries one `XREAD` returns at most (default 100). */
  readCount?: number;
  /** How long one `XREAD` blocks, in ms (default 5000). */
  blockTimeInMs?: number;
  /** The prefix of the session keys (default `sio:session:`). */
  sessionKeyPrefix?: string;
  /** Always write `data` as JSON, never base64 msgpack (default false; binary is then lost). */
  onlyPlaintext?: boolean;
}

type StreamsOptions = Required<Omit<RedisStreamsAdapterOptions, "requestsTimeout">> & { requestsTimeout?: number };

/** The fields of a stream entry. */
type RawEntry = Record<string, string>;

/** `@socket.io/redis-streams-adapter`'s string hash (a 32-bit signed integer, as in Java). */
function hashCode(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) {
    hash = hash * 31 + value.charCodeAt(i);
    hash |= 0;
  }
  return hash;
}

/** The stream of namespace `nsp` (the same formula as the Node adapter, negative indices included). */
function streamOf(nsp: string, opts: StreamsOptions): string {
  return opts.streamCount === 1 ? opts.streamName : `${opts.streamName}-${hashCode(nsp) % opts.streamCount}`;
}

/** The messages that go by pub/sub: they expect answers now, and mean nothing later. */
function isEphemeral(message: ClusterMessage): boolean {
  return message.type === MessageType.BROADCAST && message.data?.requestId !== undefined ||
    message.type === MessageType.SERVER_SIDE_EMIT || message.type === MessageType.FETCH_SOCKETS;
}

/** The fields of an entry as a record (`[k1, v1, k2, v2]` in replies). */
function fieldsOf(values: unknown): RawEntry | undefined {
  if (!Array.isArray(values)) return undefined;
  const entry: RawEntry = {};
  for (let i = 0; i + 1 < values.length; i += 2) entry[text(values[i])] = text(values[i + 1]);
  return entry;
}

/**
 * The entries of a one-stream `XREAD` reply: `[[name, entries]]` (RESP2), or `[name, entries]`
 * when the client flattened a RESP3 map (ioredis 6); null when the read timed out.
 */
function entriesOf(reply: unknown): unknown[] | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const pair = Array.isArray(reply[0]) ? reply[0] : reply;
  return Array.isArray(pair[1]) ? pair[1] : undefined;
}

/** The message of a stream entry; throws when malformed. */
function decodeEntry(entry: RawEntry): ClusterMessage {
  const message: ClusterMessage = { uid: entry.uid, nsp: entry.nsp, type: parseInt(entry.type, 10) };
  if (entry.data) {
    message.data =
      (entry.data.startsWith("{") ? JSON.parse(entry.data) : decodeMsgpack(fromBase64(entry.data))) as ClusterMessage[
        "data"
      ];
  }
  return message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One stream read in a loop on a connection of its own, shared by the namespaces it carries. */
class StreamReader {
  readonly #name: string;
  readonly #opts: StreamsOptions;
  readonly #onEntry: (entry: RawEntry, id: string) => void;
  #client: RedisClient | undefined;
  #stopped = false;
  /** Resolves once the first read is about to be sent (entries added after this are read). */
  readonly started: Promise<void>;

  constructor(
    source: RedisClient,
    name: string,
    opts: StreamsOptions,
    onEntry: (entry: RawEntry, id: string) => void,
    onError: (err: unknown) => void,
  ) {
    this.#name = name;
    this.#opts = opts;
    this.#onEntry = onEntry;
    this.started = this.#start(source, onError);
  }

  async #start(source: RedisClient, onError: (err: unknown) => void): Promise<void> {
    const client = await duplicateClient(source);
    if (this.#stopped) return void closeClient(client);
    this.#client = client;
    const redis = wrapClient(client);
    // From the last entry now (rather than `$` at the first XREAD): nothing added once init()
    // resolved is missed. Without an answer, from whatever comes next (as the Node adapter).
    let offset = "$";
    try {
      const last = await redis.command(["XREVRANGE", this.#name, "+", "-", "COUNT", "1"]) as unknown[][] | null;
      offset = Array.isArray(last) && last.length > 0 ? text(last[0][0]) : "0-0";
    } catch (err) {
      onError(err);
    }
    this.#loop(redis, offset, onError);
  }

  async #loop(redis: RedisOps, offset: string, onError: (err: unknown) => void): Promise<void> {
    const { readCount, blockTimeInMs } = this.#opts;
    while (!this.#stopped) {
      let reply: unknown;
      try {
        reply = await redis.command([
          "XREAD",
          "COUNT",
          String(readCount),
          "BLOCK",
          String(blockTimeInMs),
          "STREAMS",
          this.#name,
          offset,
        ], this.#name);
      } catch (err) {
        if (this.#stopped) return;
        onError(err);
        await sleep(200); // Redis is away: no busy loop while the client reconnects
        continue;
      }
      const entries = entriesOf(reply);
      if (!entries) continue;
      for (const item of entries) {
        if (!Array.isArray(item)) continue;
        const id = text(item[0]);
        offset = id;
        const entry = fieldsOf(item[1]);
        if (entry?.nsp === undefined) continue;
        try {
          this.#onEntry(entry, id);
        } catch (err) {
          onError(err);
        }
      }
    }
  }

  /** Stops reading and closes the connection (abandoning a blocked read). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.started.catch(() => {});
    if (this.#client) await closeClient(this.#client);
  }
}

/** What the adapters of one `createStreamsAdapter()` call share: the readers and the subscriber. */
class StreamsBus {
  readonly opts: StreamsOptions;
  readonly source: RedisClient;
  readonly redis: RedisOps;
  /** Namespace name -> what its adapter does with an entry of its stream. */
  readonly adapters: Map<string, (entry: RawEntry, id: string) => void> = new Map();
  readonly #readers: Map<string, StreamReader> = new Map();
  #sub: Promise<RedisClient> | undefined;

  constructor(client: RedisClient, opts: StreamsOptions) {
    this.source = client;
    this.redis = wrapClient(client);
    this.opts = opts;
  }

  /** The subscribing connection (made once). */
  subscriber(): Promise<RedisOps> {
    if (!this.#sub) {
      const sub = duplicateClient(this.source);
      sub.catch(() => {
        if (this.#sub === sub) this.#sub = undefined; // the next adapter tries again
      });
      this.#sub = sub;
    }
    return this.#sub.then(wrapClient);
  }

  /** Starts reading `stream` (once) and resolves when its reader is in place. */
  read(stream: string, onError: (err: unknown) => void): Promise<void> {
    let reader = this.#readers.get(stream);
    if (!reader) {
      reader = new StreamReader(this.source, stream, this.opts, (entry, id) => {
        this.adapters.get(entry.nsp)?.(entry, id);
      }, onError);
      this.#readers.set(stream, reader);
      const failed = reader;
      reader.started.catch(() => {
        if (this.#readers.get(stream) === failed) this.#readers.delete(stream); // the next adapter tries again
      });
    }
    return reader.started;
  }

  /** Forgets a namespace's adapter; closes the readers and the subscriber once the last is gone. */
  async release(nsp: string, onEntry: (entry: RawEntry, id: string) => void): Promise<void> {
    if (this.adapters.get(nsp) === onEntry) this.adapters.delete(nsp);
    if (this.adapters.size > 0) return;
    const readers = [...this.#readers.values()];
    this.#readers.clear();
    const sub = this.#sub;
    this.#sub = undefined;
    await Promise.allSettled([
      ...readers.map((reader) => reader.stop()),
      sub?.then(closeClient),
    ]);
  }
}

/**
 * The Streams adapter of one namespace; build it with {@linkcode createStreamsAdapter}.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts";
 * import { createStreamsAdapter, type RedisStreamsAdapter } from "./streams_adapter.ts";
 * const client = createClient();
 * const io = new Server({ adapter: createStreamsAdapter(client), connectionStateRecovery: {} });
 * const adapter = io.of("/").adapter as RedisStreamsAdapter;
 * console.log(adapter.streamName, await adapter.serverCount());
 * ```
 */
export class RedisStreamsAdapter extends ClusterMessageAdapter {
  /** The stream this namespace's messages go to. */
  readonly streamName: string;
  /** The namespace's pub/sub channel (`socket.io#/#`). */
  readonly publicChannel: string;
  /** This server's response channel (`socket.io#/#UID#`). */
  readonly privateChannel: string;
  /** Broadcasts are stream entries: their ids are the recovery offsets. */
  protected override readonly publishesOffsets: boolean = true;
  readonly #bus: StreamsBus;
  readonly #opts: StreamsOptions;
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;

  /** Creates the adapter of `nsp`; `createStreamsAdapter` passes the shared part. */
  constructor(nsp: AnyNamespace, bus: StreamsBus) {
    super(nsp, bus.opts);
    this.#bus = bus;
    this.#opts = bus.opts;
    this.streamName = streamOf(nsp.name, bus.opts);
    this.publicChannel = `${bus.opts.channelPrefix}#${nsp.name}#`;
    this.privateChannel = `${this.publicChannel}${this.uid}#`;
  }

  /**
   * Starts reading the stream, then subscribes to the channels (the other servers count this one
   * from its subscription: once counted, it reads everything they append); resolves when both are
   * in place.
   */
  override init(): Promise<void> {
    this.#bus.adapters.set(this.nsp.name, this.#onEntry);
    const onError = (err: unknown) => this.onPublishError(err, "stream read");
    const reading = this.#bus.read(this.streamName, onError);
    this.#unsubscribe = Promise.all([reading, this.#bus.subscriber()]).then(([, sub]) => {
      if (this.#closed) return undefined;
      const handler = (_channel: string, payload: Uint8Array) => this.#onPayload(payload);
      // its own channel first: once counted (on the public one), it hears the responses
      const channels = [this.privateChannel, this.publicChannel];
      return this.#opts.useShardedPubSub ? sub.ssubscribe(channels, handler) : sub.subscribe(channels, handler);
    });
    return this.#unsubscribe.then(() => {});
  }

  #onPayload(payload: Uint8Array): void {
    if (this.#closed) return;
    let message: ClusterMessage;
    try {
      message = decodeMsgpack(payload) as ClusterMessage;
    } catch {
      return; // malformed
    }
    this.onMessage(message);
  }

  /** An entry of the stream (for this namespace) was read. */
  readonly #onEntry = (entry: RawEntry, id: string): void => {
    if (this.#closed) return;
    let message: ClusterMessage;
    try {
      message = decodeEntry(entry);
    } catch {
      return; // malformed
    }
    this.onMessage(message, id);
  };

  #publish(channel: string, message: ClusterMessage): Promise<unknown> {
    const payload = encodeMsgpack(message);
    const redis = this.#bus.redis;
    return this.#opts.useShardedPubSub ? redis.spublish(channel, payload) : redis.publish(channel, payload);
  }

  /** The fields of the stream entry of `message`. */
  #entry(message: ClusterMessage): string[] {
    const fields = ["uid", message.uid, "nsp", message.nsp, "type", String(message.type)];
    if (message.data) {
      const data = !this.#opts.onlyPlaintext && needsMsgpack(message)
        ? toBase64(encodeMsgpack(message.data))
        : JSON.stringify(message.data);
      fields.push("data", data);
    }
    return fields;
  }

  /**
   * Appends a message to the stream (resolving with its entry id), or publishes it on the
   * namespace's channel when it waits for answers. Encoded before returning.
   */
  protected doPublish(message: ClusterMessage): Promise<unknown> {
    if (isEphemeral(message)) return this.#publish(this.publicChannel, message).then(() => "");
    const args = ["XADD", this.streamName, "MAXLEN", "~", String(this.#opts.maxLen), "*", ...this.#entry(message)];
    return this.#bus.redis.command(args).then(text);
  }

  /** Publishes a response on the requester's channel. */
  protected doPublishResponse(requesterUid: string, response: ClusterMessage): Promise<unknown> {
    return this.#publish(`${this.#opts.channelPrefix}#${this.nsp.name}#${requesterUid}#`, response);
  }

  /** How many servers subscribe to the namespace's channel (`PUBSUB NUMSUB`, or `SHARDNUMSUB`). */
  override serverCount(): Promise<number> {
    const redis = this.#bus.redis;
    return this.#opts.useShardedPubSub ? redis.shardNumsub(this.publicChannel) : redis.numsub(this.publicChannel);
  }

  #command(args: string[]): Promise<unknown> {
    const redis = this.#bus.redis;
    if (!redis.ready()) return Promise.reject(new Error(`Redis is not connected (${args[0]})`));
    return within(
      redis.command(args),
      this.requestsTimeout,
      () => `timeout reached: no answer to ${args[0]} within ${this.requestsTimeout} ms`,
    );
  }

  /** Stores the session as `sio:session:PID` for `maxDisconnectionDuration`. */
  override async persistSession(session: SessionToPersist): Promise<void> {
    const ttl = this.nsp.server._recovery?.maxDisconnectionDuration ?? 120000;
    const payload = toBase64(encodeMsgpack(session));
    await this.#command(["SET", this.#opts.sessionKeyPrefix + session.pid, payload, "PX", String(Math.max(1, ttl))]);
  }

  /**
   * Takes the session and replays the stream after `offset` (the broadcasts its rooms received);
   * null when either the session or the offset is gone.
   */
  override async restoreSession(pid: string, offset: string): Promise<Session | null> {
    if (!/^\d+-\d+$/.test(offset)) return null;
    const [raw, found] = await Promise.all([
      this.#command(["GETDEL", this.#opts.sessionKeyPrefix + pid]),
      this.#command(["XRANGE", this.streamName, offset, offset]),
    ]);
    if (raw === null || raw === undefined || !Array.isArray(found) || found.length === 0) return null;
    const session = decodeMsgpack(fromBase64(text(raw))) as SessionToPersist;
    if (!session || typeof session !== "object" || !Array.isArray(session.rooms)) return null;
    const missedPackets: unknown[][] = [];
    let from = offset;
    // At most 100 pages, as the Node adapter: a stream written faster than it is read ends somewhere.
    for (let round = 0; round < 100; round++) {
      const entries = await this.#command(["XRANGE", this.streamName, "(" + from, "+", "COUNT", "1000"]);
      if (!Array.isArray(entries) || entries.length === 0) break;
      for (const item of entries as unknown[][]) {
        const id = text(item[0]);
        from = id;
        const entry = fieldsOf(item[1]);
        if (entry?.nsp !== this.nsp.name || entry.type !== String(MessageType.BROADCAST)) continue;
        let data: { packet?: Packet; opts?: WireOptions; requestId?: unknown } | undefined;
        try {
          data = decodeEntry(entry).data as typeof data;
        } catch {
          continue;
        }
        const packet = data?.packet;
        const opts = data?.opts;
        if (!packet || !Array.isArray(packet.data) || !opts || data?.requestId !== undefined) continue;
        const targets = { rooms: new Set(opts.rooms ?? []), except: new Set(opts.except ?? []), flags: opts.flags };
        if (!isRecoverablePacket(packet, targets)) continue;
        if (shouldIncludePacket(session.rooms, targets)) missedPackets.push([...packet.data, id]);
      }
      if (entries.length < 1000) break;
    }
    return { ...session, missedPackets };
  }

  /**
   * Fails pending requests and unsubscribes; the last adapter of a `createStreamsAdapter()` call
   * also closes the reading and subscribing connections. Waits at most a second for Redis.
   */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await super.close();
    const done = (async () => {
      const undo = await this.#unsubscribe?.catch(() => undefined);
      await undo?.().catch(() => {});
      await this.#bus.release(this.nsp.name, this.#onEntry);
    })();
    await atMost(done, 1000);
  }
}

/**
 * Returns the Streams adapter factory for `new Server({ adapter })`, as
 * `@socket.io/redis-streams-adapter`'s `createAdapter(redisClient, opts)`: pass one connected
 * client (node-redis or ioredis, or a Redis Cluster client of either); the adapter duplicates it
 * for its blocking reads and its subscription.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Server } from "../../../server.ts"; // "@sio/socket.io/server"
 * import { createStreamsAdapter } from "./streams_adapter.ts"; // "@sio/socket.io/redis"
 *
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * await client.connect();
 * const io = new Server({
 *   adapter: createStreamsAdapter(client, { maxLen: 10000 }),
 *   connectionStateRecovery: { maxDisconnectionDuration: 120000 },
 * });
 * ```
 */
export function createStreamsAdapter(
  redisClient: RedisClient,
  options: RedisStreamsAdapterOptions = {},
): (nsp: AnyNamespace) => RedisStreamsAdapter {
  const opts: StreamsOptions = {
    streamName: "socket.io",
    streamCount: 1,
    channelPrefix: "socket.io",
    useShardedPubSub: false,
    maxLen: 10000,
    readCount: 100,
    blockTimeInMs: 5000,
    sessionKeyPrefix: "sio:session:",
    onlyPlaintext: false,
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  };
  if (!Number.isInteger(opts.streamCount) || opts.streamCount < 1) {
    throw new TypeError(`streamCount must be a positive integer, got ${opts.streamCount}`);
  }
  const bus = new StreamsBus(redisClient, opts);
  return (nsp) => new RedisStreamsAdapter(nsp, bus);
}
