/**
 * The server side of one client's connection to one namespace.
 *
 * @module
 */

import { intern } from "../util/intern.ts";
import { type Packet, PacketType, RESERVED_EVENTS } from "../parser/socket_io.ts";
import type { EngineCloseReason } from "../engine/types.ts";
import type { EngineSocket } from "../engine/socket.ts";
import { SessionRequest } from "../engine/session_request.ts";
import type { BroadcastFlags, Room, SocketId } from "./adapter.ts";
import { BroadcastOperator } from "./broadcast.ts";
import type { Client } from "./client.ts";
import type { Namespace } from "./namespace.ts";
import { StrictEventEmitter } from "./_typed_emitter.ts";
import { reportListenerError, runMiddlewares, safeCall, setOwn } from "./_util.ts";
import { randomId } from "../engine/ids.ts";
import { socketIdV4 } from "../parser/socket_io_v4.ts";
import { RECOVERABLE_DISCONNECT_REASONS } from "./recovery.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "../util/typed_events.ts";
import { createDebug } from "../util/debug.ts";

const debug = createDebug("sio:io:socket");

/** The flags of an emit without modifiers (shared: never written). */
const NO_FLAGS: BroadcastFlags = Object.freeze({});
/** How a packet without flags is written (shared: never written). */
const DEFAULT_WRITE = Object.freeze({ volatile: undefined, compress: true });
/** `socket.data` not made yet (see `Socket.data`). */
const NO_DATA: unique symbol = Symbol("sio.noData");

/**
 * Why a socket disconnected (the values socket.io 4.x uses).
 *
 * @example
 * ```ts
 * import type { DisconnectReason, Socket } from "./socket.ts";
 * declare const socket: Socket;
 * socket.on("disconnect", (reason: DisconnectReason) => console.log(reason));
 * ```
 */
export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "transport full"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";

/**
 * The request that opened the connection, as `socket.handshake` exposes it.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * io.on("connection", (socket) => {
 *   console.log(socket.handshake.auth.token, socket.handshake.query.room, socket.handshake.address);
 * });
 * ```
 */
export interface Handshake {
  /** Request headers, lower-case names (like Node's `IncomingHttpHeaders`). */
  headers: Record<string, string | undefined>;
  /** When the socket was created, as `Date#toString()`. */
  time: string;
  /** The peer's address (`""` when the runtime does not tell). */
  address: string;
  /** Whether the request was cross-origin (it had an `Origin` header). */
  xdomain: boolean;
  /** Whether it came over TLS. */
  secure: boolean;
  /** When the socket was created, in ms since the epoch. */
  issued: number;
  /** The request path and query string. */
  url: string;
  /** The query parameters (repeated names give arrays). */
  query: Record<string, string | string[] | undefined>;
  /** The auth payload of the CONNECT packet. */
  // deno-lint-ignore no-explicit-any
  auth: Record<string, any>;
}

/**
 * Events a socket emits locally; `*` is the catch-all for events without a specific listener.
 *
 * @example
 * ```ts
 * import type { Socket } from "./socket.ts";
 * declare const socket: Socket;
 * socket.on("*", (event: string, ...args: unknown[]) => console.log("unhandled", event, args));
 * ```
 */
export interface SocketReservedEventsMap {
  /** The socket disconnected. */
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
  /** The socket is disconnecting: its rooms are still there. */
  disconnecting: (reason: DisconnectReason, description?: unknown) => void;
  /** A socket middleware rejected a packet, or the connection had a protocol error. */
  error: (err: Error) => void;
  /** Catch-all: an event with no listener of its own (python-socketio style). */
  // deno-lint-ignore no-explicit-any
  "*": (event: string, ...args: any[]) => void;
}

/**
 * What a runtime keeps of a socket to restore it later (see `Namespace._restore`).
 *
 * @example
 * ```ts
 * import type { PreviousSocketState } from "./socket.ts";
 * const previous: PreviousSocketState = { id: "abc", issued: Date.now(), data: { user: "ann" } };
 * ```
 */
