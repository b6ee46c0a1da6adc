/**
 * What the engine needs of a runtime's WebSocket: a shim adapts its runtime's socket to
 * {@linkcode WebSocketLike} and forwards its events to the {@linkcode WebSocketHandlers} the engine
 * gives it; an {@linkcode Upgrader} turns a validated upgrade request into such a socket.
 *
 * @module
 */

import type { EngineRequest, EngineResponse } from "./exchange.ts";

/** What the engine needs of a server-side WebSocket. */
export interface WebSocketLike {
  /**
   * Sends one text or binary frame. `compress: false` asks for it uncompressed
   * (`socket.compress(false)`); otherwise permessage-deflate, where it was negotiated, compresses
   * it as the runtime's server does (from the `perMessageDeflate` threshold).
   */
  send(data: string | Uint8Array, compress?: boolean): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet sent, where the runtime tells (for back-pressure). */
  readonly bufferedAmount?: number;
  /**
   * Native fan-out, where the runtime offers it (Bun's topics), with `unsubscribe` and
   * `publisher`: subscribes this socket to `topic`. The engine then sends a broadcast once, through
   * the publisher, instead of once per socket (see `Engine.publish`).
   */
  subscribe?(topic: string): void;
  /** Native fan-out: unsubscribes this socket from `topic`. */
  unsubscribe?(topic: string): void;
  /** Native fan-out: the runtime's publisher for this socket's topics (one shared by its sockets). */
  readonly publisher?: TopicPublisher;
  /**
   * Native fan-out from this socket (Bun's `ws.publish`): sends `frame` to every socket of its
   * publisher subscribed to `topic` except this one; `compress` as in {@linkcode WebSocketLike.send}.
   */
  publishToOthers?(topic: string, frame: string | Uint8Array, compress?: boolean): void;
}

/**
 * A runtime's native fan-out (Bun's `server.publish`): one frame in, the runtime sends it to
 * every socket subscribed to the topic.
 *
 * @example
 * ```ts
 * import type { TopicPublisher } from "./websocket_like.ts";
 * declare const server: { publish(topic: string, data: string | Uint8Array, compress?: boolean): number };
 * const publisher: TopicPublisher = { publish: (topic, frame, compress) => void server.publish(topic, frame, compress) };
 * ```
 */
export interface TopicPublisher {
  /**
   * Sends `frame` to every socket subscribed to `topic`; `compress` as in
   * {@linkcode WebSocketLike.send}.
   */
  publish(topic: string, frame: string | Uint8Array, compress?: boolean): void;
}

/** The callbacks a shim calls for one accepted WebSocket. */
export interface WebSocketHandlers {
  /** The connection is open: frames may be sent from now on. */
  onOpen(socket: WebSocketLike): void;
  /** A frame arrived: text as a string, binary as bytes. */
  onMessage(data: string | Uint8Array): void;
  /** The connection closed (for any reason, errors included). */
  onClose(code: number, reason: string): void;
}

/**
 * Turns a validated upgrade request into a WebSocket: returns the answer that completes the
 * handshake (Deno's and Workers' 101 `Response`), or `undefined` where the runtime answers by itself
 * (Bun, Node). `headers` are the engine's for that answer (CORS, the header hooks and events,
 * engine middlewares): put on the 101 where the runtime lets it.
 */
export type Upgrader = (
  request: EngineRequest,
  handlers: WebSocketHandlers,
  headers?: Headers,
) => EngineResponse | undefined | Promise<EngineResponse | undefined>;
