/**
 * The generic cluster adapter: everything cluster-wide (broadcasts with rooms and `except`,
 * broadcasts with acks, `fetchSockets`, `socketsJoin`/`socketsLeave`, `disconnectSockets`,
 * `serverSideEmit` with acks, request timeouts) on top of three small hooks a message bus fills in:
 * {@linkcode ClusterAdapter.publishBroadcast}, {@linkcode ClusterAdapter.publishRequest} and
 * {@linkcode ClusterAdapter.publishResponse}, plus {@linkcode ClusterAdapter.serverCount}. A bus
 * calls `onBroadcast`, `onRequest` and `onResponse` with what it receives.
 *
 * The messages are the objects `@socket.io/redis-adapter` 8.x exchanges (same type numbers and
 * fields), so the Redis bus only has to pick channels and encodings to stay wire-compatible.
 *
 * Connection state recovery across the cluster needs a shared packet log: a bus that has one
 * overrides {@linkcode ClusterAdapter.appendToLog}, `persistSession` and `restoreSession`.
 *
 * @module
 */

import {
  Adapter,
  type AnyNamespace,
  type BroadcastFlags,
  type BroadcastOptions,
  type FetchedSocket,
  type Room,
  type SocketDetails,
  type SocketId,
} from "../io/adapter.ts";
import { type Packet, PacketType } from "../parser/socket_io.ts";
import { isRecoverablePacket } from "../io/recovery.ts";
import { reportListenerError } from "../io/_util.ts";
import { randomId } from "../engine/ids.ts";
import { within } from "../util/within.ts";

/**
 * The request and response types (the numbers `@socket.io/redis-adapter` uses).
 *
 * @example
 * ```ts
 * import { RequestType } from "./cluster.ts";
 * RequestType.REMOTE_FETCH; // 5
 * ```
 */
export const RequestType = {
  SOCKETS: 0,
  ALL_ROOMS: 1,
  REMOTE_JOIN: 2,
  REMOTE_LEAVE: 3,
  REMOTE_DISCONNECT: 4,
  REMOTE_FETCH: 5,
  SERVER_SIDE_EMIT: 6,
  BROADCAST: 7,
  BROADCAST_CLIENT_COUNT: 8,
  BROADCAST_ACK: 9,
} as const;

/**
 * Who a cluster operation targets, as it travels between servers (sets become arrays).
 *
 * @example
 * ```ts
 * import type { WireOptions } from "./cluster.ts";
 * const opts: WireOptions = { rooms: ["news"], except: [] };
 * ```
 */
export interface WireOptions {
  /** Target rooms (empty: everyone). */
  rooms: Room[];
  /** Excluded rooms. */
  except: Room[];
  /** Broadcast flags. */
  flags?: BroadcastFlags;
  /** The recovery offset of the packet (ours; other implementations ignore it). */
  offset?: string;
}

/**
 * A broadcast travelling between servers: `[uid, packet, opts]` on the wire.
 *
 * @example
 * ```ts
 * import type { ClusterBroadcast } from "./cluster.ts";
 * const b: ClusterBroadcast = { uid: "abc", packet: { type: 2, nsp: "/", data: ["hi"] }, opts: { rooms: [], except: [] } };
 * ```
 */
export interface ClusterBroadcast {
  /** The sender's id (`emitter` for emitters). */
  uid: string;
  /** The packet. */
  packet: Packet;
  /** Its receivers. */
  opts: WireOptions;
}

/**
 * A request to the other servers.
 *
 * @example
 * ```ts
 * import { type ClusterRequest, RequestType } from "./cluster.ts";
 * const r: ClusterRequest = { uid: "abc", type: RequestType.REMOTE_JOIN, opts: { rooms: [], except: [] }, rooms: ["a"] };
 * ```
 */
