/**
 * Adapters decide who receives a broadcast. {@linkcode Adapter} is the in-memory implementation and
 * the base class of cluster adapters (Redis...), with the shape and semantics of `socket.io-adapter`:
 * it keeps `rooms` (room -> socket ids) and `sids` (socket id -> rooms) for one namespace, encodes
 * each broadcast once and writes the same frames to every receiver.
 *
 * @module
 */

import { Emitter } from "../util/emitter.ts";
import type { Packet } from "../parser/socket_io.ts";
import { withSharedFrames } from "../parser/engine_io_v3.ts";
import { safeCall } from "./_util.ts";
import type { Namespace } from "./namespace.ts";
import type { Handshake, Socket } from "./socket.ts";
import type { Engine } from "../engine/server.ts";
import type { EngineSocket } from "../engine/socket.ts";
import { randomId } from "../engine/ids.ts";

/**
 * A Socket.IO socket id.
 *
 * @example
 * ```ts
 * import type { SocketId } from "./adapter.ts";
 * const id: SocketId = "Xh3kq9vU2pLr8AaBcDeF";
 * ```
 */
export type SocketId = string;

/**
 * A room name. Every socket is in the room named after its own id.
 *
 * @example
 * ```ts
 * import type { Room } from "./adapter.ts";
 * const room: Room = "news";
 * ```
 */
export type Room = string;

/**
 * Modifiers of a broadcast.
 *
 * @example
 * ```ts
 * import type { BroadcastFlags } from "./adapter.ts";
 * const flags: BroadcastFlags = { volatile: true, timeout: 1000 };
 * ```
 */
export interface BroadcastFlags {
  /** Drop the packet for receivers whose transport is not writable right now. */
  volatile?: boolean;
  /** Ask the transport to compress (default true). */
  compress?: boolean;
  /** Only this server (cluster adapters skip the other nodes). */
  local?: boolean;
  /** Set by cluster adapters on broadcasts. */
  broadcast?: boolean;
  /** Set by cluster adapters when the packet holds binary. */
  binary?: boolean;
  /** Milliseconds to wait for acknowledgements. */
  timeout?: number;
}

/**
 * Who receives a broadcast: sockets in any of `rooms` (every socket when empty), minus those in any
 * of `except`.
 *
 * @example
 * ```ts
 * import type { BroadcastOptions } from "./adapter.ts";
 * const opts: BroadcastOptions = { rooms: new Set(["news"]), except: new Set(["banned"]) };
 * ```
 */
export interface BroadcastOptions {
  /** Target rooms; empty means everyone in the namespace. */
  rooms: Set<Room>;
  /** Rooms whose members are left out. */
  except?: Set<Room>;
  /** Modifiers. */
  flags?: BroadcastFlags;
}

/**
 * What a cluster adapter reports about a socket held by another server (`fetchSockets`).
 *
 * @example
 * ```ts
 * import type { SocketDetails } from "./adapter.ts";
 * function describe(s: SocketDetails): string { return `${s.id} in ${s.rooms.join(",")}`; }
 * ```
 */
export interface SocketDetails<SocketData = unknown> {
  /** The socket id. */
  id: SocketId;
  /** Its handshake. */
  handshake: Handshake;
  /** Its rooms. */
  rooms: Room[];
  /** Its `data`. */
  data: SocketData;
}

/**
 * The events of an adapter.
 *
 * @example
 * ```ts
 * import type { AdapterEvents } from "./adapter.ts";
 * const onCreate: AdapterEvents["create-room"] = (room) => console.log("created", room);
 * ```
 */
export interface AdapterEvents {
  /** A room got its first member. */
  "create-room": (room: Room) => void;
  /** A room lost its last member. */
  "delete-room": (room: Room) => void;
  /** A socket joined a room. */
  "join-room": (room: Room, id: SocketId) => void;
  /** A socket left a room. */
  "leave-room": (room: Room, id: SocketId) => void;
}

