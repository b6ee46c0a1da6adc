/**
 * The client Socket: one namespace over a {@linkcode Manager}'s connection. Events, acks, timeouts,
 * volatile events, catch-all listeners, buffering while disconnected, guaranteed delivery with
 * retries, and connection state recovery.
 *
 * @module
 */

import { Emitter } from "../util/emitter.ts";
import type { AnyListener } from "../util/emitter.ts";
import { PacketType, RESERVED_EVENTS } from "../parser/socket_io.ts";
import type { Packet } from "../parser/socket_io.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../util/typed_events.ts";
import type { Manager } from "./manager.ts";
import type { WriteOptions } from "./engine.ts";
import type { CloseDetails } from "./transports/transport.ts";

/**
 * The handshake payload sent in the CONNECT packet: an object, or a function that gives one.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000", {
 *   auth: (cb) => cb({ token: localStorage.getItem("token") }),
 * });
 * ```
 */
// deno-lint-ignore no-explicit-any
export type SocketAuth = Record<string, any> | ((cb: (data: Record<string, unknown>) => void) => void);

/**
 * Options of one namespace's socket (all optional); `io()` accepts them too.
 *
 * @example
 * ```ts
 * import { Manager } from "../../client.ts";
 * const manager = new Manager("http://localhost:3000");
 * manager.socket("/admin", { auth: { token: "abc" }, ackTimeout: 2000, retries: 2 });
 * ```
 */
export interface SocketOptions {
  /**
   * The payload of the CONNECT packet, read by the server as `socket.handshake.auth`. A function is
   * called again on every (re)connection, so it can hand out a fresh token.
   */
  auth?: SocketAuth;
  /**
   * How many times an event is sent again when its ack does not come within `ackTimeout`
   * (guaranteed delivery; events are then sent one at a time, in order). Default 0: no retries.
   */
  retries?: number;
  /** The default ack timeout of every emit, in milliseconds (see {@linkcode Socket.timeout}). */
  ackTimeout?: number;
}

/**
 * Why a socket disconnected.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000");
 * socket.on("disconnect", (reason) => {
 *   if (reason === "io server disconnect") socket.connect(); // the server will not be reconnected to otherwise
 * });
 * ```
 */
export type DisconnectReason =
  | "io server disconnect"
  | "io client disconnect"
  | "forced close"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error";

/**
 * Details of a disconnection: the error, or what the transport reported.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000");
 * socket.on("disconnect", (reason, description) => console.log(reason, description));
 * ```
 */
export type DisconnectDescription = Error | CloseDetails;

/**
 * The events a socket emits by itself.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000");
 * socket.on("connect_error", (err) => console.log(err.message, err.data));
 * ```
 */
export interface SocketReservedEvents {
  /** Connected to the namespace (also after each reconnection). */
  connect: () => void;
  /**
   * The connection failed: a middleware refused it (`err.data` holds what it passed), the namespace
   * does not exist, or the transport failed; the Manager reconnects unless the server refused.
   */
  connect_error: (err: Error & { data?: unknown }) => void;
  /** Disconnected; the Manager reconnects unless the reason is `io server disconnect` or `io client disconnect`. */
  disconnect: (reason: DisconnectReason, description?: DisconnectDescription) => void;
}

interface Flags {
  compress?: boolean;
  volatile?: boolean;
  timeout?: number;
  fromQueue?: boolean;
}

type Ack = AnyListener & { withError?: boolean };

interface QueuedPacket {
  args: unknown[];
  flags: Flags;
  pending: boolean;
  tryCount: number;
}

