/**
 * A cluster bus made of Durable Objects: the shards of a sharded Socket.IO app on Workers (see
 * `src/runtime/durable_object_shards.ts`) send each other the messages of socket.io-adapter's
 * cluster protocol ({@linkcode ClusterMessageAdapter}: every cluster semantic, request and timeout
 * lives there) by `fetch` from object to object. There is no hub: every shard posts to every other
 * one, and a broadcast to a hibernated shard wakes it.
 *
 * - Each message is encoded once (msgpack, so binary travels as bytes) and queued for every
 *   target; each target has one request in flight at a time, carrying everything queued for it
 *   meanwhile: messages to one shard arrive in the order they were sent, and a burst of broadcasts
 *   costs one subrequest per target, not one per broadcast.
 * - Responses go back to the shard their request came from (the bus remembers which shard each
 *   adapter id spoke from).
 * - `serverCount()` is the number of shards: every shard answers, woken if it was evicted. A shard
 *   that has not created the namespace of a request answers it with nothing (no sockets, a client
 *   count of 0), except `serverSideEmit` with acks, which nobody there listens to.
 *
 * Why `fetch` rather than Durable Object RPC: RPC needs the object class to extend
 * `DurableObject` from `cloudflare:workers`, which the classes of this library do not (they are
 * plain classes that bundle and type-check anywhere). Measured in workerd (Miniflare, one
 * 200-byte message per call, awaited one after the other): RPC 0.04–0.09 ms a call, `fetch`
 * 0.08–0.18 ms; batching makes the difference small next to the work of delivering a broadcast.
 *
 * @module
 */

import type { AnyNamespace, Session } from "../io/adapter.ts";
import { reportListenerError } from "../io/_util.ts";
import type { ClusterAdapterOptions } from "./cluster.ts";
import { type ClusterMessage, ClusterMessageAdapter, MessageType } from "./cluster_message.ts";
import { decodeMsgpack, encodeMsgpack } from "./redis/_msgpack.ts";

/**
 * What the bus uses of a Durable Object namespace binding.
 *
 * @example
 * ```ts
 * import type { BusNamespaceLike } from "./durable_object_bus.ts";
 * declare const env: { IO: BusNamespaceLike };
 * env.IO.get(env.IO.idFromName("default"));
 * ```
 */
