/**
 * A standard `WebSocket` (Deno's `upgradeWebSocket` socket, a Workers `WebSocketPair` end) bound
 * to the engine's {@linkcode WebSocketHandlers}.
 *
 * @module
 */

import type { WebSocketHandlers, WebSocketLike } from "../engine/websocket_like.ts";

/**
 * A standard `WebSocket` as the engine sees it, and the listener of its events (one object per
 * connection: methods on the prototype, no closures).
 */
class StandardWebSocket implements WebSocketLike {
  readonly #socket: WebSocket;
  readonly #handlers: WebSocketHandlers;
  #closed = false;
  constructor(socket: WebSocket, handlers: WebSocketHandlers) {
    this.#socket = socket;
    this.#handlers = handlers;
  }
  send(data: string | Uint8Array): void {
    this.#socket.send(data as string | Uint8Array<ArrayBuffer>);
  }
  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
  /** The socket's `open`, `message`, `close` and `error` events (an `EventListener` object). */
  handleEvent(event: Event): void {
    switch (event.type) {
      case "message": {
        const data = (event as MessageEvent).data;
        this.#handlers.onMessage(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
        return;
      }
      case "open":
        this.#socket.removeEventListener("open", this);
        this.#handlers.onOpen(this);
        return;
      case "close":
        if (this.#closed) return;
        this.#closed = true;
        this.#handlers.onClose((event as CloseEvent).code, (event as CloseEvent).reason);
        return;
      case "error":
        if (this.#closed) return;
        this.#closed = true;
        this.#handlers.onClose(1006, "error");
    }
  }
  /** Opens on the next microtask (for a socket that is open already). */
  openSoon(): void {
    queueMicrotask(() => this.#handlers.onOpen(this));
  }
}

/**
 * Adapts a standard `WebSocket` (Deno's `upgradeWebSocket` socket, a Workers `WebSocketPair` end,
 * a browser-style socket) to the engine's handlers.
 *
 * @example
 * ```ts
 * import { bindStandardWebSocket } from "./standard_websocket.ts";
 * import type { WebSocketHandlers } from "../engine/websocket_like.ts";
 * declare const handlers: WebSocketHandlers;
 * function upgrade(request: Request): Response {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   bindStandardWebSocket(socket, handlers);
 *   return response;
 * }
 * ```
 */
export function bindStandardWebSocket(socket: WebSocket, handlers: WebSocketHandlers): void {
  socket.binaryType = "arraybuffer";
  const like = new StandardWebSocket(socket, handlers);
  if (socket.readyState === 1) like.openSoon();
  else socket.addEventListener("open", like);
  socket.addEventListener("message", like);
  socket.addEventListener("close", like);
  socket.addEventListener("error", like);
}