export interface ClusterRequest {
  /** One of {@linkcode RequestType}. */
  type: number;
  /** The sender's id (absent from emitters). */
  uid?: string;
  /** Set when responses are expected. */
  requestId?: string;
  /** Targets. */
  opts?: WireOptions;
  /** Rooms to join or leave. */
  rooms?: Room[];
  /** `disconnectSockets(close)`. */
  close?: boolean;
  /** `serverSideEmit` arguments. */
  data?: unknown[];
  /** The packet of a broadcast with acks. */
  packet?: Packet;
  /** Legacy single-socket requests. */
  sid?: SocketId;
  /** Legacy single-socket requests. */
  room?: Room;
}

/**
 * A response to a request.
 *
 * @example
 * ```ts
 * import type { ClusterResponse } from "./cluster.ts";
 * const r: ClusterResponse = { requestId: "xyz", sockets: [] };
 * ```
 */
export interface ClusterResponse {
  /** Set on `serverSideEmit` and broadcast-ack responses. */
  type?: number;
  /** The request it answers. */
  requestId: string;
  /** Socket ids (SOCKETS) or socket details (REMOTE_FETCH). */
  sockets?: unknown[];
  /** Room names (ALL_ROOMS). */
  rooms?: Room[];
  /** A `serverSideEmit` acknowledgement. */
  data?: unknown;
  /** How many clients a broadcast with acks reached on that server. */
  clientCount?: number;
  /** One client's acknowledgement of a broadcast. */
  packet?: unknown;
}

/**
 * Options shared by cluster adapters.
 *
 * @example
 * ```ts
 * import type { ClusterAdapterOptions } from "./cluster.ts";
 * const opts: ClusterAdapterOptions = { requestsTimeout: 2000 };
 * ```
 */
export interface ClusterAdapterOptions {
  /** How long to wait for the other servers' responses, in ms (default 5000). */
  requestsTimeout?: number;
}

interface PendingRequest {
  type: number;
  expected: number;
  received: number;
  timer: ReturnType<typeof setTimeout>;
  onResponse(response: ClusterResponse): void;
  finish(err: Error | null): void;
}

