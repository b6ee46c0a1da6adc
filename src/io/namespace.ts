/**
 * Namespaces: a named channel multiplexed over each connection, with its own middlewares, sockets,
 * rooms (through its adapter) and connection events.
 *
 * @module
 */

import { type Adapter, createAdapter, type Room, type SocketId } from "./adapter.ts";
import { BroadcastOperator, type RemoteSocket } from "./broadcast.ts";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { type PreviousSocketState, Socket } from "./socket.ts";
import { StrictEventEmitter } from "./_typed_emitter.ts";
import { reportListenerError, runMiddlewares } from "./_util.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "../util/typed_events.ts";

/**
 * An error a connection middleware passes to `next`; `data` reaches the client in CONNECT_ERROR.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * import type { ExtendedError } from "./namespace.ts";
 * io.use((socket, next) => {
 *   const err: ExtendedError = new Error("not authorized");
 *   err.data = { content: "Please retry later" };
 *   next(err);
 * });
 * ```
 */
export interface ExtendedError extends Error {
  /** Extra details sent to the client. */
  data?: unknown;
}

/**
 * Events of a namespace (`new_namespace` only fires on the main namespace, i.e. on the server).
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * io.of("/chat").on("connection", (socket) => console.log(socket.id));
 * ```
 */
export interface NamespaceReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  /** A socket connected (alias of `connection`). */
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  /** A socket connected. */
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  /** A namespace was created (emitted by the server). */
  new_namespace: (namespace: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

/**
 * A connection middleware: call `next()` to accept, `next(err)` to refuse with CONNECT_ERROR.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * import type { NamespaceMiddleware } from "./namespace.ts";
 * const auth: NamespaceMiddleware = (socket, next) =>
 *   socket.handshake.auth.token ? next() : next(new Error("unauthorized"));
 * io.use(auth);
 * ```
 */
export type NamespaceMiddleware<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> = (
  socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  next: (err?: ExtendedError) => void,
) => void;

const NAMESPACE_RESERVED: ReadonlySet<string> = new Set(["connect", "connection", "new_namespace"]);

/**
 * A namespace. `io.of("/chat")` creates or returns one; `io.sockets` is the main namespace `/`.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * const chat = io.of("/chat");
 * chat.use((socket, next) => next());
 * chat.on("connection", (socket) => {
 *   socket.join("general");
 *   chat.to("general").emit("joined", socket.id);
 * });
 * ```
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> extends StrictEventEmitter<
  ServerSideEvents,
  NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  /** The namespace name (`/`, `/chat`...). */
  readonly name: string;
  /** The connected sockets, by id. */
  readonly sockets: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();
  /** The server. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The adapter (rooms and broadcasts). */
  adapter!: Adapter;

  /** @internal The connection middlewares. */
  _fns: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] = [];
  #preConnect: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> = new Map();
  #ids = 0;

  /** Created by `server.of(name)`. */
  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, name: string) {
    super();
    this.server = server;
    this.name = name;
    this._initAdapter();
  }

  /** @internal (Re)creates the adapter from the server's adapter option. */
  _initAdapter(): void {
    // A replaced adapter is closed: still subscribed, it would answer the cluster's requests (and
    // count as a server) under its own id.
    const previous = this.adapter as Adapter | undefined;
    if (previous !== undefined) {
      try {
        Promise.resolve(previous.close()).catch((err) => reportListenerError(err, "adapter close"));
      } catch (err) {
        reportListenerError(err, "adapter close");
      }
    }
    this.adapter = createAdapter(this.server.adapter(), this);
    this.server._adapterCreated(this);
    try {
      Promise.resolve(this.adapter.init()).catch((err) => reportListenerError(err, "adapter init"));
    } catch (err) {
      reportListenerError(err, "adapter init");
    }
  }

  /** @internal The next ack id (shared by socket emits and broadcasts of this namespace). */
  _nextAckId(): number {
    return this.#ids++;
  }

  /** Adds a connection middleware. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this._fns.push(fn);
    return this;
  }

  #run(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    done: (err?: ExtendedError) => void,
  ): void {
    runMiddlewares(this._fns, socket, "namespace middleware", done);
  }

  /**
   * @internal A client sent CONNECT for this namespace: middlewares, then CONNECT (`onConnect`) or
   * CONNECT_ERROR (`onRefused`).
   */
  _add(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    onConnect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
    onRefused: () => void = () => {},
  ): void {
    const recovery = this.server._recovery;
    if (recovery && typeof auth.pid === "string" && typeof auth.offset === "string") {
      // connection state recovery: look the session up first (asynchronous with a cluster store)
      const restore = async () => {
        try {
          return await this.adapter.restoreSession(auth.pid as string, auth.offset as string);
        } catch {
          return null; // unknown session or offset: a fresh socket
        }
      };
      this.#restoring++;
      restore().then((session) => {
        this.#restoring--;
        if (!client._isOpen) {
          onRefused();
          this._releaseIfEmpty();
          return;
        }
        const previous = session
          ? {
            id: session.sid,
            issued: Date.now(),
            data: session.data as SocketData,
            pid: session.pid,
            rooms: session.rooms,
            missedPackets: session.missedPackets,
          }
          : undefined;
        this.#connect(client, auth, onConnect, onRefused, previous, !!session && recovery.skipMiddlewares);
      }).catch((err) => reportListenerError(err, "connection state recovery"));
      return;
    }
    this.#connect(client, auth, onConnect, onRefused);
  }

  #connect(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    onConnect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
    onRefused: () => void,
    previous?: PreviousSocketState<SocketData>,
    skipMiddlewares = false,
  ): void {
    const socket = new Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, client, auth, previous);
    this.#preConnect.set(socket.id, socket);
    const run = skipMiddlewares
      ? (_: unknown, done: (err?: ExtendedError) => void) => done()
      : (s: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, done: (err?: ExtendedError) => void) =>
        this.#run(s, done);
    run(socket, (err) => {
      if (!client._isOpen) {
        socket._cleanup();
        return;
      }
      if (err) {
        socket._cleanup();
        onRefused();
        socket._error({ message: err.message, data: err.data });
        return;
      }
      this.#preConnect.delete(socket.id);
      this.sockets.set(socket.id, socket);
      socket._onconnect();
      onConnect(socket);
      this.emitReserved("connect", socket);
      this.emitReserved("connection", socket);
    });
  }

  /**
   * @internal Puts back a socket a runtime kept across a restart (a Workers Durable Object waking
   * from hibernation): no middleware and no CONNECT packet (the client is still connected); its
   * rooms come back, then `connection` is emitted with `socket.recovered === true` so listeners
   * can re-attach their handlers.
   */
  _restore(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    previous: PreviousSocketState<SocketData>,
    rooms: Iterable<Room>,
  ): Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const socket = new Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, client, auth, previous);
    this.sockets.set(socket.id, socket);
    socket.connected = true;
    socket.join([socket.id, ...rooms]);
    client._attach(socket);
    this.emitReserved("connect", socket);
    this.emitReserved("connection", socket);
    return socket;
  }

  /** @internal Forgets a socket. */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (!this.sockets.delete(socket.id)) this.#preConnect.delete(socket.id);
    this._releaseIfEmpty();
  }

  /**
   * @internal A child namespace with nothing in it goes (`cleanupEmptyChildNamespaces`): no socket,
   * none in its middlewares and no session being looked up. (Going while a socket is still in
   * the middlewares would leave that socket in a namespace the server no longer has.)
   */
  _releaseIfEmpty(): void {
    if (this._onEmpty && this.sockets.size === 0 && this.#preConnect.size === 0 && this.#restoring === 0) {
      this._onEmpty();
    }
  }

  /** Sessions being looked up for CONNECTs (connection state recovery). */
  #restoring = 0;

  /** @internal Called when the last socket leaves (set on child namespaces to clean them up). */
  _onEmpty?: () => void;

  #operator(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return new BroadcastOperator(this.adapter);
  }

  /** Targets the members of `room`. */
  to(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().in(room);
  }

  /** Targets everyone except the members of `room`. */
  except(
    room: Room | Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().except(room);
  }

  /** Sets whether to compress. */
  compress(
    compress: boolean,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().compress(compress);
  }

  /** Drops the packet for receivers that cannot take it right now. */
  get volatile(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().volatile;
  }

  /** Only this server's sockets. */
  get local(): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().local;
  }

  /** Waits at most `timeout` ms for acknowledgements. */
  timeout(
    timeout: number,
  ): BroadcastOperator<
    DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>,
    SocketData
  > {
    return this.#operator().timeout(timeout);
  }

  /** Emits to every socket of the namespace. */
  emit<E extends EventNamesWithoutAck<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): boolean {
    return (new BroadcastOperator<EmitEvents, SocketData>(this.adapter).emit as (
      event: string,
      ...args: unknown[]
    ) => boolean)(event, ...args);
  }

  /** Sends a `message` event to every socket. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (event: string, ...args: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /**
   * Emits to the other servers of the cluster (listen with `nsp.on(event)`); a function as last
   * argument gets `(err, responses)`.
   */
  serverSideEmit<E extends EventNames<ServerSideEvents>>(
    event: E,
    ...args: EventParams<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>, E>
  ): boolean {
    if (NAMESPACE_RESERVED.has(event)) throw new Error(`"${event}" is a reserved event name`);
    this.adapter.serverSideEmit([event, ...args]);
    return true;
  }

  /** Emits to the other servers and resolves with their responses. */
  serverSideEmitWithAck<E extends EventNamesWithAck<ServerSideEvents>>(
    event: E,
    ...args: AllButLast<EventParams<ServerSideEvents, E>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, E>>>[]> {
    return new Promise((resolve, reject) => {
      const callback = (err: (Error & { responses?: unknown }) | null, responses: unknown) => {
        if (err) {
          err.responses = responses;
          reject(err);
        } else resolve(responses as FirstNonErrorArg<Last<EventParams<ServerSideEvents, E>>>[]);
      };
      (this.serverSideEmit as (event: string, ...args: unknown[]) => boolean)(event, ...args, callback);
    });
  }

  /** @internal Another server emitted `args` with `serverSideEmit`. */
  _onServerSideEmit(args: [string, ...unknown[]]): void {
    const [event, ...rest] = args;
    // From the bus, anything may come: never a reserved event (a forged "connection").
    if (typeof event !== "string" || NAMESPACE_RESERVED.has(event)) return;
    this.emitUntyped(event, ...rest);
  }

  /** The ids of every socket (deprecated in socket.io; prefer `fetchSockets`). */
  allSockets(): Promise<Set<SocketId>> {
    return this.#operator().allSockets();
  }

  /** Every socket of the namespace (across servers with a cluster adapter). */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return new BroadcastOperator<EmitEvents, SocketData>(this.adapter).fetchSockets();
  }

  /** Makes every socket join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.#operator().socketsJoin(room);
  }

  /** Makes every socket leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.#operator().socketsLeave(room);
  }

  /** Disconnects every socket (closing their connections when `close`). */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }
}
