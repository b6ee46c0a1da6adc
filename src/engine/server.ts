/**
 * The Engine.IO v4 server (and v3 with `allowEIO3`): validates every request, opens sessions over
 * polling or WebSocket, routes polls and posts to their session and WebSocket upgrades to the
 * runtime's upgrader.
 *
 * It speaks the contract of `exchange.ts` ({@linkcode EngineRequest} in, {@linkcode EngineResponse}
 * out): a runtime shim passes each request in with an upgrader (`HandleOptions.upgrade`) that turns a
 * validated upgrade request into a WebSocket.
 *
 * @module
 */

import type { TopicPublisher, WebSocketHandlers, WebSocketLike } from "./websocket_like.ts";
import type { EngineRequest, EngineResponse, HandleOptions } from "./exchange.ts";
import { Emitter } from "../util/emitter.ts";
import { applyCors, isWebSocketOriginAllowed } from "./cors.ts";
import { parseRequestTarget, type QueryParams, type RequestTarget } from "./request_target.ts";
import {
  badUrlResponse,
  ENGINE_ERROR_MESSAGES,
  type EngineConnectionError,
  EngineErrorCode,
  errorResponse,
} from "./errors.ts";
import { randomId } from "./ids.ts";
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions, serializeCookie } from "./options.ts";
import { EngineSocket, NODE_SHAPED } from "./socket.ts";
import { answered, type EngineMiddleware, MiddlewareResponse, runMiddlewares } from "./middlewares.ts";
import { createDebug } from "../util/debug.ts";
import { PollingTransport } from "./transports/polling.ts";
import { WebSocketTransport } from "./transports/websocket.ts";
import type { HandshakeRequest, ObservedPacket } from "./types.ts";
import { SessionRequest } from "./session_request.ts";
import {
  readSessionSnapshot,
  SESSION_SNAPSHOT_VERSION,
  type SessionSnapshot,
  type SnapshotRequest,
} from "./session_snapshot.ts";
import { emitIsolated } from "../util/emit_isolated.ts";
import { atMost } from "../util/within.ts";
import { platformCompressesHttp } from "../util/platform.ts";
import {
  type EngineProtocol,
  isProtocolMismatch,
  requestedProtocol,
  type V3Framing,
  v3FramingOf,
} from "./protocol_v3.ts";

const debug = createDebug("sio:engine");

export type { EngineOptions } from "./options.ts";
export { EngineSocket } from "./socket.ts";
export type { SessionSnapshot, SnapshotRequest } from "./session_snapshot.ts";

/**
 * Options of {@linkcode Engine.snapshotSession}.
 *
 * @example
 * ```ts
 * import type { SessionSnapshotOptions } from "./server.ts";
 * const lean: SessionSnapshotOptions = { headers: false };
 * ```
 */
export interface SessionSnapshotOptions {
  /** Keep the opening request's headers (default true); without them the snapshot is smaller. */
  headers?: boolean;
}

/**
 * Options of {@linkcode Engine.restoreSession}.
 *
 * @example
 * ```ts
 * import type { RestoreSessionOptions } from "./server.ts";
 * const options: RestoreSessionOptions = { externalHeartbeat: true };
 * ```
 */
export interface RestoreSessionOptions {
  /**
   * The runtime sends the pings and watches the pongs itself (see
   * `EngineSocket.useExternalHeartbeat`); default false: the engine's heartbeat, first ping at once.
   */
  externalHeartbeat?: boolean;
}

/**
 * A session {@linkcode Engine.restoreSession} brought back, and the handlers the runtime calls
 * for the events of its WebSocket from now on.
 *
 * @example
 * ```ts
 * import type { RestoredSession } from "./server.ts";
 * function forward(restored: RestoredSession, frame: string): void {
 *   restored.handlers.onMessage(frame);
 * }
 * ```
 */
export interface RestoredSession {
  /** The session, open, in `engine.clients`. */
  session: EngineSocket;
  /** Where the runtime sends the WebSocket's frames and its close. */
  handlers: WebSocketHandlers;
}

/**
 * The headers of an answer as `initial_headers` and `headers` listeners edit them (engine.io's
 * shape): lower-case names, `set-cookie` as a list; what a listener sets, changes or deletes goes
 * on the answer.
 */
export type HeadersObject = Record<string, string | string[]>;

