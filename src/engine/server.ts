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
import {
  badUrlResponse,
  ENGINE_ERROR_MESSAGES,
  type EngineConnectionError,
  EngineErrorCode,
  errorResponse,
} from "./errors.ts";
import { randomId } from "./ids.ts";
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions, serializeCookie } from "./options.ts";
import { EngineSocket } from "./socket.ts";
import { createDebug } from "../util/debug.ts";
import { PollingTransport } from "./transports/polling.ts";
import { WebSocketTransport } from "./transports/websocket.ts";
import type { HandshakeRequest } from "./types.ts";
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

/** Events of the engine. */
export interface EngineEvents {
  /** A session opened. */
  connection: (socket: EngineSocket) => void;
  /** A request was refused. */
  connection_error: (error: EngineConnectionError) => void;
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

  /**
   * The smallest polling answer compressed (`httpCompression`); `undefined`: none, also where the
   * platform compresses HTTP answers itself (Workers).
   */
  readonly #compressFrom: number | undefined;

  /** Creates an engine; it serves nothing until requests are passed to {@linkcode Engine.handle}. */
  constructor(options: EngineOptions = {}) {
    super();
    this.options = resolveEngineOptions(options);
    const compression = this.options.httpCompression;
    this.#compressFrom = compression === false || platformCompressesHttp() ? undefined : compression.threshold;
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

  /** Whether a URL path belongs to this engine. */
  matches(pathname: string): boolean {
    const path = this.options.path;
    if (pathname === path) return true;
    return this.options.addTrailingSlash && pathname === path + "/";
  }

  /**
   * Answers one request for this engine's path (the caller routed it here). Resolves to
   * `undefined` only when the runtime's upgrader answered by itself (Bun, Node). `options.fallback`
   * is not used: every request given to the engine gets its answer.
   */
  async handle(request: EngineRequest, options?: HandleOptions): Promise<EngineResponse | undefined> {
    const url = URL.parse(request.url);
    if (url === null) return badUrlResponse(request.url);
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
    const transport = query.get("transport");
    const sid = query.get("sid");
    const isUpgrade = request.header("upgrade")?.toLowerCase() === "websocket";

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
        return upgrade(request, new Engine.#Upgrade(this, session, v3));
      }
      if (session.transportName !== "polling") {
        return this.#refuse(
          request,
          headers,
          new Refusal(EngineErrorCode.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", sid }),
        );
      }
      const polling = session.transport as PollingTransport;
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
    const handshake = toHandshakeRequest(request, url);

    if (transport === "websocket") {
      return upgrade!(request, new Engine.#NewSession(this, id, handshake, protocol, v3));
    }

    if (this.options.cookie) headers.append("Set-Cookie", serializeCookie(this.options.cookie, id));
    this.options.onInitialHeaders?.(headers, request.toRequest());
    const polling = new PollingTransport(
      this.options.maxHttpBufferSize,
      this.options.pingInterval + this.options.pingTimeout,
      v3,
      this.#compressFrom,
    );
    const session = this.#register(new EngineSocket(id, handshake, polling, this.options, protocol));
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
   * frames uncompressed (permessage-deflate).
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
  publish(topic: string, messages: ReadonlyArray<string | Uint8Array>, options?: { compress?: boolean }): void {
    const compress = options?.compress === false ? false : undefined;
    for (const publisher of this.#publishers) {
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        publisher.publish(topic, typeof message === "string" ? "4" + message : message, compress);
      }
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
    // One listener per engine, not a closure per session (the session removes its listeners once
    // closed, and calls them with itself as `this`).
    session.on("close", this.#sessionClosed);
    return session;
  }

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

  /** Handlers of a WebSocket that opens a new session: one object, methods on the prototype. */
  static #NewSession = class NewSessionHandlers extends SocketHandlers {
    readonly #engine: Engine;
    readonly #id: string;
    readonly #handshake: HandshakeRequest;
    readonly #protocol: EngineProtocol;
    readonly #v3: V3Framing | undefined;
    constructor(
      engine: Engine,
      id: string,
      handshake: HandshakeRequest,
      protocol: EngineProtocol,
      v3: V3Framing | undefined,
    ) {
      super();
      this.#engine = engine;
      this.#id = id;
      this.#handshake = handshake;
      this.#protocol = protocol;
      this.#v3 = v3;
    }
    onOpen(socket: WebSocketLike): void {
      const engine = this.#engine;
      if (engine.#closing) {
        socket.close(1001, "server shutting down");
        return;
      }
      engine.#noteFanOut(socket);
      const transport = this.transport = new WebSocketTransport(socket, engine.options.maxHttpBufferSize, this.#v3);
      const session = engine.#register(
        new EngineSocket(this.#id, this.#handshake, transport, engine.options, this.#protocol),
      );
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
      emitIsolated(this, "connection_error", connectionListenerFailed, {
        request: request.toRequest(),
        code: refusal.code,
        message: refusal.message,
        context: refusal.context,
      });
    }
    return errorResponse(refusal.code, headers, refusal.message);
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

function toHandshakeRequest(request: EngineRequest, url: URL): HandshakeRequest {
  const proto = request.header("x-forwarded-proto");
  const secure = url.protocol === "https:" || url.protocol === "wss:" || proto === "https";
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
