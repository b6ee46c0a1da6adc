/**
 * Node.js: requests from `node:http` (or `https`) are bridged to `Request`/`Response`, and WebSocket
 * upgrades go through the `ws` package's `handleUpgrade`. We use `ws` because it is the WebSocket
 * server the Node ecosystem (socket.io included) trusts: fast, RFC-complete, permessage-deflate.
 *
 * @module
 */

import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { type RawData, type WebSocket as WsSocket, WebSocketServer } from "ws";
import type { ConnInfo, Upgrader, WebSocketHandlers, WebSocketLike } from "../engine/websocket_like.ts";
import { setAttacher } from "./attacher.ts";
import { responseText } from "../engine/text_response.ts";
import { NodeRequest, requestHeaderPairs, requestUrl } from "./node_request.ts";
import { createDebug } from "../util/debug.ts";
import { EngineErrorCode, errorResponse } from "../engine/errors.ts";

const debug = createDebug("sio:node");

/** A handler in the engine's shape. */
export type EngineHandle = (
  request: Request,
  info: ConnInfo,
  upgrade: Upgrader,
) => Promise<Response | undefined> | Response | undefined;

/** Options of {@linkcode attachToNodeServer}. */
export interface NodeAttachOptions {
  /** Which paths are ours (requests and upgrades for other paths are left to other listeners). */
  matches: (pathname: string) => boolean;
  /** Largest WebSocket frame `ws` accepts. */
  maxPayload?: number;
  /** Whether to offer permessage-deflate (default false). */
  perMessageDeflate?: boolean;
}

/**
 * Converts a Node request to a `Request` whose signal aborts when the client goes away first.
 *
 * @example
 * ```ts ignore
 * const request = toWebRequest(req, res);
 * ```
 */
export function toWebRequest(req: IncomingMessage, res?: ServerResponse): Request {
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers: requestHeaderPairs(req) };
  if (res !== undefined) {
    // Upgrades have no response to watch: their requests go without a signal.
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    init.signal = controller.signal;
  }
  if (method !== "GET" && method !== "HEAD") {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(requestUrl(req), init);
}

/**
 * Writes a `Response` to a Node response.
 *
 * @example
 * ```ts ignore
 * await writeWebResponse(res, new Response("ok"));
 * ```
 */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  // The engine's own text answers (polling payloads, errors): written as they are, without reading
  // the body back through a web stream.
  const text = responseText(response);
  if (text !== undefined) {
    headers["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(response.status, headers);
    res.end(text);
    return;
  }
  if (response.body === null) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const body = new Uint8Array(await response.arrayBuffer());
  headers["content-length"] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}

