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
  Transport,
  TransportOptions,
  WebSocketConstructor,
} from "./transports/transport.ts";
import { createDebug } from "../util/debug.ts";
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
export interface EngineOptions {
  /** The path of the endpoint (default `/engine.io`; `/socket.io` through `io()`). */
  path?: string;
  /** Whether a `/` is appended to the path (default true). */
  addTrailingSlash?: boolean;
  /** Query parameters added to every request. */
  query?: Record<string, string | number | boolean> | string;
  /** The transports to use, in order (default `["polling", "websocket"]`). */
  transports?: TransportName[];
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
  /** @internal An older wire protocol (the Manager's `protocol: 4` sets it). */
  wire?: ClientWire;
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
  /** A message arrived: text, or bytes. */
  data: (data: string | Uint8Array) => void;
  /** The server pinged (the pong is already sent). */
  ping: () => void;
  /** The pong to a ping was sent (right after `ping`, as engine.io-client has it). */
  pong: () => void;
  /** A packet arrived after the handshake: the connection is alive. */
  heartbeat: () => void;
  /** A message arrived (the same as `data`, under engine.io-client's name). */
  message: (data: string | Uint8Array) => void;
  /** A packet is about to be buffered for sending. */
  packetCreate: (packet: EnginePacket) => void;
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

/** A handshake's pingInterval or pingTimeout: a finite number of milliseconds, not negative. */
function isDelay(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
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

  readonly #opts: EngineOptions;
  readonly #url: string;
  readonly #query: Record<string, string>;
  readonly #jar: CookieJar | undefined;
  #transports: TransportName[];
  #deadline = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #cancelProbe: (() => void) | undefined;
  #offline: (() => void) | undefined;

  /** Prepares a connection to `uri` (`http(s)://` or `ws(s)://`); nothing is sent before `open()`. */
  constructor(uri: string, opts: EngineOptions = {}) {
    super();
    this.#opts = opts;
    const url = new URL(uri);
    const scheme = url.protocol === "https:" || url.protocol === "wss:" ? "https://" : "http://";
    let path = (opts.path ?? "/engine.io").replace(/\/$/, "");
    if (opts.addTrailingSlash !== false) path += "/";
    this.#url = scheme + url.host + path;
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const extra = opts.query;
    if (typeof extra === "string") new URLSearchParams(extra).forEach((value, key) => (query[key] = value));
    else if (extra) { for (const key in extra) query[key] = String(extra[key]); }
    this.#query = query;
    this.#transports = (opts.transports ?? ["polling", "websocket"]).filter((name) =>
      name === "polling" || name === "websocket"
    );
    this.#jar = isBrowser ? undefined : new CookieJar();
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
    const transport = this.#createTransport(name);
    this.#setTransport(transport);
    transport.open();
    return this;
  }

  #createTransport(name: string): Transport {
    const opts = this.#opts;
    const query: Record<string, string> = { ...this.#query, EIO: "4", transport: name };
    if (this.id) query.sid = this.id;
    const transportOptions: TransportOptions = {
      url: this.#url,
      query,
      extraHeaders: opts.extraHeaders,
      withCredentials: opts.withCredentials,
      fetch: opts.fetch,
      WebSocket: opts.WebSocket,
      protocols: opts.protocols,
      timestampRequests: opts.timestampRequests,
      timestampParam: opts.timestampParam,
      cookieJar: this.#jar,
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
      case "message":
        this.emitReserved("data", packet.data!);
        this.emitReserved("message", packet.data!);
        break;
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
    const check = () => {
      const left = this.#deadline - Date.now();
      if (left > 0) this.#timer = setTimeout(check, Math.min(left, MAX_TIMER_DELAY));
      else this.#onClose("ping timeout");
    };
    clearTimeout(this.#timer);
    // Timers take at most 2^31 - 1 ms (longer ones fire at once): a longer wait is several.
    this.#timer = setTimeout(check, Math.min(delay, MAX_TIMER_DELAY));
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
      setTimeout(() => this.#onClose("ping timeout"));
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

  /** Sends a message: text, or bytes (a binary frame on WebSocket, base64 on polling). */
  write(data: string | Uint8Array): this {
    this.#sendPacket("message", data);
    return this;
  }

  /** Alias of {@linkcode Engine.write}. */
  send(data: string | Uint8Array): this {
    return this.write(data);
  }

  #sendPacket(type: EnginePacketType, data?: string | Uint8Array): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const packet: EnginePacket = data === undefined ? { type } : { type, data };
    this.emitReserved("packetCreate", packet);
    this.writeBuffer.push(packet);
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
    clearTimeout(this.#timer);
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
    debug("session %s closed: %s", this.id, reason);
    this.id = undefined;
    this.emitReserved("close", reason, description);
    this.writeBuffer = [];
  }
}
