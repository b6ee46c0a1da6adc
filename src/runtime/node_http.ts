/**
 * Serving on a `node:http` or `node:https` server (Node, and Bun's or Deno's `node:http`): its
 * `request` and `upgrade` events go to a {@linkcode Handle} (an io server's `handle`), whose
 * fallback hands the requests that are not ours to the server's other listeners. WebSocket upgrades
 * go through `ws`, loaded with a dynamic import when the server is attached (the first upgrade
 * waits for it, so it can never race the import).
 *
 * No `node:` import: the Node objects are described by the parts used.
 *
 * @module
 */

import { EngineErrorCode, errorResponse } from "../engine/errors.ts";
import {
  type EngineResponse,
  type Fallback,
  type Handle,
  type HandleOptions,
  notFoundResponse,
} from "../engine/exchange.ts";
import type { Upgrader } from "../engine/websocket_like.ts";
import { utf8Length } from "../util/utf8_length.ts";
import {
  NodeEngineRequest,
  type NodeIncomingMessage,
  type NodeListener as Listener,
  type NodeServerResponse,
  writeNodeResponse,
} from "./node_exchange.ts";
import type { NodeWebSockets } from "./node_websocket.ts";

/** The parts of a `node:http` / `node:https` server used here (Node's own type satisfies it). */
export interface NodeHttpServer {
  /** Adds a listener. */
  on(event: string, listener: Listener): unknown;
  /** Adds a one-time listener. */
  once(event: string, listener: Listener): unknown;
  /** Removes a listener. */
  off(event: string, listener: Listener): unknown;
  /** The listeners of `event`. */
  // deno-lint-ignore ban-types
  listeners(event: string): Function[];
  /** How many listeners `event` has. */
  listenerCount(event: string): number;
  /** Removes every listener of `event`. */
  removeAllListeners(event: string): unknown;
  /** Starts listening. */
  listen(port?: number, hostname?: string, listeningListener?: () => void): unknown;
  /** Where it listens. */
  address(): { port: number; address: string; family: string } | string | null;
  /** Stops accepting connections; `callback` runs once every connection closed. */
  close(callback?: (err?: Error) => void): unknown;
  /** Closes the connections that carry no request. */
  closeIdleConnections?(): void;
  /** Closes every connection. */
  closeAllConnections?(): void;
}

/** The parts of the socket of an upgrade request used here. */
interface UpgradeSocket {
  once(event: string, listener: Listener): unknown;
  on(event: string, listener: Listener): unknown;
  end(data: string): unknown;
  destroy(): unknown;
}

/** Options of {@linkcode attachToNodeServer}. */
export interface NodeAttachOptions {
  /** Largest WebSocket frame accepted, in bytes (the engine's `maxHttpBufferSize`; default 1e6). */
  maxPayload?: number;
  /**
   * Whether to offer permessage-deflate (default false), or the `ws` package's options for it (the
   * engine's `perMessageDeflate` option, with its `threshold`).
   */
  perMessageDeflate?: boolean | Record<string, unknown>;
}

/**
 * Serves `handle` on a Node HTTP server, as socket.io's `io.attach`: its `request` listeners (the
 * app's) only see the requests `handle` leaves to its fallback; upgrades for other paths are left
 * to the other `upgrade` listeners (404 when there is none). Returns the function that detaches
 * (and gives the app's listeners their requests back).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { attachToNodeServer } from "./node_http.ts";
 * import { Engine } from "../engine/server.ts";
 * const engine = new Engine({ path: "/engine.io" });
 * const server = createServer();
 * const detach = attachToNodeServer(server, (request, options) => engine.handle(request, options));
 * detach();
 * ```
 */
