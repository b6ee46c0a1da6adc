/**
 * The Manager: one Engine.IO connection shared by the sockets of several namespaces, with
 * reconnection (exponential back-off with randomization).
 *
 * @module
 */

import { Emitter } from "../util/emitter.ts";
import { defaultParser as jsonParser, PacketType } from "../parser/socket_io.ts";
import { clientDefaultParser } from "./default_parser.ts";
import type { Decoder, Encoder, Packet, Parser } from "../parser/socket_io.ts";
import { type ParserModule, toParser } from "../parser/parser_module.ts";
import type { DefaultEventsMap, EventsMap } from "../util/typed_events.ts";
import { Backoff } from "./backoff.ts";
import { Engine, toBinaryType } from "./engine.ts";
import type { BinaryType, EngineOptions, WriteOptions } from "./engine.ts";
import type { EnginePacket } from "../parser/engine_io.ts";
import { createTimers } from "./timers.ts";
import type { Timers } from "./timers.ts";
import { resolveTransports } from "./_runtime_features.ts";
import { rethrow } from "./transports/transport.ts";
import type { CloseDetails } from "./transports/transport.ts";
import { Socket } from "./socket.ts";
import { isBrowser } from "./env.ts";
import { protocolV4 } from "./protocol_v4.ts";
import type { SocketOptions } from "./socket.ts";
import { createDebug, enableDebug, readDebugEnvironment } from "../util/debug.ts";

const debug = createDebug("sio:client:manager");

// DEBUG=sio:* outside browsers, as on the server.
if (!isBrowser) {
  const debugPattern = readDebugEnvironment();
  if (debugPattern) enableDebug(debugPattern);
}

export type { BinaryType };

/**
 * Options of a {@linkcode Manager} (all optional); `io()` accepts them too.
 *
 * @example
 * ```ts
 * import { Manager } from "../../client.ts";
 * import type { ManagerOptions } from "../../client.ts";
 * const options: ManagerOptions = { reconnectionDelay: 500, reconnectionDelayMax: 2000, timeout: 5000 };
 * new Manager("http://localhost:3000", options);
 * ```
 */
export interface ManagerOptions extends EngineOptions {
  /**
   * Debug logging (off by default): `true`, or a pattern such as `"sio:client:*"`; outside
   * browsers the `DEBUG` environment variable does the same.
   */
  debug?: boolean | string;
  /** Create a new Manager instead of reusing a cached one for the same server (default false). */
  forceNew?: boolean;
  /** Share one connection between the namespaces of a server (default true). */
  multiplex?: boolean;
  /** Reconnect automatically (default true). */
  reconnection?: boolean;
  /** How many reconnection attempts before giving up (default Infinity). */
  reconnectionAttempts?: number;
  /** The first delay before reconnecting, in milliseconds (default 1000). */
  reconnectionDelay?: number;
  /** The longest delay before reconnecting, in milliseconds (default 5000). */
  reconnectionDelayMax?: number;
  /** How much delays vary at random, 0 to 1 (default 0.5). */
  randomizationFactor?: number;
  /** How long a connection attempt may take, in milliseconds, or false (default 20000). */
  timeout?: number | false;
  /** Connect as soon as the Manager or socket is created (default true). */
  autoConnect?: boolean;
  /**
   * The packet format (default: JSON with binary attachments, as socket.io-parser): ours, or a
   * module written for socket.io-client with `Encoder` and `Decoder` classes
   * (socket.io-msgpack-parser...), as it is.
   */
  parser?: Parser | ParserModule;
  /**
   * The Socket.IO protocol revision: 5 (the default: socket.io 3.x/4.x, python-socketio 5.x) or 4,
   * socket.io-client 2's, over Engine.IO v3 (socket.io 1.x/2.x, python-socketio and Flask-SocketIO
   * 4.x servers). With 4 there is no CONNECT payload: `/` is joined without one, and another
   * namespace's `auth` goes as the query of its name (`socket.handshake.query` on those servers);
   * socket ids are the Engine.IO id (`nsp#` + it outside `/`); there is no connection state
   * recovery. Not in the browser bundles (`socket.io.min.js`): bundle `client.ts` to have it there.
   */
  protocol?: 4 | 5;
}

/**
 * Why a Manager's connection closed.
 *
 * @example
 * ```ts
 * import { Manager } from "../../client.ts";
 * const manager = new Manager("http://localhost:3000");
 * manager.on("close", (reason) => {
 *   if (reason === "ping timeout") console.log("the server went silent");
 * });
 * ```
 */
export type ManagerCloseReason =
  | "forced close"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error";

/**
 * The events of a {@linkcode Manager}.
 *
 * @example
 * ```ts
 * import { Manager } from "../../client.ts";
 * const manager = new Manager("http://localhost:3000");
 * manager.on("reconnect_attempt", (attempt) => console.log("attempt", attempt));
 * manager.on("reconnect_failed", () => console.log("giving up"));
 * ```
 */
