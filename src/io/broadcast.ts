/**
 * Broadcasting: an immutable {@linkcode BroadcastOperator} chooses receivers (`to`, `in`,
 * `except`) and flags (`volatile`, `compress`, `local`, `timeout`), then emits or acts on the chosen
 * sockets through the namespace's adapter. {@linkcode RemoteSocket} is what `fetchSockets` yields
 * for sockets on other servers.
 *
 * @module
 */

import { PacketType, RESERVED_EVENTS } from "../parser/socket_io.ts";
import type { Packet } from "../parser/socket_io.ts";
import type { Adapter, BroadcastFlags, BroadcastOptions, Room, SocketDetails, SocketId } from "./adapter.ts";
import type { Handshake } from "./socket.ts";
import { safeCall } from "./_util.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  EventNames,
  EventNamesWithError,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  TypedEventBroadcaster,
} from "../util/typed_events.ts";

/**
 * Flags of a broadcast operator, with the one used internally by `RemoteSocket`.
 *
 * @example
 * ```ts
 * import type { OperatorFlags } from "./broadcast.ts";
 * const flags: OperatorFlags = { timeout: 500 };
 * ```
 */
export interface OperatorFlags extends BroadcastFlags {
  /** Resolve acks with the single response instead of an array (one target socket). */
  expectSingleResponse?: boolean;
}

/**
 * An error of an acknowledged broadcast that timed out; `responses` holds what did arrive.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * import type { BroadcastAckError } from "./broadcast.ts";
 * try {
 *   await io.timeout(1000).emitWithAck("ping");
 * } catch (err) {
 *   console.log((err as BroadcastAckError).responses);
 * }
 * ```
 */
export interface BroadcastAckError extends Error {
  /** The responses received before the timeout. */
  responses?: unknown;
}

function toSet(base: Set<Room>, room: Room | Room[]): Set<Room> {
  const next = new Set(base);
  if (Array.isArray(room)) { for (const r of room) next.add(r); }
  else next.add(room);
  return next;
}

/**
 * Selects receivers and flags, then emits to them. Every modifier returns a new operator.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * io.to("room1").except("room2").volatile.emit("news", { title: "hi" });
 * const responses = await io.timeout(1000).emitWithAck("ping");
 * ```
 */