/** Events of the engine, as engine.io's server emits them. */
export interface EngineEvents {
  /** A session opened. */
  connection: (socket: EngineSocket) => void;
  /** A request was refused. */
  connection_error: (error: EngineConnectionError) => void;
  /**
   * The headers of the answer that opens a session (a polling handshake, or a WebSocket's 101),
   * before `headers`. `request` is the runtime's own (Node's `IncomingMessage`, the web `Request`
   * elsewhere).
   */
  // deno-lint-ignore no-explicit-any
  initial_headers: (headers: HeadersObject, request: any) => void;
  /** The headers of every answer of a session (polls, posts, its handshake and upgrade). */
  // deno-lint-ignore no-explicit-any
  headers: (headers: HeadersObject, request: any) => void;
  /** A session hands these packets to its transport (its own `flush`, for every session). */
  flush: (socket: EngineSocket, packets: ObservedPacket[]) => void;
  /** A session handed everything buffered to its transport (its own `drain`, for every session). */
  drain: (socket: EngineSocket) => void;
}

class Refusal {
  readonly code: EngineErrorCode;
  readonly context: Record<string, unknown>;
  readonly message: string;
  constructor(code: EngineErrorCode, context: Record<string, unknown>, message?: string) {
    this.code = code;
    this.context = context;
    this.message = message ?? ENGINE_ERROR_MESSAGES[code];
  }
}

/** What a runtime's WebSocket reports, passed to the session's transport once it exists. */
abstract class SocketHandlers implements WebSocketHandlers {
  transport: WebSocketTransport | null = null;
  abstract onOpen(socket: WebSocketLike): void;
  onMessage(data: string | Uint8Array): void {
    this.transport?.receive(data);
  }
  onClose(): void {
    this.transport?.closed();
  }
}

/** Handlers of the WebSocket of a restored session: it is open already. */
class RestoredHandlers extends SocketHandlers {
  constructor(transport: WebSocketTransport) {
    super();
    this.transport = transport;
  }
  onOpen(): void {}
}

/**
 * The Engine.IO server.
 *
 * @example
 * ```ts
 * import { Engine } from "./server.ts";
 * import { fromWebRequest, toWebResponse } from "./web_exchange.ts";
 * const engine = new Engine({ path: "/engine.io" });
 * engine.on("connection", (socket) => socket.on("message", (data) => socket.write(data)));
 * // A fetch handler for polling clients (a WebSocket needs the runtime's upgrader: see `upgrade`).
 * const fetchHandler = async (request: Request): Promise<Response> => {
 *   const answer = await engine.handle(fromWebRequest(request));
 *   return answer ? toWebResponse(answer) : new Response(null, { status: 500 });
 * };
 * ```
 */
export class Engine extends Emitter<EngineEvents> {
  /** The options, with defaults applied. */
  readonly options: ResolvedEngineOptions;
  /** Open sessions by id. */
  readonly clients: Map<string, EngineSocket> = new Map();
  /** The middlewares of {@linkcode Engine.use}. */
  #middlewares: EngineMiddleware[] = [];

  /** The options as given, for {@linkcode Engine._configure}. */
  #given: EngineOptions;

  /**
   * The smallest polling answer compressed (`httpCompression`); `undefined`: none, also where the
   * platform compresses HTTP answers itself (Workers).
   */
  readonly #compressFrom: number | undefined;

  /** Creates an engine; it serves nothing until requests are passed to {@linkcode Engine.handle}. */
  constructor(options: EngineOptions = {}) {
    super();
    this.#given = { ...options };
    this.options = resolveEngineOptions(options);
    const compression = this.options.httpCompression;
    this.#compressFrom = compression === false || platformCompressesHttp() ? undefined : compression.threshold;
  }

