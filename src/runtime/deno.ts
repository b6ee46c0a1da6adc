/**
 * Deno: `Deno.upgradeWebSocket` gives a standard WebSocket and the response that completes the
 * handshake.
 *
 * @module
 */

import { bindStandardWebSocket, type ConnInfo, type Upgrader } from "./types.ts";

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
 * ```ts ignore
 * Deno.serve((request) => engine.handleRequest(request, undefined, denoUpgrader));
 * ```
 */
export const denoUpgrader: Upgrader = (request, handlers): Response => {
  // idleTimeout 0: the engine's own heartbeat decides when a peer is gone.
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  bindStandardWebSocket(socket, handlers);
  return response;
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