/**
 * A namespace of any event types, as adapters see it.
 *
 * @example
 * ```ts
 * import type { AnyNamespace } from "./adapter.ts";
 * function name(nsp: AnyNamespace): string { return nsp.name; }
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyNamespace = Namespace<any, any, any, any>;

/**
 * A socket of any event types, as adapters see it.
 *
 * @example
 * ```ts
 * import type { AnySocket } from "./adapter.ts";
 * function id(socket: AnySocket): string { return socket.id; }
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnySocket = Socket<any, any, any, any>;

/**
 * What `fetchSockets` yields: local sockets, or details of sockets held by other servers.
 *
 * @example
 * ```ts
 * import type { FetchedSocket } from "./adapter.ts";
 * function id(s: FetchedSocket): string { return s.id; }
 * ```
 */
export type FetchedSocket = AnySocket | SocketDetails;

/**
 * The state a recoverable socket leaves behind (connection state recovery; unused by the in-memory
 * adapter for now).
 *
 * @example
 * ```ts
 * import type { SessionToPersist } from "./adapter.ts";
 * const s: SessionToPersist = { sid: "a", pid: "b", rooms: [], data: {} };
 * ```
 */
export interface SessionToPersist {
  /** The socket id. */
  sid: SocketId;
  /** The private session id. */
  pid: string;
  /** Its rooms. */
  rooms: Room[];
  /** Its `data`. */
  data: unknown;
}

/**
 * A restored session and the packets it missed.
 *
 * @example
 * ```ts
 * import type { Session } from "./adapter.ts";
 * const s: Session = { sid: "a", pid: "b", rooms: [], data: {}, missedPackets: [] };
 * ```
 */
export interface Session extends SessionToPersist {
  /** The event data (name and arguments) missed while disconnected. */
  missedPackets: unknown[][];
}

/**
 * The in-memory adapter, and the base class of cluster adapters.
 *
 * Subclasses override `broadcast`, `broadcastWithAck`, `serverCount`, `fetchSockets`, `addSockets`,
 * `delSockets`, `disconnectSockets` and `serverSideEmit` to reach other servers, calling `super` for
 * the local part.
 *
 * @example
 * ```ts
 * import { Server } from "../io/server.ts";
 * const io = new Server();
 * const adapter = io.of("/").adapter;
 * adapter.on("join-room", (room, id) => console.log(`${id} joined ${room}`));
 * ```
 */
export class Adapter extends Emitter<AdapterEvents> {
  /** Room name -> ids of its members. */
  rooms: Map<Room, Set<SocketId>> = new Map();
  /** Socket id -> its rooms. */
  sids: Map<SocketId, Set<Room>> = new Map();
  /** The namespace this adapter serves. */
  readonly nsp: AnyNamespace;

  /** Creates the adapter of `nsp`. */
  constructor(nsp: AnyNamespace) {
    super();
    this.nsp = nsp;
  }

  /** Starts the adapter (cluster adapters subscribe here). */
  init(): Promise<void> | void {}

  /** Stops the adapter. */
  close(): Promise<void> | void {}

  /** How many servers share this namespace (1 in memory). */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /**
   * Adds socket `id` to `rooms`.
   *
   * A socket in its own room alone (every socket, from its connection on) has one set in both
   * maps: `sids.get(id)` and `rooms.get(id)` are the same `Set {id}` until either changes, when
   * `rooms` gets a copy (the socket's set, `socket.rooms`, stays the same object). One set less
   * per connection: about 250 bytes on V8 and on JavaScriptCore.
   */
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void {
    let own = this.sids.get(id);
    if (own === undefined && rooms.size === 1 && rooms.has(id) && !this.rooms.has(id)) {
      own = new Set<Room>().add(id);
      this.sids.set(id, own);
      this.rooms.set(id, own);
      this.#notify("create-room", id);
      this.#notify("join-room", id, id);
      return;
    }
    if (own === undefined) {
      own = new Set();
      this.sids.set(id, own);
    }
    for (const room of rooms) {
      if (!own.has(room)) {
        this.#unshare(id);
        own.add(room);
      }
      let members = this.rooms.get(room);
      if (!members) {
        members = new Set();
        this.rooms.set(room, members);
        this.#notify("create-room", room);
      }
      if (!members.has(id)) {
        // a room named after another socket may still share that socket's own set
        members = this.#unshare(room) ?? members;
        members.add(id);
        this.#notify("join-room", room, id);
      }
    }
  }

