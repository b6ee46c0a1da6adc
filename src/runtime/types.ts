/**
 * The boundary between the web-standards core and the runtime shims.
 *
 * The engine never touches a runtime's WebSocket type: a shim adapts it to {@linkcode WebSocketLike}
 * and forwards its events to the {@linkcode WebSocketHandlers} the engine gives it.
 *
 * @module
 */

/** What the engine needs of a server-side WebSocket. */
export interface WebSocketLike {
  /** Sends one text or binary frame. */
  send(data: string | Uint8Array): void;
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
  /** Native topics: send a frame to every socket subscribed to `topic` (this one included). */
  publish?(topic: string, data: string | Uint8Array): void;
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
 * Turns a validated upgrade request into a WebSocket: returns the response that completes the
 * handshake (Deno, Workers), or `undefined` where the runtime answers by itself (Bun, Node).
 */
export type Upgrader = (
  request: Request,
  handlers: WebSocketHandlers,
) => Response | undefined | Promise<Response | undefined>;

/** What a shim knows of the connection beyond the `Request`. */
export interface ConnInfo {
  /** The peer's address, where the runtime tells. */
  remoteAddress?: string;
  /** The peer's port, where the runtime tells. */
  remotePort?: number;
}

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
 * ```ts ignore
 * const { socket, response } = Deno.upgradeWebSocket(request);
 * bindStandardWebSocket(socket, handlers);
 * return response;
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