function connInfo(req: IncomingMessage): ConnInfo {
  return { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort };
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

function sendText(ws: WsSocket, text: string): void {
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  // Written straight to the TCP socket only when ws would do the same: open, nothing queued in its
  // sender (state 0), no permessage-deflate. Otherwise (or with another ws) through ws.send.
  if (
    ws.readyState === 1 && socket !== undefined && internals._sender?._state === 0 &&
    internals._extensions !== undefined && internals._extensions["permessage-deflate"] === undefined
  ) {
    socket.write(textFrame(text));
  } else ws.send(text);
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
  send(data: string | Uint8Array): void {
    if (typeof data === "string") sendText(this.#ws, data);
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

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function writeRawResponse(socket: Duplex, response: Response, body: string): void {
  const reason = response.status === 403 ? "Forbidden" : response.status === 404 ? "Not Found" : "Bad Request";
  let head = `HTTP/1.1 ${response.status} ${reason}\r\nConnection: close\r\n`;
  response.headers.forEach((value, key) => {
    head += `${key}: ${value}\r\n`;
  });
  head += `Content-Length: ${new TextEncoder().encode(body).byteLength}\r\n\r\n`;
  socket.end(head + body);
}

/**
 * The sockets of upgrade requests (WebSockets once upgraded), per server: they leave the HTTP
 * server's bookkeeping, so `closeAllConnections()` does not reach them and a client that stopped
 * reading kept `close()` waiting for ws's 30 s closing handshake.
 */
const upgrades = new WeakMap<HttpServer, Set<Duplex>>();

function trackUpgrade(server: HttpServer, socket: Duplex): void {
  let set = upgrades.get(server);
  if (set === undefined) upgrades.set(server, set = new Set());
  set.add(socket);
  socket.once("close", () => set.delete(socket));
}

function refuseUpgrade(request: Request): Response {
  return errorResponse(request, EngineErrorCode.BAD_REQUEST, new Headers());
}

/** Calls the handler; a synchronous throw becomes a rejection like an asynchronous one. */
function answer(
  handle: EngineHandle,
  request: Request,
  info: ConnInfo,
  upgrade: Upgrader,
): Promise<Response | undefined> {
  try {
    return Promise.resolve(handle(request, info, upgrade));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The request's Host header (or target) does not make a URL: it never reaches the handler. */
function refuseBadUrl(url: string, req: IncomingMessage): void {
  debug("refused %s %s: the Host header %o does not make a URL (%s)", req.method, req.url, req.headers.host, url);
}

/**
 * Serves an engine-shaped handler on a Node HTTP server: requests for our paths go to `handle`
 * (others are left to the server's other listeners), and so do WebSocket upgrades.
 *
 * @example
 * ```ts ignore
 * const server = createServer();
 * attachToNodeServer(server, (req, info, up) => engine.handleRequest(req, info, up), {
 *   matches: (p) => engine.matches(p),
 * });
 * server.listen(3000);
 * ```
 */
export function attachToNodeServer(
  server: HttpServer,
  handle: EngineHandle,
  options: NodeAttachOptions,
): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: (options.maxPayload ?? 1e6) + 64,
    perMessageDeflate: options.perMessageDeflate ?? false,
  });

  // Like socket.io's attach: the listeners already there only see requests for other paths.
  const others = server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners("request");
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const pathname = (req.url ?? "/").split("?")[0];
    if (!options.matches(pathname)) {
      for (const listener of others) listener.call(server, req, res);
      if (others.length === 0) {
        res.writeHead(404);
        res.end();
      }
      return;
    }
    const request = new NodeRequest(req, res).asRequest();
    if (!URL.canParse(request.url)) {
      refuseBadUrl(request.url, req);
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("Bad Request");
      return;
    }
    // A WebSocket handshake that did not come as an upgrade (no `Connection: Upgrade`): the
    // protocol's 400, as Deno answers (an upgrader that answers nothing made it a 500).
    answer(handle, request, connInfo(req), refuseUpgrade)
      .then((response) => writeWebResponse(res, response ?? new Response(null, { status: 500 })))
      .catch((err) => {
        console.error("[socket.io] error answering a request:", err);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    trackUpgrade(server, socket);
    const pathname = (req.url ?? "/").split("?")[0];
    if (!options.matches(pathname)) {
      // Another listener's, or nobody's: then it gets 404, as a request would (it used to stay
      // open, unanswered, and kept the server from closing).
      if (server.listenerCount("upgrade") === 1) {
        socket.on("error", destroyOnError);
        writeRawResponse(socket, new Response(null, { status: 404 }), "Not Found");
      }
      return;
    }
    // A function without closure: a closure here would share this scope's context and keep the
    // upgrade request (headers, raw headers, the web Request) alive as long as the connection.
    socket.on("error", destroyOnError);
    const request = new NodeRequest(req).asRequest();
    if (!URL.canParse(request.url)) {
      refuseBadUrl(request.url, req);
      writeRawResponse(socket, new Response(null, { status: 400 }), "Bad Request");
      return;
    }
    const upgrade: Upgrader = (_request, handlers) => {
      wss.handleUpgrade(req, socket, head, (ws) => bindWs(ws, handlers));
      return undefined;
    };
    answer(handle, request, connInfo(req), upgrade)
      .then(async (response) => {
        if (response !== undefined) writeRawResponse(socket, response, responseText(response) ?? await response.text());
      })
      .catch((err) => {
        console.error("[socket.io] error answering an upgrade request:", err);
        socket.destroy();
      });
  };

  server.on("request", onRequest);
  server.on("upgrade", onUpgrade);
  return () => {
    server.off("request", onRequest);
    for (const listener of others) server.on("request", listener);
    server.off("upgrade", onUpgrade);
    wss.close();
  };
}

/** What {@linkcode attach} needs of an io server. */
export interface AttachableServer {
  /** Its engine. */
  engine: {
    matches(pathname: string): boolean;
    handleRequest(request: Request, info?: ConnInfo, upgrade?: Upgrader): Promise<Response | undefined>;
    options: { maxHttpBufferSize: number };
  };
  /** Closes every session. */
  close(): unknown;
  /** Registers what `close()` stops after the sessions. */
  _onClose?(stop: () => unknown): void;
  /** Whether `pathname` is one of the client bundle's files (`serveClient`). */
  _servesClient?(pathname: string): boolean;
  /** The client bundle's response, when `request` asks for one (`serveClient`). */
  _serveClient?(request: Request, pathname?: string): Promise<Response> | undefined;
}

const detachers = new WeakMap<object, () => void>();

/**
 * Serves `io` on an existing `node:http` or `node:https` server (other paths stay with the server's
 * other listeners), as socket.io's `io.attach(httpServer)`.
 *
 * @example
 * ```ts ignore
 * import { createServer } from "node:http";
 * const httpServer = createServer();
 * attach(io, httpServer);
 * httpServer.listen(3000);
 * ```
 */
export function attach<T extends HttpServer>(io: AttachableServer, server: T): T {
  const engine = io.engine;
  const detach = attachToNodeServer(
    server,
    (req, info, up) => io._serveClient?.(req) ?? engine.handleRequest(req, info, up),
    {
      // The engine path, and the client bundle's files (serveClient).
      matches: (pathname) => engine.matches(pathname) || io._servesClient?.(pathname) === true,
      maxPayload: engine.options.maxHttpBufferSize,
    },
  );
  detachers.set(io, detach);
  server.once("close", () => {
    detach();
    detachers.delete(io);
  });
  return server;
}

/**
 * Stops a Node HTTP server gracefully: no new connections, idle ones closed, requests in flight
 * (the last poll answers) finish; whatever is left after `graceMs` is cut.
 *
 * @example
 * ```ts ignore
 * await stopNodeServer(httpServer);
 * ```
 */
export function stopNodeServer(server: HttpServer, graceMs = 1000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      for (const socket of upgrades.get(server) ?? []) socket.destroy();
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Starts a `node:http` server on `port` serving `io` (404 for other paths); resolves once it
 * listens. `io.close()` does not stop it: call `server.close()`.
 *
 * @example
 * ```ts ignore
 * const httpServer = await listen(io, 3000);
 * ```
 */
export async function listen(io: AttachableServer, port: number, hostname?: string): Promise<HttpServer> {
  const { createServer } = await import("node:http");
  const server = attach(io, createServer());
  io._onClose?.(() => stopNodeServer(server));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

setAttacher(
  (io, target) => attach(io as AttachableServer, target as HttpServer),
  (io, port, hostname) => listen(io as AttachableServer, port, hostname),
);
