/**
 * Cloudflare Workers: a Durable Object that hosts one Socket.IO {@linkcode Server}, and the Worker
 * entry that routes `/socket.io/` to it. Every request of a session reaches the same object, so
 * long-polling works, and one object holds many clients and their rooms.
 *
 * With the WebSocket Hibernation API (the default) idle WebSocket clients do not keep the object in
 * memory:
 * - WebSockets are accepted with `state.acceptWebSocket`; their frames arrive through the object's
 *   `webSocketMessage` / `webSocketClose` / `webSocketError` methods.
 * - Heartbeat: Engine.IO v4 has the SERVER ping (Engine.IO v3 sessions, `allowEIO3`, have the
 *   client ping: their pings reach the object and are answered). WebSocket sessions leave the
 *   engine's timers (a pending timer keeps an object awake) for a schedule of their own: pings that
 *   are due go out whenever the object handles anything, and from an alarm set for the next one, so
 *   a busy object, whose alarm runs late, still pings on time; an alarm closes the sessions that
 *   did not answer within `pingTimeout` (a pong that waits behind the client's own frames is not
 *   missing: see `durable_object_heartbeat.ts`), and v3 sessions whose client stopped pinging.
 *   With `autoPong: true` the platform answers the pongs instead
 *   (`setWebSocketAutoResponse("3" -> "6")`: the client receives a no-op packet it ignores, which
 *   socket.io never sends, and the pong is not billed as a message);
 *   `getWebSocketAutoResponseTimestamp` tells when it came.
 * - Each WebSocket carries its connection's snapshot (`io.snapshotConnection`, kept with
 *   `serializeAttachment`): the session, the opening request, and per namespace the socket id,
 *   auth, handshake time, rooms and `socket.data`. After a wake-up `io.restoreConnection` brings
 *   the sessions, sockets and rooms back from it and emits `connection` again with
 *   `socket.recovered === true`, so listeners re-attach their handlers (skip welcome messages
 *   when `socket.recovered`). Snapshots are taken after every event the object handles, on room
 *   changes, and for every session at each heartbeat alarm.
 * - Polling sessions keep the engine's own timers: while a client polls, the object is awake.
 * - Not kept across hibernation: pending server-side acknowledgement callbacks, middlewares'
 *   side effects (restored sockets do not run them again), in-memory state of your own.
 *
 * @example
 * ```ts
 * import { defineSocketIoObject, type DurableObjectNamespaceLike, routeToSocketIo } from "./durable_object.ts";
 * export const SocketIoObject = defineSocketIoObject((io) => {
 *   io.on("connection", (socket) => socket.on("echo", (msg, ack) => ack(msg)));
 * });
 * export default {
 *   fetch: (request: Request, env: { IO: DurableObjectNamespaceLike }) =>
 *     routeToSocketIo(request, env.IO) ?? new Response("Not Found", { status: 404 }),
 * };
 * ```
 *
 * @module
 */

import { Server, type ServerOptions } from "../io/server.ts";
import type { EngineSocket } from "../engine/socket.ts";
import type { Upgrader, WebSocketHandlers, WebSocketLike } from "../engine/websocket_like.ts";
import type { ConnInfo, Fallback } from "../engine/exchange.ts";
import { fromWebFallback, toWebResponse, WebEngineRequest } from "../engine/web_exchange.ts";
import { workersUpgrader } from "./workers.ts";
import { HeartbeatMember, ObjectHeartbeat } from "./durable_object_heartbeat.ts";
import { durableObjectRecoveryAdapter, isRecoveryStorage } from "./durable_object_recovery.ts";

/**
 * The server a Durable Object hosts: the core one (`Server` of `server.ts` adds Node's `attach` and
 * `listen`, which a Worker has no use for). Type your setup function's `io` with it.
 */
export type { Server };

// ----- the workerd types we use, declared here (no @cloudflare/workers-types dependency) -----

/** A server-side WebSocket of workerd, with the hibernation extensions. */
export interface HibernatableWebSocket {
  /** Sends one frame. */
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
  /** Keeps a structured-clonable value with the socket across hibernation. */
  serializeAttachment(value: unknown): void;
  /** The value kept with {@linkcode HibernatableWebSocket.serializeAttachment}. */
  deserializeAttachment(): unknown;
  /** The WebSocket ready state. */
  readonly readyState: number;
}

