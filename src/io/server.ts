/**
 * The Socket.IO server: an Engine.IO engine, namespaces, and the one method that answers a request
 * ({@linkcode Server.handle}), with its web wrappers. It names no runtime: the `Server` that
 * `server.ts` exports (`src/runtime/server.ts`) adds what needs one (the runtime's default
 * upgrader, `attach` and `listen` on Node's HTTP server).
 *
 * @module
 */

import { Engine } from "../engine/server.ts";
import { parseRequestTarget } from "../engine/request_target.ts";
import type { EngineSocket } from "../engine/socket.ts";
import type { EngineOptions } from "../engine/options.ts";
import { defaultParser, type Encoder, type Parser } from "../parser/socket_io.ts";
import { type ParserModule, toParser } from "../parser/parser_module.ts";
import type { Upgrader } from "../engine/websocket_like.ts";
import {
  type ConnInfo,
  type EngineRequest,
  type EngineResponse,
  type HandleOptions,
  notFoundResponse,
} from "../engine/exchange.ts";
import { fromWebFallback, toWebResponse, WebEngineRequest } from "../engine/web_exchange.ts";
import { badUrlResponse } from "../engine/errors.ts";
import { enableDebug, readDebugEnvironment } from "../util/debug.ts";
import { Adapter, type AdapterConstructor, type Room, type SocketId } from "./adapter.ts";
import type { BroadcastOperator, RemoteSocket } from "./broadcast.ts";
import { Client } from "./client.ts";
import { Namespace, type NamespaceMiddleware, type NamespaceReservedEventsMap } from "./namespace.ts";
import { ParentNamespace } from "./parent_namespace.ts";
import { type ConnectionStateRecoveryOptions, resolveRecoveryOptions, SessionAwareAdapter } from "./recovery.ts";
import type { Socket } from "./socket.ts";
import {
  type ConnectionSnapshot,
  type ConnectionSnapshotOptions,
  restoreConnection,
  snapshotConnection,
} from "./connection_snapshot.ts";
import type { RestoredSession, RestoreSessionOptions } from "../engine/server.ts";
import type { WebSocketLike } from "../engine/websocket_like.ts";
import { reportListenerError } from "./_util.ts";
import { type ClientFile, clientFileOf, serveClientFile } from "./_client_bundle_serve.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../util/typed_events.ts";

// DEBUG=sio:* (or socket.io*) turns the components' debug logs on, as socket.io's DEBUG does.
const debugPattern = readDebugEnvironment();
if (debugPattern) enableDebug(debugPattern);

/**
 * Options of the server: the engine's (path defaults to `/socket.io`) plus the io layer's.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server({ pingInterval: 10000, connectTimeout: 5000, cors: { origin: "*" } });
 * ```
 */
export interface ServerOptions extends EngineOptions {
  /** Milliseconds a connection may stay without any namespace before it is closed (default 45000). */
  connectTimeout?: number;
  /**
   * The most namespaces one connection may join; a CONNECT past it is answered with CONNECT_ERROR
   * `Too many namespaces` (default 100).
   */
  maxNamespacesPerConnection?: number;
  /**
   * The most acknowledgements a socket may wait for at once (emits with an ack callback to a client
   * that does not answer); past it the new callback gets an error at once (default 1000).
   */
  maxPendingAcks?: number;
  /** The most binary attachments one incoming packet may announce (default 1000). */
  maxAttachments?: number;
  /**
   * Debug logging (off by default): `true` for every component, or a pattern such as
   * `"sio:engine*"`. The `DEBUG` environment variable does the same (`DEBUG=sio:*`).
   */
  debug?: boolean | string;
  /**
   * The packet format (default: socket.io's JSON parser): ours (`msgpackParser` of `./msgpack`), or
   * a module written for socket.io with `Encoder` and `Decoder` classes (socket.io-parser,
   * socket.io-msgpack-parser), as it is.
   */
  parser?: Parser | ParserModule;
  /** The adapter class or factory (default: the in-memory {@linkcode Adapter}). */
  adapter?: AdapterConstructor;
  /**
   * Removes child namespaces of dynamic namespaces once they have no socket left, none connecting
   * (default false). As in socket.io, a removed child takes its adapter along: with connection
   * state recovery on the in-memory adapter, the sessions of its last sockets go with it (a
   * cluster adapter keeps them in its store).
   */
  cleanupEmptyChildNamespaces?: boolean;
  /**
   * Serve the client's browser bundles under socket.io's names (default `true`):
   * `PATH/socket.io.min.js` and `socket.io.js` (a script that sets the global `io`),
   * `socket.io.msgpack.min.js` (the same, speaking msgpack by default), `socket.io.esm.min.js` (an
   * ES module) and the `.map` of each; with the `cors` headers, ETags and compression by
   * `Accept-Encoding`. They are embedded in the package, so this works on every runtime.
   */
  serveClient?: boolean;
  /**
   * Connection state recovery: sockets that drop come back with their id, rooms, data and the
   * events they missed (kept in memory by default, in the shared store with a cluster adapter).
   */
  connectionStateRecovery?: ConnectionStateRecoveryOptions;
}

