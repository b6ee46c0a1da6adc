/**
 * The Engine.IO v4 client: handshake, heartbeat, upgrade from polling to WebSocket, write buffering
 * and close. The Socket.IO {@linkcode Manager} sits on top of one engine connection.
 *
 * @module
 */

import { Emitter } from "../util/emitter.ts";
import type { EnginePacket, EnginePacketType } from "../parser/engine_io.ts";
import { CookieJar } from "./cookie_jar.ts";
import { isBrowser } from "./env.ts";
import { PollingTransport } from "./transports/polling_fetch.ts";
import { WebSocketTransport } from "./transports/websocket.ts";
import type {
  CloseDetails,
  FetchLike,
  TlsOptions,
  Transport,
  TransportOptions,
  WebSocketConstructor,
} from "./transports/transport.ts";
import { createDebug } from "../util/debug.ts";
import { createTimers } from "./timers.ts";
import type { TimerOptions, Timers } from "./timers.ts";
import { resolveTransports } from "./_runtime_features.ts";
import type { ClientWire } from "./wire.ts";

const debug = createDebug("sio:client:engine");

/**
 * The transports the client speaks.
 *
 * @example
 * ```ts
 * import type { TransportName } from "./engine.ts";
 * const transports: TransportName[] = ["websocket", "polling"];
 * ```
 */
export type TransportName = "polling" | "websocket";

/**
 * A transport class in the `transports` option: what counts is the `name` of its prototype.
 *
 * @example
 * ```ts
 * import { io, WebSocket } from "../../client.ts";
 * import type { TransportClass } from "../../client.ts";
 * const only: TransportClass[] = [WebSocket];
 * io("http://localhost:3000", { transports: only });
 * ```
 */
export type TransportClass = abstract new (...args: never[]) => { readonly name: string };

/**
 * How received binary data is delivered: `"arraybuffer"` (the default in browsers, as
 * socket.io-client), `"uint8array"` (the default on Deno, Bun, Node and Workers, where bytes are
 * `Uint8Array`s; a Node `Buffer` is one too) or `"blob"`.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000", { binaryType: "arraybuffer" });
 * socket.on("file", (data: ArrayBuffer) => console.log(data.byteLength));
 * ```
 */
export type BinaryType = "arraybuffer" | "uint8array" | "blob";

/**
 * The options of one transport in `transportOptions`: these replace the connection's own for
 * that transport.
 *
 * @example
 * ```ts
 * import type { TransportOverrides } from "./engine.ts";
 * const polling: TransportOverrides = { extraHeaders: { "x-via": "polling" }, requestTimeout: 30000 };
 * ```
 */
export type TransportOverrides = Pick<
  EngineOptions,
  | "path"
  | "query"
  | "extraHeaders"
  | "withCredentials"
  | "fetch"
  | "WebSocket"
  | "protocols"
  | "timestampRequests"
  | "timestampParam"
  | "requestTimeout"
  | "forceBase64"
  | "agent"
  | keyof TlsOptions
>;

/**
 * Options of the Engine.IO connection (all optional). The {@linkcode Manager} passes its own options
 * through, so these are accepted by `io()` as well.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * import type { EngineOptions } from "./engine.ts";
 * const options: EngineOptions = { transports: ["websocket"], query: { room: "a" } };
 * new Engine("http://localhost:3000", options).open();
 * ```
 */
