/**
 * Bun: `Bun.serve` upgrades through `server.upgrade(request, { data })`, and one shared `websocket`
 * handler object routes every socket's events to the handlers stored in `ws.data`.
 *
 * @module
 */

import type { TopicPublisher, Upgrader, WebSocketHandlers, WebSocketLike } from "../engine/websocket_like.ts";
import { type ConnInfo, type Handle, type HandleOptions, textResponse } from "../engine/exchange.ts";
import { fromWebFallback, toWebResponseFromInit, WebEngineRequest } from "../engine/web_exchange.ts";
import type { AnyServer } from "../io/server.ts";
import { utf8Length } from "../util/utf8_length.ts";

/** The parts of Bun's `ServerWebSocket` we use. */
export interface BunServerWebSocket {
  /** Handlers given at upgrade time. */
  data: WebSocketHandlers;
  /** Sends a frame; returns bytes sent, -1 on back-pressure, 0 when dropped. */
  send(data: string | Uint8Array, compress?: boolean): number;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Bytes queued. */
  getBufferedAmount?(): number;
  /** Subscribes to a topic. */
  subscribe?(topic: string): void;
  /** Unsubscribes from a topic. */
  unsubscribe?(topic: string): void;
  /** Sends to every socket subscribed to `topic` but this one. */
  publish?(topic: string, data: string | Uint8Array, compress?: boolean): number;
}

/** The parts of Bun's `Server` we use. */
export interface BunServer {
  /** Upgrades the request; `data` becomes `ws.data`. */
  upgrade(request: Request, options: { data: WebSocketHandlers; headers?: HeadersInit }): boolean;
  /** The peer address of a request. */
  requestIP?(request: Request): { address: string; port: number } | null;
  /** Sends to every socket subscribed to `topic`. */
  publish?(topic: string, data: string | Uint8Array, compress?: boolean): number;
}

/** The `websocket` handler object for `Bun.serve`. */
export interface BunWebSocketHandler {
  /** A socket opened. */
  open(ws: BunServerWebSocket): void;
  /** A frame arrived. */
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  /** The socket closed. */
  close(ws: BunServerWebSocket, code: number, reason: string): void;
  /** Largest frame accepted. */
  maxPayloadLength?: number;
  /** Seconds of silence before Bun closes the socket (0: never; the engine's heartbeat decides). */
  idleTimeout?: number;
  /** permessage-deflate. */
  perMessageDeflate?: boolean;
  /** Bytes queued for one socket before Bun applies `closeOnBackpressureLimit`. */
  backpressureLimit?: number;
  /** Close a socket past `backpressureLimit` (Bun's default drops the messages instead). */
  closeOnBackpressureLimit?: boolean;
}

/** What `Bun.serve` takes from us. */
export interface BunServeOptions {
  /** The request handler. */
  fetch(request: Request, server: BunServer): Promise<Response | undefined> | Response | undefined;
  /** The shared WebSocket handlers. */
  websocket: BunWebSocketHandler;
  /** HTTP idle timeout in seconds: long polls are held open longer than Bun's default of 10 s. */
  idleTimeout: number;
}

/**
 * The upgrader of a Bun server: `server.upgrade`, with the engine's handlers as the socket's
 * `data`.
 *
 * @example
 * ```ts
 * import { type BunServer, bunUpgrader } from "./bun.ts";
 * declare const server: BunServer;
 * const upgrade = bunUpgrader(server);
 * ```
 */
export function bunUpgrader(server: BunServer): Upgrader {
  return (request, handlers, headers) =>
    server.upgrade(request.toRequest(), { data: handlers, headers })
      ? undefined
      : textResponse(400, "Upgrade failed", new Headers({ "content-type": "text/plain" }));
}

/**
 * Whether Bun should compress a frame of `data` (where permessage-deflate was negotiated; Bun
 * ignores the flag elsewhere): from `threshold` bytes, unless sent with `compress: false`. Bun
 * compresses only the frames it is asked to, and has no threshold of its own.
 */
function deflates(data: string | Uint8Array, compress: boolean | undefined, threshold: number): boolean {
  if (compress === false) return false;
  if (typeof data !== "string") return data.byteLength >= threshold;
  // A UTF-8 size is at least the string's length and at most three times it.
  return data.length >= threshold || (data.length * 3 >= threshold && utf8Length(data) >= threshold);
}