export interface ManagerEvents {
  /** The connection is open. */
  open: () => void;
  /** A connection attempt or the connection failed. */
  error: (err: Error) => void;
  /** The server pinged. */
  ping: () => void;
  /** A packet arrived (for the sockets). */
  packet: (packet: Packet) => void;
  /** The connection closed. */
  close: (reason: ManagerCloseReason, description?: CloseDetails | Error) => void;
  /** Every reconnection attempt failed. */
  reconnect_failed: () => void;
  /** A reconnection attempt starts (attempt number from 1). */
  reconnect_attempt: (attempt: number) => void;
  /** A reconnection attempt failed. */
  reconnect_error: (err: Error) => void;
  /** Reconnected after `attempt` attempts. */
  reconnect: (attempt: number) => void;
}

/** Replaces the `Uint8Array`s of received data by `ArrayBuffer`s or `Blob`s. */
function convertBinary(data: unknown, binaryType: BinaryType): unknown {
  if (data instanceof Uint8Array) return toBinaryType(data, binaryType);
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) data[i] = convertBinary(data[i], binaryType);
  } else if (data && typeof data === "object") {
    const record = data as Record<string, unknown>;
    for (const key in record) record[key] = convertBinary(record[key], binaryType);
  }
  return data;
}

/**
 * One connection to a Socket.IO server, shared by the sockets of its namespaces (see
 * {@linkcode Manager.socket}). It reconnects after the connection drops, waiting
 * `reconnectionDelay * 2 ** attempt` (randomized, at most `reconnectionDelayMax`) between attempts.
 *
 * Events: `open`, `error`, `ping`, `close`, `reconnect_attempt`, `reconnect`, `reconnect_error`,
 * `reconnect_failed`.
 *
 * @example
 * ```ts
 * import { Manager } from "../../client.ts";
 * const manager = new Manager("http://localhost:3000", { reconnectionDelayMax: 10000 });
 * const socket = manager.socket("/");
 * const admin = manager.socket("/admin", { auth: { token: "abc" } });
 * manager.on("reconnect", (attempt) => console.log("back after", attempt, "attempts"));
 * ```
 */
export class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<ManagerEvents> {
  /** The current Engine.IO connection. */
  engine: Engine | undefined;
  /** The options. */
  readonly opts: ManagerOptions;
  /** The sockets, by namespace. */
  readonly nsps: Record<string, Socket<ListenEvents, EmitEvents>> = {};
  /** @internal `opening`, `open` or `closed`. */
  _readyState: "opening" | "open" | "closed" = "closed";
  /** @internal Whether a reconnection is scheduled or running. */
  _reconnecting = false;
  /** @internal Whether sockets connect as soon as they are created. */
  readonly _autoConnect: boolean;
  /** @internal The timers of the Manager and its sockets (`useNativeTimers`, `autoUnref`). */
  readonly _timers: Timers;

  readonly #uri: string | undefined;
  readonly #backoff: Backoff;
  readonly #encoder: Encoder;
  readonly #decoder: Decoder;
  /** Whether received EVENT and ACK packets may hold bytes (any format but socket.io's JSON). */
  readonly #bytesAnywhere: boolean;
  #subs: Array<() => void> = [];
  #reconnection = true;
  #attempts = Infinity;
  #timeout: number | false = 20000;
  #skipReconnect = false;