/**
 * The server's resolved options.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * io._opts.connectTimeout; // 45000
 * ```
 */
export type ResolvedServerOptions = ServerOptions & {
  path: string;
  connectTimeout: number;
  cleanupEmptyChildNamespaces: boolean;
};

/**
 * Decides whether a dynamic namespace accepts `name`: `next(null, true)` to create it.
 *
 * @example
 * ```ts
 * import { type ParentNspNameMatchFn, Server } from "./server.ts";
 * const io = new Server();
 * const match: ParentNspNameMatchFn = (name, auth, next) => next(null, name.startsWith("/team-"));
 * io.of(match);
 * ```
 */
export type ParentNspNameMatchFn = (
  name: string,
  auth: Record<string, unknown>,
  next: (err: Error | null, success: boolean) => void,
) => void;

/**
 * Options of {@linkcode Server.handler}.
 *
 * @example
 * ```ts
 * import type { HandlerOptions } from "./server.ts";
 * const options: HandlerOptions = { fallback: () => new Response("hello") };
 * ```
 */
export interface HandlerOptions {
  /** Turns upgrade requests into WebSockets (default: the server's, see `Server.defaultUpgrader`). */
  upgrade?: Upgrader;
  /** Answers requests outside the engine path (default: 404). */
  fallback?: (request: Request) => Response | Promise<Response>;
}

/**
 * Connection details a runtime passes with a request: Deno's `ServeHandlerInfo` or a `ConnInfo`.
 *
 * @example
 * ```ts
 * import type { RequestInfo } from "./server.ts";
 * const info: RequestInfo = { remoteAddr: { hostname: "127.0.0.1", port: 40000 } };
 * ```
 */
export type RequestInfo = { remoteAddr?: { hostname: string; port: number } } | ConnInfo;

/**
 * A `fetch`-style request handler (a `Request` in, a `Response` out). It resolves to `undefined`
 * only when the runtime's upgrader answered a WebSocket upgrade itself (Bun).
 *
 * @example
 * ```ts
 * import { type RequestHandler, Server } from "./server.ts";
 * const handle: RequestHandler = new Server().handler();
 * ```
 */
export type RequestHandler = (request: Request, info?: RequestInfo) => Promise<Response>;

/**
 * A server with any event maps: what the runtime shims take.
 *
 * @example
 * ```ts
 * import { type AnyServer, Server } from "./server.ts";
 * const io: AnyServer = new Server<{ hello: (name: string) => void }>();
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyServer = Server<any, any, any, any>;

/** The engine's part of server options (what is not the io layer's). */
function engineOptionsOf(options: ServerOptions): EngineOptions {
  const engineOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!IO_OPTIONS.has(key)) engineOptions[key] = value;
  }
  return engineOptions as EngineOptions;
}