/**
 * One namespace of a Socket.IO server, as `io()` and {@linkcode Manager.socket} return it.
 *
 * `ListenEvents` types the events it receives and `EmitEvents` those it sends, with the same event
 * maps as the server (`Server<ClientToServer, ServerToClient>` pairs with
 * `Socket<ServerToClient, ClientToServer>`).
 *
 * Received binary arrives as `ArrayBuffer` in browsers and `Uint8Array` elsewhere (see the
 * `binaryType` option); any `ArrayBuffer`, typed array or `DataView` can be sent.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * interface ServerToClient { news: (text: string) => void }
 * interface ClientToServer { hello: (name: string, ack: (reply: string) => void) => void }
 * const socket = io<ServerToClient, ClientToServer>("http://localhost:3000");
 * socket.on("news", (text) => console.log(text));
 * const reply = await socket.timeout(1000).emitWithAck("hello", "ann");
 * ```
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> // deno-lint-ignore no-explicit-any
  extends Emitter<any> {
  /** The Manager this socket connects through. */
  readonly io: Manager<ListenEvents, EmitEvents>;
  /** The namespace. */
  readonly nsp: string;
  /** The session id given by the server while connected (not the Engine.IO id). */
  id: string | undefined;
  /** Whether the socket is connected to its namespace. */
  connected = false;
  /** Whether the last connection restored the previous session (connection state recovery). */
  recovered = false;
  /** The CONNECT payload (see {@linkcode SocketOptions.auth}). */
  auth: SocketAuth | undefined;
  /** Events received before the `connect` event, delivered right after it. */
  receiveBuffer: unknown[][] = [];
  /** Packets emitted while disconnected, sent when the socket connects. */
  sendBuffer: Packet[] = [];

  readonly #opts: SocketOptions;
  #pid: string | undefined;
  #lastOffset: string | undefined;
  #queue: QueuedPacket[] = [];
  #ids = 0;
  #acks: Map<number, Ack> = new Map();
  #flags: Flags = {};
  #subs: Array<() => void> | undefined;
  #any: AnyListener[] = [];
  #anyOutgoing: AnyListener[] = [];

  /** Creates the socket of `nsp`; use `io()` or {@linkcode Manager.socket} instead. */
  constructor(io: Manager, nsp: string, opts: SocketOptions = {}) {
    super();
    this.io = io as unknown as Manager<ListenEvents, EmitEvents>;
    this.nsp = nsp;
    this.auth = opts.auth;
    this.#opts = opts;
    if (io._autoConnect) this.open();
  }

  /** Whether the socket is not connected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** Whether the socket reconnects by itself (it follows its Manager until `disconnect()`). */
  get active(): boolean {
    return !!this.#subs;
  }

  /** Connects (a no-op when connected); called by `io()` unless `autoConnect` is false. */
  connect(): this {
    if (this.connected) return this;
    if (!this.#subs) {
      const io = this.io as unknown as Manager;
      const handlers: Array<[string, AnyListener]> = [
        ["open", () => this.#onOpen()],
        ["packet", (packet: Packet) => this.#onPacket(packet)],
        ["error", (err: Error) => this.connected || this.emitReserved("connect_error", err)],
        [
          "close",
          (reason: DisconnectReason, description?: DisconnectDescription) => this.#onClose(reason, description),
        ],
      ];
      // deno-lint-ignore no-explicit-any
      for (const [event, fn] of handlers) io.on(event as any, fn);
      // deno-lint-ignore no-explicit-any
      this.#subs = handlers.map(([event, fn]) => () => io.off(event as any, fn));
    }
    if (!this.io._reconnecting) this.io.open();
    if (this.io._readyState === "open") this.#onOpen();
    return this;
  }

  /** Alias of {@linkcode Socket.connect}. */
  open(): this {
    return this.connect();
  }

  /** Emits a `message` event. */
  send(...args: unknown[]): this {
    // deno-lint-ignore no-explicit-any
    return (this.emit as any)("message", ...args);
  }

  /**
   * Emits an event. A function as last argument is the ack callback: the server calls it (with an
   * error first when `timeout()` or `ackTimeout` applies). Emitted while disconnected, the event is
   * buffered, unless it is volatile.
   *
   * @example
   * ```ts
   * import { io } from "../../client.ts";
   * const socket = io("http://localhost:3000");
   * socket.emit("chat", "hello", { to: "ann" }, new Uint8Array([1, 2]));
   * socket.emit("save", { id: 1 }, (ok: boolean) => console.log("saved:", ok));
   * ```
   */
  emit<E extends EventNames<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): this {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    const data: unknown[] = [event, ...args];
    const flags = this.#flags;
    this.#flags = {};
    if (this.#opts.retries && !flags.fromQueue && !flags.volatile) {
      this.#addToQueue(data, flags);
      return this;
    }
    // Its compress flag goes with it to the engine (see the engine's packetCreate event).
    const packet: Packet & { options: WriteOptions } = {
      type: PacketType.EVENT,
      nsp: this.nsp,
      data,
      options: { compress: flags.compress !== false },
    };
    if (typeof data[data.length - 1] === "function") {
      const id = this.#ids++;
      this.#registerAck(id, data.pop() as Ack, flags.timeout);
      packet.id = id;
    }
    const engine = this.io.engine;
    const connected = this.connected && !engine?.hasPingExpired();
    if (flags.volatile && !engine?.transport?.writable) {
      // A volatile event is dropped when it cannot be written right away.
    } else if (connected) {
      this.#notifyOutgoing(data);
      this.io._packet(packet);
    } else {
      this.sendBuffer.push(packet);
    }
    return this;
  }

  #registerAck(id: number, ack: Ack, flagTimeout?: number): void {
    const timeout = flagTimeout ?? this.#opts.ackTimeout;
    if (timeout === undefined) {
      this.#acks.set(id, ack);
      return;
    }
    const timers = this.io._timers;
    const timer = timers.set(() => {
      this.#acks.delete(id);
      this.sendBuffer = this.sendBuffer.filter((packet) => packet.id !== id);
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    const fn: Ack = (...args: unknown[]) => {
      timers.clear(timer);
      ack.apply(this, args);
    };
    fn.withError = true;
    this.#acks.set(id, fn);
  }

  /**
   * Emits an event and resolves with the server's ack. Rejects when the timeout (see
   * {@linkcode Socket.timeout}, `ackTimeout`) passes or when the socket disconnects first.
   *
   * @example
   * ```ts
   * import { io } from "../../client.ts";
   * const socket = io("http://localhost:3000");
   * const total = await socket.timeout(2000).emitWithAck("sum", 1, 2);
   * ```
   */
  emitWithAck<E extends EventNames<EmitEvents>>(
    event: E,
    ...args: AllButLast<EventParams<EmitEvents, E>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>> {
    return new Promise((resolve, reject) => {
      const fn: Ack = (err: unknown, value: unknown) =>
        err ? reject(err) : resolve(value as FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>);
      fn.withError = true;
      // deno-lint-ignore no-explicit-any
      (this.emit as any)(event, ...args, fn);
    });
  }

  #addToQueue(args: unknown[], flags: Flags): void {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() as Ack : undefined;
    const packet: QueuedPacket = { args, flags: { ...flags, fromQueue: true }, pending: false, tryCount: 0 };
    const onAck: Ack = (err: unknown, ...response: unknown[]) => {
      if (packet !== this.#queue[0]) return; // already acknowledged
      if (err != null) {
        if (packet.tryCount > this.#opts.retries!) {
          this.#queue.shift();
          ack?.(err);
        }
      } else {
        this.#queue.shift();
        ack?.(null, ...response);
      }
      packet.pending = false;
      this.#drainQueue();
    };
    onAck.withError = true;
    args.push(onAck);
    this.#queue.push(packet);
    this.#drainQueue();
  }

  #drainQueue(force = false): void {
    const packet = this.#queue[0];
    if (!this.connected || !packet || (packet.pending && !force)) return;
    packet.pending = true;
    packet.tryCount++;
    this.#flags = packet.flags;
    // deno-lint-ignore no-explicit-any
    (this.emit as any)(...packet.args);
  }

  #onOpen(): void {
    const auth = this.auth;
    if (typeof auth !== "function") return this.#sendConnect(auth);
    try {
      auth((data) => this.#sendConnect(data));
    } catch (err) {
      // Thrown out of here, it would stop the connection's opening half-way for every socket.
      this.emitReserved("connect_error", err instanceof Error ? err : new Error(String(err)));
    }
  }

  #sendConnect(data: Record<string, unknown> | undefined): void {
    this.io._packet({
      type: PacketType.CONNECT,
      nsp: this.nsp,
      data: this.#pid ? { pid: this.#pid, offset: this.#lastOffset, ...data } : data,
    });
  }

  #onPacket(packet: Packet): void {
    if (packet.nsp !== this.nsp) return;
    const data = packet.data;
    switch (packet.type) {
      case PacketType.CONNECT:
        if (data && typeof data.sid === "string") this.#onConnect(data.sid, data.pid);
        else this.emitReserved("connect_error", new Error("Invalid CONNECT packet (is the server Socket.IO v3+?)"));
        break;
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT: {
        const args: unknown[] = Array.isArray(data) ? data : [];
        if (packet.id != null) args.push(this.#ack(packet.id));
        if (this.connected) this.#emitEvent(args);
        else this.receiveBuffer.push(args);
        break;
      }
      case PacketType.ACK:
      case PacketType.BINARY_ACK: {
        const ack = this.#acks.get(packet.id!);
        if (!ack) return;
        this.#acks.delete(packet.id!);
        const args: unknown[] = Array.isArray(data) ? data : [];
        if (ack.withError) args.unshift(null);
        ack.apply(this, args);
        break;
      }
      case PacketType.DISCONNECT:
        this.#destroy();
        this.#onClose("io server disconnect");
        break;
      case PacketType.CONNECT_ERROR: {
        this.#destroy();
        const err = new Error(typeof data === "string" ? data : String(data?.message)) as Error & { data?: unknown };
        if (data && typeof data === "object") err.data = data.data;
        this.emitReserved("connect_error", err);
        break;
      }
    }
  }

  #emitEvent(args: unknown[]): void {
    for (const listener of this.#any.slice()) listener.apply(this, args);
    // deno-lint-ignore no-explicit-any
    (this.emitReserved as any)(...args);
    const last = args[args.length - 1];
    if (this.#pid && typeof last === "string") this.#lastOffset = last;
  }

  #ack(id: number): AnyListener {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this.io._packet({ type: PacketType.ACK, nsp: this.nsp, id, data: args });
    };
  }

  #onConnect(id: string, pid?: string): void {
    this.id = id;
    this.recovered = !!pid && this.#pid === pid;
    this.#pid = pid;
    this.connected = true;
    for (const args of this.receiveBuffer) this.#emitEvent(args);
    this.receiveBuffer = [];
    for (const packet of this.sendBuffer) {
      this.#notifyOutgoing(packet.data);
      this.io._packet(packet);
    }
    this.sendBuffer = [];
    this.#drainQueue(true);
    this.emitReserved("connect");
  }

  #destroy(): void {
    if (this.#subs) {
      for (const unsubscribe of this.#subs) unsubscribe();
      this.#subs = undefined;
    }
    (this.io as unknown as Manager)._destroy(this as unknown as Socket);
  }

  #onClose(reason: DisconnectReason, description?: DisconnectDescription): void {
    this.connected = false;
    this.id = undefined;
    this.emitReserved("disconnect", reason, description);
    // Acks of packets still waiting in the send buffer stay pending; the others fail.
    for (const [id, ack] of this.#acks) {
      if (this.sendBuffer.some((packet) => packet.id === id)) continue;
      this.#acks.delete(id);
      if (ack.withError) ack.call(this, new Error("socket has been disconnected"));
    }
  }

  /**
   * Disconnects from the namespace: no reconnection follows. The Manager's connection closes when no
   * other namespace uses it.
   */
  disconnect(): this {
    if (this.connected) this.io._packet({ type: PacketType.DISCONNECT, nsp: this.nsp });
    this.#destroy();
    if (this.connected) this.#onClose("io client disconnect");
    return this;
  }

  /** Alias of {@linkcode Socket.disconnect}. */
  close(): this {
    return this.disconnect();
  }

  /**
   * Sets the compress flag of the next emit: it reaches the engine as the packet's
   * `options.compress` (see its `packetCreate` event). A standard `WebSocket` decides compression
   * by itself, so on the wire it changes nothing.
   */
  compress(compress: boolean): this {
    this.#flags.compress = compress;
    return this;
  }

  /**
   * Makes the next emit volatile: it is dropped, not buffered, when it cannot be sent right away.
   *
   * @example
   * ```ts
   * import { io } from "../../client.ts";
   * const socket = io("http://localhost:3000");
   * socket.volatile.emit("cursor", { x: 1, y: 2 });
   * ```
   */
  get volatile(): this {
    this.#flags.volatile = true;
    return this;
  }

  /**
   * Sets an ack timeout for the next emit: its callback then takes an error first.
   *
   * @example
   * ```ts
   * import { io } from "../../client.ts";
   * const socket = io("http://localhost:3000");
   * socket.timeout(5000).emit("job", (err: Error | null, result: unknown) => {
   *   if (err) console.log("no answer within 5 s");
   *   else console.log(result);
   * });
   * ```
   */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>> {
    this.#flags.timeout = timeout;
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  }

  /**
   * Adds a listener called for every received event with its name and arguments.
   *
   * @example
   * ```ts
   * import { io } from "../../client.ts";
   * const socket = io("http://localhost:3000");
   * socket.onAny((event, ...args) => console.log(event, args));
   * ```
   */
  onAny(listener: AnyListener): this {
    this.#any.push(listener);
    return this;
  }

  /** Like {@linkcode Socket.onAny}, but the listener runs before the others. */
  prependAny(listener: AnyListener): this {
    this.#any.unshift(listener);
    return this;
  }

  /** Removes a catch-all listener, or all of them. */
  offAny(listener?: AnyListener): this {
    this.#any = listener ? this.#any.filter((l) => l !== listener) : [];
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyListener[] {
    return this.#any.slice();
  }

  /**
   * Adds a listener called for every emitted event (without its ack callback), when it is sent.
   *
   * @example
   * ```ts
   * import { io } from "../../client.ts";
   * const socket = io("http://localhost:3000");
   * socket.onAnyOutgoing((event, ...args) => console.log("sent", event, args));
   * ```
   */
  onAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoing.push(listener);
    return this;
  }

  /** Like {@linkcode Socket.onAnyOutgoing}, but the listener runs before the others. */
  prependAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoing.unshift(listener);
    return this;
  }

  /** Removes an outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: AnyListener): this {
    this.#anyOutgoing = listener ? this.#anyOutgoing.filter((l) => l !== listener) : [];
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoing.slice();
  }

  #notifyOutgoing(data: unknown[]): void {
    for (const listener of this.#anyOutgoing.slice()) listener.apply(this, data);
  }
}

/**
 * The typed listener methods of {@linkcode Socket} (declared here, implemented by its emitter).
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io<{ news: (text: string) => void }>("http://localhost:3000");
 * socket.once("news", (text) => console.log(text.toUpperCase()));
 * ```
 */
export interface Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> {
  /** Adds a listener for a received event or a reserved one (`connect`, `connect_error`, `disconnect`). */
  on<E extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    event: E,
    listener: ReservedOrUserListener<SocketReservedEvents, ListenEvents, E>,
  ): this;
  /** Adds a listener called at most once. */
  once<E extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    event: E,
    listener: ReservedOrUserListener<SocketReservedEvents, ListenEvents, E>,
  ): this;
  /** Removes one listener, every listener of `event`, or every listener. */
  off<E extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    event?: E,
    listener?: ReservedOrUserListener<SocketReservedEvents, ListenEvents, E>,
  ): this;
  /** The listeners of `event`. */
  listeners<E extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    event: E,
  ): ReservedOrUserListener<SocketReservedEvents, ListenEvents, E>[];
}
