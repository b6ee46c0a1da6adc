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
   * Native topics (Bun): subscribe this socket to `topic`. With `unsubscribe` and `publish`, room
   * broadcasts are sent once by the runtime instead of once per socket.
   */
  subscribe?(topic: string): void;
  /** Native topics: unsubscribe this socket from `topic`. */
  unsubscribe?(topic: string): void;
  /**
   * Native topics: send a frame to every socket subscribed to `topic` (this one included);
   * `compress` as in {@linkcode WebSocketLike.send}.
   */
  publish?(topic: string, data: string | Uint8Array, compress?: boolean): void;
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