  /** Removes socket `id` from `room`. */
  del(id: SocketId, room: Room): Promise<void> | void {
    const own = this.sids.get(id);
    if (own?.has(room)) {
      this.#unshare(id);
      own.delete(room);
    }
    this.#leave(room, id);
    if (this.#engine.hasFanOut) this.nsp.sockets.get(id)?.conn.unsubscribe(this.#topic(room));
  }

  /** Removes socket `id` from all its rooms. */
  delAll(id: SocketId): void {
    const conn = this.#engine.hasFanOut ? this.nsp.sockets.get(id)?.conn : undefined;
    conn?.unsubscribe(this.#everyone);
    const own = this.sids.get(id);
    if (!own) return;
    if (conn) { for (const room of own) conn.unsubscribe(this.#topic(room)); }
    for (const room of own) this.#leave(room, id);
    this.sids.delete(id);
  }

  #leave(room: Room, id: SocketId): void {
    const members = this.rooms.get(room);
    if (!members) return;
    if (members === this.sids.get(room)) {
      // Socket `room`'s own set, shared: `{room}` alone. Only that socket leaves it, and it is
      // left empty: the room goes, the socket's set is not touched.
      if (id !== room) return;
      this.rooms.delete(room);
      this.#notify("leave-room", room, id);
      this.#notify("delete-room", room);
      return;
    }
    if (members.delete(id)) this.#notify("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.#notify("delete-room", room);
  }

  /**
   * Before the room or the socket named `name` changes: if the two maps share its set, `rooms` gets
   * a copy (returned), and the socket keeps the set.
   */
  #unshare(name: string): Set<SocketId> | undefined {
    const members = this.rooms.get(name);
    if (members === undefined || members !== this.sids.get(name)) return undefined;
    const copy = new Set(members);
    this.rooms.set(name, copy);
    return copy;
  }

  #notify<E extends keyof AdapterEvents>(event: E, ...args: Parameters<AdapterEvents[E]>): void {
    if (!this.hasListeners(event)) return;
    safeCall(() => this.emitReserved(event, ...args), `adapter "${event}" listener`);
  }

  /** Encodes a packet once for every receiver. */
  protected encode(packet: Packet): Array<string | Uint8Array> {
    return this.nsp.server.encoder.encode(packet);
  }

  /**
   * Sends `packet` to the sockets `opts` selects: encoded once, the same frames to everyone (the
   * binary ones framed once more for Engine.IO v3 WebSockets, see `withSharedFrames`).
   */
  broadcast(packet: Packet, opts: BroadcastOptions): void {
    const flags = opts.flags ?? {};
    const writeOpts = { volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    const frames = this.encode(packet);
    withSharedFrames(() => {
      if (this.#broadcastToTopic(packet, frames, opts, writeOpts)) return;
      this.apply(opts, (socket) => {
        socket._notifyOutgoing(packet.data);
        socket.client._writeFrames(frames, writeOpts);
      });
    });
  }

  /** The engine, whose native fan-out (where a runtime offers one) takes broadcasts. */
  get #engine(): Engine {
    return this.nsp.server.engine;
  }

  /** The engine's topic for `room` of this namespace. */
  #topic(room: Room): string {
    return this.nsp.name + "\u0000" + room;
  }

  /**
   * The engine's topic for the whole namespace (namespace names start with "/"): one string, made
   * once (a new one per broadcast was hashed again by every socket's topic check).
   */
  get #everyone(): string {
    return this.#everyoneTopic ??= "\u0001" + this.nsp.name;
  }
  #everyoneTopic: string | undefined;

