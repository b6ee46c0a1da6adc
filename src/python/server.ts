/**
 * python-socketio's server API on our server: handlers that take the client's `sid`, the
 * sid-addressed methods (`emit(..., { to, skipSid, callback })`, `call`, `enterRoom`,
 * `leaveRoom`, `closeRoom`, `rooms`, sessions, `disconnect`, `transport`, `getEnviron`),
 * class-based namespaces, `alwaysConnect`, catch-all `"*"` events and namespaces. It wraps a
 * socket.io {@linkcode Server} (`sio.io`), whose API keeps working beside it.
 *
 * @module
 */

import type { ServerOptions } from "../io/server.ts";
import { Server } from "../runtime/server.ts";
import type { ExtendedError, Namespace } from "../io/namespace.ts";
import type { DisconnectReason, Socket } from "../io/socket.ts";
import type { RequestHandler } from "../io/server.ts";
import { BroadcastOperator } from "../io/broadcast.ts";
import type { AnySocket } from "../io/adapter.ts";
import { reportListenerError } from "../io/_util.ts";
import { TimeoutError } from "../client/simple_client.ts";
import { findHandler, type Handler, type HandlerTable, NOT_HANDLED, setHandler } from "./_handlers.ts";
import { buildEnviron, type Environ } from "./environ.ts";
import { ConnectionRefusedError } from "./errors.ts";
import type { AsyncNamespace } from "./namespace.ts";
import { PubSubAdapter, type PubSubManager } from "./pubsub_manager.ts";
import { fromArgs, toArgs } from "./tuple.ts";

/**
 * Options of {@linkcode AsyncServer}: the socket.io server's, plus python-socketio's.
 *
 * @example
 * ```ts
 * import type { AsyncServerOptions } from "./server.ts";
 * const opts: AsyncServerOptions = { alwaysConnect: true, namespaces: "*", cors: { origin: "*" } };
 * ```
 */
export interface AsyncServerOptions extends ServerOptions {
  /**
   * Accept each connection before running the `connect` handler (python's `always_connect`); a
   * refusal then disconnects the client instead of failing its connection.
   */
  alwaysConnect?: boolean;
  /**
   * The namespaces clients may connect to besides those with handlers: a list (default `["/"]`),
   * or `"*"` for any.
   */
  namespaces?: string[] | "*";
  /** A python-compatible pub/sub manager: this server joins that python-socketio cluster. */
  clientManager?: PubSubManager;
  /** Wrap this socket.io server instead of making one (the socket.io options above are then ignored). */
  io?: Server;
}

/**
 * Options of {@linkcode AsyncServer.emit} (python's keyword arguments, in camelCase).
 *
 * @example
 * ```ts
 * import type { EmitOptions } from "./server.ts";
 * const opts: EmitOptions = { to: "lobby", skipSid: "Xh3kq9vU2pLr8AaBcDeF", namespace: "/chat" };
 * ```
 */
export interface EmitOptions {
  /** A socket id, a room, or several rooms (default: every client of the namespace). */
  to?: string | string[];
  /** Alias of `to`. */
  room?: string | string[];
  /** Socket ids to leave out (the sender, usually). */
  skipSid?: string | string[];
  /** The namespace (default `/`, or the class-based namespace's own). */
  namespace?: string;
  /** Called with each receiver's acknowledgement arguments (address one client with `to`). */
  callback?: (...args: unknown[]) => void;
  /** Only this server's clients, not the rest of the cluster (python's `ignore_queue`). */
  ignoreQueue?: boolean;
}

/**
 * Options of {@linkcode AsyncServer.call}.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "./server.ts";
 * const opts: CallOptions = { to: "Xh3kq9vU2pLr8AaBcDeF", timeout: 5000 };
 * ```
 */
