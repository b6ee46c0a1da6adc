/**
 * Dynamic namespaces: `io.of(/^\/room-\d+$/)` or `io.of((name, auth, next) => ...)` returns a
 * {@linkcode ParentNamespace}; each matching name gets a child namespace that inherits its
 * middlewares and connection listeners, and broadcasts on the parent reach every child.
 *
 * @module
 */

import { Adapter, type BroadcastOptions } from "./adapter.ts";
import type { Packet } from "../parser/socket_io.ts";
import type { RemoteSocket } from "./broadcast.ts";
import { Namespace } from "./namespace.ts";
import type { Server } from "./server.ts";
import type { DefaultEventsMap, EventNamesWithoutAck, EventParams, EventsMap } from "../util/typed_events.ts";

let parentCount = 0;

/**
 * The namespace returned by `io.of(regexp | function)`.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * const rooms = io.of(/^\/room-\d+$/);
 * rooms.on("connection", (socket) => console.log("joined", socket.nsp.name));
 * rooms.emit("hello"); // every child namespace
 * ```
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** The child namespaces created so far. */
  readonly children: Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Set();

  /** Created by `server.of(regexp | function)`. */
  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, "/_" + parentCount++);
  }

  /** @internal Parents broadcast through their children's adapters. */
  override _initAdapter(): void {
    this.adapter = new ParentBroadcastAdapter(this);
  }

  /** Emits to every socket of every child namespace. */
  override emit<E extends EventNamesWithoutAck<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): boolean {
    for (const nsp of this.children) nsp.emit(event, ...args);
    return true;
  }

  /** @internal Creates the child namespace `name`. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this.server, name);
    for (const fn of this._fns) child.use(fn);
    for (const listener of this.listeners("connect")) child.on("connect", listener);
    for (const listener of this.listeners("connection")) child.on("connection", listener);
    this.children.add(child);
    if (this.server._opts.cleanupEmptyChildNamespaces) {
      child._onEmpty = () => {
        if (this.server._nsps.get(name) !== child) return;
        Promise.resolve(child.adapter.close()).catch(() => {});
        this.server._nsps.delete(name);
        this.children.delete(child);
      };
    }
    this.server._nsps.set(name, child);
    this.server.sockets.emitReserved("new_namespace", child);
    return child;
  }

  /** Not supported on parent namespaces (as in socket.io): throws. */
  override fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    throw new Error("fetchSockets() is not supported on parent namespaces");
  }
}

class ParentBroadcastAdapter extends Adapter {
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const parent = this.nsp as ParentNamespace;
    // A packet of its own for each child, data included: with connection state recovery each
    // child appends its own offset to the data.
    for (const child of parent.children) {
      child.adapter.broadcast({ ...packet, data: Array.isArray(packet.data) ? [...packet.data] : packet.data }, opts);
    }
  }
}
