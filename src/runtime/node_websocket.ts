/**
 * WebSockets on Node's HTTP server through the `ws` package (the WebSocket server the Node
 * ecosystem, socket.io included, trusts: fast, RFC-complete, permessage-deflate). Loaded by
 * `node_http.ts` with a dynamic import when a server is attached, so a polling-only server and the
 * other runtimes never load `ws`.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket as WsSocket, WebSocketServer } from "ws";
import type { WebSocketHandlers, WebSocketLike } from "../engine/websocket_like.ts";
import { nodeHeaders } from "./node_exchange.ts";

// Node's `process.nextTick`, read from the global rather than imported: bundles for other platforms
// (Workers) that reach this module through `node_http.ts`'s dynamic import need not resolve
// `node:process` (this code only runs on Node and its compatibility layers, where it is there).
const nextTick = (fn: () => void): void => (globalThis as unknown as { process: NodeProcess }).process.nextTick(fn);
interface NodeProcess {
  nextTick(fn: () => void): void;
}

/** Options of {@linkcode createNodeWebSockets}. */
export interface NodeWebSocketOptions {
  /** Largest frame accepted, in bytes (the engine's `maxHttpBufferSize`). */
  maxPayload?: number;
  /**
   * Whether to offer permessage-deflate (default false), or `ws`'s options for it (`threshold`,
   * `zlibDeflateOptions`...), as the engine's `perMessageDeflate` option gives them.
   */
  perMessageDeflate?: boolean | Record<string, unknown>;
}

/** Upgrades of one attached server. */
export interface NodeWebSockets {
  /**
   * Completes the handshake of `req` on `socket` (with `headers` added to the 101) and binds the
   * WebSocket to `handlers`.
   */
  upgrade(req: unknown, socket: unknown, head: Uint8Array, handlers: WebSocketHandlers, headers?: Headers): void;
  /** Stops the `ws` server (the sockets already open stay open). */
  close(): void;
}

/**
 * A `ws` server without its own HTTP server, for the upgrades of an attached one.
 *
 * @example
 * ```ts
 * import { createNodeWebSockets } from "./node_websocket.ts";
 * const websockets = createNodeWebSockets({ maxPayload: 1e6 });
 * websockets.close();
 * ```
 */
export function createNodeWebSockets(options: NodeWebSocketOptions = {}): NodeWebSockets {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: (options.maxPayload ?? 1e6) + 64,
    perMessageDeflate: options.perMessageDeflate ?? false,
  });
  // The engine's headers for each handshake's 101, added when ws writes its own.
  const extraHeaders = new WeakMap<object, Headers>();
  wss.on("headers", (lines: string[], req: IncomingMessage) => {
    const headers = extraHeaders.get(req);
    if (headers === undefined) return;
    extraHeaders.delete(req);
    for (const [name, value] of Object.entries(nodeHeaders(headers))) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
  });
  return {
    upgrade(req, socket, head, handlers, headers) {
      if (headers !== undefined && !headers.keys().next().done) extraHeaders.set(req as object, headers);
      wss.handleUpgrade(
        req as IncomingMessage,
        socket as Duplex,
        head as Buffer,
        (ws) => bindWs(ws, socket as Duplex, handlers),
      );
    },
    close() {
      wss.close();
    },
  };
}

/** `ws.send`'s options for a message sent with `compress: false`. */
const UNCOMPRESSED = { compress: false };
/** `ws.send`'s options for a text message given as its UTF-8 bytes, compressed or not. */
const TEXT = { binary: false };
const TEXT_UNCOMPRESSED = { binary: false, compress: false };

let lastText = "";
let lastTextBytes: Buffer | undefined;

/**
 * Sends a text message, encoding it to UTF-8 once per distinct text: a broadcast hands the same
 * text to every socket, whose frames then all carry the same bytes (`ws` frames bytes given with
 * `binary: false` as text, without encoding them again).
 *
 * Measured with the bench's broadcast to 1,000 clients on Node (4 in flight, `--servers=ours-node
 * --scenarios=broadcast`, rounds alternating with the other variants on the shared 2-core
 * machine): 11.4-13.3 µs of server CPU per delivery (median 11.6) against 11.9-16.2 (median 13.0)
 * with `ws.send(text)` encoding it for each socket. What this replaced, the same frame written
 * straight to the TCP socket through `ws`'s private fields (`_socket`, `_sender._state`,
 * `_extensions`), measured 9.7-12.5 (median 11.3): within the noise of this one, so it went; and
 * so did the engine's module-wide cache of the `"4" + data` string it fed (the same figures with
 * and without it).
 */
