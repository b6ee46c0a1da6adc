/**
 * The newer cluster message protocol of `socket.io-adapter` 2.5 (its `ClusterAdapter`), which
 * `@socket.io/redis-adapter`'s sharded adapter and `@socket.io/redis-streams-adapter` speak: every
 * message is `{ uid, nsp, type, data }`, with the types of {@linkcode MessageType}.
 *
 * {@linkcode ClusterMessageAdapter} is a dialect, not a second implementation: it translates these
 * messages to and from the requests of {@linkcode ClusterAdapter}, which keeps every cluster
 * semantic (broadcasts and their acks, requests and timeouts, recovery offsets) in one place. A
 * bus fills in {@linkcode ClusterMessageAdapter.doPublish},
 * {@linkcode ClusterMessageAdapter.doPublishResponse} and `serverCount`, and hands what it
 * receives to {@linkcode ClusterMessageAdapter.onMessage}. A bus that cannot count its
 * subscribers extends {@linkcode ClusterMessageAdapterWithHeartbeat} instead (socket.io-adapter's
 * `ClusterAdapterWithHeartbeat`): the servers count each other from heartbeats.
 *
 * @module
 */

import type { AnyNamespace, Room } from "../io/adapter.ts";
import type { Packet } from "../parser/socket_io.ts";
import {
  ClusterAdapter,
  type ClusterAdapterOptions,
  type ClusterBroadcast,
  type ClusterRequest,
  type ClusterResponse,
  RequestType,
  type WireOptions,
} from "./cluster.ts";

/**
 * The message types of `socket.io-adapter`'s cluster protocol.
 *
 * @example
 * ```ts
 * import { MessageType } from "./cluster_message.ts";
 * MessageType.BROADCAST; // 3
 * ```
 */
export const MessageType = {
  INITIAL_HEARTBEAT: 1,
  HEARTBEAT: 2,
  BROADCAST: 3,
  SOCKETS_JOIN: 4,
  SOCKETS_LEAVE: 5,
  DISCONNECT_SOCKETS: 6,
  FETCH_SOCKETS: 7,
  FETCH_SOCKETS_RESPONSE: 8,
  SERVER_SIDE_EMIT: 9,
  SERVER_SIDE_EMIT_RESPONSE: 10,
  BROADCAST_CLIENT_COUNT: 11,
  BROADCAST_ACK: 12,
  ADAPTER_CLOSE: 13,
} as const;

/**
 * One message of the protocol (requests and responses alike). `data` depends on `type`:
 * - BROADCAST `{ packet, opts, requestId? }` (a `requestId` asks for acks);
 * - SOCKETS_JOIN / SOCKETS_LEAVE `{ opts, rooms }`; DISCONNECT_SOCKETS `{ opts, close }`;
 * - FETCH_SOCKETS `{ opts, requestId }` -> FETCH_SOCKETS_RESPONSE `{ requestId, sockets }`;
 * - SERVER_SIDE_EMIT `{ packet, requestId? }` -> SERVER_SIDE_EMIT_RESPONSE `{ requestId, packet }`;
 * - BROADCAST_CLIENT_COUNT `{ requestId, clientCount }`, BROADCAST_ACK `{ requestId, packet }`;
 * - the heartbeats and ADAPTER_CLOSE have none.
 *
 * @example
 * ```ts
 * import { type ClusterMessage, MessageType } from "./cluster_message.ts";
 * const m: ClusterMessage = { uid: "abc", nsp: "/", type: MessageType.SOCKETS_JOIN, data: { opts: { rooms: [], except: [] }, rooms: ["news"] } };
 * ```
 */
export interface ClusterMessage {
  /** The sender's id (`emitter` for emitters). */
  uid: string;
  /** The namespace. */
  nsp: string;
  /** One of {@linkcode MessageType}. */
  type: number;
  /** The payload of that type. */
  data?: Record<string, unknown>;
}

/** The receivers of a broadcast as this protocol sends them (no `offset`: the bus gives it). */
function wireOptions(opts: WireOptions | undefined): WireOptions {
  return { rooms: opts?.rooms ?? [], except: opts?.except ?? [], flags: opts?.flags };
}