  /**
   * The one socket `except` leaves out, `null` for none, `undefined` when it is more than one
   * socket (the per-socket path then decides).
   */
  #exceptedOne(except: Set<Room> | undefined): SocketId | null | undefined {
    if (except === undefined || except.size === 0) return null;
    let members: Set<SocketId> | undefined;
    if (except.size === 1) members = this.rooms.get(except.values().next().value as Room);
    else members = this.exceptSids(except);
    if (members === undefined || members.size === 0) return null;
    return members.size === 1 ? members.values().next().value as SocketId : undefined;
  }

  /** The ids `except` leaves out (read only), `undefined` for none. */
  #excepted(except: Set<Room> | undefined): ReadonlySet<SocketId> | undefined {
    if (except === undefined || except.size === 0) return undefined;
    const ids = except.size === 1 ? this.rooms.get(except.values().next().value as Room) : this.exceptSids(except);
    return ids === undefined || ids.size === 0 ? undefined : ids;
  }

  /**
   * Every broadcast shape, where the runtime offers native fan-out (Bun): the receivers it can reach
   * now are subscribed to the topic of the namespace or of a room and get the frames through one
   * publish; the others (polling, mid-upgrade, Engine.IO v3, watched sessions) one write each. A
   * receiver's frames buffered earlier in the tick go out before the publish, so the order a client
   * sees never changes.
   *
   * - The namespace or one room minus one socket (`socket.broadcast.emit`, `socket.to(room).emit`):
   *   published from the excluded socket's own WebSocket, which the runtime skips (a connection
   *   holds one socket per namespace).
   * - Minus several sockets (`except(room)`): the excluded ones subscribed to the topic leave it for
   *   the publish and take it again right after (see `Engine.publish`).
   * - Several rooms (`to([a, b])`): one publish per room, in order; the members already reached
   *   through an earlier room (natively or not) leave the later room's topic for its publish, as the
   *   excluded ones do.
   *
   * Taking a session out and putting it back costs two native calls, a receiver reached natively
   * saves one send per frame: a room (or the namespace) whose taken-out sessions are more than half
   * its native receivers is written to socket by socket instead (for example a second room whose
   * members are nearly all in the first).
   *
   * Without native fan-out (other runtimes, volatile packets: each socket decides whether it takes
   * one now), the namespace or one room minus at most one socket are written here without the sets
   * `apply` builds; false for the shapes left to `apply`.
   */
  #broadcastToTopic(
    packet: Packet,
    frames: Array<string | Uint8Array>,
    opts: BroadcastOptions,
    writeOpts: { volatile?: boolean; compress?: boolean },
  ): boolean {
    const rooms = opts.rooms;
    if (!this.#engine.hasFanOut || writeOpts.volatile) {
      return this.#writeEach(packet, frames, opts, writeOpts);
    }
    const except = this.#excepted(opts.except);
    if (rooms.size === 0) {
      this.#publishTo(this.#everyone, this.sids.keys(), except, undefined, packet, frames, writeOpts);
      return true;
    }
    // Several rooms: each socket once, through the first room it is found in.
    const reached = rooms.size > 1 ? new Set<SocketId>() : undefined;
    for (const room of rooms) {
      const members = this.rooms.get(room);
      if (members !== undefined) {
        this.#publishTo(this.#topic(room), members, except, reached, packet, frames, writeOpts);
      }
    }
    return true;
  }

  /** The namespace or one room minus at most one socket, one write per socket; false otherwise. */
  #writeEach(
    packet: Packet,
    frames: Array<string | Uint8Array>,
    opts: BroadcastOptions,
    writeOpts: { volatile?: boolean; compress?: boolean },
  ): boolean {
    const rooms = opts.rooms;
    if (rooms.size > 1) return false;
    const excepted = this.#exceptedOne(opts.except);
    if (excepted === undefined) return false;
    const receivers = rooms.size === 1 ? this.rooms.get(rooms.values().next().value as Room) : this.sids.keys();
    if (receivers === undefined) return true;
    const sockets = this.nsp.sockets;
    for (const id of receivers) {
      if (id === excepted) continue;
      const socket = sockets.get(id);
      if (!socket) continue;
      socket._notifyOutgoing(packet.data);
      socket.client._writeFrames(frames, writeOpts);
    }
    return true;
  }

  /**
   * Sends the frames to the sockets of `ids` but those of `except` and `reached` (then adds them to
   * `reached`): one publish to `topic` for those it can reach, one write to each of the others.
   */
  #publishTo(
    topic: string,
    ids: Iterable<SocketId>,
    except: ReadonlySet<SocketId> | undefined,
    reached: Set<SocketId> | undefined,
    packet: Packet,
    frames: Array<string | Uint8Array>,
    writeOpts: { volatile?: boolean; compress?: boolean },
  ): void {
    const sockets = this.nsp.sockets;
    // One excluded socket alone publishes from its own WebSocket (no session leaves the topic).
    const sender = except !== undefined && except.size === 1 && reached === undefined
      ? except.values().next().value as SocketId
      : undefined;
    // The native receivers are kept only where the rule may send them one by one after all.
    const natives: AnySocket["client"][] | undefined = sender === undefined && (reached ?? except) !== undefined
      ? []
      : undefined;
    let nativeCount = 0;
    let takenOut: EngineSocket[] | undefined;
    for (const id of ids) {
      if (id === sender) continue;
      const socket = sockets.get(id);
      if (!socket) continue;
      if (except?.has(id) || reached?.has(id)) {
        if (socket.conn.isSubscribed(topic)) (takenOut ??= []).push(socket.conn);
        continue;
      }
      reached?.add(id);
      socket._notifyOutgoing(packet.data);
      const client = socket.client;
      if (client._isOpen && client.conn.subscribe(topic)) {
        nativeCount++;
        natives?.push(client);
      } else client._writeFrames(frames, writeOpts);
    }
    if (nativeCount === 0) return;
    if (takenOut !== undefined && natives !== undefined && takenOut.length * 2 > nativeCount) {
      for (const client of natives) client._writeFrames(frames, writeOpts);
      return;
    }
    const exceptSession = sender !== undefined ? sockets.get(sender)?.conn : takenOut;
    this.#engine.publish(topic, frames, { compress: writeOpts.compress, except: exceptSession });
  }

  /**
   * Like `broadcast`, expecting an acknowledgement from every receiver: `clientCountCallback` gets
   * how many sockets were reached (once per server), `ack` each client's response.
   */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    const flags = opts.flags ?? {};
    const writeOpts = { volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    packet.id = this.nsp._nextAckId();
    const id = packet.id;
    const frames = this.encode(packet);
    let count = 0;
    withSharedFrames(() =>
      this.apply(opts, (socket) => {
        count++;
        socket._setAck(id, ack);
        socket._notifyOutgoing(packet.data);
        socket.client._writeFrames(frames, writeOpts);
      })
    );
    clientCountCallback(count);
  }

  /** The ids of the sockets in any of `rooms` (all sockets when empty). */
  sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  /** The rooms of socket `id`. */
  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  /** The sockets `opts` selects. */
  fetchSockets(opts: BroadcastOptions): Promise<FetchedSocket[]> {
    const found: FetchedSocket[] = [];
    this.apply(opts, (socket) => found.push(socket));
    return Promise.resolve(found);
  }

  /** Makes the sockets `opts` selects join `rooms`. */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this.apply(opts, (socket) => socket.join(rooms));
  }

  /** Makes the sockets `opts` selects leave `rooms`. */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this.apply(opts, (socket) => {
      for (const room of rooms) socket.leave(room);
    });
  }

  /** Disconnects the sockets `opts` selects (and their whole connection when `close`). */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    this.apply(opts, (socket) => socket.disconnect(close));
  }

  /**
   * Sends an event to the other servers of the cluster. In memory there are none: an ack callback
   * (last element) is called with `(null, [])` on a microtask.
   */
  serverSideEmit(packet: unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last === "function") {
      queueMicrotask(() => safeCall(() => last(null, []), "serverSideEmit ack"));
    }
  }

  /**
   * A new private session id for a socket (connection state recovery); an adapter whose store is
   * split (the shards of a Durable Object app) makes it name the part that keeps the session.
   */
  newPid(): string {
    return randomId();
  }

  /** Stores a session for connection state recovery (no-op in memory for now). */
  persistSession(_session: SessionToPersist): Promise<void> | void {}

  /** Restores a session for connection state recovery (none in memory for now). */
  restoreSession(_pid: string, _offset: string): Promise<Session | null> {
    return Promise.resolve(null);
  }

  /** Calls `callback` once for each local socket `opts` selects. */
  protected apply(opts: BroadcastOptions, callback: (socket: AnySocket) => void): void {
    const except = this.exceptSids(opts.except);
    const sockets = this.nsp.sockets;
    if (opts.rooms.size) {
      const seen = new Set<SocketId>();
      for (const room of opts.rooms) {
        const members = this.rooms.get(room);
        if (!members) continue;
        for (const id of members) {
          if (seen.has(id) || except.has(id)) continue;
          const socket = sockets.get(id);
          if (socket) {
            seen.add(id);
            callback(socket);
          }
        }
      }
    } else {
      for (const id of this.sids.keys()) {
        if (except.has(id)) continue;
        const socket = sockets.get(id);
        if (socket) callback(socket);
      }
    }
  }

  /** The ids of the members of any of `rooms`. */
  protected exceptSids(rooms?: Set<Room>): Set<SocketId> {
    const ids = new Set<SocketId>();
    if (!rooms) return ids;
    for (const room of rooms) {
      const members = this.rooms.get(room);
      if (members) { for (const id of members) ids.add(id); }
    }
    return ids;
  }
}