  /**
   * @internal Changes options after construction (`attach`'s options, `io.path(v)`): resolved
   * again, in place (sessions share the object, and read it as they go).
   */
  _configure(options: EngineOptions): void {
    Object.assign(this.#given, options);
    Object.assign(this.options, resolveEngineOptions(this.#given));
  }

  /**
   * Adds a middleware that runs before every request the engine handles (polls, posts, WebSocket
   * handshakes), as engine.io's `use`: connect-style `(req, res, next)`, so Express middlewares
   * work on Node's HTTP server (`req` is the `IncomingMessage`, `res` its `ServerResponse`). On web
   * runtimes `req` is the web `Request` and `res` a {@linkcode MiddlewareResponse} over the
   * answer's headers. `next(err)` refuses the request (400); a middleware may also answer it
   * itself (`res.writeHead(401); res.end()`).
   *
   * @example
   * ```ts
   * import { Engine } from "./server.ts";
   * const engine = new Engine();
   * engine.use((req, res, next) => {
   *   res.setHeader("X-Powered-By", "sockets");
   *   next();
   * });
   * ```
   */
  use(middleware: EngineMiddleware): this {
    this.#middlewares.push(middleware);
    return this;
  }

  /** Whether the engine's `flush` and `drain` have listeners (then every session forwards its own). */
  #forwarding = false;

  /**
   * Adds a listener. The first listener of `flush` or `drain` makes every session forward its own
   * (as engine.io's server emits them); until then sessions skip those events.
   */
  override on<E extends keyof EngineEvents & string>(event: E, listener: EngineEvents[E]): this {
    if ((event === "flush" || event === "drain") && !this.#forwarding) {
      this.#forwarding = true;
      for (const session of this.clients.values()) this.#forward(session);
    }
    return super.on(event, listener);
  }

  /** How many sessions are open. */
  get clientsCount(): number {
    return this.clients.size;
  }

  /**
   * Sends the pings that are due and closes the sessions whose pong is missing, now, as the
   * engine's timer does. For hosts whose timers run late while they are busy: workerd fires a
   * Durable Object's timers only when its event loop is idle, so the Durable Object host calls
   * this for every request and frame it handles.
   *
   * @example
   * ```ts
   * import { Engine } from "./server.ts";
   * const engine = new Engine();
   * engine.runDueHeartbeats(); // nothing is due: no session yet
   * ```
   */
  runDueHeartbeats(): void {
    EngineSocket.runDueHeartbeats(this.options);
  }

  /**
   * Whether a URL path belongs to this engine: the path itself, `path/`, and everything under it
   * (`/socket.io/anything`, as socket.io's engine takes it; what is not a valid Engine.IO request
   * there gets its error answer).
   */
  matches(pathname: string): boolean {
    const path = this.options.path;
    if (path === "/") return true;
    return pathname.startsWith(path) &&
      (pathname.length === path.length || pathname.charCodeAt(path.length) === 47 /* "/" */);
  }

  /**
   * Answers one request for this engine's path (the caller routed it here). Resolves to
   * `undefined` only when the runtime's upgrader answered by itself (Bun, Node). `options.fallback`
   * is not used: every request given to the engine gets its answer.
   */
  handle(request: EngineRequest, options?: HandleOptions): Promise<EngineResponse | undefined> {
    try {
      const url = parseRequestTarget(request.url);
      if (url === null) return Promise.resolve(badUrlResponse(request.url));
      return this._handleUrl(request, url, options);
    } catch (err) {
      return Promise.reject(err); // as from an async function: every failure is a rejection
    }
  }

  /**
   * @internal {@linkcode Engine.handle} for a request whose URL the caller parsed already (`io.handle`
   * routes by its path): one parse per request.
   */
  async _handleUrl(
    request: EngineRequest,
    url: RequestTarget,
    options?: HandleOptions,
  ): Promise<EngineResponse | undefined> {
    const upgrade = options?.upgrade;
    const headers = new Headers();
    const method = request.method;
    try {
      if (method === "OPTIONS" && this.options.cors) {
        await applyCors(this.options.cors, request, headers, true);
        this.options.onHeaders?.(headers, request.toRequest());
        return { status: this.options.cors.optionsSuccessStatus ?? 204, headers, body: null };
      }
      if (this.options.cors) await applyCors(this.options.cors, request, headers, false);
      this.options.onHeaders?.(headers, request.toRequest());
    } catch (err) {
      return this.#refuse(request, headers, new Refusal(EngineErrorCode.BAD_REQUEST, { cors: String(err) }));
    }

    const query = url.searchParams;
    // Where the runtime has no response object before the answer (web runtimes, WebSocket
    // handshakes on Node), the middlewares' `res`; engine.io calls its writeHead() before upgrading.
    let middlewareResponse: MiddlewareResponse | undefined;
    if (this.#middlewares.length > 0) {
      const nativeResponse = request.nativeResponse as object | undefined;
      const res = nativeResponse ?? (middlewareResponse = new MiddlewareResponse(headers));
      const outcome = await runMiddlewares(this.#middlewares, userRequest(request, query), res);
      if (outcome === "answered" || answered(res)) {
        if (middlewareResponse !== undefined) return middlewareResponse.toEngineResponse();
        // A middleware that sent the head then failed: end what it started.
        if (!(res as { writableEnded?: boolean }).writableEnded) (res as { end?(): void }).end?.();
        return undefined;
      }
      if (outcome !== undefined) {
        return this.#refuse(
          request,
          headers,
          new Refusal(EngineErrorCode.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE", error: String(outcome) }),
        );
      }
    }

    const transport = query.get("transport");
    const sid = query.get("sid");
    // Read only for a WebSocket request: a header lookup less on every poll.
    const isUpgrade = transport === "websocket" && request.header("upgrade")?.toLowerCase() === "websocket";

    if (transport !== "polling" && transport !== "websocket" || !this.options.transports.includes(transport)) {
      return this.#refuse(request, headers, new Refusal(EngineErrorCode.UNKNOWN_TRANSPORT, { transport }));
    }

    if (
      transport === "websocket" && this.options.checkWebSocketOrigin &&
      !(await isWebSocketOriginAllowed(this.options.cors, request))
    ) {
      return this.#refuse(
        request,
        headers,
        new Refusal(EngineErrorCode.FORBIDDEN, { name: "WEBSOCKET_ORIGIN", origin: request.header("origin") }),
      );
    }

    if (sid !== null) {
      const session = this.clients.get(sid);
      if (session === undefined) {
        return this.#refuse(request, headers, new Refusal(EngineErrorCode.UNKNOWN_SID, { sid }));
      }
      if (isProtocolMismatch(query, session.protocol)) {
        return this.#refuse(
          request,
          headers,
          new Refusal(EngineErrorCode.BAD_REQUEST, { name: "PROTOCOL_MISMATCH", sid, protocol: session.protocol }),
        );
      }
      if (transport === "websocket") {
        if (
          !isUpgrade || !upgrade || session.transportName !== "polling" || session.upgrading ||
          !this.options.allowUpgrades
        ) {
          return this.#refuse(
            request,
            headers,
            new Refusal(EngineErrorCode.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", sid }),
          );
        }
        const v3 = session.protocol === 3 ? v3FramingOf(query) : undefined;
        middlewareResponse?.writeHead();
        this.#emitHeaders(headers, request, query, false);
        return upgrade(request, new Engine.#Upgrade(this, session, v3), headers);
      }
      if (session.transportName !== "polling") {
        return this.#refuse(
          request,
          headers,
          new Refusal(EngineErrorCode.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", sid }),
        );
      }
      const polling = session.transport as PollingTransport;
      if (method === "GET" || method === "POST") this.#emitHeaders(headers, request, query, false);
      if (method === "GET") return polling.handleGet(request, headers);
      if (method === "POST") return polling.handlePost(request, headers);
      return this.#refuse(request, headers, new Refusal(EngineErrorCode.BAD_REQUEST, { method }));
    }

    // A new session.
    if (this.#closing) {
      return this.#refuse(request, headers, new Refusal(EngineErrorCode.BAD_REQUEST, { name: "SERVER_CLOSING" }));
    }
    if (method !== "GET") {
      return this.#refuse(request, headers, new Refusal(EngineErrorCode.BAD_HANDSHAKE_METHOD, { method }));
    }
    if (transport === "websocket" && (!isUpgrade || !upgrade)) {
      return this.#refuse(
        request,
        headers,
        new Refusal(EngineErrorCode.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" }),
      );
    }
    if (this.options.allowRequest) {
      const refusal = await this.#checkAllowRequest(request);
      if (refusal) return this.#refuse(request, headers, refusal);
    }
    const protocol = requestedProtocol(query, this.options.allowEIO3);
    if (protocol === null) {
      return this.#refuse(
        request,
        headers,
        new Refusal(EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol: query.get("EIO") }),
      );
    }
    const v3 = protocol === 3 ? v3FramingOf(query) : undefined;

    let id: string;
    try {
      id = this.options.generateId ? await this.options.generateId(request.toRequest()) : randomId();
    } catch (err) {
      return this.#refuse(
        request,
        headers,
        new Refusal(EngineErrorCode.BAD_REQUEST, { name: "ID_GENERATION_ERROR", error: String(err) }),
      );
    }
    const handshake = toHandshakeRequest(request);

    // Node's request is kept whole only where engine middlewares may have set things on it.
    const nativeRequest = keptRequest(request.native, this.#middlewares.length > 0);
    if (transport === "websocket") {
      middlewareResponse?.writeHead();
      this.#emitHeaders(headers, request, query, true);
      return upgrade!(request, new Engine.#NewSession(this, id, handshake, protocol, v3, nativeRequest), headers);
    }

    if (this.options.cookie) headers.append("Set-Cookie", serializeCookie(this.options.cookie, id));
    this.options.onInitialHeaders?.(headers, request.toRequest());
    this.#emitHeaders(headers, request, query, true);
    const polling = new PollingTransport(
      this.options.maxHttpBufferSize,
      this.options.pingInterval + this.options.pingTimeout,
      v3,
      this.#compressFrom,
    );
    const session = this.#register(new EngineSocket(id, handshake, polling, this.options, protocol));
    session.nativeRequest = nativeRequest;
    const response = polling.handleGet(request, headers);
    session.open();
    emitIsolated(this, "connection", connectionListenerFailed, session);
    return response;
  }

  /**
   * The open WebSocket session `sid` as plain, structured-clonable data, to bring it back later
   * over the same WebSocket with {@linkcode Engine.restoreSession} (in this engine after a restart,
   * or in another). `undefined` when there is no such session, or it cannot be carried on: closing,
   * on polling, or in the middle of an upgrade (a poll in flight cannot be handed over).
   *
   * @example
   * ```ts
   * import { Engine } from "./server.ts";
   * const engine = new Engine();
   * engine.snapshotSession("no-such-sid"); // undefined
   * ```
   */
  snapshotSession(sid: string, options: SessionSnapshotOptions = {}): SessionSnapshot | undefined {
    const session = this.clients.get(sid);
    if (session === undefined || session.readyState !== "open" || session.upgrading) return undefined;
    const transport = session.transport;
    if (!(transport instanceof WebSocketTransport) || !transport.writable) return undefined;
    const snapshot: SessionSnapshot = {
      v: SESSION_SNAPSHOT_VERSION,
      sid,
      protocol: session.protocol,
      upgraded: session.upgraded,
      request: snapshotRequest(session.request, options.headers !== false),
    };
    if (transport.v3 !== undefined) snapshot.binary = transport.v3.binary;
    return snapshot;
  }

  /**
   * Brings back a session from its {@linkcode Engine.snapshotSession} snapshot over its WebSocket
   * `socket` (still connected to the same client): open at once, with no open packet (its client
   * has had it), in `clients`; no `connection` event (the session is not new). The runtime then
   * forwards the WebSocket's events to the returned `handlers`.
   *
   * The snapshot is checked first: one that is malformed, of another version, or for a session
   * that is open already (a forged or repeated one), or while the engine is closing, is refused
   * with a log line and `undefined`; the caller then closes `socket`.
   *
   * @example
   * ```ts
   * import { Engine } from "./server.ts";
   * import type { WebSocketLike } from "./websocket_like.ts";
   * const engine = new Engine();
   * const socket: WebSocketLike = { send() {}, close() {} };
   * engine.restoreSession({ v: 1, sid: 42 }, socket); // undefined, and a log line
   * ```
   */
  restoreSession(
    snapshot: unknown,
    socket: WebSocketLike,
    options: RestoreSessionOptions = {},
  ): RestoredSession | undefined {
    const checked = readSessionSnapshot(snapshot);
    const refused = typeof checked === "string"
      ? checked
      : this.#closing
      ? "The engine is closing"
      : this.clients.has(checked.sid)
      ? "Its session is open already"
      : undefined;
    if (refused !== undefined) {
      console.warn(`[engine.io] refused a session snapshot: ${refused}`);
      return undefined;
    }
    const snap = checked as SessionSnapshot;
    const v3 = snap.protocol === 3 ? { binary: snap.binary !== false } : undefined;
    this.#noteFanOut(socket);
    const transport = new WebSocketTransport(socket, this.options.maxHttpBufferSize, v3);
    const { url, headers, method, address, secure } = snap.request;
    const request = new SessionRequest(url, { ...headers }, method, address, secure);
    const session = this.#register(new EngineSocket(snap.sid, request, transport, this.options, snap.protocol));
    session.resume(snap.upgraded, options.externalHeartbeat === true);
    debug("session %s restored from a snapshot", snap.sid);
    return { session, handlers: new RestoredHandlers(transport) };
  }

  /** The runtimes' native fan-outs met on the sessions' WebSockets (Bun's: one per server). */
  #publishers: Set<TopicPublisher> = new Set();

  /**
   * Whether a runtime offered native fan-out on any of this engine's WebSockets: then
   * {@linkcode EngineSocket.subscribe} may take sessions into topics, and
   * {@linkcode Engine.publish} reaches them.
   */
  get hasFanOut(): boolean {
    return this.#publishers.size > 0;
  }

  /** Takes note of the native fan-out `socket`'s runtime offers, if any. */
  #noteFanOut(socket: WebSocketLike): void {
    const publisher = socket.publisher;
    if (publisher !== undefined) this.#publishers.add(publisher);
  }

  /**
   * Native fan-out: sends `messages` (Engine.IO messages: text, or binary) to every session
   * subscribed to `topic` (see {@linkcode EngineSocket.subscribe}), each framed once and handed to
   * the runtime once, whatever the number of sessions. Nothing where no runtime offers native
   * fan-out: the caller writes to the sessions that `subscribe` refused. `compress: false` keeps the
   * frames uncompressed (permessage-deflate). `except`: every subscriber but that session (the
   * sender of `socket.broadcast.emit`), published from its own WebSocket where the runtime skips
   * the publishing socket (Bun's `ws.publish`); or but those sessions (`except(room)`, the members
   * of several rooms already reached through another topic), which leave the topic for the publish
   * and take it again right after, exactly those that were subscribed (the publish is synchronous:
   * nothing else sees the gap).
   *
   * @example
   * ```ts
   * import { Engine } from "./server.ts";
   * const engine = new Engine();
   * // To every session: one publish for those a runtime's topics reach (Bun), a write to the others.
   * function broadcast(message: string): void {
   *   let published = false;
   *   for (const session of engine.clients.values()) {
   *     if (session.subscribe("everyone")) published = true;
   *     else session.write(message);
   *   }
   *   if (published) engine.publish("everyone", [message]);
   * }
   * ```
   */
  publish(
    topic: string,
    messages: ReadonlyArray<string | Uint8Array>,
    options?: { compress?: boolean; except?: EngineSocket | ReadonlyArray<EngineSocket> },
  ): void {
    const compress = options?.compress === false ? false : undefined;
    const except = options?.except;
    // Everyone but one session: its own WebSocket publishes (the runtime skips it). Those that
    // cannot, and several sessions, leave the topic for this publish.
    let own: WebSocketLike | undefined;
    let takenOut: EngineSocket[] | undefined;
    if (except !== undefined) {
      const one = except instanceof EngineSocket ? except : except.length === 1 ? except[0] : undefined;
      if (one !== undefined) {
        own = one.writable ? one.webSocket : undefined;
        if (own?.publishToOthers === undefined || own.publisher === undefined) {
          own = undefined;
          if (one.unsubscribe(topic)) takenOut = [one];
        }
      } else {
        for (const session of except as ReadonlyArray<EngineSocket>) {
          if (session.unsubscribe(topic)) (takenOut ??= []).push(session);
        }
      }
    }
    try {
      for (const publisher of this.#publishers) {
        const fromOwn = own !== undefined && own.publisher === publisher;
        for (let i = 0; i < messages.length; i++) {
          const message = messages[i];
          const frame = typeof message === "string" ? "4" + message : message;
          if (fromOwn) own!.publishToOthers!(topic, frame, compress);
          else publisher.publish(topic, frame, compress);
        }
      }
    } finally {
      if (takenOut !== undefined) { for (const session of takenOut) session.resubscribe(topic); }
    }
  }

  async #checkAllowRequest(request: EngineRequest): Promise<Refusal | null> {
    try {
      const verdict = await new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
        const result = this.options.allowRequest!(request.toRequest(), (err, success) => {
          resolve({ ok: !err && success === true, message: err || undefined });
        });
        if (result !== undefined) {
          Promise.resolve(result).then((ok) => resolve({ ok: ok === true }), reject);
        }
      });
      if (verdict.ok) return null;
      return new Refusal(
        EngineErrorCode.FORBIDDEN,
        { name: "ALLOW_REQUEST" },
        verdict.message ?? ENGINE_ERROR_MESSAGES[EngineErrorCode.FORBIDDEN],
      );
    } catch (err) {
      return new Refusal(EngineErrorCode.FORBIDDEN, { name: "ALLOW_REQUEST", error: String(err) });
    }
  }

  #register(session: EngineSocket): EngineSocket {
    this.clients.set(session.id, session);
    debug("session %s opened over %s (%d open)", session.id, session.transportName, this.clients.size);
    // One function per engine, not a closure per session (called with the session as `this`).
    session._onClosed(this.#sessionClosed);
    if (this.#forwarding) this.#forward(session);
    return session;
  }

  /** Makes `session` emit its `flush` and `drain` on the engine too. */
  #forward(session: EngineSocket): void {
    session.on("flush", this.#sessionFlushed);
    session.on("drain", this.#sessionDrained);
  }

  readonly #sessionFlushed = forwarder(this, "flush");
  readonly #sessionDrained = forwarder(this, "drain");

  readonly #sessionClosed = (() => {
    const clients = this.clients;
    return function (this: EngineSocket, reason: string, description?: unknown): void {
      clients.delete(this.id);
      debug("session %s closed: %s %s", this.id, reason, description === undefined ? "" : String(description));
    };
  })();

  /** Handlers of a WebSocket that upgrades a polling session. */
  static #Upgrade = class UpgradeHandlers extends SocketHandlers {
    readonly #engine: Engine;
    readonly #session: EngineSocket;
    readonly #v3: V3Framing | undefined;
    constructor(engine: Engine, session: EngineSocket, v3: V3Framing | undefined) {
      super();
      this.#engine = engine;
      this.#session = session;
      this.#v3 = v3;
    }
    onOpen(socket: WebSocketLike): void {
      const engine = this.#engine;
      engine.#noteFanOut(socket);
      const transport = this.transport = new WebSocketTransport(socket, engine.options.maxHttpBufferSize, this.#v3);
      const session = this.#session;
      if (session.readyState !== "open" || session.upgrading || session.transportName !== "polling") {
        transport.close();
        return;
      }
      session.startUpgrade(transport);
    }
  };

  /**
   * Handlers of a WebSocket that opens a new session: one object, methods on the prototype. They
   * live as long as the WebSocket; what opening needs is in an object of its own, let go once open.
   */
  static #NewSession = class NewSessionHandlers extends SocketHandlers {
    #opening: {
      engine: Engine;
      id: string;
      handshake: HandshakeRequest;
      protocol: EngineProtocol;
      v3: V3Framing | undefined;
      nativeRequest: unknown;
    } | null;
    constructor(
      engine: Engine,
      id: string,
      handshake: HandshakeRequest,
      protocol: EngineProtocol,
      v3: V3Framing | undefined,
      nativeRequest: unknown,
    ) {
      super();
      this.#opening = { engine, id, handshake, protocol, v3, nativeRequest };
    }
    onOpen(socket: WebSocketLike): void {
      const opening = this.#opening;
      if (opening === null) return;
      this.#opening = null;
      const engine = opening.engine;
      if (engine.#closing) {
        socket.close(1001, "server shutting down");
        return;
      }
      engine.#noteFanOut(socket);
      const transport = this.transport = new WebSocketTransport(socket, engine.options.maxHttpBufferSize, opening.v3);
      const session = engine.#register(
        new EngineSocket(opening.id, opening.handshake, transport, engine.options, opening.protocol),
      );
      session.nativeRequest = opening.nativeRequest;
      session.open();
      emitIsolated(engine, "connection", connectionListenerFailed, session);
    }
  };

  #refuse(request: EngineRequest, headers: Headers, refusal: Refusal): EngineResponse {
    if (debug.enabled) {
      const url = URL.parse(request.url) ?? new URL("http://invalid/");
      debug(
        "refused %s %s%s: code %d (%s) %o",
        request.method,
        url.pathname,
        url.search,
        refusal.code,
        refusal.message,
        refusal.context,
      );
    }
    if (this.hasListeners("connection_error")) {
      const query = parseRequestTarget(request.url)?.searchParams ?? new URLSearchParams();
      emitIsolated(this, "connection_error", connectionListenerFailed, {
        req: userRequest(request, query),
        request: request.toRequest(),
        code: refusal.code,
        message: refusal.message,
        context: refusal.context,
      });
    }
    return errorResponse(refusal.code, headers, refusal.message);
  }

  /**
   * Tells the `initial_headers` (a new session) and `headers` listeners about an answer's
   * headers, as a plain object they edit, then puts what they made of it on the answer.
   */
  #emitHeaders(headers: Headers, request: EngineRequest, query: QueryParams, initial: boolean): void {
    if (!this.hasListeners("headers") && !(initial && this.hasListeners("initial_headers"))) return;
    const record = headersObject(headers);
    const req = userRequest(request, query);
    if (initial) emitIsolated(this, "initial_headers", connectionListenerFailed, record, req);
    emitIsolated(this, "headers", connectionListenerFailed, record, req);
    applyHeadersObject(headers, record);
  }

  #closing = false;

  /**
   * Closes every session: what is buffered is flushed and clients receive the close (a close packet
   * on polling, a close frame on WebSocket). Sessions whose client has not collected it within
   * `graceMs` (a polling client between two polls) are then closed at once. Resolves when no
   * session is left. New sessions are refused from the start.
   */
  async close(graceMs = 1000): Promise<void> {
    this.#closing = true;
    const sessions = [...this.clients.values()];
    if (sessions.length === 0) return;
    const closed = sessions.map((session) =>
      new Promise<void>((resolve) => {
        if (session.readyState === "closed") resolve();
        else session.once("close", () => resolve());
      })
    );
    for (const session of sessions) session.close();
    await atMost(Promise.all(closed), graceMs);
    for (const session of [...this.clients.values()]) session.terminate("server shutting down");
  }

  /** Whether {@linkcode Engine.close} was called. */
  get closing(): boolean {
    return this.#closing;
  }
}