/** Whether a received broadcast gets the offset when recovering (socket.io-adapter's rule). */
function carriesOffset(packet: Packet, opts: WireOptions | undefined): boolean {
  return packet?.type === 2 && packet.id === undefined && opts?.flags?.volatile === undefined;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * The base of adapters speaking `socket.io-adapter`'s cluster message protocol. Subclasses
 * implement {@linkcode ClusterMessageAdapter.doPublish},
 * {@linkcode ClusterMessageAdapter.doPublishResponse} and `serverCount()`, and call
 * {@linkcode ClusterMessageAdapter.onMessage} with every message they receive (the bus's offset
 * for broadcasts read from a log). Requests wait for `serverCount() - 1` responses.
 *
 * @example
 * ```ts
 * import { type ClusterMessage, ClusterMessageAdapter } from "./cluster_message.ts";
 * declare const bus: { send(channel: string, payload: Uint8Array): void; members(): number };
 * declare function encode(message: ClusterMessage): Uint8Array;
 * class MyBusAdapter extends ClusterMessageAdapter {
 *   protected doPublish(message: ClusterMessage) { bus.send("all", encode(message)); }
 *   protected doPublishResponse(uid: string, response: ClusterMessage) { bus.send(uid, encode(response)); }
 *   override serverCount() { return Promise.resolve(bus.members()); }
 * }
 * ```
 */
export abstract class ClusterMessageAdapter extends ClusterAdapter {
  /** Creates the adapter of `nsp`. */
  constructor(nsp: AnyNamespace, options: ClusterAdapterOptions = {}) {
    super(nsp, options);
  }

  /**
   * Sends a message to every other server. A bus that logs broadcasts (and sets
   * `publishesOffsets`) resolves with the entry id of a BROADCAST; it must encode the message
   * before returning.
   */
  protected abstract doPublish(message: ClusterMessage): void | Promise<unknown>;
  /** Sends a response to the server whose id is `requesterUid`. */
  protected abstract doPublishResponse(requesterUid: string, response: ClusterMessage): void | Promise<unknown>;

  #message(type: number, data?: Record<string, unknown>): ClusterMessage {
    const message: ClusterMessage = { uid: this.uid, nsp: this.nsp.name, type };
    if (data !== undefined) message.data = data;
    return message;
  }

  /** Every message this adapter sends goes through here (a subclass may watch them). */
  protected publish(message: ClusterMessage): void | Promise<unknown> {
    return this.doPublish(message);
  }

  /** Sends a message of `type` (without data: a heartbeat) to the other servers, reporting failures. */
  protected publishType(type: number): void {
    try {
      const sent = this.publish(this.#message(type));
      if (sent && typeof sent.catch === "function") sent.catch((err) => this.onPublishError(err, "heartbeat"));
    } catch (err) {
      this.onPublishError(err, "heartbeat");
    }
  }

  /** A broadcast goes out as a BROADCAST message. */
  protected publishBroadcast(message: ClusterBroadcast): void | Promise<unknown> {
    return this.doPublish(
      this.#message(MessageType.BROADCAST, { packet: message.packet, opts: wireOptions(message.opts) }),
    );
  }

  /** A request goes out as the message of the same meaning. */
  protected publishRequest(request: ClusterRequest): void | Promise<unknown> {
    const opts = wireOptions(request.opts);
    const requestId = request.requestId;
    switch (request.type) {
      case RequestType.BROADCAST:
        return this.publish(this.#message(MessageType.BROADCAST, { packet: request.packet, requestId, opts }));
      case RequestType.REMOTE_JOIN:
        return this.publish(this.#message(MessageType.SOCKETS_JOIN, { opts, rooms: request.rooms ?? [] }));
      case RequestType.REMOTE_LEAVE:
        return this.publish(this.#message(MessageType.SOCKETS_LEAVE, { opts, rooms: request.rooms ?? [] }));
      case RequestType.REMOTE_DISCONNECT:
        return this.publish(this.#message(MessageType.DISCONNECT_SOCKETS, { opts, close: request.close === true }));
      // The protocol has no request for socket ids or room names: they come from the sockets'
      // details (ClusterAdapter reads either answer).
      case RequestType.SOCKETS:
      case RequestType.ALL_ROOMS:
      case RequestType.REMOTE_FETCH:
        return this.publish(this.#message(MessageType.FETCH_SOCKETS, { opts, requestId }));
      case RequestType.SERVER_SIDE_EMIT: {
        const data: Record<string, unknown> = { packet: request.data ?? [] };
        if (requestId !== undefined) data.requestId = requestId;
        return this.publish(this.#message(MessageType.SERVER_SIDE_EMIT, data));
      }
    }
  }

  /** A response goes back to the requester as the response message of the same meaning. */
  protected publishResponse(request: ClusterRequest, response: ClusterResponse): void | Promise<unknown> {
    const requestId = response.requestId;
    let message: ClusterMessage;
    if (response.type === RequestType.SERVER_SIDE_EMIT) {
      message = this.#message(MessageType.SERVER_SIDE_EMIT_RESPONSE, { requestId, packet: response.data });
    } else if (response.type === RequestType.BROADCAST_CLIENT_COUNT) {
      message = this.#message(MessageType.BROADCAST_CLIENT_COUNT, { requestId, clientCount: response.clientCount });
    } else if (response.type === RequestType.BROADCAST_ACK) {
      message = this.#message(MessageType.BROADCAST_ACK, { requestId, packet: response.packet });
    } else if (Array.isArray(response.sockets)) {
      message = this.#message(MessageType.FETCH_SOCKETS_RESPONSE, { requestId, sockets: response.sockets });
    } else return;
    return this.doPublishResponse(request.uid ?? "", message);
  }

  /**
   * A message from the bus: another server's request or broadcast, or a response to one of ours.
   * `offset` is the entry id of a broadcast read from a log. Messages from this server, from
   * another namespace and malformed ones are ignored; nothing here throws.
   */
  protected onMessage(message: ClusterMessage, offset?: string): void {
    if (!message || typeof message !== "object" || message.uid === this.uid) return;
    if (message.nsp !== this.nsp.name) return;
    const data = message.data !== null && typeof message.data === "object" ? message.data : {};
    const uid = typeof message.uid === "string" ? message.uid : undefined;
    const opts = data.opts as WireOptions | undefined;
    const requestId = present(data.requestId) ? String(data.requestId) : undefined;
    try {
      switch (message.type) {
        case MessageType.BROADCAST: {
          const packet = data.packet as Packet;
          if (requestId !== undefined) {
            return this.#request({ type: RequestType.BROADCAST, uid, requestId, packet, opts });
          }
          const withOffset: WireOptions = { ...wireOptions(opts) };
          if (offset && carriesOffset(packet, opts)) withOffset.offset = offset;
          return this.onBroadcast({ uid: uid ?? "", packet, opts: withOffset });
        }
        case MessageType.SOCKETS_JOIN:
        case MessageType.SOCKETS_LEAVE: {
          const type = message.type === MessageType.SOCKETS_JOIN ? RequestType.REMOTE_JOIN : RequestType.REMOTE_LEAVE;
          // no opts: the request would act on a single socket (an older form this protocol lacks)
          if (opts && typeof opts === "object") this.#request({ type, uid, opts, rooms: data.rooms as Room[] });
          return;
        }
        case MessageType.DISCONNECT_SOCKETS:
          if (opts && typeof opts === "object") {
            this.#request({ type: RequestType.REMOTE_DISCONNECT, uid, opts, close: data.close === true });
          }
          return;
        case MessageType.FETCH_SOCKETS:
          return this.#request({
            type: RequestType.REMOTE_FETCH,
            uid,
            requestId,
            opts: opts ?? wireOptions(undefined),
          });
        case MessageType.SERVER_SIDE_EMIT:
          return this.#request({ type: RequestType.SERVER_SIDE_EMIT, uid, requestId, data: data.packet as unknown[] });
        case MessageType.FETCH_SOCKETS_RESPONSE:
          if (requestId !== undefined && Array.isArray(data.sockets)) {
            this.onResponse({ requestId, sockets: data.sockets });
          }
          return;
        case MessageType.SERVER_SIDE_EMIT_RESPONSE:
          if (requestId !== undefined) {
            this.onResponse({ type: RequestType.SERVER_SIDE_EMIT, requestId, data: data.packet });
          }
          return;
        case MessageType.BROADCAST_CLIENT_COUNT:
          if (requestId !== undefined) {
            const clientCount = Number(data.clientCount);
            if (Number.isFinite(clientCount)) {
              this.onResponse({ type: RequestType.BROADCAST_CLIENT_COUNT, requestId, clientCount });
            }
          }
          return;
        case MessageType.BROADCAST_ACK:
          if (requestId !== undefined) {
            this.onResponse({ type: RequestType.BROADCAST_ACK, requestId, packet: data.packet });
          }
          return;
      }
    } catch (err) {
      this.onPublishError(err, "cluster message");
    }
  }

  #request(request: ClusterRequest): void {
    this.onRequest(request).catch((err) => this.onPublishError(err, "cluster request"));
  }
}

/**
 * Options of {@linkcode ClusterMessageAdapterWithHeartbeat} (socket.io-adapter's names and
 * defaults).
 *
 * @example
 * ```ts
 * import type { HeartbeatOptions } from "./cluster_message.ts";
 * const opts: HeartbeatOptions = { heartbeatInterval: 5000, heartbeatTimeout: 10000 };
 * ```
 */
export interface HeartbeatOptions {
  /** How long a server stays silent before it sends a HEARTBEAT, in ms (default 5000). */
  heartbeatInterval?: number;
  /** How long without a message before a server is taken for gone, in ms (default 10000). */
  heartbeatTimeout?: number;
}

/**
 * The message protocol for buses that cannot count their subscribers (socket.io-adapter's
 * `ClusterAdapterWithHeartbeat`): each server announces itself with INITIAL_HEARTBEAT when it
 * starts (the others answer HEARTBEAT), sends a HEARTBEAT after `heartbeatInterval` ms without
 * sending anything, and ADAPTER_CLOSE when it closes. `serverCount()` is 1 plus the servers heard
 * from within `heartbeatTimeout` ms. A bus implements only `doPublish` and `doPublishResponse`.
 *
 * @example
 * ```ts
 * import { type ClusterMessage, ClusterMessageAdapterWithHeartbeat } from "./cluster_message.ts";
 * declare const bus: { send(channel: string, payload: Uint8Array): void; members(): number };
 * declare function encode(message: ClusterMessage): Uint8Array;
 * class MyBusAdapter extends ClusterMessageAdapterWithHeartbeat {
 *   protected doPublish(message: ClusterMessage) { bus.send("all", encode(message)); }
 *   protected doPublishResponse(uid: string, response: ClusterMessage) { bus.send(uid, encode(response)); }
 * }
 * ```
 */
export abstract class ClusterMessageAdapterWithHeartbeat extends ClusterMessageAdapter {
  /** Server id -> when it was last heard from (Date.now()). */
  readonly #nodes: Map<string, number> = new Map();
  readonly #interval: number;
  readonly #timeout: number;
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  #cleanup: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Creates the adapter of `nsp`. */
  constructor(nsp: AnyNamespace, options: ClusterAdapterOptions & HeartbeatOptions = {}) {
    super(nsp, options);
    this.#interval = options.heartbeatInterval ?? 5000;
    this.#timeout = options.heartbeatTimeout ?? 10000;
  }

  /** Announces this server and starts forgetting the silent ones. */
  override init(): void | Promise<void> {
    this.#cleanup = setInterval(() => {
      const now = Date.now();
      for (const [uid, seen] of this.#nodes) if (now - seen > this.#timeout) this.#nodes.delete(uid);
    }, Math.min(1000, this.#timeout));
    this.publishType(MessageType.INITIAL_HEARTBEAT);
  }

  /** Sends, and pushes the next HEARTBEAT back by `heartbeatInterval`. */
  protected override publish(message: ClusterMessage): void | Promise<unknown> {
    if (!this.#closed) {
      clearTimeout(this.#heartbeat);
      this.#heartbeat = setTimeout(() => this.publishType(MessageType.HEARTBEAT), this.#interval);
    }
    return super.publish(message);
  }

  /** 1 plus the servers heard from within `heartbeatTimeout`. */
  override serverCount(): Promise<number> {
    return Promise.resolve(1 + this.#nodes.size);
  }

  /** Notes who sent the message; answers an INITIAL_HEARTBEAT, forgets a closed server. */
  protected override onMessage(message: ClusterMessage, offset?: string): void {
    if (!message || typeof message !== "object" || message.uid === this.uid || this.#closed) return;
    if (message.nsp !== this.nsp.name) return;
    const uid = message.uid;
    if (typeof uid === "string" && uid !== "emitter") this.#nodes.set(uid, Date.now());
    switch (message.type) {
      case MessageType.INITIAL_HEARTBEAT:
        return this.publishType(MessageType.HEARTBEAT);
      case MessageType.HEARTBEAT:
        return;
      case MessageType.ADAPTER_CLOSE:
        this.#nodes.delete(uid);
        return;
      default:
        return super.onMessage(message, offset);
    }
  }

  /** Says goodbye (ADAPTER_CLOSE), stops the timers and fails pending requests. */
  override close(): void | Promise<void> {
    if (!this.#closed) {
      this.publishType(MessageType.ADAPTER_CLOSE);
      this.#closed = true;
      clearTimeout(this.#heartbeat);
      clearInterval(this.#cleanup);
    }
    return super.close();
  }
}
