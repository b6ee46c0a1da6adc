/**
 * python-socketio's client API (`AsyncClient`) on our fetch-based client: handlers registered per
 * namespace (`"*"` for any event or namespace), class-based namespaces, several namespaces
 * connected in one call, `wait()`, and python's `retry` and `wait_timeout` on connect.
 *
 * @module
 */

import { Manager, type ManagerOptions } from "../client/manager.ts";
import type { DisconnectReason, Socket } from "../client/socket.ts";
import type { TransportName } from "../client/engine.ts";
import { ConnectionError, TimeoutError } from "../client/simple_client.ts";
import { findHandler, type Handler, type HandlerTable, NOT_HANDLED, setHandler } from "./_handlers.ts";
import type { AsyncClientNamespace } from "./client_namespace.ts";
import { BadNamespaceError } from "./errors.ts";
import { fromArgs, toArgs } from "./tuple.ts";

/**
 * Options of {@linkcode AsyncClient}: python's reconnection settings (in milliseconds), and any
 * option of our `Manager` (`fetch`, `WebSocket`, `parser`, `binaryType`...).
 *
 * @example
 * ```ts
 * import type { AsyncClientOptions } from "./client.ts";
 * const opts: AsyncClientOptions = { reconnectionAttempts: 5, reconnectionDelay: 1000, reconnectionDelayMax: 5000 };
 * ```
 */
export interface AsyncClientOptions
  extends Omit<ManagerOptions, "autoConnect" | "path" | "transports" | "extraHeaders" | "reconnectionAttempts"> {
  /** Reconnect after a lost connection (default true). */
  reconnection?: boolean;
  /** Attempts before giving up; 0 (the default) for no limit, as python-socketio. */
  reconnectionAttempts?: number;
  /** The first delay between attempts, in ms (default 1000). */
  reconnectionDelay?: number;
  /** The longest delay, in ms (default 5000). */
  reconnectionDelayMax?: number;
  /** How much delays vary at random, 0 to 1 (default 0.5). */
  randomizationFactor?: number;
}

/**
 * Options of {@linkcode AsyncClient.connect} (python's keyword arguments, in camelCase; times in
 * milliseconds).
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "./client.ts";
 * const opts: ConnectOptions = { namespaces: ["/", "/chat"], auth: { token: "abc" }, waitTimeout: 2000, retry: true };
 * ```
 */
export interface ConnectOptions {
  /** Extra request headers (a function is called again for each reconnection). */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** The CONNECT payload (a function is called again for each (re)connection). */
  auth?: unknown;
  /** Allowed transports (default polling, then the upgrade to WebSocket). */
  transports?: TransportName[];
  /**
   * The namespaces to connect: one, a list, or `"*"` (the default) for every namespace with a
   * handler or a class-based namespace (`/` when there is none).
   */
  namespaces?: string | string[];
  /** The server's path (default `socket.io`). */
  socketioPath?: string;
  /** Wait until every namespace answered (default true); false: resolve once the connection is open. */
  wait?: boolean;
  /** How long to wait for the namespaces, in ms, counted again after each answer (default 1000). */
  waitTimeout?: number;
  /**
   * Retry a failed first connection with the reconnection settings (default false: the first
   * failure rejects).
   */
  retry?: boolean;
}

/**
 * Options of {@linkcode AsyncClient.emit}.
 *
 * @example
 * ```ts
 * import type { ClientEmitOptions } from "./client.ts";
 * const opts: ClientEmitOptions = { namespace: "/chat", callback: (answer) => console.log(answer) };
 * ```
 */
export interface ClientEmitOptions {
  /** The namespace (default `/`). */
  namespace?: string;
  /** Called with the server's acknowledgement arguments. */
  callback?: (...args: unknown[]) => void;
}

/**
 * Options of {@linkcode AsyncClient.call}.
 *
 * @example
 * ```ts
 * import type { ClientCallOptions } from "./client.ts";
 * const opts: ClientCallOptions = { namespace: "/chat", timeout: 5000 };
 * ```
 */
export interface ClientCallOptions {
  /** The namespace (default `/`). */
  namespace?: string;
  /** Milliseconds to wait for the answer (default 60000, python's 60 s). */
  timeout?: number;
}

/**
 * The reasons python-socketio passes to a client's `disconnect` handler.
 *
 * @example
 * ```ts
 * import type { ClientDisconnectReason } from "./client.ts";
 * const reason: ClientDisconnectReason = "server disconnect";
 * ```
 */