/**
 * A session listener (shared by the engine's sessions, called with the session as `this`) that
 * emits the session's `flush` or `drain` on `engine`, with the session first.
 */
function forwarder(engine: Engine, event: "flush" | "drain"): (this: EngineSocket, packets?: ObservedPacket[]) => void {
  return function (this: EngineSocket, packets?: ObservedPacket[]): void {
    if (event === "flush") emitIsolated(engine, "flush", connectionListenerFailed, this, packets!);
    else emitIsolated(engine, "drain", connectionListenerFailed, this);
  };
}

/**
 * The request that user code written for engine.io gets (middlewares, header events,
 * `connection_error`): the runtime's own (Node's `IncomingMessage`, the web `Request`), with
 * engine.io's `_query` (the query parameters) set on it.
 */
function userRequest(request: EngineRequest, query: QueryParams): object {
  const native = request.native;
  const req = (typeof native === "object" && native !== null ? native : request.toRequest()) as { _query?: unknown };
  if (req._query === undefined) {
    try {
      req._query = Object.fromEntries(query);
    } catch {
      // A frozen request object: no `_query`.
    }
  }
  return req;
}

/**
 * What a session keeps of the runtime's own request for `socket.request`: Node's
 * `IncomingMessage` itself when `whole` (engine middlewares ran on it), else a mark that one is to
 * be described from the handshake when asked (see `EngineSocket.nativeRequest`: keeping it costs
 * 1.25 KB per idle WebSocket connection); nothing on web runtimes.
 */
