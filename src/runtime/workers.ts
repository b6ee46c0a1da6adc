/**
 * Cloudflare Workers: `new WebSocketPair()` gives two standard WebSockets; the server end is
 * accepted and bound to the engine, the client end goes back in a 101 response.
 *
 * @module
 */

import type { Upgrader } from "../engine/websocket_like.ts";
import { bindStandardWebSocket } from "./standard_websocket.ts";

interface WorkersWebSocket extends WebSocket {
  accept(): void;
}

type WebSocketPairCtor = new () => { 0: WorkersWebSocket; 1: WorkersWebSocket };

/**
 * Upgrades a request to a WebSocket in workerd (inside a Durable Object for polling support).
 *
 * @example
 * ```ts
 * import { workersUpgrader } from "./workers.ts";
 * import { Engine } from "../engine/server.ts";
 * import { fromWebRequest } from "../engine/web_exchange.ts";
 * const engine = new Engine();
 * const handler = (request: Request) => engine.handle(fromWebRequest(request), { upgrade: workersUpgrader });
 * ```
 */
export const workersUpgrader: Upgrader = (_request, handlers, headers): Response => {
  const Pair = (globalThis as unknown as { WebSocketPair: WebSocketPairCtor }).WebSocketPair;
  const pair = new Pair();
  const client = pair[0];
  const server = pair[1];
  server.accept();
  bindStandardWebSocket(server, handlers);
  return new Response(null, { status: 101, webSocket: client, headers } as ResponseInit);
};
