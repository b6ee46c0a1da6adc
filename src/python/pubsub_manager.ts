/**
 * Membership in a python-socketio cluster: python-socketio servers share their clients through a
 * pub/sub "client manager" on one channel (`socketio` by default). {@linkcode PubSubManager} speaks
 * that channel's messages (see `pubsub_message.ts`) over any bus a subclass provides (Redis in
 * `redis_manager.ts`, AMQP in `amqp_manager.ts`):
 *
 * - as an adapter (`new Server({ adapter: manager.adapter })`, or `new AsyncServer({ clientManager
 *   })`): broadcasts of our server reach the clients of every Python server and ours, and theirs
 *   reach ours; acknowledgements, disconnects, `close_room` and room changes by sid travel too;
 * - as python's write-only manager (`writeOnly: true`): `emit`, `disconnect`, `closeRoom` from a
 *   process that serves no client, which every server of the cluster (Python or ours) obeys.
 *
 * What the channel cannot say stays local: `fetchSockets`, `serverSideEmit`, `socketsJoin` and
 * `disconnectSockets` with room selectors, broadcasts expecting acks from many clients, and
 * connection state recovery. `except(room)` travels as python's `skip_sid`: Python servers skip
 * socket ids only, ours any room.
 *
 * This is a second, explicit clustering mode beside the `@socket.io/redis-adapter` compatible one
 * (`./redis`), which stays as it is.
 *
 * @module
 */

import { Adapter, type AnyNamespace, type BroadcastOptions } from "../io/adapter.ts";
import { type Packet, PacketType, RESERVED_EVENTS } from "../parser/socket_io.ts";
import { safeCall } from "../io/_util.ts";
import {
  type CallbackMessage,
  decodeMessage,
  type EmitMessage,
  encodeMessage,
  type PubSubFormat,
  type PubSubMessage,
} from "./pubsub_message.ts";
import { toArgs } from "./tuple.ts";

/**
 * Options of a pub/sub manager (python's `channel`, `write_only` and `logger`, and ours).
 *
 * @example
 * ```ts
 * import type { PubSubManagerOptions } from "./pubsub_manager.ts";
 * const opts: PubSubManagerOptions = { channel: "socketio", format: "legacy", writeOnly: false };
 * ```
 */
export interface PubSubManagerOptions {
  /** The channel every server of the cluster uses (default `socketio`, python's default). */
  channel?: string;
  /** Only publish, never listen (python's `write_only`): for processes that serve no client. */
  writeOnly?: boolean;
  /**
   * The format published: `"json"` for python-socketio 5.14 and later (default), `"legacy"` for a
   * cluster with 5.13 or older (Debian's 5.7.2). Both are always read.
   */
  format?: PubSubFormat;
  /** The largest message read, in bytes; larger ones are refused with a log line (default 4 MiB). */
  maxMessageBytes?: number;
  /**
   * How long an acknowledgement from a client on another server is waited for, in ms, before its
   * callback is forgotten (default 60000; python keeps them forever).
   */
  callbackTimeout?: number;
  /**
   * Where refused messages and publishing errors are reported (default `console.warn`, at most
   * one line a second, with a count of those left out).
   */
  logger?: (line: string) => void;
}

/**
 * Options of {@linkcode PubSubManager.emit}: python's keyword arguments, in camelCase.
 *
 * @example
 * ```ts
 * import type { ManagerEmitOptions } from "./pubsub_manager.ts";
 * const opts: ManagerEmitOptions = { to: "lobby", skipSid: "s1", namespace: "/chat" };
 * ```
 */
export interface ManagerEmitOptions {
  /** A socket id, a room, or several rooms (default: every client of the namespace). */
  to?: string | string[];
  /** Alias of `to`. */
  room?: string | string[];
  /** Socket ids to leave out. */
  skipSid?: string | string[];
  /** The namespace (default `/`). */
  namespace?: string;
  /**
   * Called with the client's acknowledgement (`to` must name one socket or room; not on a
   * write-only manager, which never hears the answer).
   */
  callback?: (...args: unknown[]) => void;
}

