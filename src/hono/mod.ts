/**
 * Mounts a Socket.IO server in a Hono app: requests under the server's path (polling and WebSocket
 * upgrades) go to it, every other request goes on to the app's routes, on one port.
 *
 * - Deno: `Deno.serve(app.fetch)`.
 * - Bun: `export default { fetch: app.fetch, websocket: bunWebSocketHandler, idleTimeout: 0 }`
 *   (`idleTimeout` above the ping interval, so long polls are not cut; `websocket:
 *   { ...bunWebSocketHandler, perMessageDeflate: true }` offers permessage-deflate, Bun's server
 *   deciding it there rather than the `Server` option).
 * - Node: `@hono/node-server`'s `serve({ fetch: app.fetch })`, then `io.attach(server)` for
 *   Socket.IO's requests and WebSocket upgrades.
 * - Workers: inside the Durable Object that hosts the server.
 *
 * @module
 */

import type { Upgrader } from "../engine/websocket_like.ts";
import type { ConnInfo } from "../engine/exchange.ts";
import { toWebResponse, WebEngineRequest } from "../engine/web_exchange.ts";
import type { AnyServer } from "../io/server.ts";
import { type BunServer, bunUpgrader } from "../runtime/bun.ts";

/**
 * The parts of Hono's `Context` the middleware reads (declared here so the package does not depend
 * on hono's types; Hono's `Context` satisfies it).
 */
export interface HonoContextLike {
  /** The request. */
  req: { url: string; raw: Request };
  /** The runtime's bindings: Bun's server, Deno's handler info, Node's incoming message. */
  env: unknown;
  /** The app's response, once its routes ran. */
  res: Response;
}

/** A Hono middleware, structurally (assignable wherever Hono takes a `MiddlewareHandler`). */
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void>;

/** Options of {@linkcode socketIo}. */
export interface SocketIoMiddlewareOptions {
  /** Chooses the upgrader for a request (default: Bun's server from `c.env`, else the server's). */
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
  return isBunServer(env) ? bunUpgrader(env) : undefined;
}

/**
 * A Hono middleware serving `io` under its path (and its client bundle); every other request goes
 * on to the app's routes.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { Server } from "../../server.ts";
 * import { socketIo } from "./mod.ts";
 * const io = new Server();
 * const app = new Hono();
 * app.use(socketIo(io));
 * app.get("/", (c) => c.text("hello"));
 * // Deno.serve(app.fetch);
 * ```
 */
export function socketIo(io: AnyServer, options: SocketIoMiddlewareOptions = {}): HonoMiddleware {
  const pick = options.upgrade ?? defaultUpgrade;
  return async (c, next) => {
    const response = await io.handle(new WebEngineRequest(c.req.raw, connInfo(c)), {
      upgrade: pick(c),
      fallback: async () => {
        await next();
        return c.res;
      },
    });
    // Bun and Node answer an upgrade themselves; Hono still wants a Response.
    return response === undefined ? new Response(null) : toWebResponse(response);
  };
}