/** What this module uses of a Durable Object's `state` (`ctx`). */
export interface DurableObjectStateLike {
  /** Accepts a WebSocket with the Hibernation API. */
  acceptWebSocket(ws: HibernatableWebSocket, tags?: string[]): void;
  /** The accepted WebSockets (also after a wake-up). */
  getWebSockets(tag?: string): HibernatableWebSocket[];
  /** Sets a request/response pair answered by the platform without waking the object. */
  setWebSocketAutoResponse?(pair?: unknown): void;
  /** When the platform last answered the auto-response for `ws`. */
  getWebSocketAutoResponseTimestamp?(ws: HibernatableWebSocket): Date | null;
  /** Transactional storage (alarms and the heartbeat bookkeeping). */
  storage: {
    get<T = unknown>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number | Date): Promise<void>;
    deleteAlarm(): Promise<void>;
  };
}

/** What {@linkcode routeToSocketIo} uses of a Durable Object namespace binding. */
export interface DurableObjectNamespaceLike {
  /** The id of the object called `name`. */
  idFromName(name: string): unknown;
  /** A stub for the object with `id`. */
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

type WebSocketPairCtor = new () => { 0: HibernatableWebSocket; 1: HibernatableWebSocket };
type RequestResponsePairCtor = new (request: string, response: string) => unknown;

// ----- options and public shapes -----

/** Options of {@linkcode defineSocketIoObject}: the server's, plus how the object hosts it. */
export interface SocketIoObjectOptions extends ServerOptions {
  /**
   * Use the WebSocket Hibernation API (default true): idle WebSocket clients do not keep the
   * object in memory. With false, WebSockets are `WebSocketPair`s accepted in memory and the
   * engine's own heartbeat runs.
   */
  hibernation?: boolean;
  /**
   * With hibernation: let the platform answer the clients' pongs (`3`) with a no-op packet (`6`)
   * without running the object (default false: pongs reach the object, the wire stays exactly
   * socket.io's). Clients ignore no-op packets; protocol test suites that expect nothing after a
   * pong do not.
   */
  autoPong?: boolean;
  /** Answers requests outside the server's path (default: 404). */
  fallback?: (request: Request) => Response | Promise<Response>;
  /**
   * With `connectionStateRecovery`: at most about this many packets kept per namespace in the
   * object's storage for clients to recover (default 1000; see `durable_object_recovery.ts`).
   */
  maxRecoveryPackets?: number;
}

/**
 * Sets up the server once per object instance (again after each wake-up from hibernation). It may
 * return a handler for the requests outside the server's path (it then wins over `fallback`).
 */
export type SocketIoObjectSetup = (
  io: Server,
  env: unknown,
  state: DurableObjectStateLike,
) => void | ((request: Request) => Response | Promise<Response>);

/** The Durable Object instance: workerd calls these methods. */
export interface SocketIoObject {
  /** The hosted server. */
  readonly io: Server;
  /** Serves one request of the server (polling, WebSocket upgrade). */
  fetch(request: Request): Promise<Response>;
  /** Hibernation API: a frame arrived on an accepted WebSocket. */
  webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): Promise<void>;
  /** Hibernation API: an accepted WebSocket closed. */
  webSocketClose(ws: HibernatableWebSocket, code: number, reason: string, wasClean: boolean): Promise<void>;
  /** Hibernation API: an accepted WebSocket failed. */
  webSocketError(ws: HibernatableWebSocket, error: unknown): Promise<void>;
  /** The heartbeat alarm. */
  alarm(): Promise<void>;
}

/** The class {@linkcode defineSocketIoObject} returns, to export from the Worker module. */
export type SocketIoObjectClass = new (state: DurableObjectStateLike, env: unknown) => SocketIoObject;

// ----- what the object keeps per WebSocket -----

interface Entry {
  ws: HibernatableWebSocket;
  handlers: WebSocketHandlers;
  session?: EngineSocket;
  /** Its place in the heartbeat, once its session is ours to ping. */
  member?: HeartbeatMember;
}

/** A workerd WebSocket as the engine sees it. */
function asWebSocketLike(ws: HibernatableWebSocket): WebSocketLike {
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch { /* already closed */ }
    },
  };
}

/**
 * The Durable Object hosting one Socket.IO server. Use {@linkcode defineSocketIoObject} to get a
 * class workerd can construct, or extend this one and call `super(state, env, setup, options)`.
 */