export class BroadcastOperator<EmitEvents extends EventsMap, SocketData = unknown>
  implements TypedEventBroadcaster<EmitEvents> {
  readonly #adapter: Adapter;
  readonly #rooms: Set<Room>;
  readonly #except: Set<Room>;
  readonly #flags: OperatorFlags;

  /** Creates an operator over `adapter` (usually obtained from a namespace or socket). */
  constructor(
    adapter: Adapter,
    rooms: Set<Room> = new Set(),
    exceptRooms: Set<Room> = new Set(),
    flags: OperatorFlags = {},
  ) {
    this.#adapter = adapter;
    this.#rooms = rooms;
    this.#except = exceptRooms;
    this.#flags = flags;
  }

  #with(rooms: Set<Room>, except: Set<Room>, flags: OperatorFlags): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, rooms, except, flags);
  }

  #options(): BroadcastOptions {
    return { rooms: this.#rooms, except: this.#except, flags: this.#flags };
  }

  /** Targets the members of `room` (several calls or an array: the union). */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(toSet(this.#rooms, room), this.#except, this.#flags);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Leaves out the members of `room`. */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, toSet(this.#except, room), this.#flags);
  }

  /** Sets whether to compress. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, compress });
  }

  /** Drops the packet for receivers that cannot take it right now. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, volatile: true });
  }

  /** Only this server's sockets (meaningful with a cluster adapter). */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, local: true });
  }

  /** Waits at most `timeout` ms for acknowledgements; the callback then gets an error first. */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#except, { ...this.#flags, timeout });
  }

  /** The rooms targeted (read-only view, for adapters and tests). */
  get rooms(): ReadonlySet<Room> {
    return this.#rooms;
  }

  /** The rooms excluded (read-only view). */
  get exceptRooms(): ReadonlySet<Room> {
    return this.#except;
  }

  /** The flags (a copy). */
  get flags(): OperatorFlags {
    return { ...this.#flags };
  }

  /**
   * Emits to every selected socket. With a function as last argument, it is called once all
   * receivers answered, or at the timeout: `(err, responses)` (`responses` is an array).
   */
  emit<E extends EventNames<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): boolean {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    const data: unknown[] = [event, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: "/", data };
    if (typeof data[data.length - 1] !== "function") {
      this.#adapter.broadcast(packet, this.#options());
      return true;
    }
    const ack = data.pop() as (...args: unknown[]) => void;
    const single = this.#flags.expectSingleResponse === true;
    const timeout = this.#flags.timeout;
    const responses: unknown[] = [];
    let expectedServers = -1;
    let servers = 0;
    let expectedClients = 0;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      const result = single ? (err ? null : responses[0]) : responses;
      safeCall(() => ack(err, result), `"${event}" broadcast ack`);
    };
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        if (packet.id !== undefined) {
          for (const socket of this.#adapter.nsp.sockets.values()) socket._deleteAck(packet.id);
        }
        finish(new Error("operation has timed out"));
      }, timeout);
    }
    const check = () => {
      if (expectedServers === servers && responses.length === expectedClients) finish(null);
    };
    this.#adapter.broadcastWithAck(
      packet,
      this.#options(),
      (count) => {
        expectedClients += count;
        servers++;
        check();
      },
      (response) => {
        if (done) return;
        responses.push(response);
        check();
      },
    );
    // `local`: only this server's clients are asked, whatever the size of the cluster.
    (this.#flags.local ? Promise.resolve(1) : this.#adapter.serverCount()).then((count) => {
      expectedServers = count;
      check();
    }, (err) => finish(err instanceof Error ? err : new Error(String(err))));
    return true;
  }

  /**
   * Emits and resolves with every receiver's response (an array); rejects on timeout with an error
   * whose `responses` holds what arrived.
   */
  emitWithAck<E extends EventNamesWithError<EmitEvents>>(
    event: E,
    ...args: AllButLast<EventParams<EmitEvents, E>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>> {
    return new Promise((resolve, reject) => {
      const callback = (err: BroadcastAckError | null, responses: unknown) => {
        if (err) {
          err.responses = responses;
          reject(err);
        } else resolve(responses as FirstNonErrorArg<Last<EventParams<EmitEvents, E>>>);
      };
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args, callback);
    });
  }

  /** The ids of the selected sockets (deprecated in socket.io; prefer `fetchSockets`). */
  allSockets(): Promise<Set<SocketId>> {
    return this.#adapter.sockets(this.#rooms);
  }

  /** The selected sockets: local `Socket`s, or `RemoteSocket`s for other servers. */
  async fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    const found = await this.#adapter.fetchSockets(this.#options());
    return found.map((s) => {
      if (typeof (s as { emit?: unknown }).emit === "function") {
        return s as unknown as RemoteSocket<EmitEvents, SocketData>;
      }
      return new RemoteSocket<EmitEvents, SocketData>(this.#adapter, s as SocketDetails<SocketData>);
    });
  }

  /** Makes the selected sockets join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.#adapter.addSockets(this.#options(), Array.isArray(room) ? room : [room]);
  }

  /** Makes the selected sockets leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.#adapter.delSockets(this.#options(), Array.isArray(room) ? room : [room]);
  }

  /** Disconnects the selected sockets (closing their connections when `close`). */
  disconnectSockets(close = false): void {
    this.#adapter.disconnectSockets(this.#options(), close);
  }
}

/**
 * A socket as `fetchSockets` reports it: its details, and methods that act on it wherever it is.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * const sockets = await io.in("room1").fetchSockets();
 * for (const s of sockets) {
 *   console.log(s.id, s.rooms, s.data);
 *   s.emit("hello");
 *   s.join("room2");
 * }
 * ```
 */
export class RemoteSocket<EmitEvents extends EventsMap, SocketData = unknown>
  implements TypedEventBroadcaster<EmitEvents> {
  /** The socket id. */
  readonly id: SocketId;
  /** Its handshake. */
  readonly handshake: Handshake;
  /** Its rooms when fetched. */
  readonly rooms: Set<Room>;
  /** Its `data` when fetched. */
  readonly data: SocketData;
  readonly #operator: BroadcastOperator<EmitEvents, SocketData>;

  /** Wraps the details a cluster adapter reported. */
  constructor(adapter: Adapter, details: SocketDetails<SocketData>) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    this.#operator = new BroadcastOperator(adapter, new Set([this.id]), new Set(), {
      expectSingleResponse: true,
    });
  }

  /** Waits at most `timeout` ms for the acknowledgement. */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#operator.timeout(timeout);
  }

  /** Emits to this socket. */
  emit<E extends EventNames<EmitEvents>>(event: E, ...args: EventParams<EmitEvents, E>): boolean {
    return this.#operator.emit(event, ...args);
  }

  /** Makes this socket join `room`. */
  join(room: Room | Room[]): void {
    this.#operator.socketsJoin(room);
  }

  /** Makes this socket leave `room`. */
  leave(room: Room): void {
    this.#operator.socketsLeave(room);
  }

  /** Disconnects this socket. */
  disconnect(close = false): this {
    this.#operator.disconnectSockets(close);
    return this;
  }
}