function sendTextEncodedOnce(ws: WsSocket, text: string, compress: boolean | undefined): void {
  if (lastTextBytes === undefined || text !== lastText) {
    lastTextBytes = Buffer.from(text);
    lastText = text;
  }
  ws.send(lastTextBytes, compress === false ? TEXT_UNCOMPRESSED : TEXT);
}

/** The WebSockets whose TCP socket is corked in this turn of the event loop. */
let corked: NodeWebSocket[] = [];

/** Uncorks every socket corked in this turn: each writes its frames of the turn at once. */
function uncorkAll(): void {
  const list = corked;
  corked = [];
  for (const adapter of list) adapter.uncork();
}

/**
 * `ws`'s socket as the engine sees it, and the receiver of its events: one object per connection,
 * the listeners are shared functions that find it on the socket (no closures per connection).
 *
 * Frames sent in one turn of the event loop (a broadcast burst, a reply and a broadcast, a flushed
 * buffer) leave in one write: the first send of a turn corks the TCP socket, and `process.nextTick`
 * uncorks it at the end of the turn (after the microtasks), so a lone message is not delayed.
 * `ws` corks and uncorks around each frame itself; Node counts the corks, so its frames stay in
 * order in the same buffer. Not with permessage-deflate negotiated: `ws` then queues frames while
 * it compresses, and that path stays as it is.
 */
class NodeWebSocket implements WebSocketLike {
  readonly #ws: WsSocket;
  readonly #socket: Duplex;
  readonly #corks: boolean;
  /** The socket's queued bytes when it was corked, or -1 when it is not corked. */
  #corkBase = -1;
  readonly handlers: WebSocketHandlers;
  closed = false;
  constructor(ws: WsSocket, socket: Duplex, handlers: WebSocketHandlers) {
    this.#ws = ws;
    this.#socket = socket;
    this.#corks = ws.extensions === "";
    this.handlers = handlers;
  }
  send(data: string | Uint8Array, compress?: boolean): void {
    if (this.#corks && this.#corkBase < 0) this.#cork();
    if (typeof data === "string") sendTextEncodedOnce(this.#ws, data, compress);
    else if (compress === false) this.#ws.send(data, UNCOMPRESSED);
    else this.#ws.send(data);
  }
  #cork(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    this.#corkBase = socket.writableLength;
    socket.cork();
    if (corked.push(this) === 1) nextTick(uncorkAll);
  }
  /** Writes what was sent in this turn (called at the end of the turn). */
  uncork(): void {
    this.#corkBase = -1;
    this.#socket.uncork();
  }
  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }
  /**
   * `ws`'s queued bytes, less those sent in this turn while the socket is corked: they have not
   * waited for the socket (the engine's volatile packets and its `maxBufferedBytes` see what they
   * would without the cork).
   */
  get bufferedAmount(): number {
    const amount = this.#ws.bufferedAmount;
    if (this.#corkBase < 0) return amount;
    return amount - (this.#socket.writableLength - this.#corkBase);
  }
}

const ADAPTER = Symbol("sio.nodeWebSocket");
type BoundWs = WsSocket & { [ADAPTER]: NodeWebSocket };

function onWsMessage(this: WsSocket, data: RawData, isBinary: boolean): void {
  const handlers = (this as BoundWs)[ADAPTER].handlers;
  if (!isBinary) {
    handlers.onMessage(data.toString());
    return;
  }
  if (Array.isArray(data)) {
    const all = Buffer.concat(data);
    handlers.onMessage(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
  } else if (data instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(data));
  else handlers.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function onWsClose(this: WsSocket, code: number, reason: Buffer): void {
  const adapter = (this as BoundWs)[ADAPTER];
  if (adapter.closed) return;
  adapter.closed = true;
  adapter.handlers.onClose(code, reason.toString());
}

function onWsError(this: WsSocket): void {
  const adapter = (this as BoundWs)[ADAPTER];
  if (adapter.closed) return;
  adapter.closed = true;
  adapter.handlers.onClose(1006, "error");
}

function bindWs(ws: WsSocket, socket: Duplex, handlers: WebSocketHandlers): void {
  const adapter = new NodeWebSocket(ws, socket, handlers);
  (ws as BoundWs)[ADAPTER] = adapter;
  ws.on("message", onWsMessage);
  ws.on("close", onWsClose);
  ws.on("error", onWsError);
  handlers.onOpen(adapter);
}