  /**
   * Creates a Manager for the server at `uri`, or without one for the server the `hostname`,
   * `port` and `secure` options name (by default the page's origin in browsers, `localhost`
   * elsewhere).
   */
  constructor(uri?: string | ManagerOptions, opts: ManagerOptions = {}) {
    super();
    if (typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    if (opts.debug !== undefined) enableDebug(opts.debug);
    this.#uri = uri;
    this.opts = opts = { ...opts, path: opts.path ?? "/socket.io" };
    // TLS settings or autoUnref: the runtime's fetch and WebSocket that honour them, found once
    // (a setting the runtime cannot honour throws here).
    Object.assign(opts, resolveTransports(opts));
    this._timers = createTimers(opts);
    this.reconnection(opts.reconnection !== false);
    this.reconnectionAttempts(opts.reconnectionAttempts || Infinity);
    this.#backoff = new Backoff({
      min: opts.reconnectionDelay || 1000,
      max: opts.reconnectionDelayMax || 5000,
      jitter: opts.randomizationFactor ?? 0.5,
    });
    this.timeout(opts.timeout ?? 20000);
    // Ours, or a parser module written for socket.io-client (`{ Encoder, Decoder }`), wrapped.
    const format = toParser(opts.parser ?? clientDefaultParser);
    // With socket.io's JSON format only binary packets carry bytes; another format may put them anywhere.
    this.#bytesAnywhere = format !== jsonParser;
    const parser = opts.protocol === 4 ? protocolV4.attach(this) : format;
    this.#encoder = parser.createEncoder();
    this.#decoder = parser.createDecoder();
    this._autoConnect = opts.autoConnect !== false;
    if (this._autoConnect) this.open();
  }

  /** Whether to reconnect automatically (getter without argument, setter with one). */
  reconnection(): boolean;
  /** Sets: whether to reconnect automatically. */
  reconnection(value: boolean): this;
  reconnection(value?: boolean): this | boolean {
    if (value === undefined) return this.#reconnection;
    this.#reconnection = !!value;
    if (!value) {
      this.#skipReconnect = true;
      this.#cancelReconnect();
    }
    return this;
  }

  /** How many reconnection attempts before giving up. */
  reconnectionAttempts(): number;
  /** Sets: how many reconnection attempts before giving up. */
  reconnectionAttempts(value: number): this;
  reconnectionAttempts(value?: number): this | number {
    if (value === undefined) return this.#attempts;
    this.#attempts = value;
    return this;
  }

  /** The first reconnection delay, in milliseconds. */
  reconnectionDelay(): number;
  /** Sets: the first reconnection delay, in milliseconds. */
  reconnectionDelay(value: number): this;
  reconnectionDelay(value?: number): this | number {
    if (value === undefined) return this.#backoff.min;
    this.#backoff.min = value;
    return this;
  }

  /** The longest reconnection delay, in milliseconds. */
  reconnectionDelayMax(): number;
  /** Sets: the longest reconnection delay, in milliseconds. */
  reconnectionDelayMax(value: number): this;
  reconnectionDelayMax(value?: number): this | number {
    if (value === undefined) return this.#backoff.max;
    this.#backoff.max = value;
    return this;
  }

  /** How much reconnection delays vary at random, 0 to 1. */
  randomizationFactor(): number;
  /** Sets: how much reconnection delays vary at random, 0 to 1. */
  randomizationFactor(value: number): this;
  randomizationFactor(value?: number): this | number {
    if (value === undefined) return this.#backoff.jitter;
    this.#backoff.jitter = value;
    return this;
  }

  /** How long a connection attempt may take, in milliseconds, or false for no limit. */
  timeout(): number | false;
  /** Sets: how long a connection attempt may take, in milliseconds, or false for no limit. */
  timeout(value: number | false): this;
  timeout(value?: number | false): this | number | false {
    if (value === undefined) return this.#timeout;
    this.#timeout = value;
    return this;
  }

  /**
   * Opens the connection (a no-op when it is open or opening). `fn` is called once it is open, or
   * with the error; without `fn` a failed first attempt starts the reconnection loop.
   */
  open(fn?: (err?: Error) => void): this {
    if (this._readyState !== "closed") return this;
    const engine = new Engine(this.#uri, this.opts);
    this.engine = engine;
    this._readyState = "opening";
    this.#skipReconnect = false;

    const onOpen = () => {
      this.#onOpen();
      fn?.();
    };
    const onError = (err: Error) => {
      this.#cleanup();
      this._readyState = "closed";
      this.emitReserved("error", err);
      if (fn) fn(err);
      else if (!this._reconnecting && this.#reconnection && this.#backoff.attempts === 0) this.#reconnect();
    };
    // A close before the handshake (the server hung up mid-way) is a failed attempt too.
    const onClose = (reason: string, description?: CloseDetails | Error) =>
      onError(description instanceof Error ? description : Object.assign(new Error(reason), { description }));
    engine.on("open", onOpen);
    engine.on("error", onError);
    engine.on("close", onClose);
    this.#subs.push(() => {
      engine.off("open", onOpen);
      engine.off("error", onError);
      engine.off("close", onClose);
    });
    const timeout = this.#timeout;
    if (timeout !== false) {
      const timers = this._timers;
      const timer = timers.set(
        () => {
          engine.off("open", onOpen);
          onError(new Error("timeout"));
          engine.close();
        },
        timeout,
        true,
      );
      this.#subs.push(() => timers.clear(timer));
    }
    engine.open();
    return this;
  }

  /** Alias of {@linkcode Manager.open}. */
  connect(fn?: (err?: Error) => void): this {
    return this.open(fn);
  }

  #onOpen(): void {
    this.#cleanup();
    // Opened by open() or connect() during the wait for a reconnection attempt: none is needed.
    if (this.#reconnectTimer !== undefined) this.#cancelReconnect();
    this._readyState = "open";
    const engine = this.engine!;
    const onPing = () => this.emitReserved("ping");
    // Messages as they arrived (bytes as Uint8Array): binaryType applies once they are decoded.
    const onData = (packet: EnginePacket) => {
      if (packet.type !== "message") return;
      try {
        this.#decoder.add(packet.data!);
      } catch (err) {
        this.#onClose("parse error", err as Error);
      }
    };
    const onError = (err: Error) => this.emitReserved("error", err);
    const onClose = (reason: ManagerCloseReason, description?: CloseDetails | Error) =>
      this.#onClose(reason, description);
    engine.on("ping", onPing);
    engine.on("packet", onData);
    engine.on("error", onError);
    engine.on("close", onClose);
    this.#decoder.ondecoded = (packet) => {
      const type = packet.type;
      const binaryType = engine.binaryType;
      if (
        binaryType !== "uint8array" &&
        (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK ||
          (this.#bytesAnywhere && (type === PacketType.EVENT || type === PacketType.ACK)))
      ) {
        packet.data = convertBinary(packet.data, binaryType);
      }
      try {
        this.emitReserved("packet", packet);
      } catch (err) {
        // A listener threw: its error is reported, the connection is not a victim of it.
        rethrow(err);
      }
    };
    this.#subs.push(() => {
      engine.off("ping", onPing);
      engine.off("packet", onData);
      engine.off("error", onError);
      engine.off("close", onClose);
    });
    // Last: the connection is whole whatever a listener of "open" does.
    this.emitReserved("open");
  }

  /**
   * The socket of namespace `nsp` (created on first use; one per namespace and Manager).
   *
   * @example
   * ```ts
   * import { Manager } from "../../client.ts";
   * const manager = new Manager("http://localhost:3000");
   * const chat = manager.socket("/chat");
   * chat.emit("hello");
   * ```
   */
  socket(nsp: string, opts?: SocketOptions): Socket<ListenEvents, EmitEvents> {
    let socket = this.nsps[nsp];
    if (!socket) {
      socket = new Socket<ListenEvents, EmitEvents>(this as Manager, nsp, opts);
      this.nsps[nsp] = socket;
    } else if (this._autoConnect && !socket.active) {
      socket.connect();
    }
    return socket;
  }

  /** @internal Called by a socket that disconnects: closes the connection when none is active. */
  _destroy(_socket: Socket): void {
    for (const nsp in this.nsps) {
      if (this.nsps[nsp].active) return;
    }
    this._close();
  }

  /** @internal Encodes and writes a packet (`options.compress`: see {@linkcode Socket.compress}). */
  _packet(packet: Packet & { options?: WriteOptions }): void {
    const frames = this.#encoder.encode(packet);
    const engine = this.engine!;
    for (let i = 0; i < frames.length; i++) engine.write(frames[i], packet.options);
  }

  #cleanup(): void {
    for (const sub of this.#subs) sub();
    this.#subs = [];
    this.#decoder.destroy();
  }

  /** @internal Closes the connection without reconnecting. */
  _close(): void {
    this.#skipReconnect = true;
    this.#cancelReconnect();
    this.#onClose("forced close");
  }

  /**
   * The wait for the next reconnection attempt. Kept apart from the connection's subscriptions:
   * clearing those (a connection attempt that failed meanwhile, one opened by hand) must not drop
   * the timer: `_reconnecting` would stay set, and no attempt would ever come again.
   */
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  #cancelReconnect(): void {
    if (this.#reconnectTimer !== undefined) {
      this._timers.clear(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
    }
    this._reconnecting = false;
  }

  /** Closes the connection; the sockets get `disconnect` and no reconnection follows. */
  disconnect(): void {
    this._close();
  }

  #onClose(reason: ManagerCloseReason, description?: CloseDetails | Error): void {
    this.#cleanup();
    this.engine?.close();
    this.#backoff.reset();
    this._readyState = "closed";
    this.emitReserved("close", reason, description);
    if (this.#reconnection && !this.#skipReconnect) this.#reconnect();
  }

  #reconnect(): void {
    if (this._reconnecting || this.#skipReconnect) return;
    const backoff = this.#backoff;
    if (backoff.attempts >= this.#attempts) {
      backoff.reset();
      this._reconnecting = false;
      this.emitReserved("reconnect_failed");
      return;
    }
    const delay = backoff.duration();
    this._reconnecting = true;
    this.#reconnectTimer = this._timers.set(
      () => {
        this.#reconnectTimer = undefined;
        if (this.#skipReconnect) {
          this._reconnecting = false;
          return;
        }
        debug("reconnection attempt %d", backoff.attempts);
        this.emitReserved("reconnect_attempt", backoff.attempts);
        if (this.#skipReconnect) {
          this._reconnecting = false;
          return;
        }
        this.open((err) => {
          if (err) {
            this._reconnecting = false;
            this.#reconnect();
            this.emitReserved("reconnect_error", err);
          } else {
            const attempts = backoff.attempts;
            this._reconnecting = false;
            backoff.reset();
            this.emitReserved("reconnect", attempts);
          }
        });
      },
      delay,
      true,
    );
  }
}
