/**
 * What the engine client needs of a transport, and the parts polling and WebSocket share.
 *
 * @module
 */

import { Emitter } from "../../util/emitter.ts";
import type { EnginePacket } from "../../parser/engine_io.ts";
import type { CookieJar } from "../cookie_jar.ts";
import { createTimers } from "../timers.ts";
import type { Timers } from "../timers.ts";

/**
 * The `fetch` function a polling transport uses (the global one by default).
 *
 * @example
 * ```ts
 * import { io } from "../../../client.ts";
 * const socket = io("http://localhost:3000", {
 *   transports: ["polling"],
 *   fetch: (input, init) => fetch(input, { ...init, keepalive: true }),
 * });
 * ```
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A `WebSocket` constructor (the global one by default).
 *
 * @example
 * ```ts
 * import { io } from "../../../client.ts";
 * const socket = io("http://localhost:3000", { transports: ["websocket"], WebSocket: globalThis.WebSocket });
 * ```
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/**
 * TLS settings for `https://` and `wss://` connections outside browsers, as socket.io-client takes
 * them (browsers decide these themselves: there they are ignored). PEM text or bytes. They go
 * through the runtime's own `fetch` and `WebSocket` where it takes them (Node: every one, Deno:
 * `ca`, `cert`, `key`; Bun: all but `pfx` and `ciphers`), otherwise through its HTTPS module
 * (which Deno, Bun and Node all have).
 *
 * @example
 * ```ts
 * import { io } from "../../../client.ts";
 * import type { TlsOptions } from "../../../client.ts";
 * const tls: TlsOptions = { ca: "-----BEGIN CERTIFICATE-----\n...", rejectUnauthorized: true };
 * io("https://localhost:3000", tls);
 * ```
 */
export interface TlsOptions {
  /** Certificate authorities to trust (PEM), for a server whose certificate is not publicly trusted. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** A client certificate (PEM), for a server that asks for one. */
  cert?: string | Uint8Array;
  /** The private key of that certificate (PEM). */
  key?: string | Uint8Array;
  /** The pass phrase of `key` or `pfx`. */
  passphrase?: string;
  /** A client certificate and its key as PKCS#12 bytes. */
  pfx?: string | Uint8Array;
  /** The cipher suites to offer (OpenSSL names). */
  ciphers?: string;
  /** Whether a certificate that does not verify is refused (default true). */
  rejectUnauthorized?: boolean;
}

/**
 * Why a transport closed.
 *
 * @example
 * ```ts
 * import { io } from "../../../client.ts";
 * const socket = io("http://localhost:3000");
 * socket.on("disconnect", (_reason, details) => {
 *   if (details && "description" in details) console.log(details.description);
 * });
 * ```
 */
export interface CloseDetails {
  /** What happened, in words. */
  description: string;
  /** The `CloseEvent` or `Response` behind it, where there is one. */
  context?: unknown;
}

/**
 * A transport failure: `message` says where ("fetch read error", "fetch write error",
 * "websocket error", "parse error"), `description` gives the HTTP status or the underlying error and
 * `context` the `Response` or event, where there is one.
 *
 * @example
 * ```ts
 * import { TransportError } from "./transport.ts";
 * const err = new TransportError("fetch read error", 400);
 * console.log(err.type, err.message, err.description); // "TransportError" "fetch read error" 400
 * ```
 */
export class TransportError extends Error {
  /** Always `"TransportError"`, as in socket.io-client. */
  readonly type = "TransportError";
  /** The HTTP status or the underlying error. */
  readonly description: unknown;
  /** The `Response` or event behind the error, if any. */
  readonly context: unknown;

  /** Creates an error. */
  constructor(reason: string, description?: unknown, context?: unknown) {
    super(reason);
    this.description = description;
    this.context = context;
  }
}

/**
 * The settings a transport is created with (the engine resolves them).
 *
 * @example
 * ```ts
 * import { PollingTransport } from "./polling_fetch.ts";
 * import type { TransportOptions } from "./transport.ts";
 * const options: TransportOptions = { url: "http://localhost:3000/socket.io/", query: { EIO: "4", transport: "polling" }, browser: false };
 * new PollingTransport(options).open();
 * ```
 */
export interface TransportOptions {
  /** The endpoint without query: `http(s)://host:port/path/`. */
  url: string;
  /** The query parameters: the user's, plus `EIO`, `transport` and `sid`. */
  query: Record<string, string>;
  /** Headers sent with each request (outside browsers only for WebSocket). */
  extraHeaders?: Record<string, string>;
  /** Sends cookies with cross-origin polling requests (`credentials: "include"`). */
  withCredentials?: boolean;
  /** The `fetch` to use. */
  fetch?: FetchLike;
  /** The `WebSocket` constructor to use. */
  WebSocket?: WebSocketConstructor;
  /** WebSocket sub-protocols. */
  protocols?: string | string[];
  /** Whether to add a random `t` parameter to each request (polling: default true). */
  timestampRequests?: boolean;
  /** The name of that parameter (default `t`). */
  timestampParam?: string;
  /** How long a polling request may take, in milliseconds (default: no limit). */
  requestTimeout?: number;
  /** Send binary messages as base64 text, and ask the server to do the same (`b64=1`). */
  forceBase64?: boolean;
  /** Session cookies, kept outside browsers. */
  cookieJar?: CookieJar;
  /** The timers to use (default: the global ones). */
  timers?: Timers;
  /** Whether the code runs in a browser (no header tricks there). */
  browser: boolean;
}