export type ClientDisconnectReason = "client disconnect" | "server disconnect" | "transport error";

const CLIENT_RESERVED: ReadonlySet<string> = new Set(["connect", "connect_error", "disconnect"]);

function clientReason(reason: DisconnectReason): ClientDisconnectReason {
  if (reason === "io server disconnect") return "server disconnect";
  if (reason === "io client disconnect" || reason === "forced close") return "client disconnect";
  return "transport error";
}

/** The `/`-prefixed path of `socketioPath`, without a trailing slash. */
function enginePath(socketioPath: string): string {
  return "/" + socketioPath.replace(/^\/+|\/+$/g, "");
}

/**
 * A Socket.IO client driven the python-socketio way.
 *
 * Handlers (`on(event, handler, namespace)`): `connect()`, `connect_error(data)` (the server's
 * `{ message, data }`, or the transport error's message), `disconnect(reason)`, and any event with
 * its arguments; the returned value answers the server's acknowledgement (a `tuple(...)` for
 * several arguments). `"*"` as event: `(event, ...args)`; `"*"` as namespace: `(namespace,
 * ...args)`, or `(event, namespace, ...args)` for both (used only for namespaces without handlers
 * of their own).
 *
 * @example
 * ```ts
 * import { AsyncClient, tuple } from "./mod.ts"; // "@sio/socket.io/python"
 *
 * const sio = new AsyncClient();
 * sio.on("connect", () => console.log("connected", sio.getSid()));
 * sio.on("news", (item: unknown) => console.log(item));
 * sio.on("*", (event: string, ...args: unknown[]) => console.log("other", event, args));
 * await sio.connect("http://localhost:3000", { auth: { token: "abc" }, retry: true });
 * console.log(await sio.call("sum", tuple(1, 2), { timeout: 5000 }));
 * await sio.wait(); // until disconnected for good
 * ```
 */
export class AsyncClient {
  #options: AsyncClientOptions;
  #handlers: HandlerTable = new Map();
  #classes: Map<string, AsyncClientNamespace> = new Map();
  #manager: Manager | undefined;
  #sockets: Map<string, Socket> = new Map();
  #connected: Map<string, string> = new Map();
  #failed: string[] = [];
  #wanted: string[] = [];
  #onAnswer: (() => void) | undefined;
  #gone: PromiseWithResolvers<void> | undefined;
  /** Whether the client is connected (python's `connected`). */
  connected = false;

  /** Creates a client; nothing happens before {@linkcode AsyncClient.connect}. */
  constructor(options: AsyncClientOptions = {}) {
    this.#options = options;
  }

