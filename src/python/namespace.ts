/**
 * Class-based server namespaces (python-socketio's `AsyncNamespace`): one class holds every
 * handler of a namespace, one method per event.
 *
 * @module
 */

import { findMethod, NOT_HANDLED } from "./_handlers.ts";
import type { Environ } from "./environ.ts";
import type { AsyncServer, CallOptions, EmitOptions } from "./server.ts";

/**
 * The handlers of one namespace as methods of a class, registered with
 * `sio.registerNamespace(new MyNamespace("/chat"))`.
 *
 * Event `name` goes to the method `on` + `name` in PascalCase — `connect` to `onConnect(sid,
 * environ, auth)`, `disconnect` to `onDisconnect(sid, reason)`, `my_event`, `my-event` and `myEvent`
 * to `onMyEvent(sid, ...args)` — or, if there is none, to python's spelling `on_my_event`. What a
 * method returns answers the client's acknowledgement. Override
 * {@linkcode AsyncNamespace.triggerEvent} for other dispatch rules. The sid-addressed methods
 * default to this namespace.
 *
 * @example
 * ```ts
 * import { AsyncNamespace, AsyncServer, type Environ } from "./mod.ts"; // "@sio/socket.io/python"
 *
 * class Chat extends AsyncNamespace {
 *   async onConnect(sid: string, _environ: Environ, auth: { user: string }) {
 *     await this.saveSession(sid, { user: auth.user });
 *   }
 *   async onMessage(sid: string, text: string) {
 *     const { user } = await this.getSession(sid);
 *     await this.emit("message", { user, text }, { skipSid: sid });
 *     return "ok";
 *   }
 *   onDisconnect(sid: string, reason: string) {
 *     console.log(sid, "left:", reason);
 *   }
 * }
 * const sio = new AsyncServer();
 * sio.registerNamespace(new Chat("/chat"));
 * ```
 */
export class AsyncNamespace {
  /** The namespace this class handles (`"*"`: every namespace; methods then get it first). */
  readonly namespace: string;
  #server: AsyncServer | undefined;

  /** Handles `namespace` (default `/`). */
  constructor(namespace = "/") {
    this.namespace = namespace;
  }

  /** The server it is registered on. */
  get server(): AsyncServer {
    if (!this.#server) throw new Error("This namespace is not registered on a server");
    return this.#server;
  }

  /** @internal Called by `registerNamespace`. */
  _setServer(server: AsyncServer): void {
    this.#server = server;
  }

  /**
   * Calls the method that handles `event` with `args`; resolves with what it returns (the
   * acknowledgement), or `NOT_HANDLED` when there is no such method.
   */
  async triggerEvent(event: string, ...args: unknown[]): Promise<unknown> {
    const method = findMethod(this, event);
    if (!method) return NOT_HANDLED;
    return await method.apply(this, args);
  }

  #ns(namespace?: string): string {
    return namespace ?? (this.namespace === "*" ? "/" : this.namespace);
  }

  /** `sio.emit` in this namespace. */
  emit(event: string, data?: unknown, options: EmitOptions = {}): Promise<void> {
    return this.server.emit(event, data, { ...options, namespace: this.#ns(options.namespace) });
  }

  /** `sio.send` in this namespace. */
  send(data: unknown, options: EmitOptions = {}): Promise<void> {
    return this.server.send(data, { ...options, namespace: this.#ns(options.namespace) });
  }

  /** `sio.call` in this namespace. */
  call(event: string, data?: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.server.call(event, data, { ...options, namespace: this.#ns(options.namespace) });
  }

  /** `sio.enterRoom` in this namespace. */
  enterRoom(sid: string, room: string, namespace?: string): Promise<void> {
    return this.server.enterRoom(sid, room, this.#ns(namespace));
  }

  /** `sio.leaveRoom` in this namespace. */
  leaveRoom(sid: string, room: string, namespace?: string): Promise<void> {
    return this.server.leaveRoom(sid, room, this.#ns(namespace));
  }

  /** `sio.closeRoom` in this namespace. */
  closeRoom(room: string, namespace?: string): Promise<void> {
    return this.server.closeRoom(room, this.#ns(namespace));
  }

  /** `sio.rooms` in this namespace. */
  rooms(sid: string, namespace?: string): string[] {
    return this.server.rooms(sid, this.#ns(namespace));
  }

  /** `sio.getSession` in this namespace. */
  // deno-lint-ignore no-explicit-any
  getSession(sid: string, namespace?: string): Promise<Record<string, any>> {
    return this.server.getSession(sid, this.#ns(namespace));
  }

  /** `sio.saveSession` in this namespace. */
  saveSession(sid: string, session: unknown, namespace?: string): Promise<void> {
    return this.server.saveSession(sid, session, this.#ns(namespace));
  }

  /** `sio.session` in this namespace. */
  session<T = Record<string, unknown>>(
    sid: string,
    fn: (session: T) => T | void | Promise<T | void>,
    namespace?: string,
  ): Promise<T> {
    return this.server.session(sid, fn, this.#ns(namespace));
  }

  /** `sio.disconnect` in this namespace. */
  disconnect(sid: string, namespace?: string): Promise<void> {
    return this.server.disconnect(sid, this.#ns(namespace));
  }

  /** `sio.transport` in this namespace. */
  transport(sid: string, namespace?: string): "polling" | "websocket" | undefined {
    return this.server.transport(sid, this.#ns(namespace));
  }

  /** `sio.getEnviron` in this namespace. */
  getEnviron(sid: string, namespace?: string): Environ | undefined {
    return this.server.getEnviron(sid, this.#ns(namespace));
  }
}
