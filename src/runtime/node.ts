/**
 * Node's HTTP server, for what goes beyond `io.attach(httpServer)` and `io.listen(port)` (which
 * need no import of this module): stopping a server gracefully, serving any
 * {@linkcode Handle} (a bare engine, several servers on one port), and the engine's contract on
 * `IncomingMessage` / `ServerResponse`. WebSockets go through the `ws` package.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { Server } from "../../server.ts";
 * import { stopNodeServer } from "./node.ts";
 * const io = new Server();
 * const httpServer = createServer();
 * io.attach(httpServer);
 * // on shutdown: io.close() closes every session, then stops httpServer as stopNodeServer does
 * await stopNodeServer(httpServer);
 * ```
 *
 * @module
 */

export { attachToNodeServer, stopNodeServer } from "./node_http.ts";
export type { NodeAttachOptions, NodeHttpServer } from "./node_http.ts";
export { NodeEngineRequest, nodeHeaders, writeNodeResponse } from "./node_exchange.ts";
export type { NodeIncomingMessage, NodeListener, NodeServerResponse } from "./node_exchange.ts";
export type { Handle, HandleOptions } from "../engine/exchange.ts";