  /** The connected namespaces and their sids (python's `namespaces`). */
  get namespaces(): Record<string, string> {
    return Object.fromEntries(this.#connected);
  }

  /** The sid of the connection to `namespace` (default `/`), while connected. */
  getSid(namespace = "/"): string | undefined {
    return this.#connected.get(namespace);
  }

  /** The current transport: `polling` or `websocket`. */
  transport(): string | undefined {
    return this.#manager?.engine?.transport?.name;
  }

  /** Registers `handler` for `event` in `namespace` (default `/`; `"*"` for any). */
  on(event: string, handler: Handler, namespace = "/"): this {
    setHandler(this.#handlers, event, namespace, handler);
    return this;
  }

  /** Registers a named function for the event of its name (python's `@sio.event`). */
  event(handler: Handler, namespace = "/"): this {
    if (!handler.name) throw new TypeError("sio.event() needs a named function");
    return this.on(handler.name, handler, namespace);
  }

  /** Registers a class-based namespace (python's `register_namespace`). */
  registerNamespace(namespace: AsyncClientNamespace): this {
    namespace._setClient(this);
    this.#classes.set(namespace.namespace, namespace);
    return this;
  }

  #namespacesFor(namespaces: string | string[] | undefined): string[] {
    if (typeof namespaces === "string" && namespaces !== "*") return [namespaces];
    if (Array.isArray(namespaces)) return [...new Set(namespaces)];
    const names = new Set([...this.#handlers.keys(), ...this.#classes.keys()]);
    names.delete("*");
    return names.size === 0 ? ["/"] : [...names];
  }

  /**
   * Connects to `url` and its namespaces; resolves once every namespace answered (or as soon as
   * the connection is open with `wait: false`). Rejects with a `ConnectionError` when the
   * connection fails (after the reconnection attempts with `retry`), or when a namespace refused
   * or did not answer within `waitTimeout` (the client then disconnects).
   */
  async connect(url: string | (() => string), options: ConnectOptions = {}): Promise<void> {
    if (this.connected || this.#manager) throw new ConnectionError("Already connected");
    const target = new URL(typeof url === "function" ? url() : url);
    const headers = options.headers;
    const o = this.#options;
    const manager = new Manager(target.origin + target.search, {
      ...o,
      path: enginePath(options.socketioPath ?? "socket.io"),
      transports: options.transports,
      extraHeaders: typeof headers === "function" ? await headers() : headers,
      autoConnect: false,
      reconnectionAttempts: o.reconnectionAttempts ? o.reconnectionAttempts : Infinity,
    });
    if (typeof headers === "function") {
      manager.on("reconnect_attempt", () => {
        Promise.resolve(headers()).then((value) => (manager.opts.extraHeaders = value)).catch(() => {});
      });
    }
    this.#manager = manager;
    this.#gone = Promise.withResolvers();
    this.#wanted = this.#namespacesFor(options.namespaces);
    this.#failed = [];
    this.#connected.clear();
    const auth = options.auth;
    for (const namespace of this.#wanted) {
      const socket = manager.socket(namespace, {
        auth: typeof auth === "function"
          ? (cb: (data: Record<string, unknown>) => void) => {
            Promise.resolve(auth()).then((data) => cb(data as Record<string, unknown>));
          }
          : auth as Record<string, unknown> | undefined,
      });
      this.#sockets.set(namespace, socket);
      this.#attach(socket, namespace);
    }
    manager.on("reconnect_failed", () => this.#checkGone(true));
    // each failed attempt to open the connection (the first one, and every retry)
    manager.on("error", (err) => {
      for (const namespace of this.#wanted) this.#trigger("connect_error", namespace, err.message);
    });

    const opened = Promise.withResolvers<void>();
    if (options.retry) {
      manager.on("open", () => opened.resolve());
      manager.on("reconnect_failed", () => opened.reject(new ConnectionError("Connection failed: gave up retrying")));
      for (const socket of this.#sockets.values()) socket.connect();
    } else {
      manager.open((err) => {
        if (err) return opened.reject(new ConnectionError(`Connection failed: ${err.message}`, { cause: err }));
        for (const socket of this.#sockets.values()) socket.connect();
        opened.resolve();
      });
    }
    try {
      await opened.promise;
    } catch (err) {
      this.#teardown();
      throw err;
    }
    if (options.wait !== false) await this.#waitForNamespaces(options.waitTimeout ?? 1000);
    this.connected = true;
  }

  async #waitForNamespaces(timeout: number): Promise<void> {
    while (this.#connected.size + this.#failed.length < this.#wanted.length) {
      const answered = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.#onAnswer = undefined;
          resolve(false);
        }, timeout);
        this.#onAnswer = () => {
          clearTimeout(timer);
          this.#onAnswer = undefined;
          resolve(true);
        };
      });
      if (!answered) break;
    }
    const missing = this.#wanted.filter((namespace) => !this.#connected.has(namespace));
    if (missing.length > 0) {
      await this.disconnect();
      throw new ConnectionError(`One or more namespaces failed to connect: ${missing.join(", ")}`);
    }
  }

  #attach(socket: Socket, namespace: string): void {
    socket.on("connect", () => {
      this.#connected.set(namespace, socket.id!);
      this.#trigger("connect", namespace);
      this.#onAnswer?.();
    });
    socket.on("connect_error", (err: Error & { data?: unknown }) => {
      if (socket.active) return; // the transport failed: reported by the Manager's "error"
      const data = err.data === undefined ? { message: err.message } : { message: err.message, data: err.data };
      this.#trigger("connect_error", namespace, data);
      if (!this.#failed.includes(namespace)) this.#failed.push(namespace);
      this.#onAnswer?.();
      this.#checkGone();
    });
    socket.on("disconnect", (reason) => {
      this.#connected.delete(namespace);
      this.#trigger("disconnect", namespace, clientReason(reason));
      this.#checkGone();
    });
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() as (...a: unknown[]) => void : undefined;
      this.#trigger(event, namespace, ...args).then((result) => {
        if (ack && result !== NOT_HANDLED) ack(...toArgs(result));
      });
    });
  }

  /** Calls the handler of `event`: function handlers, then class-based namespaces. */
  async #trigger(event: string, namespace: string, ...args: unknown[]): Promise<unknown> {
    try {
      const found = findHandler(this.#handlers, event, namespace, args, CLIENT_RESERVED, true);
      if (found) return await found.handler(...found.args);
      const own = this.#classes.get(namespace);
      if (own) return await own.triggerEvent(event, ...args);
      const any = this.#classes.get("*");
      if (any) return await any.triggerEvent(event, namespace, ...args);
    } catch (err) {
      console.error(`[socket.io] error in the "${event}" handler of ${namespace}:`, err);
    }
    return NOT_HANDLED;
  }

  /**
   * Whether the client is gone for good: no namespace will come back (each was refused, or
   * disconnected by the server or by us), or the connection will not be re-established
   * (reconnection off, or out of attempts).
   */
  #checkGone(gaveUp = false): void {
    const manager = this.#manager;
    if (!manager) return;
    const active = [...this.#sockets.values()].some((socket) => socket.active);
    const closedForGood = gaveUp ||
      (manager._readyState === "closed" && !manager._reconnecting && !manager.reconnection());
    if (active && !closedForGood) return;
    this.#teardown();
  }

  #teardown(): void {
    const manager = this.#manager;
    if (!manager) return;
    this.#manager = undefined;
    for (const socket of this.#sockets.values()) if (socket.active) socket.disconnect();
    this.#sockets.clear();
    manager.disconnect();
    this.#connected.clear();
    this.connected = false;
    this.#gone?.resolve();
  }

  #socket(namespace: string): Socket {
    const socket = this.#sockets.get(namespace);
    if (!socket || !this.#connected.has(namespace)) {
      throw new BadNamespaceError(`${namespace} is not a connected namespace.`);
    }
    return socket;
  }

  /**
   * Emits `event` (python's `emit`): `data` is one argument (`undefined` or `null`: none), a
   * `tuple(...)` several. Throws a `BadNamespaceError` if the namespace is not connected.
   */
  // deno-lint-ignore require-await -- async: a bad namespace rejects, as the coroutine raises
  async emit(event: string, data?: unknown, options: ClientEmitOptions = {}): Promise<void> {
    const socket = this.#socket(options.namespace ?? "/");
    const args = toArgs(data);
    if (options.callback) args.push(options.callback);
    (socket.emit as (event: string, ...args: unknown[]) => unknown)(event, ...args);
  }

  /** Sends a `message` event (python's `send`). */
  send(data: unknown, options: ClientEmitOptions = {}): Promise<void> {
    return this.emit("message", data, options);
  }

  /**
   * Emits and resolves with the server's acknowledgement (python's `call`): `undefined`, the value,
   * or an array for several arguments. Rejects with a `TimeoutError` after `timeout` ms.
   */
  call(event: string, data?: unknown, options: ClientCallOptions = {}): Promise<unknown> {
    const timeout = options.timeout ?? 60000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError(`No answer to "${event}" within ${timeout} ms`)), timeout);
      this.emit(event, data, {
        namespace: options.namespace,
        callback: (...answer) => {
          clearTimeout(timer);
          resolve(fromArgs(answer));
        },
      }).catch((err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Disconnects every namespace and closes the connection; `wait()` then resolves. */
  disconnect(): Promise<void> {
    this.#teardown();
    return Promise.resolve();
  }

  /** Stops the client: disconnects, or stops retrying (python's `shutdown`). */
  shutdown(): Promise<void> {
    return this.disconnect();
  }

  /**
   * Resolves when the client is disconnected for good: by `disconnect()`, by the server, or when
   * reconnection is off or gave up (python's `wait`). Resolves at once when not connected.
   */
  wait(): Promise<void> {
    return this.#gone?.promise ?? Promise.resolve();
  }

  /** Waits `ms` milliseconds (python's `sleep`, in ms). */
  sleep(ms = 0): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Runs `fn(...args)` in the background (python's `start_background_task`); errors are logged. */
  startBackgroundTask<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): Promise<unknown> {
    return Promise.resolve().then(() => fn(...args)).catch((err) => {
      console.error("[socket.io] error in a background task:", err);
      return undefined;
    });
  }
}