/**
 * Bun's socket as the engine sees it; with native fan-out (Bun's topics, published through
 * `publisher`) when the server offers it. Frames of `deflateFrom` bytes or more are sent
 * compressed where permessage-deflate was negotiated. One object per connection, its methods
 * shared (closures per connection were six functions, a getter and their scope). Without a
 * `publisher`, the engine never calls the topic methods.
 */
class BunWebSocket implements WebSocketLike {
  readonly #ws: BunServerWebSocket;
  readonly #deflateFrom: number;
  readonly publisher: TopicPublisher | undefined;
  constructor(ws: BunServerWebSocket, publisher: TopicPublisher | undefined, deflateFrom: number) {
    this.#ws = ws;
    this.#deflateFrom = deflateFrom;
    // native fan-out only where the socket can take topics (and publish to them itself)
    this.publisher = ws.subscribe && ws.unsubscribe && ws.publish ? publisher : undefined;
  }
  send(data: string | Uint8Array, compress?: boolean): void {
    this.#ws.send(data, deflates(data, compress, this.#deflateFrom));
  }
  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }
  get bufferedAmount(): number {
    return this.#ws.getBufferedAmount?.() ?? 0;
  }
  subscribe(topic: string): void {
    this.#ws.subscribe!(topic);
  }
  unsubscribe(topic: string): void {
    this.#ws.unsubscribe!(topic);
  }
  /** Bun's `ws.publish`: to every subscriber of `topic` but this socket. */
  publishToOthers(topic: string, frame: string | Uint8Array, compress?: boolean): void {
    this.#ws.publish!(topic, frame, deflates(frame, compress, this.#deflateFrom));
  }
}

/** A decimal `content-length`. */
const DECIMAL = /^[0-9]{1,15}$/;

/**
 * A Bun `Request` as the engine reads it: a body of known length within the limit is read by Bun
 * itself (`request.text()`), not through a JavaScript `ReadableStream` reader, which was most of a
 * long-polling POST's cost on Bun. Bodies without a length (chunked) or over the limit take the
 * streaming read, which stops at the limit.
 */
class BunEngineRequest extends WebEngineRequest {
  readonly #server: BunServer;
  #info: ConnInfo | undefined;

  /** Wraps `request`, received by `server`. */
  constructor(request: Request, server: BunServer) {
    super(request);
    this.#server = server;
  }

  /**
   * The peer's address and port, asked of Bun (`requestIP`) on first use only: at a handshake
   * (before any upgrade), not for every poll.
   */
  protected override connInfo(): ConnInfo {
    if (this.#info === undefined) {
      const ip = this.#server.requestIP?.(this.native);
      this.#info = { remoteAddress: ip?.address, remotePort: ip?.port };
    }
    return this.#info;
  }

  override readText(limit: number): Promise<string | null> {
    const request = this.native;
    const length = request.headers.get("content-length");
    if (length !== null && DECIMAL.test(length) && Number(length) <= limit) return request.text();
    return super.readText(limit);
  }
}

/**
 * The native fan-out of a Bun server (`server.publish`, the server known from its first
 * request), with the frames of `deflateFrom` bytes or more compressed.
 */
function bunPublisher(server: () => BunServer | undefined, deflateFrom: number): TopicPublisher {
  return {
    publish(topic, frame, compress) {
      server()?.publish?.(topic, frame, deflates(frame, compress, deflateFrom));
    },
  };
}

/**
 * The shared `websocket` object: routes events to the handlers stored at upgrade time. Spread it
 * with `perMessageDeflate: true` to offer permessage-deflate (frames from 1024 bytes are then
 * compressed, unless sent with `compress(false)`).
 */
export const bunWebSocketHandler: BunWebSocketHandler = {
  open(ws) {
    ws.data.onOpen(new BunWebSocket(ws, undefined, DEFAULT_DEFLATE_THRESHOLD));
  },
  message(ws, message) {
    ws.data.onMessage(message);
  },
  close(ws, code, reason) {
    ws.data.onClose(code, reason);
  },
  idleTimeout: 0,
  perMessageDeflate: false,
};