export interface EngineOptions extends TlsOptions, TimerOptions {
  /**
   * The server's host name, when no URL is given (default: the page's, or `localhost`); `host`
   * may carry a port too (`"example.com:8080"`).
   */
  hostname?: string;
  /** The same as `hostname` (socket.io-client's other name for it). */
  host?: string;
  /** The server's port, when no URL is given (default: the page's, or 443/80). */
  port?: string | number;
  /** Whether to connect over TLS, when no URL is given (default: as the page). */
  secure?: boolean;
  /** The path of the endpoint (default `/engine.io`; `/socket.io` through `io()`). */
  path?: string;
  /** Whether a `/` is appended to the path (default true). */
  addTrailingSlash?: boolean;
  /** Query parameters added to every request. */
  query?: Record<string, string | number | boolean> | string;
  /**
   * The transports to use, in order (default `["polling", "websocket"]`): names, or transport
   * classes as socket.io-client 4.8 takes them (`Fetch`, `XHR`, `WebSocket`... exported here, or
   * engine.io-client's own), known by the `name` of their prototype.
   */
  transports?: Array<TransportName | TransportClass>;
  /** Whether to upgrade from polling to WebSocket when the server offers it (default true). */
  upgrade?: boolean;
  /**
   * Start with WebSocket right away when a previous connection in this page or process upgraded to
   * it successfully (default false).
   */
  rememberUpgrade?: boolean;
  /** When the first transport fails to connect, try the next ones (default false). */
  tryAllTransports?: boolean;
  /**
   * Headers sent with each polling request, and with the WebSocket handshake outside browsers
   * (browsers do not allow headers on a WebSocket).
   */
  extraHeaders?: Record<string, string>;
  /** Send cookies with cross-origin polling requests (`credentials: "include"`; default false). */
  withCredentials?: boolean;
  /** The `fetch` to use for polling (default: the global one). */
  fetch?: FetchLike;
  /** The `WebSocket` constructor to use (default: the global one). */
  WebSocket?: WebSocketConstructor;
  /** WebSocket sub-protocols. */
  protocols?: string | string[];
  /** Add a random parameter to each request to defeat caches (default: true on polling). */
  timestampRequests?: boolean;
  /** The name of that parameter (default `t`). */
  timestampParam?: string;
  /** How long a polling request may take, in milliseconds, before it fails (default: no limit). */
  requestTimeout?: number;
  /**
   * Deno, Bun and Node: an `http.Agent` (a proxy agent, say) for every request and WebSocket
   * handshake, which then go over `node:http(s)` (default: none).
   */
  agent?: object | false;
  /** Send binary messages as base64 text, and ask the server to do the same (default false). */
  forceBase64?: boolean;
  /**
   * Options for one transport only, by name: `{ polling: { extraHeaders }, websocket: { ... } }`
   * (see {@linkcode TransportOverrides}).
   */
  transportOptions?: { polling?: TransportOverrides; websocket?: TransportOverrides };
  /**
   * In browsers, close the connection silently on the page's `beforeunload` event, so that no
   * `disconnect` event fires while the page goes away (default false).
   */
  closeOnBeforeunload?: boolean;
  /** The initial {@linkcode Engine.binaryType} (see {@linkcode BinaryType}). */
  binaryType?: BinaryType;
  /** @internal An older wire protocol (the Manager's `protocol: 4` sets it). */
  wire?: ClientWire;
}

/**
 * The options of a message to send.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * import type { WriteOptions } from "./engine.ts";
 * const options: WriteOptions = { compress: false };
 * new Engine("http://localhost:3000").open().write("hello", options);
 * ```
 */
export interface WriteOptions {
  /** Whether the message may be compressed (default true). */
  compress?: boolean;
}

/**
 * A packet about to be sent, as the `packetCreate` event shows it.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * import type { OutgoingPacket } from "./engine.ts";
 * const engine = new Engine("http://localhost:3000");
 * engine.on("packetCreate", (packet: OutgoingPacket) => console.log(packet.type, packet.options.compress));
 * ```
 */
export interface OutgoingPacket extends EnginePacket {
  /** Its options (`compress` is true unless the sender said false). */
  options: { compress: boolean };
}

/**
 * The handshake the server sends in its `open` packet.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * const engine = new Engine("http://localhost:3000");
 * engine.on("handshake", (data) => console.log(data.sid, data.pingInterval, data.maxPayload));
 * engine.open();
 * ```
 */
