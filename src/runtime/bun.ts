/**
 * Bun: `Bun.serve` upgrades through `server.upgrade(request, { data })`, and one shared `websocket`
 * handler object routes every socket's events to the handlers stored in `ws.data`.
 *
 * @module
 */

import type { ConnInfo, Upgrader, WebSocketHandlers, WebSocketLike } from "../engine/websocket_like.ts";

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

/** A handler in the engine's shape. */
export type EngineHandle = (
  request: Request,
  info: ConnInfo,
  upgrade: Upgrader,
) => Promise<Response | undefined> | Response | undefined;

function wrap(ws: BunServerWebSocket, server?: BunServer): WebSocketLike {
  const like: WebSocketLike = {
    send: (data) => {
      ws.send(data);
    },
    close: (code, reason) => ws.close(code, reason),
    get bufferedAmount() {
      return ws.getBufferedAmount?.() ?? 0;
    },
  };
  if (server?.publish && ws.subscribe && ws.unsubscribe) {
    // Bun's native topics: a room broadcast is published once instead of sent once per socket.
    like.subscribe = (topic) => ws.subscribe!(topic);
    like.unsubscribe = (topic) => ws.unsubscribe!(topic);
    like.publish = (topic, data) => {
      server.publish!(topic, data);
    };
  }
  return like;
}

/** The shared `websocket` object: routes events to the handlers stored at upgrade time. */
export const bunWebSocketHandler: BunWebSocketHandler = {
  open(ws) {
    ws.data.onOpen(wrap(ws));
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

/**
 * Builds the options for `Bun.serve` around an engine-shaped handler.
 *
 * @example
 * ```ts ignore
 * Bun.serve({ port: 3000, ...bunServeOptions((req, info, up) => engine.handleRequest(req, info, up)) });
 * ```
 */
export function bunServeOptions(
  handle: EngineHandle,
  maxPayloadLength = 1e6,
  maxBufferedBytes = 16 * 1024 * 1024,
): BunServeOptions {
  // The server, known from the first request: sockets publish room broadcasts through it.
  let current: BunServer | undefined;
  return {
    fetch(request, server) {
      current = server;
      const ip = server.requestIP?.(request);
      const upgrade: Upgrader = (req, handlers) =>
        server.upgrade(req, { data: handlers }) ? undefined : new Response("Upgrade failed", { status: 400 });
      return handle(request, { remoteAddress: ip?.address, remotePort: ip?.port }, upgrade);
    },
    websocket: {
      ...bunWebSocketHandler,
      open(ws) {
        ws.data.onOpen(wrap(ws, current));
      },
      maxPayloadLength: Math.max(maxPayloadLength, 1024) + 64,
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

/** What {@linkcode bunOptions} needs of an io server. */
export interface BunServable {
  /** Its engine's options. */
  engine: { options: { maxHttpBufferSize: number; maxBufferedBytes?: number } };
  /** Answers one request (see `Server._handle`). */
  _handle(
    request: Request,
    info: ConnInfo | undefined,
    upgrade: Upgrader | undefined,
    fallback?: (request: Request) => Response | Promise<Response>,
  ): Promise<Response | undefined>;
}

/**
 * Everything `Bun.serve` needs to serve `io` (Bun's native WebSocket, an idle timeout that lets
 * long polls wait): spread it into the options.
 *
 * @example
 * ```ts ignore
 * import { bunOptions, Server } from "./server.ts";
 * const io = new Server();
 * Bun.serve({ port: 3000, ...bunOptions(io, { fallback: () => new Response("my app") }) });
 * ```
 */
export function bunOptions(
  io: BunServable,
  options: { fallback?: (request: Request) => Response | Promise<Response> } = {},
): BunServeOptions {
  const fallback = options.fallback;
  return bunServeOptions(
    (request, info, upgrade) => io._handle(request, info, upgrade, fallback),
    io.engine.options.maxHttpBufferSize,
    io.engine.options.maxBufferedBytes,
  );
}