interface AckRequest {
  clientCountCallback: (count: number) => void;
  ack: (...args: unknown[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Targets as sent to the other servers: lists instead of sets. */
function toWireOptions(opts: BroadcastOptions): WireOptions {
  return { rooms: [...opts.rooms], except: [...(opts.except ?? [])] };
}

/** The room names of a list from another server: `null` unless a list of strings (or absent). */
function roomNames(value: unknown): Room[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return null;
  for (const room of value) if (typeof room !== "string") return null;
  return value;
}

/** Targets from another server; `null` when malformed (the message is then dropped). */
function fromWireOptions(opts: WireOptions | undefined): BroadcastOptions | null {
  const rooms = roomNames(opts?.rooms);
  const except = roomNames(opts?.except);
  if (rooms === null || except === null) return null;
  const flags = opts?.flags;
  return {
    rooms: new Set(rooms),
    except: new Set(except),
    flags: flags !== null && typeof flags === "object" ? flags : {},
  };
}

/** The id in a SOCKETS response item (an id) or a REMOTE_FETCH one (socket details). */
function socketIdOf(item: unknown): SocketId | undefined {
  if (typeof item === "string") return item;
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : undefined;
}

/** The rooms of the socket details in a REMOTE_FETCH response item. */
function roomsOf(item: unknown): Room[] {
  const rooms = (item as { rooms?: unknown } | null)?.rooms;
  return roomNames(rooms) ?? [];
}

/** A random id of 12 base64url characters (72 bits), for servers and requests. */
function shortId(): string {
  return randomId().slice(0, 12);
}

/**
 * The base of adapters that join several servers through a message bus. Subclasses implement the
 * three `publish*` hooks and `serverCount`, and feed received messages to `onBroadcast`,
 * `onRequest` and `onResponse`.
 *
 * @example
 * ```ts
 * import { ClusterAdapter, type ClusterBroadcast, type ClusterRequest, type ClusterResponse } from "./cluster.ts";
 * declare const bus: { send(channel: string, message: unknown): void; members(): number };
 * class MyBusAdapter extends ClusterAdapter {
 *   protected publishBroadcast(message: ClusterBroadcast) { bus.send("b", message); }
 *   protected publishRequest(request: ClusterRequest) { bus.send("req", request); }
 *   protected publishResponse(_request: ClusterRequest, response: ClusterResponse) { bus.send("res", response); }
 *   override serverCount() { return Promise.resolve(bus.members()); }
 * }
 * ```
 */
export abstract class ClusterAdapter extends Adapter {
  /** This server's id in the cluster. */
  readonly uid: string = shortId();
  /** How long requests wait for responses, in ms. */
  readonly requestsTimeout: number;
  #requests: Map<string, PendingRequest> = new Map();
  #ackRequests: Map<string, AckRequest> = new Map();
  #queue: Promise<void> | undefined;
  #queued = 0;

  /** Creates the adapter of `nsp`. */
  constructor(nsp: AnyNamespace, options: ClusterAdapterOptions = {}) {
    super(nsp);
    this.requestsTimeout = options.requestsTimeout ?? 5000;
  }

  /** Sends a broadcast to every other server. */
  protected abstract publishBroadcast(message: ClusterBroadcast): void | Promise<unknown>;
  /** Sends a request to every server (this one may receive it too: it is ignored by uid). */
  protected abstract publishRequest(request: ClusterRequest): void | Promise<unknown>;
  /** Sends a response to the server that made `request`. */
  protected abstract publishResponse(request: ClusterRequest, response: ClusterResponse): void | Promise<unknown>;
  /** How many servers share this namespace, this one included. */
  abstract override serverCount(): Promise<number>;

  /**
   * Appends a recoverable packet to the shared log and resolves with its offset; `undefined` (the
   * default) when the bus keeps no log, and broadcasts then carry no offset.
   */
  protected appendToLog(_packet: Packet, _opts: BroadcastOptions): Promise<string> | undefined {
    return undefined;
  }

  #send(fn: () => void | Promise<unknown>, what: string): void {
    if (this.#closed) return; // closed: nothing more goes out (a count or a log append may end late)
    try {
      const result = fn();
      if (result && typeof (result as Promise<unknown>).catch === "function") {
        (result as Promise<unknown>).catch((err) => this.onPublishError(err, what));
      }
    } catch (err) {
      this.onPublishError(err, what);
    }
  }

  /** Called when publishing fails (the bus is down): logs, at most once a second. */
  protected onPublishError(err: unknown, what: string): void {
    const now = Date.now();
    if (now - this.#lastError < 1000) return;
    this.#lastError = now;
    reportListenerError(err, `cluster adapter (${what})`);
  }
  #lastError = 0;
  #closed = false;

  #isLocal(opts: BroadcastOptions): boolean {
    if (opts.flags?.local) return true;
    // one local socket (socket.emit through the adapter with recovery on): nothing to send
    if (opts.rooms.size !== 1 || opts.except?.size) return false;
    const [room] = opts.rooms;
    return this.nsp.sockets.has(room);
  }

  /**
   * Whether {@linkcode ClusterAdapter.publishBroadcast} appends the broadcast to a shared log and
   * resolves with its entry id (a bus over a Redis Stream): the local delivery then waits for that
   * id and carries it as the recovery offset, and {@linkcode ClusterAdapter.appendToLog} is not
   * used. Such a bus encodes the message before `publishBroadcast` returns (the offset is pushed
   * to the packet's data afterwards).
   */
  protected readonly publishesOffsets: boolean = false;

  /** Broadcasts here and on every other server (in order, after the log append when recovering). */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    packet.nsp = this.nsp.name;
    let publish = !this.#isLocal(opts);
    const recoverable = this.nsp.server._recovery !== undefined && isRecoverablePacket(packet, opts);
    let logged: Promise<string | undefined> | undefined;
    if (publish && this.publishesOffsets) {
      publish = false; // sent now: what is left is the local delivery
      const sent = this.#publishLogged(packet, opts);
      if (recoverable) logged = sent;
    } else if (recoverable) {
      // Settled as soon as the append is: a failure waiting for its turn is not unhandled.
      logged = this.appendToLog(packet, opts)?.catch((err) => {
        this.onPublishError(err, "recovery log");
        return undefined;
      });
    }
    if (!logged && this.#queued === 0) return this.#deliver(packet, opts, publish);
    this.#queued++;
    const step = async () => {
      try {
        this.#deliver(packet, opts, publish, await logged);
      } catch (err) {
        // Its data could not be encoded (the caller's emit returned long ago): the broadcasts
        // queued after it still go.
        this.onPublishError(err, "broadcast");
      }
    };
    this.#queue = (this.#queue ?? Promise.resolve()).then(step).finally(() => {
      this.#queued--;
    });
  }

  /** Publishes a broadcast through a bus that logs it; resolves with its offset (none on failure). */
  #publishLogged(packet: Packet, opts: BroadcastOptions): Promise<string | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const message: ClusterBroadcast = {
      uid: this.uid,
      packet,
      opts: { ...toWireOptions(opts), flags: opts.flags ?? {} },
    };
    try {
      return Promise.resolve(this.publishBroadcast(message)).then(
        (offset) => typeof offset === "string" && offset !== "" ? offset : undefined,
        (err) => {
          this.onPublishError(err, "broadcast");
          return undefined;
        },
      );
    } catch (err) {
      this.onPublishError(err, "broadcast");
      return Promise.resolve(undefined);
    }
  }

  #deliver(packet: Packet, opts: BroadcastOptions, publish: boolean, offset?: string): void {
    if (publish) {
      const wireOpts: WireOptions = { ...toWireOptions(opts), flags: opts.flags ?? {} };
      if (offset !== undefined) wireOpts.offset = offset;
      this.#send(() => this.publishBroadcast({ uid: this.uid, packet, opts: wireOpts }), "broadcast");
    }
    if (offset !== undefined) (packet.data as unknown[]).push(offset);
    super.broadcast(packet, opts);
  }

  /** A broadcast from another server (or an emitter) arrived. */
  protected onBroadcast(message: ClusterBroadcast): void {
    const { uid, packet, opts } = message;
    if (uid === this.uid || !packet || typeof packet !== "object") return;
    if ((packet.nsp ?? "/") !== this.nsp.name) return;
    // Only events go to clients (a DISCONNECT or CONNECT_ERROR from the bus would reach every one
    // of them), and never with an ack id (their answers would settle unrelated acks here).
    if (packet.type !== PacketType.EVENT && packet.type !== PacketType.BINARY_EVENT || !Array.isArray(packet.data)) {
      return;
    }
    if (packet.id !== undefined) packet.id = undefined; // (no `delete`: it would slow the object down)
    packet.nsp = this.nsp.name;
    if (opts?.offset !== undefined && this.nsp.server._recovery && Array.isArray(packet.data)) {
      packet.data.push(opts.offset);
    }
    const targets = fromWireOptions(opts);
    if (targets !== null) super.broadcast(packet, targets);
  }

  /** Broadcasts expecting acks: this server's clients, and the other servers' through requests. */
  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    packet.nsp = this.nsp.name;
    if (!opts.flags?.local && !this.#closed) {
      const requestId = shortId();
      const timer = setTimeout(() => this.#ackRequests.delete(requestId), opts.flags?.timeout ?? this.requestsTimeout);
      this.#ackRequests.set(requestId, { clientCountCallback, ack, timer });
      const request: ClusterRequest = {
        uid: this.uid,
        requestId,
        type: RequestType.BROADCAST,
        packet: { ...packet },
        opts: { ...toWireOptions(opts), flags: opts.flags ?? {} },
      };
      this.#send(() => this.publishRequest(request), "broadcast with ack");
    }
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
  }

  /** Waits for `expected` responses to a request; `onResponse` collects them. */
  #request(
    request: ClusterRequest,
    expected: number,
    onResponse: (response: ClusterResponse) => void,
    finish: (err: Error | null) => void,
  ): void {
    if (this.#closed) return finish(new Error("adapter closed"));
    const requestId = request.requestId!;
    const timer = setTimeout(() => {
      const pending = this.#requests.get(requestId);
      if (!pending) return;
      this.#requests.delete(requestId);
      pending.finish(
        new Error(
          `timeout reached: only ${pending.received} responses received out of ${pending.expected} ` +
            `(request type ${request.type}, namespace ${this.nsp.name})`,
        ),
      );
    }, this.requestsTimeout);
    this.#requests.set(requestId, { type: request.type, expected, received: 0, timer, onResponse, finish });
    this.#send(() => this.publishRequest(request), "request");
  }

  /** `serverCount()` within requestsTimeout: a bus that does not answer (Redis down) fails the request. */
  #countServers(): Promise<number> {
    return within(
      this.serverCount(),
      this.requestsTimeout,
      () => `timeout reached: no server count within ${this.requestsTimeout} ms (namespace ${this.nsp.name})`,
    );
  }

  #collect<T>(
    type: number,
    opts: BroadcastOptions,
    local: T[],
    pick: (r: ClusterResponse) => T[] | undefined,
  ): Promise<T[]> {
    return this.#countServers().then((count) => {
      if (count <= 1) return local;
      return new Promise<T[]>((resolve, reject) => {
        const results = [...local];
        const request: ClusterRequest = { uid: this.uid, requestId: shortId(), type, opts: toWireOptions(opts) };
        // @socket.io/redis-adapter reads the rooms of a SOCKETS request from the top
        if (type === RequestType.SOCKETS) request.rooms = request.opts!.rooms;
        this.#request(
          request,
          count - 1,
          (response) => {
            const items = pick(response);
            // One at a time: push(...items) overflows the stack past some 100,000 items.
            if (items) { for (const item of items) results.push(item); }
          },
          (err) => (err ? reject(err) : resolve(results)),
        );
      });
    });
  }

  /** The sockets `opts` selects on every server (details for the remote ones). */
  override async fetchSockets(opts: BroadcastOptions): Promise<FetchedSocket[]> {
    const local = await super.fetchSockets(opts);
    if (opts.flags?.local) return local;
    return this.#collect<FetchedSocket>(
      RequestType.REMOTE_FETCH,
      opts,
      local,
      (r) => Array.isArray(r.sockets) ? r.sockets as SocketDetails[] : undefined,
    );
  }

  /** The ids of the sockets in any of `rooms`, on every server. */
  override async sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const local = [...await super.sockets(rooms)];
    const all = await this.#collect<SocketId>(
      RequestType.SOCKETS,
      { rooms },
      local,
      // ids, or the details of FETCH_SOCKETS responses (buses without a SOCKETS request)
      (r) =>
        Array.isArray(r.sockets)
          ? r.sockets.map(socketIdOf).filter((id): id is SocketId => id !== undefined)
          : undefined,
    );
    return new Set(all);
  }

  /** Every room name, on every server. */
  async allRooms(): Promise<Set<Room>> {
    const all = await this.#collect<Room>(
      RequestType.ALL_ROOMS,
      { rooms: new Set() },
      [...this.rooms.keys()],
      // room names, or the rooms of every socket (buses without an ALL_ROOMS request)
      (r) => Array.isArray(r.rooms) ? r.rooms : Array.isArray(r.sockets) ? r.sockets.flatMap(roomsOf) : undefined,
    );
    return new Set(all);
  }

  /** Makes the sockets `opts` selects join `rooms`, on every server. */
  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    super.addSockets(opts, rooms);
    if (opts.flags?.local) return;
    const request: ClusterRequest = { uid: this.uid, type: RequestType.REMOTE_JOIN, opts: toWireOptions(opts), rooms };
    this.#send(() => this.publishRequest(request), "socketsJoin");
  }

  /** Makes the sockets `opts` selects leave `rooms`, on every server. */
  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    super.delSockets(opts, rooms);
    if (opts.flags?.local) return;
    const request: ClusterRequest = { uid: this.uid, type: RequestType.REMOTE_LEAVE, opts: toWireOptions(opts), rooms };
    this.#send(() => this.publishRequest(request), "socketsLeave");
  }

  /** Disconnects the sockets `opts` selects, on every server. */
  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    super.disconnectSockets(opts, close);
    if (opts.flags?.local) return;
    const request: ClusterRequest = {
      uid: this.uid,
      type: RequestType.REMOTE_DISCONNECT,
      opts: toWireOptions(opts),
      close,
    };
    this.#send(() => this.publishRequest(request), "disconnectSockets");
  }

  /** Emits to the other servers; a function as last element receives `(err, responses)`. */
  override serverSideEmit(packet: unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last !== "function") {
      const request: ClusterRequest = { uid: this.uid, type: RequestType.SERVER_SIDE_EMIT, data: packet };
      this.#send(() => this.publishRequest(request), "serverSideEmit");
      return;
    }
    const ack = packet.pop() as (err: Error | null, responses: unknown[]) => void;
    const call = (err: Error | null, responses: unknown[]) => {
      try {
        ack(err, responses);
      } catch (e) {
        reportListenerError(e, "serverSideEmit ack");
      }
    };
    this.#countServers().then((count) => {
      if (count <= 1) return call(null, []);
      const responses: unknown[] = [];
      const request: ClusterRequest = {
        uid: this.uid,
        requestId: shortId(),
        type: RequestType.SERVER_SIDE_EMIT,
        data: packet,
      };
      this.#request(request, count - 1, (r) => responses.push(r.data), (err) => call(err, responses));
    }, (err) => call(err instanceof Error ? err : new Error(String(err)), []));
  }

  /** A request from another server (or an emitter) arrived. */
  protected async onRequest(request: ClusterRequest): Promise<void> {
    if (!request || typeof request !== "object") return;
    const own = request.uid === this.uid;
    switch (request.type) {
      case RequestType.SOCKETS:
      case RequestType.ALL_ROOMS:
      case RequestType.REMOTE_FETCH: {
        if (own || request.requestId === undefined || this.#requests.has(request.requestId)) return;
        const opts = fromWireOptions(request.opts);
        if (opts === null) return;
        let response: ClusterResponse;
        if (request.type === RequestType.SOCKETS) {
          // @socket.io/redis-adapter puts the rooms at the top of the request
          const names = request.rooms !== undefined ? roomNames(request.rooms) : [...opts.rooms];
          if (names === null) return;
          const rooms = new Set(names);
          response = { requestId: request.requestId, sockets: [...await super.sockets(rooms)] };
        } else if (request.type === RequestType.ALL_ROOMS) {
          response = { requestId: request.requestId, rooms: [...this.rooms.keys()] };
        } else {
          const sockets = await super.fetchSockets(opts);
          response = {
            requestId: request.requestId,
            sockets: sockets.map((s) => ({ id: s.id, handshake: s.handshake, rooms: [...s.rooms], data: s.data })),
          };
        }
        this.#send(() => this.publishResponse(request, response), "response");
        return;
      }
      case RequestType.REMOTE_JOIN:
      case RequestType.REMOTE_LEAVE:
      case RequestType.REMOTE_DISCONNECT: {
        if (own) return;
        if (request.opts) {
          const opts = fromWireOptions(request.opts);
          const rooms = roomNames(request.rooms);
          if (opts === null || rooms === null) return;
          opts.flags = { local: true };
          if (request.type === RequestType.REMOTE_JOIN) super.addSockets(opts, rooms);
          else if (request.type === RequestType.REMOTE_LEAVE) super.delSockets(opts, rooms);
          else super.disconnectSockets(opts, request.close === true);
          return;
        }
        const socket = typeof request.sid !== "string" ? undefined : this.nsp.sockets.get(request.sid);
        if (!socket) return;
        const room = request.room;
        if (request.type !== RequestType.REMOTE_DISCONNECT && typeof room !== "string") return;
        if (request.type === RequestType.REMOTE_JOIN) socket.join(room!);
        else if (request.type === RequestType.REMOTE_LEAVE) socket.leave(room!);
        else socket.disconnect(request.close === true);
        if (request.requestId !== undefined) {
          const requestId = request.requestId;
          this.#send(() => this.publishResponse(request, { requestId }), "response");
        }
        return;
      }
      case RequestType.SERVER_SIDE_EMIT: {
        if (own || !Array.isArray(request.data)) return;
        const data = [...request.data] as [string, ...unknown[]];
        if (request.requestId !== undefined) {
          const requestId = request.requestId;
          let called = false;
          data.push((arg: unknown) => {
            if (called) return;
            called = true;
            const response = { type: RequestType.SERVER_SIDE_EMIT, requestId, data: arg };
            this.#send(() => this.publishResponse(request, response), "serverSideEmit ack");
          });
        }
        this.nsp._onServerSideEmit(data);
        return;
      }
      case RequestType.BROADCAST: {
        if (own || request.requestId === undefined || this.#ackRequests.has(request.requestId)) return;
        const packet = request.packet;
        const opts = fromWireOptions(request.opts);
        if (!packet || typeof packet !== "object" || !Array.isArray(packet.data) || opts === null) return;
        if (packet.type !== PacketType.EVENT && packet.type !== PacketType.BINARY_EVENT) return;
        const requestId = request.requestId;
        packet.nsp = this.nsp.name;
        // The requester stops waiting after its timeout: the acks its clients here still hold (and
        // the request they close over) go then, not when each client answers or leaves.
        const waitFor = typeof opts.flags?.timeout === "number" ? opts.flags.timeout : this.requestsTimeout;
        let expected = -1;
        let answered = 0;
        const timer = setTimeout(() => {
          if (packet.id === undefined) return;
          for (const socket of this.nsp.sockets.values()) socket._deleteAck(packet.id);
        }, waitFor);
        super.broadcastWithAck(
          packet,
          opts,
          (clientCount) => {
            expected = clientCount;
            if (answered >= expected) clearTimeout(timer);
            const response = { type: RequestType.BROADCAST_CLIENT_COUNT, requestId, clientCount };
            this.#send(() => this.publishResponse(request, response), "broadcast client count");
          },
          (arg) => {
            if (++answered === expected) clearTimeout(timer);
            const response = { type: RequestType.BROADCAST_ACK, requestId, packet: arg };
            this.#send(() => this.publishResponse(request, response), "broadcast ack");
          },
        );
        return;
      }
    }
  }

  /** A response from another server arrived (responses to other servers' requests are ignored). */
  protected onResponse(response: ClusterResponse): void {
    if (!response || typeof response !== "object") return;
    const requestId = response.requestId;
    const ackRequest = this.#ackRequests.get(requestId);
    if (ackRequest) {
      if (response.type === RequestType.BROADCAST_CLIENT_COUNT) {
        ackRequest.clientCountCallback(Number(response.clientCount ?? 0));
      } else if (response.type === RequestType.BROADCAST_ACK) {
        ackRequest.ack(response.packet);
      }
      return;
    }
    const pending = this.#requests.get(requestId);
    if (!pending) return;
    pending.received++;
    pending.onResponse(response);
    if (pending.received >= pending.expected) {
      clearTimeout(pending.timer);
      this.#requests.delete(requestId);
      pending.finish(null);
    }
  }

  /** Fails pending requests and forgets broadcast acks. */
  override close(): void | Promise<void> {
    this.#closed = true;
    for (const [id, pending] of this.#requests) {
      clearTimeout(pending.timer);
      this.#requests.delete(id);
      pending.finish(new Error("adapter closed"));
    }
    for (const ack of this.#ackRequests.values()) clearTimeout(ack.timer);
    this.#ackRequests.clear();
  }
}