export function attachToNodeServer(
  server: NodeHttpServer,
  handle: Handle,
  options: NodeAttachOptions = {},
): () => void {
  const websockets: Promise<NodeWebSockets> = import("./node_websocket.ts").then((module) =>
    module.createNodeWebSockets(options)
  );
  // A failure (no `ws` installed) is reported by the upgrades that wait for it.
  websockets.catch(() => {});

  // Like socket.io's attach: the listeners already there only see requests for other paths.
  const others = server.listeners("request") as Listener[];
  server.removeAllListeners("request");
  const toOthers: Fallback = (request) => {
    if (others.length === 0) return notFoundResponse();
    const { native, response } = request as NodeEngineRequest;
    for (const listener of others) listener.call(server, native, response);
    return undefined;
  };
  const requestOptions: HandleOptions = { upgrade: refuseUpgrade, fallback: toOthers };

  const onRequest = (req: NodeIncomingMessage, res: NodeServerResponse) => {
    callHandle(handle, new NodeEngineRequest(req, res), requestOptions)
      .then((response) => response && writeNodeResponse(res, response))
      .catch((err) => {
        console.error("[socket.io] error answering a request:", err);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };

  // Another listener's upgrade, or nobody's: then it gets 404, as a request would.
  const upgradeFallback: Fallback = () => server.listenerCount("upgrade") === 1 ? notFoundResponse() : undefined;

  const onUpgrade = (req: NodeIncomingMessage, socket: UpgradeSocket, head: Uint8Array) => {
    trackUpgrade(server, socket);
    // A function without closure: a closure here would share this scope's context and keep the
    // upgrade request alive as long as the connection.
    socket.on("error", destroyOnError);
    const upgrade: Upgrader = async (_request, handlers, headers) => {
      (await websockets).upgrade(req, socket, head, handlers, headers);
      return undefined;
    };
    callHandle(handle, new NodeEngineRequest(req), { upgrade, fallback: upgradeFallback })
      .then((response) => response && writeRawResponse(socket, response))
      .catch((err) => {
        console.error("[socket.io] error answering an upgrade request:", err);
        socket.destroy();
      });
  };

  server.on("request", onRequest);
  server.on("upgrade", onUpgrade);
  let detached = false;
  return () => {
    if (detached) return;
    detached = true;
    server.off("request", onRequest);
    for (const listener of others) server.on("request", listener);
    server.off("upgrade", onUpgrade);
    websockets.then((w) => w.close(), () => {});
  };
}

/** Calls the handler; a synchronous throw becomes a rejection like an asynchronous one. */
function callHandle(
  handle: Handle,
  request: NodeEngineRequest,
  options: HandleOptions,
): Promise<EngineResponse | undefined> {
  try {
    return handle(request, options);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A WebSocket handshake that came as a plain request (no `Connection: Upgrade`): the protocol's 400. */
const refuseUpgrade: Upgrader = () => errorResponse(EngineErrorCode.BAD_REQUEST, new Headers());

function destroyOnError(this: UpgradeSocket): void {
  this.destroy();
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  413: "Payload Too Large",
  500: "Internal Server Error",
};

/** Writes an answer on the raw socket of an upgrade request, and closes it. */
async function writeRawResponse(socket: UpgradeSocket, response: EngineResponse): Promise<void> {
  const body = typeof response.body === "string"
    ? response.body
    : response.body === null
    ? ""
    : await new Response(response.body as BodyInit).text();
  let head = `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? "Error"}\r\nConnection: close\r\n`;
  response.headers.forEach((value, key) => {
    head += `${key}: ${value}\r\n`;
  });
  head += `Content-Length: ${utf8Length(body)}\r\n\r\n`;
  socket.end(head + body);
}

/**
 * The sockets of upgrade requests (WebSockets once upgraded), per server: they leave the HTTP
 * server's bookkeeping, so `closeAllConnections()` does not reach them, and a client that stopped
 * reading would keep `close()` waiting for ws's 30 s closing handshake.
 */
const upgrades = new WeakMap<NodeHttpServer, Set<UpgradeSocket>>();

function trackUpgrade(server: NodeHttpServer, socket: UpgradeSocket): void {
  let set = upgrades.get(server);
  if (set === undefined) upgrades.set(server, set = new Set());
  set.add(socket);
  socket.once("close", () => set.delete(socket));
}

/**
 * Stops a Node HTTP server gracefully: no new connections, idle ones closed, requests in flight
 * (the last poll answers) finish; whatever is left after `graceMs` (WebSockets included) is cut.
 * Resolves once it stopped (at once if it was not listening), with the error `close` reported
 * (Node's `ERR_SERVER_NOT_RUNNING`), if any.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { stopNodeServer } from "./node_http.ts";
 * const server = createServer();
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * await stopNodeServer(server);
 * ```
 */
export function stopNodeServer(server: NodeHttpServer, graceMs = 1000): Promise<Error | undefined> {
  return new Promise<Error | undefined>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections?.();
      for (const socket of upgrades.get(server) ?? []) socket.destroy();
    }, graceMs);
    server.close((err) => {
      clearTimeout(timer);
      resolve(err ?? undefined);
    });
    server.closeIdleConnections?.();
  });
}
