/**
 * A promise-based client in the spirit of python-socketio's `SimpleClient`: connect, emit, call,
 * receive, iterate, disconnect, each awaited; received events wait in a queue until asked for.
 *
 * @module
 */

import type { DefaultEventsMap, EventNames, EventsMap } from "../util/typed_events.ts";
import { Manager } from "./manager.ts";
import type { ClientOptions } from "./lookup.ts";
import type { Socket } from "./socket.ts";

/**
 * Thrown by {@linkcode SimpleClient.call} and {@linkcode SimpleClient.receive} when the time is up.
 *
 * @example
 * ```ts
 * import { SimpleClient, TimeoutError } from "../../client.ts";
 * const client = new SimpleClient();
 * await client.connect("http://localhost:3000");
 * try {
 *   await client.receive({ timeout: 1000 });
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.log("nothing within a second");
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** Always `"TimeoutError"`. */
  override name = "TimeoutError";
}

/**
 * Thrown when the client is not connected and will not reconnect (never connected, disconnected by
 * the server or by `disconnect()`, or out of reconnection attempts).
 *
 * @example
 * ```ts
 * import { DisconnectedError, SimpleClient } from "../../client.ts";
 * const client = new SimpleClient();
 * await client.emit("hello").catch((err) => console.log(err instanceof DisconnectedError)); // true
 * ```
 */
export class DisconnectedError extends Error {
  /** Always `"DisconnectedError"`. */
  override name = "DisconnectedError";
}

/**
 * Thrown by {@linkcode SimpleClient.connect} when the connection fails; `cause` holds the
 * `connect_error` (with its `data` when a middleware refused).
 *
 * @example
 * ```ts
 * import { ConnectionError, SimpleClient } from "../../client.ts";
 * const client = new SimpleClient();
 * await client.connect("http://localhost:3000/admin").catch((err: ConnectionError) => {
 *   console.log(err.message, (err.cause as { data?: unknown }).data);
 * });
 * ```
 */
export class ConnectionError extends Error {
  /** Always `"ConnectionError"`. */
  override name = "ConnectionError";
}

/**
 * Options of {@linkcode SimpleClient.connect}: those of `io()`, plus two of python-socketio's.
 *
 * @example
 * ```ts
 * import { SimpleClient } from "../../client.ts";
 * const client = new SimpleClient();
 * await client.connect("http://localhost:3000", { namespace: "/chat", waitTimeout: 2000, transports: ["websocket"] });
 * ```
 */
export interface SimpleClientOptions extends ClientOptions {
  /** The namespace to connect to (default `/`, or the path of the URL). */
  namespace?: string;
  /** How long to wait for the connection, in milliseconds (default 5000). */
  waitTimeout?: number;
}

/**
 * Options of {@linkcode SimpleClient.call} and {@linkcode SimpleClient.receive}.
 *
 * @example
 * ```ts
 * import { SimpleClient } from "../../client.ts";
 * const client = new SimpleClient();
 * await client.connect("http://localhost:3000");
 * const event = await client.receive({ timeout: 1000 });
 * ```
 */
export interface WaitOptions {
  /** Milliseconds to wait (`call`: default 60000; `receive`: default forever). */
  timeout?: number;
}

interface Waiter {
  resolve: (event: unknown[]) => void;
  reject: (err: Error) => void;
}