/** Options of {@linkcode bunServeOptions}. */
export interface BunServeLimits {
  /** Largest WebSocket frame accepted, in bytes (default 1e6). */
  maxPayloadLength?: number;
  /** The engine's `maxBufferedBytes` (default 16 MiB): Bun closes sockets past twice that. */
  maxBufferedBytes?: number;
  /** Answers requests outside the handle's paths (default: 404). */
  fallback?: (request: Request) => Response | Promise<Response>;
  /**
   * Whether to offer permessage-deflate (default false), and from which size frames are compressed
   * (`threshold`, default 1024 bytes): the engine's `perMessageDeflate` option.
   */
  perMessageDeflate?: boolean | { threshold?: number };
}

const DEFAULT_DEFLATE_THRESHOLD = 1024;

/**
 * Builds the options for `Bun.serve` around a {@linkcode Handle} (`io.handle`, a bare engine's, a
 * router of several).
 *
 * @example
 * ```ts
 * import { bunServeOptions } from "./bun.ts";
 * import { Engine } from "../engine/server.ts";
 * const engine = new Engine({ path: "/engine.io" });
 * const options = bunServeOptions((request, handleOptions) => engine.handle(request, handleOptions));
 * // Bun.serve({ port: 3000, ...options });
 * ```
 */
export function bunServeOptions(handle: Handle, limits: BunServeLimits = {}): BunServeOptions {
  const maxBufferedBytes = limits.maxBufferedBytes ?? 16 * 1024 * 1024;
  const fallback = limits.fallback && fromWebFallback(limits.fallback);
  const deflate = limits.perMessageDeflate;
  const deflateFrom = !deflate ? Infinity : deflate === true ? DEFAULT_DEFLATE_THRESHOLD : deflate.threshold ??
    DEFAULT_DEFLATE_THRESHOLD;
  // The server, known from the first request: room broadcasts are published through it.
  let current: BunServer | undefined;
  // The handle's options for `current`: built once per server, not for every request.
  let options: HandleOptions = {};
  const publisher = bunPublisher(() => current, deflateFrom);
  return {
    async fetch(request, server) {
      if (server !== current) {
        current = server;
        options = { upgrade: bunUpgrader(server), fallback };
      }
      const response = await handle(new BunEngineRequest(request, server), options);
      return response === undefined ? undefined : toWebResponseFromInit(response);
    },
    websocket: {
      ...bunWebSocketHandler,
      open(ws) {
        ws.data.onOpen(new BunWebSocket(ws, current?.publish ? publisher : undefined, deflateFrom));
      },
      perMessageDeflate: deflateFrom !== Infinity,
      maxPayloadLength: Math.max(limits.maxPayloadLength ?? 1e6, 1024) + 64,
      // Room broadcasts go out through Bun's publish(), which the engine's maxBufferedBytes check
      // never sees: past Bun's limit it dropped them silently and kept the socket. Closing is the
      // engine's answer too; twice the engine's limit, so that direct sends still end with the
      // engine's own "transport full".
      backpressureLimit: 2 * maxBufferedBytes,
      closeOnBackpressureLimit: true,
    },
    idleTimeout: 0,
  };
}

/**
 * Everything `Bun.serve` needs to serve `io` (Bun's native WebSocket, an idle timeout that lets
 * long polls wait): spread it into the options.
 *
 * @example
 * ```ts
 * import { bunOptions } from "./bun.ts";
 * import { Server } from "../io/server.ts";
 * const io = new Server();
 * const options = bunOptions(io, { fallback: () => new Response("my app") });
 * // Bun.serve({ port: 3000, ...options });
 * ```
 */
export function bunOptions(
  io: AnyServer,
  options: { fallback?: (request: Request) => Response | Promise<Response> } = {},
): BunServeOptions {
  return bunServeOptions((request, handleOptions) => io.handle(request, handleOptions), {
    maxPayloadLength: io.engine.options.maxHttpBufferSize,
    maxBufferedBytes: io.engine.options.maxBufferedBytes,
    perMessageDeflate: io.engine.options.perMessageDeflate,
    fallback: options.fallback,
  });
}
