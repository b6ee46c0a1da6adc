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
      wss.handleUpgrade(req as IncomingMessage, socket as Duplex, head as Buffer, (ws) => bindWs(ws, handlers));
    },
    close() {
      wss.close();
    },
  };
}

/** The parts of `ws`'s WebSocket that writing a frame ourselves relies on (stable across ws 8). */
interface WsInternals {
  _sender?: { _state?: number };
  _socket?: { write(chunk: Uint8Array): boolean };
  _extensions?: Record<string, unknown>;
}

let lastText = "";
let lastTextFrame: Buffer | undefined;

/**
 * An unmasked, final text frame holding `text`. The last one is kept: a broadcast sends the same
 * string to every socket, and then it is encoded and framed once instead of once per socket.
 */
function textFrame(text: string): Buffer {
  if (lastTextFrame !== undefined && text === lastText) return lastTextFrame;
  const length = Buffer.byteLength(text);
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81;
  if (head === 2) frame[1] = length;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, head, "utf8");
  lastText = text;
  lastTextFrame = frame;
  return frame;
}

/** `ws.send`'s options for a message sent with `compress: false`. */
const UNCOMPRESSED = { compress: false };

function sendText(ws: WsSocket, text: string, compress: boolean | undefined): void {
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  // Written straight to the TCP socket only when ws would do the same: open, nothing queued in its
  // sender (state 0), no permessage-deflate. Otherwise (or with another ws) through ws.send.
  if (
    ws.readyState === 1 && socket !== undefined && internals._sender?._state === 0 &&
    internals._extensions !== undefined && internals._extensions["permessage-deflate"] === undefined
  ) {
    socket.write(textFrame(text));
  } else if (compress === false) ws.send(text, UNCOMPRESSED);
  else ws.send(text);
}

/**
 * `ws`'s socket as the engine sees it, and the receiver of its events: one object per connection,
 * the listeners are shared functions that find it on the socket (no closures per connection).
 */
class NodeWebSocket implements WebSocketLike {
  readonly #ws: WsSocket;
  readonly handlers: WebSocketHandlers;
  closed = false;
  constructor(ws: WsSocket, handlers: WebSocketHandlers) {
    this.#ws = ws;
    this.handlers = handlers;
  }
  send(data: string | Uint8Array, compress?: boolean): void {
    if (typeof data === "string") sendText(this.#ws, data, compress);
    else if (compress === false) this.#ws.send(data, UNCOMPRESSED);
    else this.#ws.send(data);
  }
  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
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

function bindWs(ws: WsSocket, handlers: WebSocketHandlers): void {
  const adapter = new NodeWebSocket(ws, handlers);
  (ws as BoundWs)[ADAPTER] = adapter;
  ws.on("message", onWsMessage);
  ws.on("close", onWsClose);
  ws.on("error", onWsError);
  handlers.onOpen(adapter);
}