export interface HandshakeData {
  /** The Engine.IO session id. */
  sid: string;
  /** The transports the session may upgrade to. */
  upgrades: string[];
  /** How often the server pings, in milliseconds. */
  pingInterval: number;
  /** How long the server waits for a pong, in milliseconds. */
  pingTimeout: number;
  /** The largest payload the server accepts, in bytes (not sent by Engine.IO v3 servers). */
  maxPayload: number;
}

/**
 * Why an engine connection closed.
 *
 * @example
 * ```ts
 * import type { EngineCloseReason } from "./engine.ts";
 * const expected: EngineCloseReason = "forced close";
 * ```
 */
export type EngineCloseReason = "forced close" | "ping timeout" | "transport close" | "transport error";

/**
 * The events of an {@linkcode Engine}.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * const engine = new Engine("http://localhost:3000");
 * engine.on("upgrade", (transport) => console.log("now on", transport.name));
 * engine.on("close", (reason) => console.log("closed:", reason));
 * engine.open();
 * ```
 */
export interface EngineEvents {
  /** The handshake is complete. */
  open: () => void;
  /** The handshake data arrived. */
  handshake: (data: HandshakeData) => void;
  /** Any packet arrived. */
  packet: (packet: EnginePacket) => void;
  /** A message arrived: text, or bytes (see {@linkcode Engine.binaryType}). */
  data: (data: string | Uint8Array | ArrayBuffer | Blob) => void;
  /** The server pinged (the pong is already sent). */
  ping: () => void;
  /** The pong to a ping was sent (right after `ping`, as engine.io-client has it). */
  pong: () => void;
  /** A packet arrived after the handshake: the connection is alive. */
  heartbeat: () => void;
  /** A message arrived (the same as `data`, under engine.io-client's name). */
  message: (data: string | Uint8Array | ArrayBuffer | Blob) => void;
  /** A packet is about to be buffered for sending. */
  packetCreate: (packet: OutgoingPacket) => void;
  /** Buffered packets were handed to the transport. */
  flush: () => void;
  /** The connection failed. */
  error: (err: Error) => void;
  /** A probe succeeded; the switch is starting. */
  upgrading: (transport: Transport) => void;
  /** The connection now runs over `transport`. */
  upgrade: (transport: Transport) => void;
  /** The upgrade failed; the connection stays on polling. */
  upgradeError: (err: Error) => void;
  /** Everything written was sent. */
  drain: () => void;
  /** The connection closed. */
  close: (reason: EngineCloseReason, description?: CloseDetails | Error) => void;
}

/**
 * The states of an {@linkcode Engine}.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * import type { EngineState } from "./engine.ts";
 * const state: EngineState = new Engine("http://localhost:3000").readyState; // "closed"
 * ```
 */
export type EngineState = "opening" | "open" | "closing" | "closed";

/** Whether a connection of this page or process upgraded to WebSocket (for `rememberUpgrade`). */
let priorWebsocketSuccess = false;

/** The longest delay a timer takes (2^31 - 1 ms; runtimes fire longer ones at once). */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** Adds query parameters (an object, or a query string) to `target`. */
function addQuery(target: Record<string, string>, query: EngineOptions["query"]): void {
  if (typeof query === "string") new URLSearchParams(query).forEach((value, key) => (target[key] = value));
  else if (query) { for (const key in query) target[key] = String(query[key]); }
}

/** A handshake's pingInterval or pingTimeout: a finite number of milliseconds, not negative. */
function isDelay(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/**
 * Received bytes in the form `binaryType` asks for.
 *
 * @example
 * ```ts
 * import { toBinaryType } from "./engine.ts";
 * toBinaryType(new Uint8Array([1, 2]), "arraybuffer"); // ArrayBuffer { [Uint8Contents]: <01 02> }
 * ```
 */
export function toBinaryType(data: Uint8Array, binaryType: BinaryType): Uint8Array | ArrayBuffer | Blob {
  if (binaryType === "uint8array") return data;
  const buffer = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    ? data.buffer as ArrayBuffer
    : data.slice().buffer;
  return binaryType === "blob" ? new Blob([buffer]) : buffer;
}

/** UTF-8 length of a string, or the length of a binary packet inside a polling payload. */
function byteLength(data: string | Uint8Array | undefined): number {
  if (data === undefined) return 0;
  if (typeof data !== "string") return 1 + Math.ceil(data.byteLength / 3) * 4;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c < 0xd800 || c >= 0xe000) n += 3;
    else {
      i++;
      n += 4;
    }
  }
  return n;
}

