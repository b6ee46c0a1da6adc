/**
 * Mounts a Socket.IO server in a Hono app: requests under the server's path (polling and WebSocket
 * upgrades) go to it, every other request goes on to the app's routes, on one port.
 *
 * - Deno: `Deno.serve(app.fetch)`.
 * - Bun: `export default { fetch: app.fetch, websocket: bunWebSocketHandler, idleTimeout: 0 }`
 *   (`idleTimeout` above the ping interval, so long polls are not cut).
 * - Node: `@hono/node-server`'s `serve({ fetch: app.fetch })`, then `io.attach(server)` (with the
 *   Node entry point imported) for Socket.IO's requests and WebSocket upgrades.
 * - Workers: inside the Durable Object that hosts the server.
 *
 * @module
 */

import type { ConnInfo, Upgrader } from "../engine/websocket_like.ts";
import { getDefaultUpgrader } from "../runtime/default_upgrader.ts";
import type { BunServer } from "../runtime/bun.ts";

/**
 * The parts of Hono's `Context` the middleware reads (declared here so the package does not depend
 * on hono's types; Hono's `Context` satisfies it).
 */
export interface HonoContextLike {
  /** The request. */
  req: { url: string; raw: Request };
  /** The runtime's bindings: Bun's server, Deno's handler info, Node's incoming message. */
  env: unknown;
}

/** A Hono middleware, structurally (assignable wherever Hono takes a `MiddlewareHandler`). */
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void>;

/** What the middleware needs of an io server (or a bare engine wrapper). */
export interface MountableServer {
  /** The engine, for its path and request handling. */
  engine: {
    matches(pathname: string): boolean;
    handleRequest(request: Request, info?: ConnInfo, upgrade?: Upgrader): Promise<Response | undefined>;
  };
  /** Whether `pathname` is one of the client bundle's files (`serveClient`). */
  _servesClient?(pathname: string): boolean;
  /** The client bundle's response. */
  _serveClient?(request: Request, pathname?: string): Promise<Response> | undefined;
}

/** Options of {@linkcode socketIo}. */
export interface SocketIoMiddlewareOptions {
  /** Chooses the upgrader for a request (default: Bun's server from `c.env`, else the runtime's). */
  upgrade?: (c: HonoContextLike) => Upgrader | undefined;
}

function isBunServer(env: unknown): env is BunServer {
  return typeof (env as { upgrade?: unknown } | undefined)?.upgrade === "function";
}

function connInfo(c: HonoContextLike): ConnInfo {
  const env = c.env as {
    remoteAddr?: { hostname?: string; port?: number };
    requestIP?: BunServer["requestIP"];
    incoming?: { socket?: { remoteAddress?: string; remotePort?: number } };
  } | undefined;
  if (env?.remoteAddr) return { remoteAddress: env.remoteAddr.hostname, remotePort: env.remoteAddr.port };
  if (typeof env?.requestIP === "function") {
    const ip = env.requestIP(c.req.raw);
    return { remoteAddress: ip?.address, remotePort: ip?.port };
  }
  const socket = env?.incoming?.socket;
  if (socket) return { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
  return {};
}

function defaultUpgrade(c: HonoContextLike): Upgrader | undefined {
  const env = c.env as unknown;
  if (isBunServer(env)) {
    return (request, handlers) =>
      env.upgrade(request, { data: handlers }) ? undefined : new Response("Upgrade failed", { status: 400 });
  }
  return getDefaultUpgrader();
}

/**
 * A Hono middleware serving `io` under its path.
 *
 * @example
 * ```ts ignore
 * import { Hono } from "hono";
 * import { Server } from "../../server.ts";
 * import { socketIo } from "./mod.ts";
 * const io = new Server();
 * const app = new Hono();
 * app.use(socketIo(io));
 * app.get("/", (c) => c.text("hello"));
 * Deno.serve(app.fetch);
 * ```
 */
export function socketIo(io: MountableServer, options: SocketIoMiddlewareOptions = {}): HonoMiddleware {
  const pick = options.upgrade ?? defaultUpgrade;
  return async (c, next) => {
    const pathname = new URL(c.req.url).pathname;
    if (!io.engine.matches(pathname)) {
      // The client bundle (serveClient) lives under the same path.
      const bundle = io._servesClient?.(pathname) ? io._serveClient?.(c.req.raw, pathname) : undefined;
      return bundle ? await bundle : next();
    }
    const response = await io.engine.handleRequest(c.req.raw, connInfo(c), pick(c));
    // Bun and Node answer an upgrade themselves; Hono still wants a Response.
    return response ?? new Response(null);
  };
}