export interface BusNamespaceLike {
  /** The id of the object called `name`. */
  idFromName(name: string): unknown;
  /** A stub for the object with `id`. */
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/**
 * Options of {@linkcode DurableObjectBus}.
 *
 * @example
 * ```ts
 * import type { DurableObjectBusOptions } from "./durable_object_bus.ts";
 * declare const namespace: DurableObjectBusOptions["namespace"];
 * const options: DurableObjectBusOptions = { namespace, names: ["default", "default:1"], self: 0 };
 * ```
 */
export interface DurableObjectBusOptions extends ClusterAdapterOptions {
  /** The namespace binding the shards live in. */
  namespace: BusNamespaceLike;
  /** Every shard's object name; a shard's index is its place in this list. */
  names: readonly string[];
  /** This object's index (it may be learned later: see {@linkcode DurableObjectBus.self}). */
  self?: number;
  /**
   * Builds the adapter of a namespace (default: a {@linkcode DurableObjectBusAdapter}); the sharded
   * mode passes one that keeps connection state recovery in the shard's storage.
   */
  createAdapter?: (nsp: AnyNamespace, bus: DurableObjectBus, options: ClusterAdapterOptions) => DurableObjectBusAdapter;
}

/** The header marking a bus request asking this shard for a session to recover. */
const RECOVER_HEADER = "x-socket-io-recover";
/** The header marking a bus request; its value is the sender's shard index. */
export const BUS_HEADER = "x-socket-io-bus";
/** The path of bus requests (outside any socket.io path: a Worker never forwards it). */
export const BUS_PATH = "/.socket.io-bus";

/** At most this many bytes in one bus request (more waits for the next one). */
const MAX_BATCH_BYTES = 512 * 1024;
/** Adapter ids remembered to route responses (a few per shard and namespace). */
const MAX_UIDS = 4096;

interface Queue {
  chunks: Uint8Array[];
  bytes: number;
  busy: boolean;
}

/** A msgpack array header for `n` items. */
function arrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff);
  return Uint8Array.of(0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/**
 * The bus of one Durable Object: builds the adapter of each namespace of its server, sends their
 * messages to the other shards, and hands them the messages other shards send
 * ({@linkcode DurableObjectBus.receive}).
 *
 * @example
 * ```ts
 * import { DurableObjectBus } from "./durable_object_bus.ts";
 * import { Server } from "../io/server.ts";
 * declare const env: { IO: import("./durable_object_bus.ts").BusNamespaceLike };
 * const bus = new DurableObjectBus({ namespace: env.IO, names: ["default", "default:1"], self: 0 });
 * const io = new Server({ adapter: bus.adapter });
 * // in the object's fetch: if (bus.isBusRequest(request)) return bus.receive(request);
 * ```
 */
export class DurableObjectBus {
  /** Every shard's object name. */
  readonly names: readonly string[];
  /** How many shards there are. */
  readonly count: number;
  /** Builds the adapter of a namespace: pass it as the server's `adapter` option. */
  readonly adapter: (nsp: AnyNamespace) => DurableObjectBusAdapter;
  readonly #namespace: BusNamespaceLike;
  readonly #options: ClusterAdapterOptions;
  #self: number | undefined;
  readonly #adapters: Map<string, DurableObjectBusAdapter> = new Map();
  readonly #uids: Map<string, number> = new Map();
  readonly #queues: Queue[];
  readonly #ids: unknown[] = [];
  #lastError = 0;

  /** Creates the bus of one shard. */
  constructor(options: DurableObjectBusOptions) {
    const { namespace, names, self, createAdapter, ...adapterOptions } = options;
    if (names.length < 1) throw new RangeError("A bus needs at least one shard");
    this.names = [...names];
    this.count = names.length;
    this.#namespace = namespace;
    this.#options = adapterOptions;
    this.#queues = names.map(() => ({ chunks: [], bytes: 0, busy: false }));
    if (self !== undefined) this.self = self;
    this.adapter = createAdapter
      ? (nsp) => createAdapter(nsp, this, this.#options)
      : (nsp) => new DurableObjectBusAdapter(nsp, this, this.#options);
  }

  /** This object's index among the shards (`undefined` until known). */
  get self(): number | undefined {
    return this.#self;
  }

  /** Sets this object's index (from its name, or learned from a request). */
  set self(index: number | undefined) {
    if (index === undefined || !Number.isInteger(index) || index < 0 || index >= this.count) return;
    this.#self = index;
  }

  /** Whether `request` is a message of the bus (rather than a client's). */
  isBusRequest(request: Request): boolean {
    return request.headers.has(BUS_HEADER) && new URL(request.url).pathname === BUS_PATH;
  }

  /**
   * Takes a bus request from another shard: hands each message to the adapter of its namespace.
   * Answers 204, or 400 for a body that is not a batch of messages; never throws.
   */
  async receive(request: Request): Promise<Response> {
    const from = Number(request.headers.get(BUS_HEADER));
    if (!Number.isInteger(from) || from < 0 || from >= this.count) return new Response(null, { status: 400 });
    const to = Number(request.headers.get("x-socket-io-shard"));
    if (this.#self === undefined) this.self = to;
    if (request.headers.has(RECOVER_HEADER)) return await this.#answerRecovery(request, from);
    let batch: unknown;
    try {
      batch = decodeMsgpack(new Uint8Array(await request.arrayBuffer()));
    } catch {
      return new Response(null, { status: 400 });
    }
    if (!Array.isArray(batch)) return new Response(null, { status: 400 });
    for (const message of batch) {
      if (message === null || typeof message !== "object") continue;
      const { uid, nsp } = message as ClusterMessage;
      if (typeof uid !== "string" || typeof nsp !== "string") continue;
      this.#remember(uid, from);
      const adapter = this.#adapters.get(nsp);
      try {
        if (adapter) adapter._deliver(message as ClusterMessage);
        else this.#answerAbsent(message as ClusterMessage);
      } catch (err) {
        this.#report(err, "bus message");
      }
    }
    return new Response(null, { status: 204 });
  }

  /** Another shard asks for a session this one keeps (its pid names this shard). */
  async #answerRecovery(request: Request, from: number): Promise<Response> {
    let ask: { nsp?: unknown; pid?: unknown; offset?: unknown };
    try {
      ask = decodeMsgpack(new Uint8Array(await request.arrayBuffer())) as typeof ask;
    } catch {
      return new Response(null, { status: 400 });
    }
    const { nsp, pid, offset } = ask ?? {};
    if (typeof nsp !== "string" || typeof pid !== "string" || typeof offset !== "string") {
      return new Response(null, { status: 400 });
    }
    const adapter = this.#adapters.get(nsp);
    let session: Session | null = null;
    try {
      session = adapter ? await adapter.restoreSessionHere(pid, offset, from) : null;
    } catch (err) {
      this.#report(err, "recovery request");
    }
    if (!session) return new Response(null, { status: 204 });
    return new Response(encodeMsgpack(session) as Uint8Array<ArrayBuffer>, { status: 200 });
  }

  /**
   * Asks shard `shard` for the session `pid` of `nsp` and the packets it missed after `offset`
   * (the shard gives it up); null when it has none, or cannot be reached.
   */
  async recover(shard: number, nsp: string, pid: string, offset: string): Promise<Session | null> {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.count || shard === this.#self) return null;
    try {
      const stub = this.#namespace.get(this.#ids[shard] ??= this.#namespace.idFromName(this.names[shard]));
      const response = await stub.fetch(
        new Request(`https://socket.io${BUS_PATH}`, {
          method: "POST",
          headers: {
            [BUS_HEADER]: String(this.#self ?? -1),
            "x-socket-io-shard": String(shard),
            [RECOVER_HEADER]: "1",
          },
          body: encodeMsgpack({ nsp, pid, offset }) as Uint8Array<ArrayBuffer>,
        }),
      );
      if (response.status !== 200) {
        await response.body?.cancel();
        return null;
      }
      const session = decodeMsgpack(new Uint8Array(await response.arrayBuffer())) as Session;
      const ok = session !== null && typeof session === "object" && typeof session.sid === "string" &&
        Array.isArray(session.rooms) && session.rooms.every((room) => typeof room === "string") &&
        Array.isArray(session.missedPackets) && session.missedPackets.every((p) => Array.isArray(p));
      if (!ok) {
        console.error(`socket.io: shard ${shard} answered a recovery with something else than a session`);
        return null;
      }
      return session;
    } catch (err) {
      this.#ids[shard] = undefined;
      this.#report(err, `recovery from shard ${shard}`);
      return null;
    }
  }

  /** A request for a namespace this shard does not have: answered with nothing, so no one waits. */
  #answerAbsent(message: ClusterMessage): void {
    const requestId = message.data?.requestId;
    if (requestId === undefined || requestId === null) return;
    const reply = (type: number, data: Record<string, unknown>) =>
      this._respond(message.uid, { uid: `absent-${this.#self ?? "?"}`, nsp: message.nsp, type, data });
    if (message.type === MessageType.FETCH_SOCKETS) {
      reply(MessageType.FETCH_SOCKETS_RESPONSE, { requestId, sockets: [] });
    } else if (message.type === MessageType.BROADCAST) {
      reply(MessageType.BROADCAST_CLIENT_COUNT, { requestId, clientCount: 0 });
    }
  }

  #remember(uid: string, shard: number): void {
    if (this.#uids.get(uid) === shard) return;
    this.#uids.delete(uid);
    this.#uids.set(uid, shard);
    if (this.#uids.size > MAX_UIDS) this.#uids.delete(this.#uids.keys().next().value!);
  }

  /** @internal An adapter was built. */
  _register(adapter: DurableObjectBusAdapter): void {
    this.#adapters.set(adapter.nsp.name, adapter);
  }

  /** @internal An adapter closed. */
  _unregister(adapter: DurableObjectBusAdapter): void {
    if (this.#adapters.get(adapter.nsp.name) === adapter) this.#adapters.delete(adapter.nsp.name);
  }

  /** @internal Sends `message` to every other shard. */
  _publish(message: ClusterMessage): void {
    const chunk = encodeMsgpack(message);
    for (let shard = 0; shard < this.count; shard++) {
      if (shard !== this.#self) this.#enqueue(shard, chunk);
    }
  }

  /** @internal Sends `message` to the shard the adapter `uid` is on (dropped when not known). */
  _respond(uid: string, message: ClusterMessage): void {
    const shard = this.#uids.get(uid);
    if (shard === undefined) return;
    this.#enqueue(shard, encodeMsgpack(message));
  }

  #enqueue(shard: number, chunk: Uint8Array): void {
    const queue = this.#queues[shard];
    queue.chunks.push(chunk);
    queue.bytes += chunk.byteLength;
    if (queue.busy) return;
    queue.busy = true;
    // Everything sent in this turn goes in one request.
    queueMicrotask(() => this.#flush(shard));
  }

  async #flush(shard: number): Promise<void> {
    const queue = this.#queues[shard];
    while (queue.chunks.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < queue.chunks.length && (n === 0 || bytes + queue.chunks[n].byteLength <= MAX_BATCH_BYTES)) {
        bytes += queue.chunks[n++].byteLength;
      }
      const chunks = queue.chunks.splice(0, n);
      queue.bytes -= bytes;
      const header = arrayHeader(n);
      const body = new Uint8Array(header.byteLength + bytes);
      body.set(header, 0);
      let at = header.byteLength;
      for (const chunk of chunks) {
        body.set(chunk, at);
        at += chunk.byteLength;
      }
      try {
        const stub = this.#namespace.get(this.#ids[shard] ??= this.#namespace.idFromName(this.names[shard]));
        const response = await stub.fetch(
          new Request(`https://socket.io${BUS_PATH}`, {
            method: "POST",
            headers: { [BUS_HEADER]: String(this.#self ?? -1), "x-socket-io-shard": String(shard) },
            body,
          }),
        );
        await response.body?.cancel();
        if (!response.ok) this.#report(new Error(`Shard ${shard} answered ${response.status}`), "bus");
      } catch (err) {
        // A shard being reset (a deploy, an exception that broke it) loses what was in flight to it.
        this.#ids[shard] = undefined;
        this.#report(err, `bus to shard ${shard}`);
      }
    }
    queue.busy = false;
  }

  #report(err: unknown, where: string): void {
    const now = Date.now();
    if (now - this.#lastError < 1000) return;
    this.#lastError = now;
    reportListenerError(err, where);
  }
}

/**
 * The cluster adapter of one namespace on the Durable Object bus; built by
 * {@linkcode DurableObjectBus.adapter}.
 *
 * @example
 * ```ts
 * import { DurableObjectBus } from "./durable_object_bus.ts";
 * import { Server } from "../io/server.ts";
 * declare const bus: DurableObjectBus;
 * const io = new Server({ adapter: bus.adapter });
 * await io.of("/").adapter.serverCount(); // the number of shards
 * ```
 */
export class DurableObjectBusAdapter extends ClusterMessageAdapter {
  readonly #bus: DurableObjectBus;

  /** Creates the adapter of `nsp` on `bus`. */
  constructor(nsp: AnyNamespace, bus: DurableObjectBus, options: ClusterAdapterOptions = {}) {
    super(nsp, options);
    this.#bus = bus;
    bus._register(this);
  }

  /** Sends a message to every other shard. */
  protected doPublish(message: ClusterMessage): void {
    this.#bus._publish(message);
  }

  /** Sends a response to the shard of the adapter `requesterUid`. */
  protected doPublishResponse(requesterUid: string, response: ClusterMessage): void {
    this.#bus._respond(requesterUid, response);
  }

  /** Every shard answers (an evicted one is woken): the number of shards. */
  override serverCount(): Promise<number> {
    return Promise.resolve(this.#bus.count);
  }

  /**
   * The session `pid` kept by this shard and the packets it missed, for the recovery request of
   * shard `claimant` (none without connection state recovery in storage).
   */
  restoreSessionHere(_pid: string, _offset: string, _claimant: number): Promise<Session | null> {
    return Promise.resolve(null);
  }

  /** @internal A message from another shard. */
  _deliver(message: ClusterMessage): void {
    this.onMessage(message);
  }

  /** Leaves the bus and fails pending requests. */
  override close(): void | Promise<void> {
    this.#bus._unregister(this);
    return super.close();
  }
}