// deno-lint-ignore no-explicit-any
export interface PreviousSocketState<SocketData = any> {
  /** The socket id. */
  id: SocketId;
  /** When the socket first connected (ms since the epoch). */
  issued: number;
  /** Its `socket.data`. */
  data: SocketData;
  /** Its private session id (connection state recovery). */
  pid?: string;
  /** Its rooms, joined again when it connects (connection state recovery). */
  rooms?: Room[];
  /** Event data (name, arguments, offset) to send again once it connects (connection state recovery). */
  missedPackets?: unknown[][];
}

/**
 * An incoming event as socket middlewares see it: the name, then the arguments.
 *
 * @example
 * ```ts
 * import type { Event, Socket } from "./socket.ts";
 * declare const socket: Socket;
 * socket.use(([event, ...args]: Event, next) => next());
 * ```
 */
export type Event = [string, ...unknown[]];

/**
 * A listener of any event (catch-all listeners take the event name first).
 *
 * @example
 * ```ts
 * import type { AnyFn } from "./socket.ts";
 * const log: AnyFn = (event, ...args) => console.log(event, args);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFn = (...args: any[]) => void;

function headersToObject(headers: Headers): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  try {
    for (const [name, value] of headers) setOwn(out, name, value);
  } catch {
    // Some runtimes refuse to read a finished request's headers; the engine should hand us a copy.
  }
  return out;
}

let lastSecond = NaN;
let lastTime = "";

/** `date.toString()`, one string per second (sockets that connect in the same second share it). */
function timeString(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastTime = date.toString();
  }
  return lastTime;
}

function queryToObject(params: URLSearchParams): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [key, value] of params) {
    const prev = Object.hasOwn(out, key) ? out[key] : undefined;
    const shared = intern(value);
    if (prev === undefined) setOwn(out, key, shared);
    else if (Array.isArray(prev)) prev.push(shared);
    else setOwn(out, key, [prev, shared]);
  }
  return out;
}

function pythonResult(args: unknown[]): unknown {
  return args.length === 0 ? undefined : args.length === 1 ? args[0] : args;
}

