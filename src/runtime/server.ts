/**
 * The `Server` users import (from `server.ts`, `mod.ts`): the core server of `src/io/server.ts`,
 * plus what needs a runtime: the WebSocket upgrader of the runtime it runs on (Deno, Workers), and
 * `attach` / `listen` for Node's HTTP server (also Bun's and Deno's `node:http`), which work with
 * no other import.
 *
 * @module
 */

import { Server as CoreServer } from "../io/server.ts";
import type { Upgrader } from "../engine/websocket_like.ts";
import type { DefaultEventsMap, EventsMap } from "../util/typed_events.ts";
import { detectRuntime } from "../util/platform.ts";
import { denoUpgrader } from "./deno.ts";
import { workersUpgrader } from "./workers.ts";
import type { Handle } from "../engine/exchange.ts";
import { attachToNodeServer, type NodeHttpServer, stopNodeServer } from "./node_http.ts";

const runtimeUpgrader: Upgrader | undefined = (() => {
  const runtime = detectRuntime();
  if (runtime === "deno") return denoUpgrader;
  if (runtime === "workerd") return workersUpgrader;
  return undefined;
})();

/**
 * The Socket.IO server.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * interface ClientToServer { hello: (name: string, ack: (reply: string) => void) => void }
 * interface ServerToClient { news: (title: string) => void }
 * const io = new Server<ClientToServer, ServerToClient>();
 * io.on("connection", (socket) => {
 *   socket.on("hello", (name, ack) => ack(`hi ${name}`));
 *   io.emit("news", "someone arrived");
 * });
 * // Deno.serve(io.handler()), export default { fetch: io.fetch }, io.listen(3000), or serve(io)
 * await io.close();
 * ```
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> extends CoreServer<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** The Node HTTP server {@linkcode Server.attach} or {@linkcode Server.listen} serves on, if any. */
  httpServer: NodeHttpServer | undefined;

  /** Deno's upgrader on Deno, Workers' in workerd; none elsewhere (Bun and Node upgrade by themselves). */
  protected override defaultUpgrader(): Upgrader | undefined {
    return runtimeUpgrader;
  }

  /**
   * Serves this server on a `node:http` or `node:https` server, as socket.io's `io.attach`: the
   * server's own `request` listeners keep every other path; WebSockets go through `ws`. Takes
   * effect at once (the server may be listening already, or listen right after).
   * {@linkcode Server.close} closes the HTTP server too (gracefully), as socket.io's does.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   * import { Server } from "./server.ts";
   * const io = new Server();
   * const httpServer = io.attach(createServer((_req, res) => res.end("my app")));
   * // httpServer.listen(3000);
   * await io.close();
   * ```
   */
  attach<T extends NodeHttpServer>(httpServer: T): T {
    const handle: Handle = (request, options) => this.handle(request, options);
    const detach = attachToNodeServer(httpServer, handle, {
      maxPayload: this.engine.options.maxHttpBufferSize,
      perMessageDeflate: this.engine.options.perMessageDeflate,
    });
    httpServer.once("close", detach);
    this.httpServer = httpServer;
    this._onClose(() => {
      detach();
      return stopNodeServer(httpServer);
    });
    return httpServer;
  }

  /**
   * Starts a `node:http` server on `port` (and `hostname`) serving this server (404 for other
   * paths); resolves with it once it listens. {@linkcode Server.close} stops it.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * const httpServer = await io.listen(0, "127.0.0.1");
   * const address = httpServer.address();
   * await io.close();
   * ```
   */
  async listen(port: number, hostname?: string): Promise<NodeHttpServer> {
    const { createServer } = await import("node:http");
    const httpServer: NodeHttpServer = this.attach(createServer());
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(port, hostname, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
    return httpServer;
  }
}