/**
 * One Engine.IO v4 connection. Create it, add listeners, then call {@linkcode Engine.open}.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * const engine = new Engine("http://localhost:3000", { path: "/engine.io" });
 * engine.on("open", () => engine.write("hello"));
 * engine.on("data", (data) => console.log("received", data));
 * engine.on("close", (reason) => console.log("closed:", reason));
 * engine.open();
 * ```
 */
export class Engine extends Emitter<EngineEvents> {
  /** The session id, once the handshake is done. */
  id: string | undefined;
  /** The current transport. */
  transport: Transport | undefined;
  /** The connection state. */
  readyState: EngineState = "closed";
  /** Packets waiting to be sent. */
  writeBuffer: EnginePacket[] = [];
  /** Whether the switch to another transport is in progress. */
  upgrading = false;
  /** The handshake, once it is done. */
  handshake: HandshakeData | undefined;
  /**
   * How received binary messages are delivered from now on (`data`, `message`, and through the
   * {@linkcode Manager} the sockets' events): see {@linkcode BinaryType}.
   */
  binaryType: BinaryType;

  /** The Engine.IO protocol revision. */
  static readonly protocol: number = 4;

  readonly #opts: EngineOptions;
  /** `http(s)://host[:port]`. */
  readonly #origin: string;
  readonly #query: Record<string, string> = {};
  readonly #jar: CookieJar | undefined;
  readonly #timers: Timers;
  #transports: TransportName[];
  #deadline = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #cancelProbe: (() => void) | undefined;
  #offline: (() => void) | undefined;
  #beforeunload: (() => void) | undefined;