function keptRequest(native: unknown, whole: boolean): unknown {
  if (typeof native !== "object" || native === null || native instanceof Request) return undefined;
  return whole ? native : NODE_SHAPED;
}

/** `headers` as engine.io's header events give them: a plain object, `set-cookie` as a list. */
function headersObject(headers: Headers): HeadersObject {
  const record: HeadersObject = {};
  headers.forEach((value, name) => {
    if (name !== "set-cookie") record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record["set-cookie"] = cookies;
  return record;
}

/** Puts what header listeners made of `record` back on `headers`. */
function applyHeadersObject(headers: Headers, record: HeadersObject): void {
  const names = new Set<string>();
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    names.add(lower);
    try {
      if (Array.isArray(value)) {
        headers.delete(lower);
        for (const v of value) headers.append(lower, String(v));
      } else if (headers.get(lower) !== String(value)) headers.set(lower, String(value));
    } catch (err) {
      console.error(`[engine.io] a header listener set an invalid header "${name}":`, err);
    }
  }
  for (const name of [...headers.keys()]) if (!names.has(name)) headers.delete(name);
}

/** A URL whose scheme is `https` or `wss` (schemes are case-insensitive). */
const SECURE_SCHEME = /^(?:https|wss):/i;

function toHandshakeRequest(request: EngineRequest): HandshakeRequest {
  const proto = request.header("x-forwarded-proto");
  const secure = SECURE_SCHEME.test(request.url) || proto === "https";
  // Copied out of the request: some runtimes (Deno) release it once the upgrade response is sent.
  return SessionRequest.from(request, secure);
}

function snapshotRequest(request: HandshakeRequest, withHeaders: boolean): SnapshotRequest {
  const session = request instanceof SessionRequest ? request : undefined;
  const headers = !withHeaders
    ? {}
    : session
    ? { ...session.headerRecord }
    : Object.fromEntries(request.headers) as Record<string, string>;
  return {
    url: session ? session.href : request.url.href,
    method: request.method,
    headers,
    address: request.remoteAddress,
    secure: request.secure,
  };
}

/** A "connection" or "connection_error" listener threw: logged; the other listeners still run. */
function connectionListenerFailed(err: unknown, event: string): void {
  console.error(`[engine.io] error in a "${event}" listener:`, err);
}