/**
 * One client connected to one namespace.
 *
 * `emit` sends an event (a function as last argument receives the client's acknowledgement);
 * `on` listens for the client's events (when the client asks for an acknowledgement, the listener's
 * last argument is the function that sends it).
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   socket.on("hello", (name: string, ack?: (reply: string) => void) => ack?.(`hi ${name}`));
 *   socket.timeout(1000).emit("ping", (err: Error | null, pong: string) => {});
 *   socket.on("disconnect", (reason) => console.log(socket.id, reason));
 * });
 * ```
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> extends StrictEventEmitter<ListenEvents, SocketReservedEventsMap> {
  /** The Socket.IO id (random, distinct from the Engine.IO session id). */
  readonly id: SocketId;
  /** The opening request and the CONNECT auth. */
  readonly handshake: Handshake;
  /** Whether this connection restored an earlier session (connection state recovery). */
  readonly recovered: boolean = false;
  /** The private session id a client presents to recover its session (with connection state recovery). */
  readonly pid: string | undefined;
  /** The namespace. */
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The underlying connection shared by the client's namespaces. */
  readonly client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** Free-form data, visible to `fetchSockets` (and session helpers); an empty object until set. */
  get data(): SocketData {
    if (this.#data === NO_DATA) this.#data = {} as SocketData;
    return this.#data as SocketData;
  }
  set data(value: SocketData) {
    this.#data = value;
  }
  // Made on first read: most sockets never use it, and an idle connection's bytes add up. Not
  // `undefined` for "not yet": `socket.data = undefined` (or null) must read back as set.
  #data: SocketData | typeof NO_DATA = NO_DATA;
  /** Whether the socket is connected. */
  connected = false;

  /** Callbacks waiting for the client's acknowledgement (made on first use: most sockets never need it). */
  #acks: Map<number, AnyFn> | undefined;
  // Middlewares and catch-all listeners: the shared empty list until one is added (most sockets have
  // none). Never modified in place (each change makes a new list), so dispatch iterates them as
  // they are, even when a listener removes itself.
  #fns: Array<(event: Event, next: (err?: Error) => void) => void> = NONE;
  /** Flags for the next emit; `NO_FLAGS` (shared, never written) until a modifier sets one. */
  #flags: BroadcastFlags = NO_FLAGS;
  #anyListeners: AnyFn[] = NONE;
  #anyOutgoingListeners: AnyFn[] = NONE;
  #closed = false;
  #restoreRooms: Room[] | undefined;
  #missed: unknown[][] | undefined;

  /**
   * Created by the namespace when a client sends CONNECT, or with `previous` when a runtime restores
   * a socket it kept across a restart (a Workers Durable Object waking from hibernation): the id,
   * handshake time and data come back and `recovered` is true.
   */
  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    previous?: PreviousSocketState<SocketData>,
  ) {
    super();
    this.nsp = nsp;
    this.client = client;
    // Socket.IO v4 clients derive the id from the Engine.IO id: it must be that.
    const v4 = client.conn.protocol === 3;
    this.id = previous?.id ?? (v4 ? socketIdV4(nsp.name, client.id) : randomId());
    this.handshake = this.#buildHandshake(auth, previous?.issued);
    if (previous) {
      this.recovered = true;
      this.data = previous.data;
      this.#restoreRooms = previous.rooms;
      this.#missed = previous.missedPackets;
    }
    // v4 has no connection state recovery (nothing to send the pid with).
    this.pid = nsp.server._recovery && !v4 ? previous?.pid ?? nsp.adapter.newPid() : undefined;
  }

  #buildHandshake(auth: Record<string, unknown>, issued?: number): Handshake {
    const req = this.client.conn.request;
    const now = issued === undefined ? new Date() : new Date(issued);
    // From a SessionRequest: one headers object per connection, shared by its sockets (as
    // socket.io shares the request's), and no URL or Headers built.
    const session = req instanceof SessionRequest ? req : undefined;
    const headers = session ? session.headerRecord : headersToObject(req.headers);
    return {
      headers,
      time: timeString(now),
      address: req.remoteAddress,
      xdomain: headers.origin !== undefined,
      secure: req.secure,
      issued: now.getTime(),
      url: intern(session ? session.pathAndQuery : req.url.pathname + req.url.search),
      query: queryToObject(session ? new URLSearchParams(session.search) : req.url.searchParams),
      auth,
    };
  }

  /** The Engine.IO session. */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  /**
   * The request that opened the session, as socket.io's `socket.request`: on Node's HTTP server
   * (`attach`, `listen`, `serve` on Node) Node's `IncomingMessage`, with what engine middlewares
   * set on it (`req.session`, `req.user`); elsewhere the session's `HandshakeRequest`
   * (its URL, `Headers`, method, peer address). Typed loosely for that reason:
   * {@linkcode Socket.handshake} is the same on every runtime.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * io.on("connection", (socket) => {
   *   const user = socket.request.user; // set by passport through io.engine.use(), on Node
   * });
   * ```
   */
  // deno-lint-ignore no-explicit-any
  get request(): any {
    return this.client.request;
  }

  /** The rooms this socket is in (its own id included). */
  get rooms(): Set<Room> {
    return this.nsp.adapter.socketRooms(this.id) ?? new Set();
  }

  /** Whether the socket is disconnected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /**
   * Emits an event to the client. A function as last argument receives the acknowledgement (with
   * `timeout()`, an error first). Reserved names (`connect`, `disconnect`...) throw.
   */
  emit<E extends EventNames<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): boolean {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    const data: unknown[] = [event, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data };
    if (typeof data[data.length - 1] === "function") {
      const id = this.nsp._nextAckId();
      this.#registerAck(id, data.pop() as AnyFn);
      packet.id = id;
    }
    const flags = this.#flags;
    if (flags !== NO_FLAGS) this.#flags = NO_FLAGS;
    if (this.nsp.server._recovery && packet.id === undefined) {
      // through the adapter, so the packet is logged and gets an offset
      this.nsp.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
      return true;
    }
    this._notifyOutgoing(data);
    this.#packet(packet, flags);
    return true;
  }

  /**
   * Emits and resolves with the acknowledgement's first argument; with `timeout()`, rejects when
   * the client does not answer in time.
   */
  emitWithAck<E extends EventNamesWithAck<EmitEvents>>(
    event: E,
    ...args: AllButLast<EventParams<EmitEvents, E>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>> {
    const withError = this.#flags.timeout !== undefined;
    return new Promise((resolve, reject) => {
      const callback = (first: unknown, second: unknown) => {
        if (!withError) resolve(first as FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>);
        else if (first) reject(first);
        else resolve(second as FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>);
      };
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args, callback);
    });
  }

  /**
   * python-socketio's `call`: emits and resolves with the client's acknowledgement — `undefined`
   * for none, the value for one, an array for several. Combine with `timeout(ms)` to reject when
   * the client does not answer in time.
   *
   * @example
   * ```ts
   * import type { Socket } from "./socket.ts";
   * declare const socket: Socket;
   * const answer = await socket.timeout(2000).call("question", 42);
   * ```
   */
  // deno-lint-ignore no-explicit-any
  call<E extends EventNames<EmitEvents>>(event: E, ...args: AllButLast<EventParams<EmitEvents, E>>): Promise<any> {
    const withError = this.#flags.timeout !== undefined;
    return new Promise((resolve, reject) => {
      const callback = (...response: unknown[]) => {
        if (!withError) return resolve(pythonResult(response));
        const [err, ...rest] = response;
        if (err) reject(err);
        else resolve(pythonResult(rest));
      };
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args, callback);
    });
  }

  #registerAck(id: number, ack: AnyFn): void {
    const timeout = this.#flags.timeout;
    const acks = this.#acks ??= new Map();
    if (acks.size >= (this.nsp.server._opts.maxPendingAcks ?? 1000)) {
      const err = new Error("Too many pending acknowledgements");
      queueMicrotask(() => safeCall(() => ack.call(this, err), "ack callback"));
      return;
    }
    if (timeout === undefined) {
      acks.set(id, ack);
      return;
    }
    const timers = this.#ackTimers ??= new Map();
    const timer = setTimeout(() => {
      acks.delete(id);
      timers.delete(id);
      safeCall(() => ack.call(this, new Error("operation has timed out")), "ack callback");
    }, timeout);
    timers.set(id, { timer, ack });
    acks.set(id, (...args: unknown[]) => {
      clearTimeout(timer);
      timers.delete(id);
      ack.apply(this, [null, ...args]);
    });
  }

  /** Timed acknowledgements still waiting: failed at once when the socket disconnects. */
  #ackTimers: Map<number, { timer: ReturnType<typeof setTimeout>; ack: AnyFn }> | undefined;

  #failPendingAcks(): void {
    this.#acks?.clear();
    if (this.#ackTimers === undefined) return;
    const pending = [...this.#ackTimers.values()];
    this.#ackTimers.clear();
    for (const { timer, ack } of pending) {
      clearTimeout(timer);
      safeCall(() => ack.call(this, new Error("socket has been disconnected")), "ack callback");
    }
  }

  /** Targets the members of `room`, except this socket. */
  to(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().in(room);
  }

  /** Targets everyone in the namespace except the members of `room` and this socket. */
  except(
    room: Room | Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().except(room);
  }

  /** Targets everyone in the namespace except this socket. */
  get broadcast(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator();
  }

  /** Like `broadcast`, limited to this server. */
  get local(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().local;
  }

  #operator(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    return new BroadcastOperator(this.nsp.adapter, new Set(), new Set([this.id]), flags);
  }

  /** Sends a `message` event. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (event: string, ...args: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  #ownFlags(): BroadcastFlags {
    if (this.#flags === NO_FLAGS) this.#flags = {};
    return this.#flags;
  }

  /** Sets whether the next emit is compressed. */
  compress(compress: boolean): this {
    this.#ownFlags().compress = compress;
    return this;
  }

  /** The next emit is dropped if the transport cannot take it right now. */
  get volatile(): this {
    this.#ownFlags().volatile = true;
    return this;
  }

  /** The next emit's ack waits at most `timeout` ms; its callback then gets an error first. */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    this.#ownFlags().timeout = timeout;
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData>;
  }

  /** Joins one or several rooms. */
  join(rooms: Room | Room[]): Promise<void> | void {
    if (this.#closed) return;
    return this.nsp.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  /** Leaves a room. */
  leave(room: Room): Promise<void> | void {
    return this.nsp.adapter.del(this.id, room);
  }

  /**
   * Adds a middleware for incoming events: `fn([event, ...args], next)`; `next(err)` drops the
   * event and emits `error` on the socket.
   */
  use(fn: (event: Event, next: (err?: Error) => void) => void): this {
    this.#fns = [...this.#fns, fn];
    return this;
  }

  /** Disconnects this socket (`close`: the whole connection, every namespace). */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.client._disconnect();
    } else if (!this.#closing) {
      this.#packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name });
      this._onclose("server namespace disconnect");
    }
    return this;
  }

  /** Adds a listener for every incoming event: `(event, ...args)`. */
  onAny(listener: AnyFn): this {
    this.#anyListeners = [...this.#anyListeners, listener];
    return this;
  }

  /** Like `onAny`, first in line. */
  prependAny(listener: AnyFn): this {
    this.#anyListeners = [listener, ...this.#anyListeners];
    return this;
  }

  /** Removes one catch-all listener, or all of them. */
  offAny(listener?: AnyFn): this {
    this.#anyListeners = removeFrom(this.#anyListeners, listener);
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyFn[] {
    return this.#anyListeners.slice();
  }

  /** Adds a listener for every outgoing event: `(event, ...args)`. */
  onAnyOutgoing(listener: AnyFn): this {
    this.#anyOutgoingListeners = [...this.#anyOutgoingListeners, listener];
    return this;
  }

  /** Like `onAnyOutgoing`, first in line. */
  prependAnyOutgoing(listener: AnyFn): this {
    this.#anyOutgoingListeners = [listener, ...this.#anyOutgoingListeners];
    return this;
  }

  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: AnyFn): this {
    this.#anyOutgoingListeners = removeFrom(this.#anyOutgoingListeners, listener);
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyFn[] {
    return this.#anyOutgoingListeners.slice();
  }

  /**
   * python-socketio style session: resolves with `socket.data`.
   *
   * @example
   * ```ts
   * import type { Socket } from "./socket.ts";
   * declare const socket: Socket;
   * const session = await socket.getSession();
   * ```
   */
  getSession(): Promise<SocketData> {
    return Promise.resolve(this.data);
  }

  /**
   * python-socketio style session: replaces `socket.data`.
   *
   * @example
   * ```ts
   * import type { Socket } from "./socket.ts";
   * declare const socket: Socket;
   * await socket.saveSession({ user: "ann" });
   * ```
   */
  saveSession(session: SocketData): Promise<void> {
    this.data = session;
    return Promise.resolve();
  }

  /**
   * python-socketio's `async with sio.session(sid)`: runs `fn` with the session and saves it
   * afterwards (what `fn` returns, if anything but `undefined`, replaces it).
   *
   * @example
   * ```ts
   * import type { Socket } from "./socket.ts";
   * declare const socket: Socket;
   * await socket.session((s) => { s.visits = (s.visits ?? 0) + 1; });
   * ```
   */
  async session(fn: (session: SocketData) => SocketData | void | Promise<SocketData | void>): Promise<SocketData> {
    const current = this.data;
    const result = await fn(current);
    this.data = result === undefined ? current : result as SocketData;
    return this.data;
  }

  // ----- internal API (used by Client, Namespace and adapters) -----

  /** @internal Calls the outgoing catch-all listeners with an event's data. */
  _notifyOutgoing(data: unknown): void {
    if (this.#anyOutgoingListeners.length === 0 || !Array.isArray(data)) return;
    for (const listener of this.#anyOutgoingListeners) {
      safeCall(() => listener.apply(this, data), "outgoing catch-all listener");
    }
  }

  /** @internal Registers the callback of a broadcast ack. */
  _setAck(id: number, ack: AnyFn): void {
    (this.#acks ??= new Map()).set(id, ack);
  }

  /** @internal Forgets an ack (a broadcast timed out). */
  _deleteAck(id: number): void {
    this.#acks?.delete(id);
  }

  /** @internal The namespace accepted the socket: joins its own room and answers CONNECT. */
  _onconnect(): void {
    this.connected = true;
    this.join(this.#restoreRooms ? [this.id, ...this.#restoreRooms] : this.id);
    const data = this.pid === undefined ? { sid: this.id } : { sid: this.id, pid: this.pid };
    this.#packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data });
    const missed = this.#missed;
    this.#restoreRooms = this.#missed = undefined;
    if (missed) {
      for (const args of missed) this.#packet({ type: PacketType.EVENT, nsp: this.nsp.name, data: args });
    }
  }

  /** @internal Handles a packet for this namespace. */
  _onpacket(packet: Packet): void {
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.#onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.#onack(packet);
        break;
      case PacketType.DISCONNECT:
        this._onclose("client namespace disconnect");
        break;
    }
  }

  #onevent(packet: Packet): void {
    // The decoder's array is ours: the ack (if any) goes at its end, no copy.
    const args = packet.data as unknown[];
    if (packet.id !== undefined && packet.id !== null) args.push(this.#ackSender(packet.id));
    if (this.#anyListeners.length > 0) {
      for (const listener of this.#anyListeners) {
        safeCall(() => listener.apply(this, args), "catch-all listener");
      }
    }
    if (this.#fns.length === 0) {
      this.#dispatch(args);
      return;
    }
    runMiddlewares(this.#fns, args as Event, "socket middleware", (err) => {
      if (err) return this._onerror(err);
      if (this.connected) this.#dispatch(args);
    });
  }

  #dispatch(args: unknown[]): void {
    const name = String(args[0]);
    if (name !== "*" && this.hasListeners(name)) this._dispatchArgs(name, args, 1);
    else if (this.hasListeners("*")) {
      args[0] = name;
      this._dispatchArgs("*", args, 0);
    }
  }

  #ackSender(id: number): AnyFn {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this.#packet({ type: PacketType.ACK, nsp: this.nsp.name, id, data: args });
    };
  }

  #onack(packet: Packet): void {
    const ack = this.#acks?.get(packet.id as number);
    if (!ack) return;
    this.#acks!.delete(packet.id as number);
    safeCall(() => ack.apply(this, packet.data as unknown[]), "ack callback");
  }

  /** @internal Emits `error` (middleware refusal, protocol error). */
  _onerror(err: Error): void {
    this.emitReserved("error", err);
  }

  /** @internal Closes the socket: `disconnecting`, leave every room, `disconnect`. */
  _onclose(reason: DisconnectReason | EngineCloseReason, description?: unknown): void {
    // Once: disconnect() from a "disconnecting" listener must not start it again, without end.
    if (!this.connected || this.#closing) return;
    this.#closing = true;
    this.emitReserved("disconnecting", reason, description);
    if (this.pid !== undefined && RECOVERABLE_DISCONNECT_REASONS.has(reason)) {
      const session = { sid: this.id, pid: this.pid, rooms: [...this.rooms], data: this.data };
      try {
        Promise.resolve(this.nsp.adapter.persistSession(session)).catch((err) =>
          reportListenerError(err, "persistSession")
        );
      } catch (err) {
        reportListenerError(err, "persistSession");
      }
    }
    this._cleanup();
    this.client._remove(this);
    this.connected = false;
    debug("socket %s of %s disconnected: %s", this.id, this.nsp.name, reason);
    this.emitReserved("disconnect", reason, description);
    this.#failPendingAcks();
  }

  /** Between `disconnecting` and `disconnect`. */
  #closing = false;

  /** @internal Leaves every room and the namespace; later `join`s do nothing. */
  _cleanup(): void {
    this.nsp.adapter.delAll(this.id);
    this.nsp._remove(this);
    this.#closed = true;
  }

  /** @internal Sends CONNECT_ERROR. */
  _error(data: unknown): void {
    this.#packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data });
  }

  #packet(packet: Packet, flags: BroadcastFlags = NO_FLAGS): void {
    packet.nsp = this.nsp.name;
    this.client._packet(
      packet,
      flags === NO_FLAGS ? DEFAULT_WRITE : { volatile: flags.volatile, compress: flags.compress !== false },
    );
  }
}

function removeFrom(list: AnyFn[], listener?: AnyFn): AnyFn[] {
  if (!listener) return NONE;
  const i = list.indexOf(listener);
  return i === -1 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}

/** The empty list sockets share until they get a middleware or catch-all listener: never modified. */
// deno-lint-ignore no-explicit-any
const NONE: any[] = [];