function isWaitOptions(value: unknown): value is WaitOptions {
  if (!value || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "timeout" && typeof (value as WaitOptions).timeout === "number";
}

/**
 * One connection to one namespace with an awaitable API. Events from the server are queued; read
 * them with {@linkcode SimpleClient.receive} or `for await`. While the connection is re-established
 * the methods wait for it.
 *
 * @example
 * ```ts
 * import { SimpleClient } from "../../client.ts";
 * const client = new SimpleClient();
 * await client.connect("http://localhost:3000", { auth: { token: "abc" } });
 * await client.emit("hello", "world");
 * const total = await client.call("sum", 1, 2, { timeout: 5000 });
 * const [event, ...args] = await client.receive({ timeout: 5000 });
 * for await (const [name, ...data] of client) {
 *   if (name === "bye") break;
 * }
 * await client.disconnect();
 * ```
 */
export class SimpleClient<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> {
  #socket: Socket | undefined;
  #queue: unknown[][] = [];
  #waiters: Set<Waiter> = new Set();
  #readyWaiters: Set<Waiter> = new Set();
  #gone = true;

  /** The underlying socket, once `connect()` was called. */
  get socket(): Socket<ListenEvents, EmitEvents> | undefined {
    return this.#socket as Socket<ListenEvents, EmitEvents> | undefined;
  }

  /** Whether the client is connected right now. */
  get connected(): boolean {
    return !!this.#socket?.connected;
  }

  /** The Socket.IO session id while connected. */
  get sid(): string | undefined {
    return this.#socket?.id;
  }

  /** The transport in use: `polling` or `websocket`. */
  get transport(): string | undefined {
    return this.#socket?.io.engine?.transport?.name;
  }

  /**
   * Connects to `url` and resolves once connected to the namespace; rejects with a
   * {@linkcode ConnectionError} when that fails or takes longer than `waitTimeout`.
   */
  connect(url: string, opts: SimpleClientOptions = {}): Promise<void> {
    if (!this.#gone) return Promise.reject(new ConnectionError("Already connected"));
    const parsed = new URL(url);
    const namespace = opts.namespace ?? parsed.pathname;
    parsed.pathname = "/";
    const manager = new Manager(parsed.href, { ...opts, autoConnect: false });
    const socket = manager.socket(namespace, opts);
    this.#socket = socket;
    this.#queue = [];
    this.#gone = false;
    socket.onAny((...event) => {
      const waiter = this.#waiters.values().next().value;
      if (waiter) {
        this.#waiters.delete(waiter);
        waiter.resolve(event);
      } else this.#queue.push(event);
    });
    // Gone for good: no reconnection will follow (off, given up, or refused by the server).
    socket.on("disconnect", () => {
      if (!socket.active || !socket.io.reconnection()) this.#failWaiters();
    });
    socket.on("connect_error", () => {
      if (!socket.active) this.#failWaiters();
    });
    socket.io.on("reconnect_failed", () => this.#failWaiters());
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("timeout")), opts.waitTimeout ?? 5000);
      const done = () => {
        clearTimeout(timer);
        socket.off("connect", onConnect);
        socket.off("connect_error", fail);
      };
      const onConnect = () => {
        done();
        resolve();
      };
      const fail = (err: Error) => {
        done();
        socket.disconnect();
        manager.disconnect();
        this.#failWaiters();
        reject(new ConnectionError("Connection failed: " + err.message, { cause: err }));
      };
      socket.on("connect", onConnect);
      socket.on("connect_error", fail);
      socket.connect();
    });
  }

  #failWaiters(): void {
    this.#gone = true;
    for (const waiters of [this.#waiters, this.#readyWaiters]) {
      for (const waiter of waiters) waiter.reject(new DisconnectedError("Disconnected"));
      waiters.clear();
    }
  }

  /** Resolves with the socket once connected; waits during a reconnection. */
  async #ready(): Promise<Socket> {
    const socket = this.#socket;
    if (socket?.connected) return socket;
    if (!socket || this.#gone) throw new DisconnectedError("Not connected");
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {},
        reject: (err) => {
          socket.off("connect", onConnect);
          reject(err);
        },
      };
      const onConnect = () => {
        this.#readyWaiters.delete(waiter);
        resolve();
      };
      socket.once("connect", onConnect);
      this.#readyWaiters.add(waiter);
    });
    return socket;
  }

  /** Emits an event (once connected). */
  async emit<E extends EventNames<EmitEvents>>(event: E, ...args: unknown[]): Promise<void> {
    const socket = await this.#ready();
    // deno-lint-ignore no-explicit-any
    (socket.emit as any)(event, ...args);
  }

  /**
   * Emits an event and resolves with the first value of the server's ack. A last argument of the
   * exact form `{ timeout: ms }` sets how long to wait (default 60000) before a
   * {@linkcode TimeoutError}.
   */
  // deno-lint-ignore no-explicit-any
  async call<E extends EventNames<EmitEvents>>(event: E, ...args: unknown[]): Promise<any> {
    const timeout = isWaitOptions(args[args.length - 1]) ? (args.pop() as WaitOptions).timeout! : 60000;
    const socket = await this.#ready();
    try {
      // deno-lint-ignore no-explicit-any
      return await (socket.timeout(timeout).emitWithAck as any)(event, ...args);
    } catch (err) {
      if ((err as Error).message === "operation has timed out") {
        throw new TimeoutError("No ack within " + timeout + " ms");
      }
      throw new DisconnectedError((err as Error).message);
    }
  }

  /**
   * The next event from the server as `[name, ...args]`; rejects with a {@linkcode TimeoutError}
   * after `timeout` ms, or a {@linkcode DisconnectedError} when the connection is gone for good.
   */
  receive(opts: WaitOptions = {}): Promise<unknown[]> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#gone) return Promise.reject(new DisconnectedError("Not connected"));
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.add(waiter);
      if (opts.timeout !== undefined) {
        timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new TimeoutError("No event within " + opts.timeout + " ms"));
        }, opts.timeout);
      }
    });
  }

  /** Yields received events until the connection is gone for good (or the loop breaks). */
  async *[Symbol.asyncIterator](): AsyncGenerator<unknown[], void, undefined> {
    while (true) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof DisconnectedError) return;
        throw err;
      }
    }
  }

  /**
   * Disconnects when an `await using` scope ends (python's `async with SimpleClient() as sio`).
   *
   * @example
   * ```ts
   * import { SimpleClient } from "./simple_client.ts";
   * {
   *   await using client = new SimpleClient();
   *   await client.connect("http://localhost:3000");
   *   await client.emit("hello");
   * } // disconnected here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** Disconnects and closes the connection. */
  disconnect(): Promise<void> {
    const socket = this.#socket;
    if (socket) {
      socket.disconnect();
      socket.io.disconnect();
      this.#failWaiters();
    }
    return Promise.resolve();
  }
}