export interface CallOptions {
  /** The socket id to ask. */
  to?: string;
  /** Alias of `to`. */
  sid?: string;
  /** The namespace (default `/`). */
  namespace?: string;
  /** Milliseconds to wait for the answer (default 60000, python's 60 s). */
  timeout?: number;
  /** Only a client of this server (python's `ignore_queue`). */
  ignoreQueue?: boolean;
}

/**
 * The disconnect reasons python-socketio passes to `disconnect` handlers.
 *
 * @example
 * ```ts
 * import type { PythonDisconnectReason } from "./server.ts";
 * const reason: PythonDisconnectReason = "client disconnect";
 * ```
 */
export type PythonDisconnectReason =
  | "server disconnect"
  | "client disconnect"
  | "ping timeout"
  | "transport close"
  | "transport error";

const SERVER_RESERVED: ReadonlySet<string> = new Set(["connect", "disconnect"]);
const REFUSED = "Connection rejected by server";

function pythonReason(reason: DisconnectReason | string): PythonDisconnectReason {
  switch (reason) {
    case "client namespace disconnect":
      return "client disconnect";
    case "ping timeout":
      return "ping timeout";
    case "transport close":
      return "transport close";
    case "transport error":
    case "parse error":
    case "transport full":
      return "transport error";
    default:
      return "server disconnect";
  }
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function key(namespace: string, sid: string): string {
  return namespace + "\u0000" + sid;
}

type Emitting = (event: string, ...args: unknown[]) => boolean;

/**
 * A socket.io server driven the python-socketio way: handlers receive the client's `sid` first,
 * return their acknowledgement, and the server is addressed by sid.
 *
 * Handlers (`on(event, handler, namespace)`):
 * - `connect`: `(sid, environ, auth)`; return `false` or throw {@linkcode ConnectionRefusedError}
 *   to refuse;
 * - `disconnect`: `(sid, reason)`;
 * - any other event: `(sid, ...args)`; the returned value answers the client's acknowledgement
 *   (a `tuple(...)` for several arguments);
 * - `"*"` as event: `(event, sid, ...args)` for events without their own handler; `"*"` as
 *   namespace: the namespace comes first (`(namespace, sid, ...)`, or `(event, namespace, sid,
 *   ...)` for both). As in python-socketio, a `"*"` namespace handler does not make other
 *   namespaces connectable: `namespaces: "*"` does.
 *
 * @example
 * ```ts
 * import { AsyncServer, type Environ, tuple } from "./mod.ts"; // "@sio/socket.io/python"
 * import { serve } from "../../server.ts"; // "@sio/socket.io/server"
 *
 * const sio = new AsyncServer({ cors: { origin: "*" } });
 * sio.on("connect", async (sid: string, environ: Environ, auth: { user?: string }) => {
 *   if (!auth?.user) return false;
 *   await sio.saveSession(sid, { user: auth.user });
 *   await sio.enterRoom(sid, "lobby");
 * });
 * sio.on("chat", async (sid: string, text: string) => {
 *   const { user } = await sio.getSession(sid);
 *   await sio.emit("chat", tuple(user, text), { to: "lobby", skipSid: sid });
 *   return "delivered";
 * });
 * await serve(sio.io, { port: 3000 });
 * ```
 */
export class AsyncServer {
  /** The socket.io server underneath (its whole API works beside this one). */
  readonly io: Server;
  /** Whether connections are accepted before the `connect` handler runs. */
  readonly alwaysConnect: boolean;
  /** The python-compatible pub/sub manager, if any. */
  readonly manager: PubSubManager | undefined;
  #namespaces: string[] | "*";
  #handlers: HandlerTable = new Map();
  #classes: Map<string, AsyncNamespace> = new Map();
  #bridged: WeakSet<Namespace> = new WeakSet();
  #seen: WeakSet<AnySocket> = new WeakSet();
  #accepted: WeakSet<AnySocket> = new WeakSet();
  #refused: WeakSet<AnySocket> = new WeakSet();
  #environs: WeakMap<AnySocket, Environ> = new WeakMap();
  /** Sockets whose `connect` handler runs (they may be addressed already, as in python-socketio). */
  #pending: Map<string, AnySocket> = new Map();

  /** Creates the server (or wraps `options.io`). */
  constructor(options: AsyncServerOptions = {}) {
    const { alwaysConnect, namespaces, clientManager, io, ...serverOptions } = options;
    this.alwaysConnect = alwaysConnect === true;
    this.#namespaces = namespaces ?? ["/"];
    this.manager = clientManager;
    if (io) {
      this.io = io;
      if (clientManager) io.adapter(clientManager.adapter);
    } else {
      this.io = new Server({ ...serverOptions, adapter: clientManager?.adapter ?? serverOptions.adapter });
    }
    this.#bridge(this.io.sockets);
    if (this.#namespaces === "*") {
      const parent = this.io.of((_name, _auth, next) => next(null, true));
      this.io.sockets.on("new_namespace", (nsp) => {
        if ((parent as unknown as { children: Set<Namespace> }).children.has(nsp)) this.#bridged.add(nsp);
      });
      this.#bridge(parent);
    } else {
      for (const name of this.#namespaces) this.#bridge(this.io.of(name));
    }
  }

  /** What a handler returns to send no acknowledgement (python's `sio.not_handled`). */
  get notHandled(): typeof NOT_HANDLED {
    return NOT_HANDLED;
  }

  /**
   * Registers `handler` for `event` in `namespace` (default `/`; `"*"` for any event or any
   * namespace, see the class documentation for the arguments).
   */
  on(event: string, handler: Handler, namespace = "/"): this {
    setHandler(this.#handlers, event, namespace, handler);
    if (namespace !== "*") this.#bridge(this.io.of(namespace));
    return this;
  }

  /**
   * Registers a named function for the event of its name (python's `@sio.event`).
   *
   * @example
   * ```ts
   * import { AsyncServer } from "./server.ts";
   * const sio = new AsyncServer();
   * sio.event(async function my_event(sid: string, data: unknown) { return data; });
   * ```
   */
  event(handler: Handler, namespace = "/"): this {
    if (!handler.name) throw new TypeError("sio.event() needs a named function");
    return this.on(handler.name, handler, namespace);
  }

  /** Registers a class-based namespace (python's `register_namespace`). */
  registerNamespace(namespace: AsyncNamespace): this {
    namespace._setServer(this);
    this.#classes.set(namespace.namespace, namespace);
    if (namespace.namespace !== "*") this.#bridge(this.io.of(namespace.namespace));
    return this;
  }

  /**
   * Emits `event` (python's `emit`): `data` is one argument (`undefined` or `null`: none), a
   * `tuple(...)` several. Without `to`, every client of the namespace receives it; with a pub/sub
   * manager, every server of the cluster delivers it. Resolves once sent.
   */
  async emit(event: string, data?: unknown, options: EmitOptions = {}): Promise<void> {
    const namespace = options.namespace ?? "/";
    const rooms = list(options.to ?? options.room);
    const skip = list(options.skipSid);
    const args = toArgs(data);
    if (options.callback) return this.#emitWithCallback(event, args, namespace, rooms, skip, options);
    if (rooms.length === 1 && skip.length === 0) {
      const pending = this.#pending.get(key(namespace, rooms[0]));
      if (pending) {
        (pending.emit as Emitting)(event, ...args);
        return;
      }
    }
    const nsp = this.io._nsps.get(namespace);
    if (!nsp) {
      // no such namespace here: the rest of the cluster may have one
      if (this.manager && !options.ignoreQueue) {
        await this.manager.emit(event, data, { to: rooms, skipSid: skip, namespace });
      }
      return;
    }
    const operator = new BroadcastOperator(nsp.adapter, new Set(rooms), new Set(skip), {
      local: options.ignoreQueue === true,
    });
    (operator.emit as Emitting)(event, ...args);
  }

  async #emitWithCallback(
    event: string,
    args: unknown[],
    namespace: string,
    rooms: string[],
    skip: string[],
    options: EmitOptions,
    timeout?: number,
  ): Promise<void> {
    const callback = options.callback!;
    const local = this.#localSockets(namespace, rooms, skip);
    for (const socket of local) {
      (socket.emit as Emitting)(event, ...args, (...answer: unknown[]) => callback(...answer));
    }
    // a socket here answers for itself; a room (or a socket elsewhere) may have members elsewhere
    const manager = this.#managerOf(namespace);
    const oneLocalSocket = rooms.length === 1 && local.length === 1 && local[0].id === rooms[0];
    if (!manager || options.ignoreQueue || oneLocalSocket) return;
    if (rooms.length !== 1) throw new Error("Cannot use callback without one room or sid set");
    const id = manager._expectCallback(rooms[0], namespace, callback, timeout);
    await manager._publish({
      method: "emit",
      event,
      args,
      namespace,
      rooms,
      skipSids: skip,
      callback: { room: rooms[0], namespace, id },
      hostId: manager.hostId,
    });
  }

  /** The sockets of this server in any of `rooms` (all when empty) but not in `skip`. */
  #localSockets(namespace: string, rooms: string[], skip: string[]): AnySocket[] {
    const pending = rooms.length === 1 ? this.#pending.get(key(namespace, rooms[0])) : undefined;
    if (pending) return skip.includes(pending.id) ? [] : [pending];
    const nsp = this.io._nsps.get(namespace);
    if (!nsp) return [];
    const skipped = new Set<string>();
    for (const room of skip) for (const id of nsp.adapter.rooms.get(room) ?? []) skipped.add(id);
    const found = new Map<string, AnySocket>();
    const ids = rooms.length === 0
      ? nsp.sockets.keys()
      : rooms.flatMap((room) => [...nsp.adapter.rooms.get(room) ?? []]);
    for (const id of ids) {
      const socket = nsp.sockets.get(id);
      if (socket && !skipped.has(id)) found.set(id, socket);
    }
    return [...found.values()];
  }

  #managerOf(namespace: string): PubSubManager | undefined {
    const adapter = this.io._nsps.get(namespace)?.adapter;
    if (adapter instanceof PubSubAdapter) return adapter.manager;
    return this.manager;
  }

  /** Sends a `message` event (python's `send`). */
  send(data: unknown, options: EmitOptions = {}): Promise<void> {
    return this.emit("message", data, options);
  }

  /**
   * Emits to one client and resolves with its acknowledgement (python's `call`): `undefined` for
   * no argument, the value for one, an array for several. Rejects with a `TimeoutError` when no
   * answer comes within `timeout` (default 60 s), even if the client disconnected meanwhile.
   */
  call(event: string, data?: unknown, options: CallOptions = {}): Promise<unknown> {
    const to = options.to ?? options.sid;
    if (to === undefined) return Promise.reject(new Error("Cannot use call() to broadcast."));
    const namespace = options.namespace ?? "/";
    const timeout = options.timeout ?? 60000;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new TimeoutError(`No answer to "${event}" within ${timeout} ms`));
      }, timeout);
      const callback = (...answer: unknown[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(fromArgs(answer));
      };
      this.#emitWithCallback(
        event,
        toArgs(data),
        namespace,
        [to],
        [],
        { callback, ignoreQueue: options.ignoreQueue },
        timeout,
      ).catch((err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  #socket(sid: string, namespace: string): AnySocket | undefined {
    return this.io._nsps.get(namespace)?.sockets.get(sid) ?? this.#pending.get(key(namespace, sid));
  }

  /** Puts client `sid` in `room` (on whichever server of the cluster holds it). */
  async enterRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    const socket = this.#socket(sid, namespace);
    if (socket) return await socket.join(room);
    await this.#managerOf(namespace)?.enterRoom(sid, room, namespace);
  }

  /** Takes client `sid` out of `room` (on whichever server of the cluster holds it). */
  async leaveRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    const socket = this.#socket(sid, namespace);
    if (socket) return await socket.leave(room);
    await this.#managerOf(namespace)?.leaveRoom(sid, room, namespace);
  }

  /** Empties `room`: every member leaves it, on every server of the cluster. */
  async closeRoom(room: string, namespace = "/"): Promise<void> {
    const nsp = this.io._nsps.get(namespace);
    if (nsp) {
      for (const id of [...nsp.adapter.rooms.get(room) ?? []]) await nsp.sockets.get(id)?.leave(room);
    }
    await this.#managerOf(namespace)?.closeRoom(room, namespace);
  }

  /** The rooms of client `sid` (its own sid included); empty for a client of another server. */
  rooms(sid: string, namespace = "/"): string[] {
    const socket = this.#socket(sid, namespace);
    return socket ? [...socket.rooms] : [];
  }

  /** The session of client `sid` (`socket.data`, an object until replaced). */
  // deno-lint-ignore no-explicit-any
  getSession(sid: string, namespace = "/"): Promise<Record<string, any>> {
    const socket = this.#socket(sid, namespace);
    if (!socket) return Promise.reject(new Error(`Session is disconnected: ${sid}`));
    return Promise.resolve(socket.data);
  }

  /** Replaces the session of client `sid`. */
  saveSession(sid: string, session: unknown, namespace = "/"): Promise<void> {
    const socket = this.#socket(sid, namespace);
    if (!socket) return Promise.reject(new Error(`Session is disconnected: ${sid}`));
    socket.data = session;
    return Promise.resolve();
  }

  /**
   * python's `async with sio.session(sid) as session`: runs `fn` with the session, then saves it
   * (what `fn` returns, unless `undefined`, replaces it). Resolves with the saved session.
   *
   * @example
   * ```ts
   * import { AsyncServer } from "./server.ts";
   * const sio = new AsyncServer();
   * declare const sid: string;
   * await sio.session(sid, (session) => { session.visits = Number(session.visits ?? 0) + 1; });
   * ```
   */
  async session<T = Record<string, unknown>>(
    sid: string,
    fn: (session: T) => T | void | Promise<T | void>,
    namespace = "/",
  ): Promise<T> {
    const session = await this.getSession(sid, namespace) as T;
    const result = await fn(session);
    const saved = result === undefined ? session : result as T;
    await this.saveSession(sid, saved, namespace);
    return saved;
  }

  /** Disconnects client `sid` (on whichever server of the cluster holds it). */
  async disconnect(sid: string, namespace = "/"): Promise<void> {
    const socket = this.#socket(sid, namespace);
    if (socket) {
      socket.disconnect();
      return;
    }
    await this.#managerOf(namespace)?.disconnect(sid, namespace);
  }

  /** The transport of client `sid`: `polling` or `websocket` (`undefined` if not on this server). */
  transport(sid: string, namespace = "/"): "polling" | "websocket" | undefined {
    return this.#socket(sid, namespace)?.conn.transportName;
  }

  /** The connect environment of client `sid` (`undefined` if not on this server). */
  getEnviron(sid: string, namespace = "/"): Environ | undefined {
    const socket = this.#socket(sid, namespace);
    return socket ? this.#environ(socket) : undefined;
  }

  #environ(socket: AnySocket): Environ {
    let environ = this.#environs.get(socket);
    if (!environ) this.#environs.set(socket, environ = buildEnviron(socket.handshake));
    return environ;
  }

  /** Waits `ms` milliseconds (python's `sleep`, in ms). */
  sleep(ms = 0): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Runs `fn(...args)` in the background (python's `start_background_task`); errors are logged. */
  startBackgroundTask<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): Promise<unknown> {
    return Promise.resolve().then(() => fn(...args)).catch((err) => {
      reportListenerError(err, "background task");
      return undefined;
    });
  }

  /** The request handler of the socket.io server (`Deno.serve(sio.handler())`...). */
  handler(options?: Parameters<Server["handler"]>[0]): RequestHandler {
    return this.io.handler(options);
  }

  /** The handler with default options, for `export default { fetch: sio.fetch }`. */
  get fetch(): RequestHandler {
    return this.io.fetch;
  }

  /** Closes every connection and the listener (python's `shutdown`). */
  shutdown(): Promise<void> {
    return this.io.close();
  }

  /** Alias of {@linkcode AsyncServer.shutdown}. */
  close(): Promise<void> {
    return this.io.close();
  }

  // ----- dispatch -----

  #accepts(namespace: string): boolean {
    return this.#handlers.has(namespace) || this.#classes.has(namespace) || this.#namespaces === "*" ||
      this.#namespaces.includes(namespace);
  }

  /** Calls the handler of `event` (function handlers first, then class-based namespaces). */
  async #trigger(event: string, namespace: string, ...args: unknown[]): Promise<unknown> {
    const found = findHandler(this.#handlers, event, namespace, args, SERVER_RESERVED, false);
    if (found) return await found.handler(...found.args);
    const own = this.#classes.get(namespace);
    if (own) return await own.triggerEvent(event, ...args);
    const any = this.#classes.get("*");
    if (any) return await any.triggerEvent(event, namespace, ...args);
    return NOT_HANDLED;
  }

  #bridge(nsp: Namespace): void {
    if (this.#bridged.has(nsp)) return;
    this.#bridged.add(nsp);
    nsp.use((socket, next) => this.#onConnecting(socket, next));
    nsp.on("connection", (socket) => this.#onConnected(socket));
  }

  /** Runs the `connect` handler: `undefined` when accepted, else what the client is told. */
  async #runConnect(socket: AnySocket): Promise<{ message: string; data?: unknown } | undefined> {
    try {
      const auth = socket.handshake.auth;
      const result = await this.#trigger("connect", socket.nsp.name, socket.id, this.#environ(socket), auth);
      return result === false ? { message: REFUSED } : undefined;
    } catch (err) {
      if (err instanceof ConnectionRefusedError) return err.errorArgs;
      reportListenerError(err, `"connect" handler of ${socket.nsp.name}`);
      return { message: REFUSED };
    }
  }

  #onConnecting(socket: AnySocket, next: (err?: ExtendedError) => void): void {
    const namespace = socket.nsp.name;
    if (!this.#accepts(namespace)) return next(new Error("Unable to connect"));
    if (this.alwaysConnect || this.#accepted.has(socket)) return next();
    const id = key(namespace, socket.id);
    this.#pending.set(id, socket);
    this.#runConnect(socket).then((refusal) => {
      this.#pending.delete(id);
      if (!refusal) {
        this.#accepted.add(socket);
        return next();
      }
      const err: ExtendedError = new Error(refusal.message);
      if ("data" in refusal) err.data = refusal.data;
      next(err);
    });
  }

  #onConnected(socket: Socket): void {
    if (this.#seen.has(socket)) return;
    this.#seen.add(socket);
    const namespace = socket.nsp.name;
    socket.on("*", (event: string, ...args: unknown[]) => this.#onEvent(socket, namespace, event, args));
    socket.on("disconnect", (reason) => {
      if (this.#refused.has(socket)) return;
      this.#trigger("disconnect", namespace, socket.id, pythonReason(reason)).catch((err) =>
        reportListenerError(err, `"disconnect" handler of ${namespace}`)
      );
    });
    if (!this.alwaysConnect) return;
    this.#runConnect(socket).then((refusal) => {
      if (!refusal) return;
      this.#refused.add(socket);
      socket.disconnect();
    });
  }

  #onEvent(socket: AnySocket, namespace: string, event: string, args: unknown[]): void {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() as (...a: unknown[]) => void : undefined;
    this.#trigger(event, namespace, socket.id, ...args).then((result) => {
      if (ack && result !== NOT_HANDLED) ack(...toArgs(result));
    }, (err) => reportListenerError(err, `"${event}" handler of ${namespace}`));
  }
}