interface PendingCallback {
  room: string;
  namespace: string;
  fn: (...args: unknown[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * A python-socketio compatible client manager over a pub/sub bus. Subclasses implement
 * {@linkcode PubSubManager.publish} and {@linkcode PubSubManager.listen}.
 *
 * @example
 * ```ts
 * import { PubSubManager } from "./pubsub_manager.ts";
 * import { Server } from "../../server.ts";
 * declare const bus: {
 *   send(channel: string, payload: string | Uint8Array): Promise<void>;
 *   subscribe(channel: string, onMessage: (payload: Uint8Array | string) => void): Promise<() => Promise<void>>;
 * };
 * class MyBusManager extends PubSubManager {
 *   protected publish(payload: string | Uint8Array) { return bus.send("socketio", payload); }
 *   protected listen(onMessage: (payload: Uint8Array | string) => void) {
 *     return bus.subscribe("socketio", onMessage); // resolves with the unsubscribe function
 *   }
 * }
 * const io = new Server({ adapter: new MyBusManager().adapter });
 * ```
 */
export abstract class PubSubManager {
  /** The channel. */
  readonly channel: string;
  /** This process's id on the channel (python's `host_id`: 32 hex digits). */
  readonly hostId: string = hex(crypto.getRandomValues(new Uint8Array(16)));
  /** Whether it only publishes. */
  readonly writeOnly: boolean;
  /** The format it publishes. */
  readonly format: PubSubFormat;
  readonly #maxBytes: number;
  readonly #callbackTimeout: number;
  readonly #logger: ((line: string) => void) | undefined;
  #adapters: Map<string, PubSubAdapter> = new Map();
  #callbacks: Map<number, PendingCallback> = new Map();
  #nextId = 1;
  #listening: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;
  #lastLog = 0;
  #suppressed = 0;

  /** Creates the manager (it listens once an adapter starts or a callback waits). */
  constructor(options: PubSubManagerOptions = {}) {
    this.channel = options.channel ?? "socketio";
    this.writeOnly = options.writeOnly === true;
    this.format = options.format ?? "json";
    this.#maxBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
    this.#callbackTimeout = options.callbackTimeout ?? 60000;
    this.#logger = options.logger;
  }

  /** Publishes one message on the channel. */
  protected abstract publish(payload: string | Uint8Array): Promise<unknown>;

  /**
   * Subscribes to the channel, handing each message to `onMessage`; resolves with what
   * unsubscribes.
   */
  protected abstract listen(onMessage: (payload: Uint8Array | string) => void): Promise<() => Promise<void>>;

  /**
   * The adapter factory for `new Server({ adapter: manager.adapter })` or `io.adapter(...)`: every
   * namespace of that server joins the cluster.
   */
  get adapter(): (nsp: AnyNamespace) => PubSubAdapter {
    return (nsp) => new PubSubAdapter(nsp, this);
  }

  /**
   * Emits to clients anywhere in the cluster (python's `manager.emit`): `data` is one argument, a
   * `tuple(...)` several. Resolves once published.
   *
   * @example
   * ```ts
   * import type { PubSubManager } from "./pubsub_manager.ts";
   * declare const manager: PubSubManager;
   * await manager.emit("news", { title: "hi" }, { to: "lobby", namespace: "/chat" });
   * ```
   */
  async emit(event: string, data?: unknown, options: ManagerEmitOptions = {}): Promise<void> {
    const rooms = list(options.to ?? options.room);
    const namespace = options.namespace ?? "/";
    const message: EmitMessage = {
      method: "emit",
      event,
      args: toArgs(data),
      namespace,
      rooms: rooms.length === 0 ? null : rooms,
      skipSids: list(options.skipSid),
      hostId: this.hostId,
    };
    if (options.callback) {
      if (this.writeOnly) throw new Error("Callbacks need a manager that listens (not writeOnly)");
      if (rooms.length !== 1) throw new Error("Cannot use callback without one room or sid set");
      const id = this._expectCallback(rooms[0], namespace, options.callback);
      message.callback = { room: rooms[0], namespace, id };
      await this.#startListening();
    }
    await this._publish(message);
  }

  /** Sends a `message` event (python's `send`). */
  send(data: unknown, options: ManagerEmitOptions = {}): Promise<void> {
    return this.emit("message", data, options);
  }

  /** Disconnects socket `sid` of `namespace`, on whichever server holds it. */
  disconnect(sid: string, namespace = "/"): Promise<void> {
    return this._publish({ method: "disconnect", sid, namespace, hostId: this.hostId });
  }

  /** Makes every member of `room` leave it, on every server. */
  closeRoom(room: string, namespace = "/"): Promise<void> {
    return this._publish({ method: "close_room", room, namespace, hostId: this.hostId });
  }

  /** Makes socket `sid` enter `room`, on whichever server holds it (python-socketio 5.14+ and ours). */
  enterRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    return this._publish({ method: "enter_room", sid, room, namespace, hostId: this.hostId });
  }

  /** Makes socket `sid` leave `room`, on whichever server holds it (python-socketio 5.14+ and ours). */
  leaveRoom(sid: string, room: string, namespace = "/"): Promise<void> {
    return this._publish({ method: "leave_room", sid, room, namespace, hostId: this.hostId });
  }

  /** Stops listening and forgets waiting callbacks. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#callbacks.values()) clearTimeout(pending.timer);
    this.#callbacks.clear();
    await this.#stopListening();
  }

  /** @internal Encodes and publishes; a failure is logged, never thrown. */
  async _publish(message: PubSubMessage): Promise<void> {
    let payload: string | Uint8Array;
    try {
      payload = encodeMessage(message, this.format);
    } catch (err) {
      this._log(`cannot publish a ${message.method} message: ${(err as Error).message}`);
      return;
    }
    try {
      await this.publish(payload);
    } catch (err) {
      this._log(`cannot publish to the channel "${this.channel}": ${(err as Error)?.message ?? err}`);
    }
  }

  /** @internal Waits for an acknowledgement addressed to this host; returns its id. */
  _expectCallback(room: string, namespace: string, fn: (...args: unknown[]) => void, timeout?: number): number {
    const id = this.#nextId++;
    const timer = setTimeout(() => this._forgetCallback(id), timeout ?? this.#callbackTimeout);
    this.#callbacks.set(id, { room, namespace, fn, timer });
    return id;
  }

  /** @internal Stops waiting for an acknowledgement. */
  _forgetCallback(id: number): void {
    const pending = this.#callbacks.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#callbacks.delete(id);
    this.#maybeStop();
  }

  /** @internal An adapter started: the manager listens from now on. */
  _register(adapter: PubSubAdapter): Promise<void> {
    this.#adapters.set(adapter.nsp.name, adapter);
    return this.#startListening();
  }

  /** @internal An adapter closed. */
  _unregister(adapter: PubSubAdapter): Promise<void> {
    if (this.#adapters.get(adapter.nsp.name) === adapter) this.#adapters.delete(adapter.nsp.name);
    return this.#maybeStop();
  }

  /** @internal Reports a refused message or a failure (rate-limited). */
  _log(line: string): void {
    const text = `[socket.io] python pub/sub manager: ${line}`;
    if (this.#logger) {
      safeCall(() => this.#logger!(text), "pub/sub manager logger");
      return;
    }
    const now = Date.now();
    if (now - this.#lastLog < 1000) {
      this.#suppressed++;
      return;
    }
    const extra = this.#suppressed > 0 ? ` (${this.#suppressed} similar lines left out)` : "";
    this.#suppressed = 0;
    this.#lastLog = now;
    console.warn(text + extra);
  }

  async #startListening(): Promise<void> {
    if (this.writeOnly || this.#closed) return;
    if (this.#listening === undefined) {
      this.#listening = this.listen((payload) => this.#onPayload(payload)).catch((err) => {
        this._log(`cannot listen on the channel "${this.channel}": ${(err as Error)?.message ?? err}`);
        this.#listening = undefined;
        return undefined;
      });
    }
    await this.#listening;
  }

  #maybeStop(): Promise<void> {
    if (this.#adapters.size > 0 || this.#callbacks.size > 0) return Promise.resolve();
    return this.#stopListening();
  }

  async #stopListening(): Promise<void> {
    const listening = this.#listening;
    this.#listening = undefined;
    const unsubscribe = await listening;
    if (unsubscribe) {
      try {
        await unsubscribe();
      } catch (err) {
        this._log(`cannot unsubscribe: ${(err as Error)?.message ?? err}`);
      }
    }
  }

  /** One message from the bus: nothing it holds may throw back into the bus client. */
  #onPayload(payload: Uint8Array | string): void {
    if (this.#closed) return;
    let message: PubSubMessage;
    try {
      message = decodeMessage(payload, { maxBytes: this.#maxBytes });
    } catch (err) {
      this._log(`refused a message: ${(err as Error).message}`);
      return;
    }
    try {
      if (message.method === "callback") {
        this.#onCallback(message);
        return;
      }
      if (message.hostId === this.hostId) return; // ours: already handled here
      this.#adapters.get(message.namespace)?._onMessage(message);
    } catch (err) {
      this._log(`error handling a ${message.method} message: ${(err as Error)?.message ?? err}`);
    }
  }

  #onCallback(message: CallbackMessage): void {
    if (message.hostId !== this.hostId) return;
    const pending = this.#callbacks.get(message.id);
    if (!pending || pending.room !== message.sid || pending.namespace !== message.namespace) return;
    this._forgetCallback(message.id);
    safeCall(() => pending.fn(...message.args), "pub/sub callback");
  }
}

/**
 * The adapter of one namespace in a python-socketio cluster; made by
 * {@linkcode PubSubManager.adapter}.
 *
 * @example
 * ```ts
 * import type { PubSubAdapter, PubSubManager } from "./pubsub_manager.ts";
 * import { Server } from "../../server.ts";
 * declare const manager: PubSubManager;
 * const io = new Server({ adapter: manager.adapter });
 * const adapter = io.of("/").adapter as PubSubAdapter;
 * console.log(adapter.manager.hostId);
 * ```
 */
export class PubSubAdapter extends Adapter {
  /** The manager it publishes through. */
  readonly manager: PubSubManager;

  /** Created by the server for `nsp`. */
  constructor(nsp: AnyNamespace, manager: PubSubManager) {
    super(nsp);
    this.manager = manager;
  }

  /** Starts listening to the channel. */
  override init(): Promise<void> {
    return this.manager._register(this);
  }

  /** Stops listening (when no other namespace or callback needs it). */
  override close(): Promise<void> {
    return this.manager._unregister(this);
  }

  /** Broadcasts here, and publishes to the other servers unless local or to one local socket. */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const data = packet.data;
    if (
      !opts.flags?.local && !this.#oneLocalSocket(opts) && Array.isArray(data) && typeof data[0] === "string" &&
      (packet.type === PacketType.EVENT || packet.type === PacketType.BINARY_EVENT)
    ) {
      const [event, ...args] = data;
      this.manager._publish({
        method: "emit",
        event,
        args,
        namespace: this.nsp.name,
        rooms: opts.rooms.size === 0 ? null : [...opts.rooms],
        skipSids: [...(opts.except ?? [])],
        hostId: this.manager.hostId,
      });
    }
    super.broadcast(packet, opts);
  }

  #oneLocalSocket(opts: BroadcastOptions): boolean {
    if (opts.rooms.size !== 1 || (opts.except?.size ?? 0) > 0) return false;
    const [room] = opts.rooms;
    return this.nsp.sockets.has(room);
  }

  /**
   * @internal Emits to the sockets of this server `message` selects; with a callback, each
   * acknowledgement is published back to the sender.
   */
  _emitHere(message: EmitMessage, onAck?: (args: unknown[]) => void): void {
    if (RESERVED_EVENTS.has(message.event)) {
      this.manager._log(`refused an emit of the reserved event "${message.event}"`);
      return;
    }
    const opts: BroadcastOptions = {
      rooms: new Set(message.rooms ?? []),
      except: new Set(message.skipSids),
      flags: {},
    };
    if (onAck === undefined) {
      super.broadcast({ type: PacketType.EVENT, nsp: this.nsp.name, data: [message.event, ...message.args] }, opts);
      return;
    }
    this.apply(opts, (socket) => {
      (socket.emit as (event: string, ...args: unknown[]) => boolean)(
        message.event,
        ...message.args,
        (...answer: unknown[]) => onAck(answer),
      );
    });
  }

  /** @internal A message for this namespace from another host. */
  _onMessage(message: PubSubMessage): void {
    switch (message.method) {
      case "emit": {
        const callback = message.callback;
        const host = message.hostId;
        if (callback === undefined || host === undefined) return this._emitHere(message);
        this._emitHere(message, (args) =>
          this.manager._publish({
            method: "callback",
            hostId: host,
            sid: callback.room,
            namespace: callback.namespace,
            id: callback.id,
            args,
          }));
        return;
      }
      case "disconnect":
        this.nsp.sockets.get(message.sid)?.disconnect();
        return;
      case "close_room":
        this._closeRoom(message.room);
        return;
      case "enter_room":
        this.nsp.sockets.get(message.sid)?.join(message.room);
        return;
      case "leave_room":
        this.nsp.sockets.get(message.sid)?.leave(message.room);
        return;
    }
  }

  /** @internal Every local member of `room` leaves it. */
  _closeRoom(room: string): void {
    const members = this.rooms.get(room);
    if (!members) return;
    for (const id of [...members]) this.nsp.sockets.get(id)?.leave(room);
  }
}