/**
 * The in-memory adapter under its explicit name (the default).
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * import { InMemoryAdapter } from "./adapter.ts";
 * const io = new Server({ adapter: InMemoryAdapter });
 * ```
 */
export class InMemoryAdapter extends Adapter {}

/**
 * How the server builds an adapter for each namespace: an `Adapter` subclass, or a factory.
 *
 * @example
 * ```ts
 * import { Adapter, type AdapterConstructor } from "./adapter.ts";
 * const ctor: AdapterConstructor = (nsp) => new Adapter(nsp);
 * ```
 */
export type AdapterConstructor =
  | (new (nsp: AnyNamespace) => Adapter)
  | ((nsp: AnyNamespace) => Adapter);

/**
 * Builds the adapter of `nsp` from a constructor or a factory.
 *
 * @example
 * ```ts
 * import { Adapter, createAdapter } from "./adapter.ts";
 * import { Server } from "./server.ts";
 * const adapter = createAdapter(Adapter, new Server().of("/chat"));
 * ```
 */
export function createAdapter(ctor: AdapterConstructor, nsp: AnyNamespace): Adapter {
  const proto = (ctor as { prototype?: unknown }).prototype;
  const isClass = ctor === Adapter || proto instanceof Adapter ||
    /^class[\s{]/.test(Function.prototype.toString.call(ctor));
  if (isClass) return new (ctor as new (nsp: AnyNamespace) => Adapter)(nsp);
  return (ctor as (nsp: AnyNamespace) => Adapter)(nsp);
}