export class SocketIoDurableObject implements SocketIoObject {
  /** The hosted server. */
  readonly io: Server;
  #state: DurableObjectStateLike;
  #hibernation: boolean;
  #autoPong: boolean;
  #fallback: Fallback | undefined;
  #entries: Map<HibernatableWebSocket, Entry> = new Map();
  #byLike: WeakMap<WebSocketLike, Entry> = new WeakMap();
  #bySession: Map<string, Entry> = new Map();
  /** Sessions whose snapshot is to be written again. */
  #dirty: Set<string> = new Set();
  #restored = false;
  #beats: ObjectHeartbeat;
  /** When the alarm is set for (null: none; undefined: not known, after a wake-up). */
  #armedAt: number | null | undefined = undefined;
  /** An alarm being set from an event, for this time (Infinity: none). */
  #armingFor = Infinity;
  /** Counts alarm writes: only the latest one's result is kept as #armedAt. */
  #alarmWrites = 0;
  #alarmRunning = false;
  /** When the alarm last took every session's snapshot. */
  #snapshotAllAt = 0;

  /** Builds the server and runs `setup`; workerd constructs the object on first use and after each wake-up. */
  constructor(
    state: DurableObjectStateLike,
    env: unknown,
    setup: SocketIoObjectSetup,
    options: SocketIoObjectOptions = {},
  ) {
    const { hibernation = true, autoPong = false, fallback, maxRecoveryPackets, ...serverOptions } = options;
    this.#state = state;
    this.#hibernation = hibernation && typeof state.acceptWebSocket === "function";
    this.#autoPong = autoPong;
    // Connection state recovery that survives a restart of the object: kept in its storage.
    if (serverOptions.connectionStateRecovery && !serverOptions.adapter && isRecoveryStorage(state.storage)) {
      serverOptions.adapter = durableObjectRecoveryAdapter(state.storage, { maxPackets: maxRecoveryPackets });
    }
    this.io = new Server(serverOptions);
    this.#beats = new ObjectHeartbeat(this.io.engine.options);
    const handler = setup(this.io, env, state);
    const webFallback = typeof handler === "function" ? handler : fallback;
    this.#fallback = webFallback && fromWebFallback(webFallback);
    if (!this.#hibernation) return;
    const Pair = (globalThis as { WebSocketRequestResponsePair?: RequestResponsePairCtor })
      .WebSocketRequestResponsePair;
    if (autoPong && Pair && state.setWebSocketAutoResponse) {
      state.setWebSocketAutoResponse(new Pair("3", "6"));
    } else if (state.setWebSocketAutoResponse) {
      state.setWebSocketAutoResponse();
    }
    this.io.engine.on("connection", (session) => this.#onSession(session));
    // Room changes make a session's snapshot stale (also when another socket's handler made them).
    this.io.watchRooms((sid) => this.#dirty.add(sid));
  }

  /** Serves one request: the server's (polling, WebSocket upgrade, client bundle), others go to `fallback`. */
  async fetch(request: Request): Promise<Response> {
    this.#restoreAfterWakeUp();
    this.#beat();
    const info: ConnInfo = { remoteAddress: request.headers.get("cf-connecting-ip") ?? undefined };
    const upgrade = this.#hibernation ? this.#upgrade : workersUpgrader;
    const response = await this.io.handle(new WebEngineRequest(request, info), { upgrade, fallback: this.#fallback });
    this.#settleSoon(); // not awaited: a poll may carry a ping
    return response === undefined ? new Response(null, { status: 500 }) : toWebResponse(response);
  }

  /**
   * Hibernation API: a frame arrived. Handled at once, the snapshots after it, not awaited:
   * workerd hands this WebSocket its next frame (a pong, say) only once this one is done, and the
   * object's timers run late when it is busy.
   */
  webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      this.#frame(ws, message);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#settleSoon();
    return Promise.resolve();
  }

  #frame(ws: HibernatableWebSocket, message: string | ArrayBuffer): void {
    this.#restoreAfterWakeUp();
    const entry = this.#entries.get(ws);
    if (!entry) {
      asWebSocketLike(ws).close(1011, "unknown session");
      return;
    }
    const member = entry.member;
    // Liveness: a pong, or a ping from an Engine.IO v3 client (v3 has the client ping).
    const answer = message === "3" || (message === "2" && entry.session?.protocol === 3);
    if (member) this.#beats.heard(member, Date.now(), answer);
    if (!answer && entry.session) this.#dirty.add(entry.session.id);
    this.#beat();
    entry.handlers.onMessage(typeof message === "string" ? message : new Uint8Array(message));
  }

  /** Hibernation API: the peer closed. */
  async webSocketClose(ws: HibernatableWebSocket, code: number, reason: string, _wasClean: boolean): Promise<void> {
    this.#restoreAfterWakeUp();
    this.#beat();
    this.#closed(ws, code, reason);
    // Complete the closing handshake (newer compatibility dates do it already).
    asWebSocketLike(ws).close(code === 1005 || code === 1006 ? 1000 : code, reason);
    await this.#settle();
  }

  /** Hibernation API: the connection failed. */
  async webSocketError(ws: HibernatableWebSocket, _error: unknown): Promise<void> {
    this.#restoreAfterWakeUp();
    this.#beat();
    this.#closed(ws, 1006, "error");
    await this.#settle();
  }

  /** The heartbeat of hibernatable WebSocket sessions: pings that are due, and closes those without a pong. */
  async alarm(): Promise<void> {
    // While the alarm runs it owns the schedule: events handled meanwhile must not set alarms of
    // their own (during the handler `getAlarm()` answers null, and an alarm another event set
    // meanwhile can be lost). It sets the next one at its end.
    this.#alarmRunning = true;
    this.#armedAt = null; // this one is spent
    this.#alarmWrites++; // an event's write still under way no longer tells what is set
    let failure: { err: unknown } | undefined;
    try {
      this.#restoreAfterWakeUp();
      const now = Date.now();
      this.#beats.ping(now);
      this.#beats.check(now);
      // The heartbeat is a good time to take every snapshot (socket.data changed from elsewhere),
      // once per pingInterval.
      if (now - this.#snapshotAllAt >= this.io.engine.options.pingInterval) {
        this.#snapshotAllAt = now;
        for (const sid of this.#bySession.keys()) this.#dirty.add(sid);
      }
      await this.#settle();
    } catch (err) {
      // Not thrown on: the platform retries a failed alarm only after 2 s or more (then 4, 8, ...;
      // it gives up after six), and no session gets a ping meanwhile. The next one is set below.
      console.error("socket.io: error in the heartbeat alarm", err);
      failure = { err };
    } finally {
      this.#alarmRunning = false;
    }
    try {
      await this.#writeAlarm(this.#beats.nextAt);
    } catch (err) {
      console.error("socket.io: scheduling the heartbeat alarm failed", err);
      this.#armedAt = undefined;
      // Storage is failing and no alarm could be set: the platform's retry is the one left.
      if (this.#beats.size > 0) throw failure?.err ?? err;
    }
  }

  // ----- internals -----

  #upgrade: Upgrader = (_request, handlers, headers) => {
    const Pair = (globalThis as unknown as { WebSocketPair: WebSocketPairCtor }).WebSocketPair;
    const pair = new Pair();
    const client = pair[0];
    const server = pair[1];
    this.#state.acceptWebSocket(server);
    const like = asWebSocketLike(server);
    const entry: Entry = { ws: server, handlers };
    this.#entries.set(server, entry);
    this.#byLike.set(like, entry);
    queueMicrotask(() => handlers.onOpen(like));
    return new Response(null, { status: 101, webSocket: client, headers } as ResponseInit);
  };

  #onSession(session: EngineSocket): void {
    // The client waits for its first ping from its handshake on, whatever transport it is on then.
    const handshakeAt = Date.now();
    this.#takeHeartbeat(session, handshakeAt);
    session.on("upgrade", () => this.#takeHeartbeat(session, handshakeAt));
  }

  /**
   * A session whose WebSocket is one of our hibernatable ones (from its handshake, or since its
   * upgrade): the object takes over its heartbeat and keeps its snapshot with the WebSocket.
   */
  #takeHeartbeat(session: EngineSocket, handshakeAt: number): void {
    const ws = session.webSocket;
    const entry = ws && this.#byLike.get(ws);
    if (!entry) return;
    entry.session = session;
    session.useExternalHeartbeat();
    this.#bySession.set(session.id, entry);
    this.#dirty.add(session.id);
    // Its first ping is due pingInterval after the handshake: an upgraded session may be due now.
    this.#join(entry, handshakeAt + this.io.engine.options.pingInterval);
    session.once("close", () => {
      this.#bySession.delete(session.id);
      this.#entries.delete(entry.ws);
      this.#dirty.delete(session.id);
    });
  }

  /** Puts `entry`'s session in the heartbeat, its next ping due at `dueAt` (a v3 one: its client pings). */
  #join(entry: Entry, dueAt: number): void {
    const ws = entry.ws;
    const state = this.#state;
    const autoPongAt = this.#autoPong && state.getWebSocketAutoResponseTimestamp
      ? () => state.getWebSocketAutoResponseTimestamp!(ws)?.getTime() ?? 0
      : undefined;
    const member = new HeartbeatMember(
      {
        ping: () => ws.send("2"),
        timedOut: () => entry.session?.heartbeatTimedOut(),
        autoPongAt,
      },
      dueAt,
      entry.session?.protocol === 3,
    );
    entry.member = member;
    this.#beats.join(member, Date.now());
    entry.session?.once("close", () => this.#beats.leave(member));
    this.#ensureAlarm();
  }

  #closed(ws: HibernatableWebSocket, code: number, reason: string): void {
    const entry = this.#entries.get(ws);
    if (!entry) return;
    this.#entries.delete(ws);
    entry.handlers.onClose(code, reason);
  }

  /**
   * After a wake-up: every WebSocket still accepted carries its connection's snapshot; the core
   * brings back the sessions, sockets and rooms from them. A WebSocket without a usable one is
   * closed (its client connects again).
   */
  #restoreAfterWakeUp(): void {
    if (this.#restored || !this.#hibernation) return;
    this.#restored = true;
    for (const ws of this.#state.getWebSockets()) {
      if (this.#entries.has(ws)) continue;
      let snapshot: unknown;
      try {
        snapshot = ws.deserializeAttachment();
      } catch (err) {
        console.error("socket.io: reading a WebSocket's snapshot failed:", String(err));
      }
      if (snapshot === undefined || snapshot === null || !this.#restoreConnection(ws, snapshot)) {
        asWebSocketLike(ws).close(1011, "session lost");
      }
    }
  }

  /** One WebSocket's connection, back from its snapshot (false: refused, with a log line). */
  #restoreConnection(ws: HibernatableWebSocket, snapshot: unknown): boolean {
    const like = asWebSocketLike(ws);
    const restored = this.io.restoreConnection(snapshot, like, { externalHeartbeat: true });
    if (restored === undefined) return false;
    const { session, handlers } = restored;
    const entry: Entry = { ws, session, handlers };
    this.#entries.set(ws, entry);
    this.#byLike.set(like, entry);
    this.#bySession.set(session.id, entry);
    // Its snapshot is what it was restored from (the rooms it joined again changed nothing).
    this.#dirty.delete(session.id);
    session.once("close", () => {
      this.#bySession.delete(session.id);
      this.#entries.delete(ws);
      this.#dirty.delete(session.id);
    });
    // When its last ping went out is not known any more (nor whether it was answered: none is
    // awaited): pinged at once, which is never too late for the client.
    this.#join(entry, Date.now());
    return true;
  }

  /**
   * Pings that are due go out now, whatever the object is handling: a busy object's alarm and
   * timers run late (workerd fires them only when the object's event loop is idle). Those of the
   * engine's own heartbeat too (polling sessions, and all of them without hibernation).
   */
  #beat(): void {
    if (this.#beats.ping(Date.now())) this.#ensureAlarm();
    this.io.engine.runDueHeartbeats();
  }

  /**
   * Makes sure an alarm is set. Events never move one that is set: it comes no later than the next
   * round of pings (pings due meanwhile go out from the events), finds what is due, and sets the
   * next one; a pong check it comes after is only more lenient. Every alarm write holds the
   * object's outgoing messages until it is stored. Not while the alarm handler runs either: it
   * sets the next one itself.
   */
  #ensureAlarm(): void {
    if (this.#alarmRunning || this.#armingFor !== Infinity) return;
    const at = this.#beats.nextAt;
    if (at === Infinity) return; // an alarm left behind finds nothing to do and is deleted
    const armed = this.#armedAt;
    // An alarm long overdue is taken for lost and set again, or nothing would check the pongs.
    const { pingInterval, pingTimeout } = this.io.engine.options;
    if (typeof armed === "number" && armed > Date.now() - pingInterval - pingTimeout) return;
    this.#armingFor = at;
    this.#pending.push(
      this.#writeAlarm(at).then(() => {
        this.#armingFor = Infinity;
      }, (err) => {
        this.#armingFor = Infinity;
        this.#armedAt = undefined;
        console.error("socket.io: scheduling the heartbeat alarm failed", err);
      }),
    );
  }

  #pending: Promise<unknown>[] = [];

  /** Sets the alarm for `at` (none for Infinity), never at or before now. */
  async #writeAlarm(at: number): Promise<void> {
    const write = ++this.#alarmWrites;
    // Never at or before the current time: an alarm that the alarm handler sets to `Date.now()`
    // or earlier is stored by workerd but never fired (getAlarm() then answers a time in the past
    // for ever), and the heartbeat would stop for good.
    const when = at === Infinity ? null : Math.max(at, Date.now() + 1);
    if (when === null) await this.#state.storage.deleteAlarm();
    else await this.#state.storage.setAlarm(when);
    if (write === this.#alarmWrites) this.#armedAt = when;
  }

  #settling = false;
  #settleAgain = false;

  /**
   * {@linkcode #settle} without holding the event back (a pending timer keeps the object from
   * hibernating meanwhile); one at a time, again if events came meanwhile.
   */
  #settleSoon(): void {
    if (!this.#hibernation) return;
    if (this.#settling) {
      this.#settleAgain = true;
      return;
    }
    this.#settling = true;
    const run = async () => {
      do {
        this.#settleAgain = false;
        await this.#settle();
      } while (this.#settleAgain);
    };
    run().catch((err) => console.error("socket.io: writing the session snapshots failed", err))
      .finally(() => this.#settling = false);
  }

  /** Lets the event's synchronous consequences run, then writes the snapshots that changed. */
  async #settle(): Promise<void> {
    if (!this.#hibernation) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#beat(); // a session adopted meanwhile (an upgrade) may be due for its first ping
    this.#flush();
    while (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      await Promise.all(pending);
    }
  }

  /** Writes the snapshots that are stale. */
  #flush(): void {
    if (this.#dirty.size === 0) return;
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const sid of dirty) {
      const entry = this.#bySession.get(sid);
      if (entry?.session?.readyState === "open") this.#keepSnapshot(entry, sid);
    }
  }

  /** Keeps the snapshot of `sid`'s connection with its WebSocket, for the next wake-up. */
  #keepSnapshot(entry: Entry, sid: string): void {
    const snapshot = this.io.snapshotConnection(sid);
    if (snapshot === undefined) return;
    try {
      entry.ws.serializeAttachment(snapshot);
    } catch (err) {
      // Too large, or socket.data holds something structured clone refuses: keep the rest.
      console.error("socket.io: cannot keep this session's socket.data across hibernation:", String(err));
      try {
        entry.ws.serializeAttachment(this.io.snapshotConnection(sid, { headers: false, data: false }));
      } catch (err2) {
        console.error("socket.io: cannot keep this session across hibernation:", String(err2));
      }
    }
  }
}

