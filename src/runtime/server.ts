/**
 * The `Server` users import (from `server.ts`, `mod.ts`): the core server of `src/io/server.ts`,
 * plus what needs a runtime: the WebSocket upgrader of the runtime it runs on (Deno, Workers), and
 * socket.io's forms on Node's HTTP server (also Bun's and Deno's `node:http`): `new Server(httpServer
 * | port, opts)`, `io.attach()`, `io.listen()`, which work with no other import.
 *
 * @module
 */

import { Server as CoreServer, type ServerOptions } from "../io/server.ts";
import type { Upgrader } from "../engine/websocket_like.ts";
import type { DefaultEventsMap, EventsMap } from "../util/typed_events.ts";
import { detectRuntime, nodeBuiltinModule } from "../util/platform.ts";
import { denoUpgrader } from "./deno.ts";
import { workersUpgrader } from "./workers.ts";
import type { Handle } from "../engine/exchange.ts";
import { attachToNodeServer, type NodeHttpServer, stopNodeServer } from "./node_http.ts";
import type { NodeListener } from "./node_exchange.ts";

const runtimeUpgrader: Upgrader | undefined = (() => {
  const runtime = detectRuntime();
  if (runtime === "deno") return denoUpgrader;
  if (runtime === "workerd") return workersUpgrader;
  return undefined;
})();

/** What `attach`, `listen` and the constructor take as a server: Node's HTTP(S) server, or a port. */
export type AttachTarget = NodeHttpServer | number | string;

/**
 * The Socket.IO server, with socket.io's constructor forms: `new Server()`, `new Server(opts)`,
 * `new Server(httpServer, opts)`, `new Server(port, opts)`.
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
  /**
   * The Node HTTP server this server was attached to (`attach`, `listen`, the constructor), or
   * created for a port; `undefined` until then.
   */
  httpServer: NodeHttpServer | undefined;

  /** A server to serve with `handler()`, `serve()`, `attach()` or `listen()` later. */
  constructor(options?: ServerOptions);
  /**
   * A server attached to `srv` at once: Node's HTTP(S) server (socket.io's boilerplate
   * `new Server(httpServer, { cors })`), or a port, for which an HTTP server is created and
   * started (404 outside the server's path).
   */
  constructor(srv: AttachTarget | undefined, options?: ServerOptions);
  constructor(srv?: AttachTarget | ServerOptions, options: ServerOptions = {}) {
    // As socket.io tells them apart: an object without `listen` is the options.
    const isOptions = typeof srv === "object" && srv !== null && typeof (srv as NodeHttpServer).listen !== "function";
    super(isOptions ? srv as ServerOptions : options);
    if (!isOptions && (srv || typeof srv === "number")) this.attach(srv as AttachTarget);
  }

  /** Deno's upgrader on Deno, Workers' in workerd; none elsewhere (Bun and Node upgrade by themselves). */
  protected override defaultUpgrader(): Upgrader | undefined {
    return runtimeUpgrader;
  }

  /**
   * Serves this server on a `node:http` or `node:https` server, as socket.io's `io.attach`: the
   * server's own `request` listeners keep every other path; WebSockets go through `ws`. Takes
   * effect at once (the server may be listening already, or listen right after). Given a port, an
   * HTTP server is created (404 outside the server's path) and started on it. `options` are engine
   * options, taken where the constructor did not set them (as socket.io merges them).
   * {@linkcode Server.close} closes the HTTP server too (gracefully), as socket.io's does.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   * import { Server } from "./server.ts";
   * const io = new Server();
   * const httpServer = createServer((_req, res) => res.end("my app"));
   * io.attach(httpServer, { pingInterval: 10000 });
   * // httpServer.listen(3000);
   * await io.close();
   * ```
   */
  attach(srv: AttachTarget, options?: ServerOptions): this {
    if (typeof srv === "function") {
      throw new Error(
        "You are trying to attach socket.io to an express request handler function: pass an http.Server instance (createServer(app))",
      );
    }
    this._mergeEngineOptions(options);
    // deno-lint-ignore eqeqeq -- a port given as a string, as socket.io takes it
    const httpServer = Number(srv) == srv ? listenOn(Number(srv)) : srv as NodeHttpServer;
    const handle: Handle = (request, handleOptions) => this.handle(request, handleOptions);
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
    return this;
  }

  /**
   * Alias of {@linkcode Server.attach}, as in socket.io: `io.listen(3000)` creates an HTTP server
   * and starts it on port 3000 (on every interface, as socket.io does; `io.httpServer` is it).
   * To wait until it listens, or to pick the interface, use `serve(io, { port, hostname })`.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * io.listen(0);
   * await new Promise((resolve) => io.httpServer!.once("listening", resolve));
   * const address = io.httpServer!.address();
   * await io.close();
   * ```
   */
  listen(srv: AttachTarget, options?: ServerOptions): this {
    return this.attach(srv, options);
  }
}

/** What `process.getBuiltinModule("node:http")` gives, as far as it is used here. */
interface NodeHttpModule {
  createServer(listener?: NodeListener): NodeHttpServer;
}

/** A `node:http` server started on `port` that answers 404 outside the io server's path. */
function listenOn(port: number): NodeHttpServer {
  const http = nodeBuiltinModule("http") as NodeHttpModule | undefined;
  if (http === undefined) {
    throw new Error(
      `A port needs node:http, which ${detectRuntime()} does not have: serve with the runtime's own ` +
        "server instead (export default { fetch: io.fetch }; on Workers, a Durable Object from defineSocketIoObject)",
    );
  }
  const httpServer = http.createServer((_req: unknown, res: { writeHead(status: number): void; end(): void }) => {
    res.writeHead(404);
    res.end();
  });
  httpServer.listen(port);
  return httpServer;
}