  /**
   * Prepares a connection to `uri` (`http(s)://` or `ws(s)://`), or without one to the server the
   * `hostname`, `port` and `secure` options name (by default the page's origin in browsers,
   * `localhost` elsewhere); nothing is sent before `open()`.
   */
  constructor(uri?: string | EngineOptions, opts: EngineOptions = {}) {
    super();
    if (typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    this.#opts = opts;
    const loc = globalThis.location;
    const url = new URL(uri ?? (loc?.host ? loc.href : "http://localhost"));
    if (uri) url.searchParams.forEach((value, key) => (this.#query[key] = value));
    else {
      // The page's origin (or localhost), with what the options say instead.
      if (opts.secure !== undefined) url.protocol = opts.secure ? "https:" : "http:";
      const host = opts.hostname ?? opts.host;
      if (host) {
        url.port = "";
        url.host = host.split(":").length > 2 && host[0] !== "[" ? "[" + host + "]" : host; // a bare IPv6 address
      }
      if (opts.port) url.port = "" + opts.port;
    }
    this.#origin = (url.protocol === "https:" || url.protocol === "wss:" ? "https://" : "http://") + url.host;
    addQuery(this.#query, opts.query);
    this.#transports = (opts.transports ?? ["polling", "websocket"]).map((t) =>
      typeof t === "function" ? t.prototype.name : t
    ).filter((name): name is TransportName => name === "polling" || name === "websocket");
    this.#jar = isBrowser ? undefined : new CookieJar();
    this.#timers = createTimers(opts);
    this.binaryType = opts.binaryType ?? (isBrowser ? "arraybuffer" : "uint8array");
    // TLS settings the runtime cannot honour fail here, not at each connection attempt.
    resolveTransports(opts);
  }

  /** Starts the connection: the handshake on the first transport (or WebSocket, see `rememberUpgrade`). */
  open(): this {
    const transports = this.#transports;
    if (transports.length === 0) {
      this.emitReserved("error", new Error("No transports available"));
      return this;
    }
    const name = this.#opts.rememberUpgrade && priorWebsocketSuccess && transports.includes("websocket")
      ? "websocket"
      : transports[0];
    this.readyState = "opening";
    // In browsers, losing the network closes the connection at once instead of at the next ping
    // timeout (as socket.io-client does), so reconnection starts as soon as it is back.
    if (isBrowser && typeof addEventListener === "function" && !this.#offline) {
      this.#offline = () => this.#onClose("transport close", { description: "network connection lost" });
      addEventListener("offline", this.#offline);
    }
    // closeOnBeforeunload: the transport is closed silently, so that no disconnect is reported
    // while the page goes away (as socket.io-client does).
    if (this.#opts.closeOnBeforeunload && typeof addEventListener === "function" && !this.#beforeunload) {
      this.#beforeunload = () => {
        this.transport?.off();
        this.transport?.close();
      };
      addEventListener("beforeunload", this.#beforeunload);
    }
    const transport = this.#createTransport(name);
    this.#setTransport(transport);
    transport.open();
    return this;
  }

  #createTransport(name: TransportName): Transport {
    const own = this.#opts.transportOptions?.[name];
    const opts: EngineOptions = own ? { ...this.#opts, ...own } : this.#opts;
    const query: Record<string, string> = { ...this.#query };
    addQuery(query, own?.query);
    query.EIO = "4";
    query.transport = name;
    if (this.id) query.sid = this.id;
    let path = (opts.path ?? "/engine.io").replace(/\/$/, "");
    if (opts.addTrailingSlash !== false) path += "/";
    const transportOptions: TransportOptions = {
      ...opts,
      // TLS settings or autoUnref: the runtime's fetch and WebSocket that honour them.
      ...resolveTransports(opts),
      url: this.#origin + path,
      query,
      cookieJar: this.#jar,
      timers: this.#timers,
      browser: isBrowser,
    };
    return name === "websocket" ? new WebSocketTransport(transportOptions) : new PollingTransport(transportOptions);
  }

  #setTransport(transport: Transport): void {
    this.transport?.off();
    this.transport = transport;
    transport
      .on("drain", () => this.#onDrain())
      .on("packet", (packet) => this.#onPacket(packet))
      .on("error", (err) => this.#onError(err))
      .on("close", (details) => this.#onClose("transport close", details));
  }

  #onPacket(packet: EnginePacket): void {
    if (this.readyState === "closed") return;
    this.emitReserved("packet", packet);
    if (packet.type === "open") return this.#onHandshake(packet.data);
    if (this.readyState === "opening") {
      return this.#onError(new Error(`Unexpected "${packet.type}" packet before the handshake`));
    }
    this.emitReserved("heartbeat");
    switch (packet.type) {
      case "ping":
        // Only pings count for the heartbeat (as in engine.io-client): a server whose heartbeat
        // stopped is found out even while its messages still come.
        this.#deadline = Date.now() + this.handshake!.pingInterval + this.handshake!.pingTimeout;
        this.#sendPacket("pong");
        this.emitReserved("ping");
        this.emitReserved("pong");
        break;
      case "message": {
        const data = typeof packet.data === "string" ? packet.data : toBinaryType(packet.data!, this.binaryType);
        this.emitReserved("data", data);
        this.emitReserved("message", data);
        break;
      }
      case "close":
        this.#onClose("transport close", { description: "transport closed by the server" });
        break;
    }
  }

  #onHandshake(data: unknown): void {
    let hs: HandshakeData | undefined;
    try {
      hs = JSON.parse(data as string);
    } catch {
      // Reported below.
    }
    if (
      this.readyState !== "opening" || !hs || typeof hs.sid !== "string" ||
      !isDelay(hs.pingInterval) || !isDelay(hs.pingTimeout)
    ) {
      return this.#onError(new Error("Invalid handshake"));
    }
    this.handshake = hs;
    this.id = hs.sid;
    const transport = this.transport!;
    transport.query.sid = hs.sid;
    this.readyState = "open";
    priorWebsocketSuccess = transport.name === "websocket";
    // The heartbeat is armed before any listener runs: one that throws leaves a watched session.
    this.#resetTimer();
    this.#opts.wire?.open(this, () => this.#sendPacket("ping"));
    this.emitReserved("handshake", hs);
    debug("session %s open over %s", this.id, this.transport?.name);
    this.emitReserved("open");
    this.#flush();
    if (this.readyState !== "open") return;
    if (this.#opts.upgrade !== false && transport.name === "polling" && Array.isArray(hs.upgrades)) {
      if (hs.upgrades.includes("websocket") && this.#transports.includes("websocket")) this.#probe("websocket");
    }
  }

  /** Arms the heartbeat check: no packet within pingInterval + pingTimeout closes the connection. */
  #resetTimer(): void {
    const hs = this.handshake!;
    const delay = hs.pingInterval + hs.pingTimeout;
    this.#deadline = Date.now() + delay;
    const timers = this.#timers;
    const check = () => {
      const left = this.#deadline - Date.now();
      if (left > 0) this.#timer = timers.set(check, Math.min(left, MAX_TIMER_DELAY), true);
      else this.#onClose("ping timeout");
    };
    timers.clear(this.#timer);
    // Timers take at most 2^31 - 1 ms (longer ones fire at once): a longer wait is several.
    this.#timer = timers.set(check, Math.min(delay, MAX_TIMER_DELAY), true);
  }

  /**
   * Whether the heartbeat deadline passed even though its timer did not fire (timers are throttled
   * in background tabs); the connection is then closed on the next tick.
   */
  hasPingExpired(): boolean {
    if (this.readyState !== "open") return false;
    const expired = Date.now() > this.#deadline;
    if (expired) {
      this.#deadline = Infinity; // one close is scheduled, not one per call
      this.#timers.set(() => this.#onClose("ping timeout"), 0);
    }
    return expired;
  }

  #probe(name: TransportName): void {
    const probe = this.#createTransport(name);
    let failed = false;
    priorWebsocketSuccess = false;
    const fail = (reason: string) => {
      if (failed) return;
      failed = true;
      this.#cancelProbe = undefined;
      probe.off();
      probe.close();
      if (this.upgrading) {
        this.upgrading = false;
        this.transport?.resume();
        this.#flush();
        this.#maybeFinishClose();
      }
      const err = new Error("probe error: " + reason) as Error & { transport?: string };
      err.transport = name;
      this.emitReserved("upgradeError", err);
    };
    this.#cancelProbe = () => fail("socket closed");
    probe.on("error", (err) => fail(err.message));
    probe.on("close", () => fail("transport closed"));
    probe.once("open", () => {
      probe.send([{ type: "ping", data: "probe" }]);
      probe.once("packet", (packet) => {
        if (packet.type !== "pong" || packet.data !== "probe") return fail("unexpected answer");
        this.upgrading = true;
        this.emitReserved("upgrading", probe);
        priorWebsocketSuccess = true;
        this.transport!.pause(() => {
          if (failed || this.readyState === "closed") return;
          this.#cancelProbe = undefined;
          probe.off();
          this.#setTransport(probe);
          probe.send([{ type: "upgrade" }]);
          this.upgrading = false;
          debug("session %s upgraded to %s", this.id, probe.name);
          this.emitReserved("upgrade", probe);
          this.#flush();
          this.#maybeFinishClose();
        });
      });
    });
    probe.open();
  }

  #onDrain(): void {
    if (this.writeBuffer.length === 0) {
      this.emitReserved("drain");
      this.#maybeFinishClose();
    } else this.#flush();
  }

  #flush(): void {
    const transport = this.transport;
    if (
      this.readyState === "closed" || !transport || !transport.writable || this.upgrading ||
      this.writeBuffer.length === 0
    ) return;
    const packets = this.#writablePackets();
    this.writeBuffer = packets.length === this.writeBuffer.length ? [] : this.writeBuffer.slice(packets.length);
    transport.send(packets);
    this.emitReserved("flush");
  }

  /** On polling, as many packets as fit in the server's maxPayload (at least one). */
  #writablePackets(): EnginePacket[] {
    const buffer = this.writeBuffer;
    const max = this.handshake?.maxPayload;
    if (!max || this.transport!.name !== "polling" || buffer.length < 2) return buffer;
    let size = 1;
    for (let i = 0; i < buffer.length; i++) {
      size += byteLength(buffer[i].data);
      if (i > 0 && size > max) return buffer.slice(0, i);
      size += 2;
    }
    return buffer;
  }

  /**
   * Sends a message: text, or bytes (a binary frame on WebSocket, base64 on polling). `fn` is
   * called once it is handed to the transport.
   */
  write(data: string | Uint8Array, options?: WriteOptions | (() => void), fn?: () => void): this {
    if (typeof options === "function") {
      fn = options;
      options = undefined;
    }
    this.#sendPacket("message", data, options, fn);
    return this;
  }

  /** Alias of {@linkcode Engine.write}. */
  send(data: string | Uint8Array, options?: WriteOptions | (() => void), fn?: () => void): this {
    return this.write(data, options, fn);
  }

  #sendPacket(type: EnginePacketType, data?: string | Uint8Array, options?: WriteOptions, fn?: () => void): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const packet: OutgoingPacket = { type, options: { compress: options?.compress !== false } };
    if (data !== undefined) packet.data = data;
    this.emitReserved("packetCreate", packet);
    this.writeBuffer.push(packet);
    if (fn) this.once("flush", fn);
    this.#flush();
  }

  /** Closes the connection once what is buffered is sent (and a running upgrade is done). */
  close(): this {
    if (this.readyState === "opening") {
      this.#onClose("forced close");
    } else if (this.readyState === "open") {
      this.readyState = "closing";
      this.#maybeFinishClose();
    }
    return this;
  }

  #maybeFinishClose(): void {
    if (
      this.readyState === "closing" && this.writeBuffer.length === 0 && !this.upgrading &&
      this.transport!.writable
    ) this.#onClose("forced close");
  }

  #onError(err: Error): void {
    priorWebsocketSuccess = false;
    const current = this.transport?.name as TransportName;
    if (this.#opts.tryAllTransports && this.readyState === "opening" && this.#transports.length > 1) {
      this.#transports = this.#transports.filter((name) => name !== current);
      this.transport!.off();
      this.transport!.close();
      this.transport = undefined;
      this.open();
      return;
    }
    this.emitReserved("error", err);
    this.#onClose("transport error", err);
  }

  #onClose(reason: EngineCloseReason, description?: CloseDetails | Error): void {
    if (this.readyState === "closed") return;
    this.#timers.clear(this.#timer);
    // Closed before the probe is cancelled: a pausing upgrade would otherwise resume and flush the
    // closing transport and close the engine a second time.
    this.readyState = "closed";
    this.upgrading = false;
    this.#cancelProbe?.();
    const transport = this.transport;
    if (transport) {
      transport.off();
      transport.close();
    }
    if (this.#offline) {
      removeEventListener("offline", this.#offline);
      this.#offline = undefined;
    }
    if (this.#beforeunload) {
      removeEventListener("beforeunload", this.#beforeunload);
      this.#beforeunload = undefined;
    }
    debug("session %s closed: %s", this.id, reason);
    this.id = undefined;
    this.emitReserved("close", reason, description);
    this.writeBuffer = [];
  }
}