/**
 * Returns a Durable Object class that hosts one Socket.IO server; export it from the Worker module
 * under the `class_name` of the binding in `wrangler.toml`.
 *
 * `setup` runs for every new instance: on first use and after each wake-up from hibernation, when
 * restored sockets come back through `connection` with `socket.recovered === true`.
 *
 * @example
 * ```ts
 * import { defineSocketIoObject } from "./durable_object.ts";
 * export const ChatRoom = defineSocketIoObject((io) => {
 *   io.on("connection", (socket) => {
 *     if (!socket.recovered) socket.join("lobby");
 *     socket.on("say", (text) => io.to("lobby").emit("said", text));
 *   });
 * }, { pingInterval: 25000 });
 * ```
 */
export function defineSocketIoObject(
  setup: SocketIoObjectSetup,
  options: SocketIoObjectOptions = {},
): SocketIoObjectClass {
  return class extends SocketIoDurableObject {
    constructor(state: DurableObjectStateLike, env: unknown) {
      super(state, env, setup, options);
    }
  };
}

/**
 * Forwards a request under `path` (default `/socket.io`) to the Durable Object called `name`;
 * `undefined` for other paths, so a Worker can chain its own routes with `??`.
 *
 * @example
 * ```ts
 * import { type DurableObjectNamespaceLike, routeToSocketIo } from "./durable_object.ts";
 * export default {
 *   fetch: (request: Request, env: { IO: DurableObjectNamespaceLike }) =>
 *     routeToSocketIo(request, env.IO) ?? new Response("hello"),
 * };
 * ```
 */
export function routeToSocketIo(
  request: Request,
  namespace: DurableObjectNamespaceLike,
  name: string = "default",
  path: string = "/socket.io",
): Promise<Response> | undefined {
  const { pathname } = new URL(request.url);
  if (pathname !== path && !pathname.startsWith(path + "/")) return undefined;
  return namespace.get(namespace.idFromName(name)).fetch(request);
}