/**
 * The events a transport reports to the engine.
 *
 * @example
 * ```ts
 * import { WebSocketTransport } from "./websocket.ts";
 * const t = new WebSocketTransport({ url: "http://localhost:3000/engine.io/", query: { EIO: "4", transport: "websocket" }, browser: false });
 * t.on("packet", (packet) => console.log(packet.type));
 * t.on("close", (details) => console.log(details?.description));
 * t.open();
 * ```
 */
export interface TransportEvents {
  /** The transport is ready to send. */
  open: () => void;
  /** A packet arrived. */
  packet: (packet: EnginePacket) => void;
  /** The transport failed. */
  error: (err: TransportError) => void;
  /** The transport is closed. */
  close: (details?: CloseDetails) => void;
  /** Everything sent so far was written. */
  drain: () => void;
}

/**
 * The states of a transport.
 *
 * @example
 * ```ts
 * import type { TransportState } from "./transport.ts";
 * const state: TransportState = "paused";
 * ```
 */
export type TransportState = "opening" | "open" | "pausing" | "paused" | "closed";

let seed = 0;

/**
 * Reports an error thrown by a listener outside the current call stack, so that a bug in an event
 * handler neither breaks the connection nor becomes an unhandled promise rejection.
 *
 * @example
 * ```ts
 * import { rethrow } from "./transport.ts";
 * try {
 *   JSON.parse("{");
 * } catch (err) {
 *   rethrow(err); // reported as an uncaught error on the next tick
 * }
 * ```
 */
export function rethrow(err: unknown): void {
  setTimeout(() => {
    throw err;
  });
}

/**
 * A short random string for cache busting.
 *
 * @example
 * ```ts
 * import { randomString } from "./transport.ts";
 * const t = randomString(); // e.g. "m3k2x1a0"
 * ```
 */
export function randomString(): string {
  return Date.now().toString(36) + (seed++).toString(36);
}

/**
 * The base of both transports.
 *
 * @example
 * ```ts
 * import type { Transport } from "./transport.ts";
 * function describe(t: Transport): string {
 *   return `${t.name} (${t.readyState})`;
 * }
 * ```
 */
export abstract class Transport extends Emitter<TransportEvents> {
  /** `polling` or `websocket`. */
  abstract readonly name: string;
  /** The current state. */
  readyState: TransportState = "closed";
  /** Whether `send` may be called now. */
  writable = false;
  /** The settings. */
  readonly opts: TransportOptions;
  /** The query parameters (the engine adds `sid` after the handshake). */
  readonly query: Record<string, string>;
  /** The timers (the engine's: see the `useNativeTimers` and `autoUnref` options). */
  readonly timers: Timers;

  /** Creates a transport; call `open()` to start it. */
  constructor(opts: TransportOptions) {
    super();
    this.opts = opts;
    this.query = opts.query;
    this.timers = opts.timers ?? createTimers({});
  }

  /** Starts connecting. */
  open(): this {
    this.readyState = "opening";
    this.doOpen();
    return this;
  }

  /** Closes the transport (a no-op when it is already closed). */
  close(): this {
    // Pausing or paused (an upgrade under way) too: such a transport still has requests out.
    if (this.readyState !== "closed") {
      this.doClose();
      this.onClose();
    }
    return this;
  }

  /** Sends packets; they are dropped when the transport is not open. */
  send(packets: EnginePacket[]): void {
    if (this.readyState === "open") this.write(packets);
  }

  /** Stops receiving, then calls `onPause` (polling waits for its requests; WebSocket does not). */
  pause(onPause: () => void): void {
    onPause();
  }

  /** Starts receiving again after a `pause` whose upgrade failed. */
  resume(): void {}

  /** The URL of a request: the endpoint and the query. */
  protected uri(scheme?: string, timestamp?: boolean): string {
    const query = { ...this.query };
    if (timestamp) query[this.opts.timestampParam ?? "t"] = randomString();
    // forceBase64: the server is to send binary as text too (polling asks in the handshake).
    if (this.opts.forceBase64 && (this.name === "websocket" || !query.sid)) query.b64 = "1";
    const url = scheme ? scheme + this.opts.url.slice(this.opts.url.indexOf(":")) : this.opts.url;
    return url + "?" + new URLSearchParams(query).toString();
  }

  /** Marks the transport open and writable. */
  protected onOpen(): void {
    this.readyState = "open";
    this.writable = true;
    this.emitReserved("open");
  }

  /** Reports a failure as a {@linkcode TransportError}. */
  protected onError(reason: string, description?: unknown, context?: unknown): void {
    this.emitReserved("error", new TransportError(reason, description, context));
  }

  /** Marks the transport closed and tells the engine why. */
  protected onClose(details?: CloseDetails): void {
    this.readyState = "closed";
    this.writable = false;
    this.emitReserved("close", details);
  }

  /** Starts connecting (the subclass's part of `open()`). */
  protected abstract doOpen(): void;
  /** Releases the connection (the subclass's part of `close()`). */
  protected abstract doClose(): void;
  /** Sends packets; emits `drain` once they are written. */
  protected abstract write(packets: EnginePacket[]): void;
}
