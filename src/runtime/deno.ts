/**
 * Deno: `Deno.upgradeWebSocket` gives a standard WebSocket and the response that completes the
 * handshake.
 *
 * @module
 */

import type { Upgrader } from "../engine/websocket_like.ts";
import type { ConnInfo, EngineResponse } from "../engine/exchange.ts";
import { bindStandardWebSocket } from "./standard_websocket.ts";
import { EngineErrorCode, errorResponse } from "../engine/errors.ts";

interface DenoNamespace {
  upgradeWebSocket(request: Request, options?: { idleTimeout?: number }): {
    socket: WebSocket;
    response: Response;
  };
}

declare const Deno: DenoNamespace;

/**
 * Upgrades a request to a WebSocket on Deno.
 *
 * @example
 * ```ts
 * import { denoUpgrader } from "./deno.ts";
 * import { Engine } from "../engine/server.ts";
 * import { fromWebRequest, toWebResponse } from "../engine/web_exchange.ts";
 * const engine = new Engine();
 * const handler = async (request: Request): Promise<Response> =>
 *   toWebResponse((await engine.handle(fromWebRequest(request), { upgrade: denoUpgrader }))!);
 * ```
 */
export const denoUpgrader: Upgrader = (request, handlers, headers): EngineResponse => {
  let upgraded: { socket: WebSocket; response: Response };
  try {
    // idleTimeout 0: the engine's own heartbeat decides when a peer is gone.
    upgraded = Deno.upgradeWebSocket(request.toRequest(), { idleTimeout: 0 });
  } catch (err) {
    // Not a WebSocket handshake after all (no Sec-WebSocket-Key, no Connection: Upgrade): the
    // protocol's 400, as on Bun and Node, not a 500 with a stack trace.
    console.error(`[engine.io] refused a WebSocket handshake: ${err instanceof Error ? err.message : String(err)}`);
    return errorResponse(EngineErrorCode.BAD_REQUEST, new Headers());
  }
  bindStandardWebSocket(upgraded.socket, handlers);
  // The 101's headers can take the engine's (set-cookie included).
  headers?.forEach((value, name) => {
    if (name !== "set-cookie") upgraded.response.headers.set(name, value);
  });
  for (const cookie of headers?.getSetCookie() ?? []) upgraded.response.headers.append("set-cookie", cookie);
  return upgraded.response;
};

/** Deno's `ServeHandlerInfo`, as far as we read it. */
export interface DenoServeInfo {
  /** The peer's address. */
  remoteAddr?: { hostname?: string; port?: number };
}

/**
 * Converts Deno's handler info to the engine's {@linkcode ConnInfo}.
 *
 * @example
 * ```ts
 * import { denoConnInfo } from "./deno.ts";
 * denoConnInfo({ remoteAddr: { hostname: "127.0.0.1", port: 1 } }).remoteAddress; // "127.0.0.1"
 * ```
 */
export function denoConnInfo(info?: DenoServeInfo): ConnInfo {
  return { remoteAddress: info?.remoteAddr?.hostname, remotePort: info?.remoteAddr?.port };
}