function toConnInfo(info?: RequestInfo): ConnInfo | undefined {
  if (!info) return undefined;
  if ("remoteAddr" in info && info.remoteAddr) {
    return { remoteAddress: info.remoteAddr.hostname, remotePort: info.remoteAddr.port };
  }
  return info as ConnInfo;
}

const IO_OPTIONS = new Set([
  "debug",
  "connectTimeout",
  "maxNamespacesPerConnection",
  "maxPendingAcks",
  "maxAttachments",
  "parser",
  "adapter",
  "cleanupEmptyChildNamespaces",
  "serveClient",
  "connectionStateRecovery",
]);

/**
 * The Socket.IO server, without what needs a runtime (the `Server` of `server.ts` adds it).
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
 * const worker = { fetch: io.handler() }; // a module's default export, or `serve(io)` of server.ts
 * ```
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> {
  /** The Engine.IO server. */
  readonly engine: Engine;
  /** The main namespace `/`. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The encoder shared by every connection. */
  readonly encoder: Encoder;
  /** @internal The packet format. */
  readonly _parser: Parser;
  /** @internal The resolved options. */
  readonly _opts: ResolvedServerOptions;
  /** @internal Namespaces by name. */
  readonly _nsps: Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();
  /** @internal Milliseconds before an idle connection is closed. */
  _connectTimeout: number;
  /** @internal The connection state recovery options, when enabled. */
  readonly _recovery: Required<ConnectionStateRecoveryOptions> | undefined;
  #parentNsps: Map<ParentNspNameMatchFn, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Map();
  #parentFromRegExp: Map<RegExp, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();
  #adapter: AdapterConstructor;
  /** The engine options the constructor was given (without defaults): they win over `attach`'s. */
  #engineOptions: EngineOptions;

  /** Creates a server; serve it with {@linkcode Server.handler}. */
  constructor(options: ServerOptions = {}) {
    if (options.debug !== undefined) enableDebug(options.debug);
    this._opts = {
      ...options,
      path: options.path ?? "/socket.io",
      connectTimeout: options.connectTimeout ?? 45000,
      cleanupEmptyChildNamespaces: options.cleanupEmptyChildNamespaces ?? false,
    };
    this._connectTimeout = this._opts.connectTimeout;
    this._parser = toParser(options.parser ?? defaultParser);
    this.encoder = this._parser.createEncoder();
    this._recovery = options.connectionStateRecovery
      ? resolveRecoveryOptions(options.connectionStateRecovery)
      : undefined;
    this.#adapter = options.adapter ?? (this._recovery ? SessionAwareAdapter : Adapter);
    this.#engineOptions = engineOptionsOf(options);
    this.engine = new Engine({ ...this.#engineOptions, path: this._opts.path });
    this.engine.on("connection", (conn: EngineSocket) => {
      try {
        const client = new Client(this, conn);
        // Socket.IO v4 (Engine.IO v3 sessions): the connection joins `/` without a CONNECT.
        if (conn.protocol === 3) client._connectRoot();
      } catch (err) {
        reportListenerError(err, "connection setup");
        conn.close();
      }
    });
    this.sockets = this.of("/");
  }

  /** The adapter constructor or factory. */
  adapter(): AdapterConstructor;
  /** Replaces the adapter of every namespace. */
  adapter(ctor: AdapterConstructor): this;
  adapter(ctor?: AdapterConstructor): AdapterConstructor | this {
    if (ctor === undefined) return this.#adapter;
    this.#adapter = ctor;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  /** The Engine.IO server (socket.io's name for {@linkcode Server.engine}). */
  get eio(): Engine {
    return this.engine;
  }

  /** The engine path (`/socket.io` by default). */
  path(): string;
  /**
   * Sets the engine path (a trailing slash is dropped), as socket.io's `io.path(v)`; requests are
   * routed by it from then on.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server().path("/realtime");
   * io.path(); // "/realtime"
   * ```
   */
  path(v: string): this;
  path(v?: string): string | this {
    if (v === undefined) return this.engine.options.path;
    this.#engineOptions.path = v;
    this.engine._configure({ path: v });
    this._opts.path = this.engine.options.path;
    return this;
  }

  /** Whether the client bundle is served (see `ServerOptions.serveClient`). */
  serveClient(): boolean;
  /**
   * Turns the serving of the client bundle on or off, as socket.io's `io.serveClient(v)`.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server().serveClient(false);
   * io.serveClient(); // false
   * ```
   */
  serveClient(v: boolean): this;
  serveClient(v?: boolean): boolean | this {
    if (v === undefined) return this._opts.serveClient !== false;
    this._opts.serveClient = v;
    return this;
  }

  /** Milliseconds a connection may stay without any namespace (see `ServerOptions.connectTimeout`). */
  connectTimeout(): number;
  /**
   * Sets the milliseconds a new connection may stay without joining a namespace before it is
   * closed, as socket.io's `io.connectTimeout(v)` (connections opened from then on).
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server().connectTimeout(10000);
   * io.connectTimeout(); // 10000
   * ```
   */
  connectTimeout(v: number): this;
  connectTimeout(v?: number): number | this {
    if (v === undefined) return this._connectTimeout;
    this._connectTimeout = this._opts.connectTimeout = v;
    return this;
  }

  /**
   * @internal Takes the options given to `attach` / `listen`, as socket.io does: engine options
   * only, and those given to the constructor win.
   */
  _mergeEngineOptions(options: ServerOptions | undefined): void {
    if (options === undefined) return;
    const extra: EngineOptions = {};
    let any = false;
    for (const [key, value] of Object.entries(engineOptionsOf(options))) {
      if (value === undefined || Object.hasOwn(this.#engineOptions, key)) continue;
      (extra as Record<string, unknown>)[key] = value;
      any = true;
    }
    if (!any) return;
    Object.assign(this.#engineOptions, extra);
    this.engine._configure(extra);
    this._opts.path = this.engine.options.path;
  }

  /**
   * Answers one request, the one way in for every runtime: the engine path to the engine (with
   * `options.upgrade`, else {@linkcode Server.defaultUpgrader}, for WebSockets), the client bundle
   * when `serveClient` is on, everything else to `options.fallback` (404 by default). Resolves to
   * `undefined` only when the runtime answered by itself (an upgrade on Bun or Node, a fallback
   * on Node).
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * import { fromWebRequest, toWebResponse } from "../engine/web_exchange.ts";
   * const io = new Server();
   * const answer = await io.handle(fromWebRequest(new Request("http://localhost/socket.io/?EIO=4&transport=polling")));
   * const response = toWebResponse(answer!); // the handshake
   * await io.close();
   * ```
   */
  // deno-lint-ignore require-await -- async so that any throw becomes a rejection
  async handle(request: EngineRequest, options: HandleOptions = {}): Promise<EngineResponse | undefined> {
    const url = parseRequestTarget(request.url);
    if (url === null) return badUrlResponse(request.url);
    const pathname = url.pathname;
    // The client's files first: they are under the engine path, which the engine answers whole.
    const file = this.#clientFile(pathname);
    if (file !== undefined) return serveClientFile(request, file, this.engine.options.cors);
    if (this.engine.matches(pathname)) {
      return this.engine._handleUrl(request, url, { upgrade: options.upgrade ?? this.defaultUpgrader() });
    }
    if (options.fallback) return options.fallback(request);
    return notFoundResponse();
  }

  /**
   * The upgrader used when {@linkcode Server.handle} is given none: none here (WebSocket
   * handshakes are refused); the runtime's `Server` gives Deno's and Workers'.
   */
  protected defaultUpgrader(): Upgrader | undefined {
    return undefined;
  }

  /**
   * A `fetch`-style handler (a `Request` in, a `Response` out) around {@linkcode Server.handle}.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * const handler = io.handler({ fallback: () => new Response("my app") });
   * const response = await handler(new Request("http://localhost/"));
   * await response.text(); // "my app"
   * ```
   */
  handler(options: HandlerOptions = {}): RequestHandler {
    const handleOptions: HandleOptions = {
      upgrade: options.upgrade,
      fallback: options.fallback && fromWebFallback(options.fallback),
    };
    return async (request: Request, info?: RequestInfo): Promise<Response> => {
      const response = await this.handle(new WebEngineRequest(request, toConnInfo(info)), handleOptions);
      // `undefined` when the runtime answered an upgrade itself (Bun): it takes no Response then.
      return (response === undefined ? undefined : toWebResponse(response)) as Response;
    };
  }

  #fetch: RequestHandler | undefined;

  /** The handler with the default options, for `export default { fetch: io.fetch }`. */
  readonly fetch: RequestHandler = (request, info) => (this.#fetch ??= this.handler())(request, info);

  #clientFile(pathname: string): ClientFile | undefined {
    if (this._opts.serveClient === false) return undefined;
    return clientFileOf(this.engine.options.path, pathname);
  }

  /**
   * The open connection `sid` (its Engine.IO session and its sockets: ids, namespaces, auth,
   * handshake times, rooms, `socket.data`) as plain, versioned data, to carry it on later over
   * the same WebSocket with {@linkcode Server.restoreConnection}, here after a restart or in
   * another server. `undefined` when there is no such connection or it is not on a WebSocket
   * (polling, or in the middle of an upgrade). The snapshot shares `auth` and `socket.data` with
   * the live sockets: store (clone) it before they change.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * io.on("connection", (socket) => {
   *   const snapshot = io.snapshotConnection(socket.conn.id);
   *   // e.g. a Durable Object keeps it with the WebSocket: ws.serializeAttachment(snapshot)
   * });
   * ```
   */
  snapshotConnection(sid: string, options?: ConnectionSnapshotOptions): ConnectionSnapshot | undefined {
    return snapshotConnection(this, sid, options);
  }

  /**
   * Carries a connection on from its {@linkcode Server.snapshotConnection} snapshot over its
   * WebSocket `socket`, still connected to the same client: the session opens at once (no packet
   * is sent), each socket comes back in its namespace (a dynamic one is asked again) with its id,
   * auth, handshake time, rooms and data, without running the middlewares and without a CONNECT
   * packet, and `connection` is emitted with `socket.recovered === true` so that listeners attach
   * their handlers again. The runtime then forwards the WebSocket's events to the returned
   * `handlers`.
   *
   * The snapshot is checked field by field: a malformed one, one of another version, or one whose
   * session is open already (forged or repeated) is refused with a log line and `undefined`; the
   * caller then closes `socket`. Not carried over: acknowledgements the server was waiting for,
   * what middlewares did beyond `socket.data`.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * import type { WebSocketLike } from "../engine/websocket_like.ts";
   * const io = new Server();
   * io.on("connection", (socket) => {
   *   if (socket.recovered) console.log("back:", socket.id, [...socket.rooms]);
   * });
   * declare const snapshot: unknown; // read back from storage
   * declare const ws: WebSocketLike; // the same client's WebSocket
   * const restored = io.restoreConnection(snapshot, ws);
   * if (restored === undefined) ws.close(1011, "session lost");
   * // else: restored.handlers.onMessage(frame) for each frame, onClose(code, reason) at the end
   * ```
   */
  restoreConnection(
    snapshot: unknown,
    socket: WebSocketLike,
    options?: RestoreSessionOptions,
  ): RestoredSession | undefined {
    return restoreConnection(this, snapshot, socket, options);
  }

  /**
   * Calls `listener` with the Engine.IO session id of each connection whose sockets join or leave
   * a room, in every namespace (those to come included), however the change was made (`join`,
   * `leave`, `socketsJoin`...): for hosts that keep connection snapshots up to date. Returns the
   * function that stops it.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * const stale = new Set<string>();
   * const stop = io.watchRooms((sid) => stale.add(sid));
   * stop();
   * ```
   */
  watchRooms(listener: (sid: string) => void): () => void {
    const first = this.#roomWatchers.size === 0;
    this.#roomWatchers.add(listener);
    if (first) { for (const nsp of this._nsps.values()) this._adapterCreated(nsp); }
    return () => {
      this.#roomWatchers.delete(listener);
    };
  }

  #roomWatchers: Set<(sid: string) => void> = new Set();
  #watchedAdapters: WeakSet<Adapter> = new WeakSet();

  /** @internal `nsp` has a new adapter: room changes reach the {@linkcode Server.watchRooms} listeners. */
  _adapterCreated(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    const adapter = nsp.adapter;
    if (this.#roomWatchers.size === 0 || this.#watchedAdapters.has(adapter)) return;
    this.#watchedAdapters.add(adapter);
    const watchers = this.#roomWatchers;
    const changed = (_room: Room, id: SocketId) => {
      const sid = nsp.sockets.get(id)?.conn.id;
      if (sid === undefined) return;
      for (const watcher of watchers) {
        try {
          watcher(sid);
        } catch (err) {
          reportListenerError(err, "watchRooms listener");
        }
      }
    };
    adapter.on("join-room", changed);
    adapter.on("leave-room", changed);
  }

  /** @internal Asks the dynamic namespaces whether `name` exists, creating the child if so. */
  _checkNamespace(
    name: string,
    auth: Record<string, unknown>,
    fn: (nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | false) => void,
  ): void {
    const matchers = [...this.#parentNsps.keys()];
    const tryNext = (i: number) => {
      if (i >= matchers.length) return fn(false);
      const matcher = matchers[i];
      let answered = false;
      const next = (err: Error | null, allow: boolean) => {
        if (answered) return;
        answered = true;
        if (err || !allow) return tryNext(i + 1);
        const existing = this._nsps.get(name);
        if (existing) return fn(existing);
        fn(this.#parentNsps.get(matcher)!.createChild(name));
      };
      try {
        matcher(name, auth, next);
      } catch (err) {
        reportListenerError(err, "dynamic namespace matcher");
        next(err instanceof Error ? err : new Error(String(err)), false);
      }
    };
    tryNext(0);
  }

  /**
   * Returns the namespace `name` (created if needed), or a dynamic parent namespace for a RegExp or
   * a matching function. `fn` is added as a `connection` listener.
   */
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === "function" || name instanceof RegExp) {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this);
      if (typeof name === "function") {
        this.#parentNsps.set(name, parent);
      } else {
        const re = name;
        this.#parentNsps.set((nsp, _auth, next) => next(null, re.test(nsp)), parent);
        this.#parentFromRegExp.set(re, parent);
      }
      if (fn) parent.on("connect", fn);
      return parent;
    }
    if (!name.startsWith("/")) name = "/" + name;
    let nsp = this._nsps.get(name);
    if (!nsp) {
      for (const [re, parent] of this.#parentFromRegExp) {
        if (re.test(name)) {
          const child = parent.createChild(name);
          if (fn) child.on("connect", fn);
          return child;
        }
      }
      nsp = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, name);
      this._nsps.set(name, nsp);
      if (name !== "/") this.sockets.emitReserved("new_namespace", nsp);
    }
    if (fn) nsp.on("connect", fn);
    return nsp;
  }

  /**
   * Disconnects every socket (`server shutting down`), closes the adapters, closes every Engine.IO
   * session (flushing what is buffered; a polling client gets its close packet on its next poll,
   * within a second), then stops what serves this server: the listener `serve()` started, and the
   * HTTP server of `attach()` or `listen()` (gracefully: requests in flight finish, the rest is cut
   * after a second). Resolves when all of it is done; `callback`, as socket.io's, is called then,
   * with the error stopping reported (an HTTP server that was not running), if any.
   *
   * @example
   * ```ts
   * import { Server } from "./server.ts";
   * const io = new Server();
   * await io.close();
   * ```
   */
  async close(callback?: (err?: Error) => void): Promise<void> {
    await Promise.allSettled(
      [...this._nsps.values()].map(async (nsp) => {
        for (const socket of [...nsp.sockets.values()]) socket._onclose("server shutting down");
        await nsp.adapter.close();
      }),
    );
    await this.engine.close();
    const closers = this.#closers.splice(0);
    const results = await Promise.allSettled(closers.map((stop) => stop()));
    if (callback === undefined) return;
    let error: Error | undefined;
    for (const result of results) {
      const reported = result.status === "rejected" ? result.reason : result.value;
      if (reported instanceof Error) {
        error = reported;
        break;
      }
    }
    callback(error);
  }

  #closers: Array<() => unknown> = [];

  /**
   * @internal Registers something {@linkcode Server.close} stops after the sessions (the listener
   * `serve()` started, the HTTP server of `attach()` or `listen()`); an `Error` it returns or
   * throws goes to `close`'s callback.
   */
  _onClose(stop: () => unknown): void {
    this.#closers.push(stop);
  }

  // ----- delegated to the main namespace -----

  /** Adds a listener on the main namespace (`connection`, `new_namespace`, server-side events). */
  on<
    E extends ReservedOrUserEventNames<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    event: E,
    listener: ReservedOrUserListener<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      E
    >,
  ): this {
    this.sockets.on(event, listener as never);
    return this;
  }

  /** Adds a one-time listener on the main namespace. */
  once<
    E extends ReservedOrUserEventNames<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    event: E,
    listener: ReservedOrUserListener<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      E
    >,
  ): this {
    this.sockets.once(event, listener as never);
    return this;
  }

  /** Removes listeners from the main namespace. */
  off<
    E extends ReservedOrUserEventNames<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    event?: E,
    listener?: ReservedOrUserListener<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      E
    >,
  ): this {
    this.sockets.off(event, listener as never);
    return this;
  }

  /** The listeners of the main namespace for `event`. */
  listeners<
    E extends ReservedOrUserEventNames<
      NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    event: E,
  ): ReservedOrUserListener<
    NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    ServerSideEvents,
    E
  >[] {
    return this.sockets.listeners(event);
  }

  /** Adds a connection middleware to the main namespace. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this.sockets.use(fn);
    return this;
  }

  /** Targets the members of `room` in the main namespace. */
  to(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.in(room);
  }

  /** Targets everyone in the main namespace except the members of `room`. */
  except(
    room: Room | Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.except(room);
  }

  /** Emits to every socket of the main namespace. */
  emit<E extends EventNamesWithoutAck<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): boolean {
    return this.sockets.emit(event, ...args);
  }

  /** Sends a `message` event to every socket of the main namespace. */
  send(...args: EventParams<EmitEvents, "message">): this {
    this.sockets.send(...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /** Sets whether to compress. */
  compress(
    compress: boolean,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.compress(compress);
  }

  /** Drops the packet for receivers that cannot take it right now. */
  get volatile(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.volatile;
  }

  /** Only this server's sockets. */
  get local(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.local;
  }

  /** Waits at most `timeout` ms for acknowledgements. */
  timeout(
    timeout: number,
  ): BroadcastOperator<
    DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>,
    SocketData
  > {
    return this.sockets.timeout(timeout);
  }

  /** Emits to the other servers of the cluster. */
  serverSideEmit<E extends EventNames<ServerSideEvents>>(
    event: E,
    ...args: EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, E>
  ): boolean {
    return this.sockets.serverSideEmit(event, ...args);
  }

  /** Emits to the other servers and resolves with their responses. */
  serverSideEmitWithAck<E extends EventNamesWithAck<ServerSideEvents>>(
    event: E,
    ...args: AllButLast<EventParams<ServerSideEvents, E>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, E>>>[]> {
    return this.sockets.serverSideEmitWithAck(event, ...args);
  }

  /** The ids of every socket of the main namespace. */
  allSockets(): Promise<Set<SocketId>> {
    return this.sockets.allSockets();
  }

  /** Every socket of the main namespace. */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  /** Makes every socket of the main namespace join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.sockets.socketsJoin(room);
  }

  /** Makes every socket of the main namespace leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.sockets.socketsLeave(room);
  }

  /** Disconnects every socket of the main namespace. */
  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }
}
