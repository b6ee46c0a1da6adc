/**
 * Class-based client namespaces (python-socketio's `AsyncClientNamespace`).
 *
 * @module
 */

import { findMethod, NOT_HANDLED } from "./_handlers.ts";
import type { AsyncClient, ClientCallOptions, ClientEmitOptions } from "./client.ts";

/**
 * The handlers of one namespace of a client as methods of a class, registered with
 * `sio.registerNamespace(new MyNamespace("/chat"))`: `onConnect()`, `onConnectError(data)`,
 * `onDisconnect(reason)`, and `on` + the event in PascalCase for each event (`my_event` and
 * `myEvent` give `onMyEvent`; python's `on_my_event` works too). What a method returns answers the
 * server's acknowledgement.
 *
 * @example
 * ```ts
 * import { AsyncClient, AsyncClientNamespace } from "./mod.ts"; // "@sio/socket.io/python"
 *
 * class Chat extends AsyncClientNamespace {
 *   onConnect() {
 *     this.emit("join", "lobby");
 *   }
 *   onMessage(text: string) {
 *     console.log(text);
 *     return "read";
 *   }
 * }
 * const sio = new AsyncClient();
 * sio.registerNamespace(new Chat("/chat"));
 * await sio.connect("http://localhost:3000"); // connects /chat
 * ```
 */
export class AsyncClientNamespace {
  /** The namespace this class handles (`"*"`: every namespace; methods then get it first). */
  readonly namespace: string;
  #client: AsyncClient | undefined;

  /** Handles `namespace` (default `/`). */
  constructor(namespace = "/") {
    this.namespace = namespace;
  }

  /** The client it is registered on. */
  get client(): AsyncClient {
    if (!this.#client) throw new Error("This namespace is not registered on a client");
    return this.#client;
  }

  /** @internal Called by `registerNamespace`. */
  _setClient(client: AsyncClient): void {
    this.#client = client;
  }

  /** Calls the method that handles `event`; resolves with what it returns, or `NOT_HANDLED`. */
  async triggerEvent(event: string, ...args: unknown[]): Promise<unknown> {
    const method = findMethod(this, event);
    if (!method) return NOT_HANDLED;
    return await method.apply(this, args);
  }

  #ns(namespace?: string): string {
    return namespace ?? (this.namespace === "*" ? "/" : this.namespace);
  }

  /** `sio.emit` in this namespace. */
  emit(event: string, data?: unknown, options: ClientEmitOptions = {}): Promise<void> {
    return this.client.emit(event, data, { ...options, namespace: this.#ns(options.namespace) });
  }

  /** `sio.send` in this namespace. */
  send(data: unknown, options: ClientEmitOptions = {}): Promise<void> {
    return this.client.send(data, { ...options, namespace: this.#ns(options.namespace) });
  }

  /** `sio.call` in this namespace. */
  call(event: string, data?: unknown, options: ClientCallOptions = {}): Promise<unknown> {
    return this.client.call(event, data, { ...options, namespace: this.#ns(options.namespace) });
  }

  /** Disconnects the client (python's `ClientNamespace.disconnect`). */
  disconnect(): Promise<void> {
    return this.client.disconnect();
  }
}
