/**
 * The Redis emitter: send to the clients of a cluster from a process that is not a Socket.IO
 * server (a worker, a cron job), compatible with `@socket.io/redis-emitter` 5.x — the same
 * messages reach our servers and Node servers with `@socket.io/redis-adapter`.
 *
 * @module
 */

import { PacketType, RESERVED_EVENTS } from "../../parser/socket_io.ts";
import type { BroadcastFlags, Room } from "../../io/adapter.ts";
import { RequestType, type WireOptions } from "../cluster.ts";
import { type RedisClient, type RedisOps, wrapClient } from "./_client.ts";
import { encodeMsgpack } from "./_msgpack.ts";

const UID = "emitter";

/**
 * Options of the emitter.
 *
 * @example
 * ```ts
 * import type { EmitterOptions } from "./emitter.ts";
 * const opts: EmitterOptions = { key: "socket.io" };
 * ```
 */
export interface EmitterOptions {
  /** The channel prefix the servers use (default `socket.io`). */
  key?: string;
}

interface Channels {
  nsp: string;
  broadcast: string;
  request: string;
}

function toList(room: Room | Room[]): Room[] {
  return Array.isArray(room) ? room : [room];
}

/**
 * Chooses receivers and flags, then emits through Redis. Every modifier returns a new operator.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Emitter } from "./emitter.ts";
 * const emitter = new Emitter(createClient());
 * emitter.to("room1").except("room2").emit("news", { title: "hi" });
 * ```
 */
export class EmitterBroadcastOperator {
  readonly #redis: RedisOps;
  readonly #channels: Channels;
  readonly #rooms: Set<Room>;
  readonly #except: Set<Room>;
  readonly #flags: BroadcastFlags;

  /** Created by {@linkcode Emitter}. */
  constructor(
    redis: RedisOps,
    channels: Channels,
    rooms: Set<Room> = new Set<Room>(),
    except: Set<Room> = new Set<Room>(),
    flags: BroadcastFlags = {},
  ) {
    this.#redis = redis;
    this.#channels = channels;
    this.#rooms = rooms;
    this.#except = except;
    this.#flags = flags;
  }

  #with(rooms: Set<Room>, except: Set<Room>, flags: BroadcastFlags): EmitterBroadcastOperator {
    return new EmitterBroadcastOperator(this.#redis, this.#channels, rooms, except, flags);
  }

  /** Targets the members of `room`. */
  to(room: Room | Room[]): EmitterBroadcastOperator {
    return this.#with(new Set([...this.#rooms, ...toList(room)]), this.#except, this.#flags);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): EmitterBroadcastOperator {
    return this.to(room);
  }

  /** Leaves out the members of `room`. */
  except(room: Room | Room[]): EmitterBroadcastOperator {
    return this.#with(this.#rooms, new Set([...this.#except, ...toList(room)]), this.#flags);
  }

  /** Sets whether to compress. */
  compress(compress: boolean): EmitterBroadcastOperator {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, compress });
  }

  /** Receivers that cannot take the packet right now drop it. */
  get volatile(): EmitterBroadcastOperator {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, volatile: true });
  }

  #opts(): WireOptions {
    return { rooms: [...this.#rooms], except: [...this.#except] };
  }

  #publish(channel: string, payload: string | Uint8Array): void {
    this.#redis.publish(channel, payload).catch((err) => console.error("[socket.io] redis emitter:", err));
  }

  /** Emits to the selected clients (acknowledgements are not supported). */
  emit(event: string, ...args: unknown[]): true {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    if (typeof args[args.length - 1] === "function") throw new Error("Acknowledgements are not supported");
    const packet = { type: PacketType.EVENT, data: [event, ...args], nsp: this.#channels.nsp };
    const opts = { rooms: [...this.#rooms], flags: this.#flags, except: [...this.#except] };
    const channel = this.#rooms.size === 1
      ? `${this.#channels.broadcast}${[...this.#rooms][0]}#`
      : this.#channels.broadcast;
    this.#publish(channel, encodeMsgpack([UID, packet, opts]));
    return true;
  }

  /** Makes the selected sockets join `rooms`. */
  socketsJoin(rooms: Room | Room[]): void {
    const request = { type: RequestType.REMOTE_JOIN, opts: this.#opts(), rooms: toList(rooms) };
    this.#publish(this.#channels.request, JSON.stringify(request));
  }

  /** Makes the selected sockets leave `rooms`. */
  socketsLeave(rooms: Room | Room[]): void {
    const request = { type: RequestType.REMOTE_LEAVE, opts: this.#opts(), rooms: toList(rooms) };
    this.#publish(this.#channels.request, JSON.stringify(request));
  }

  /** Disconnects the selected sockets (`close`: their whole connection). */
  disconnectSockets(close = false): void {
    const request = { type: RequestType.REMOTE_DISCONNECT, opts: this.#opts(), close };
    this.#publish(this.#channels.request, JSON.stringify(request));
  }
}

/**
 * Emits to the clients of a Socket.IO cluster through Redis.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { Emitter } from "./emitter.ts"; // "@sio/socket.io/redis"
 *
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * await client.connect();
 * const emitter = new Emitter(client);
 * emitter.emit("time", Date.now());
 * emitter.of("/admin").to("ops").emit("alert", "disk full");
 * ```
 */
export class Emitter {
  readonly #client: RedisClient;
  readonly #redis: RedisOps;
  readonly #options: EmitterOptions;
  readonly #channels: Channels;

  /** Creates an emitter for namespace `nsp` over a connected client. */
  constructor(redisClient: RedisClient, options: EmitterOptions = {}, nsp = "/") {
    this.#client = redisClient;
    this.#redis = wrapClient(redisClient);
    this.#options = options;
    const key = options.key ?? "socket.io";
    this.#channels = { nsp, broadcast: `${key}#${nsp}#`, request: `${key}-request#${nsp}#` };
  }

  /** An emitter for another namespace. */
  of(nsp: string): Emitter {
    return new Emitter(this.#client, this.#options, nsp.startsWith("/") ? nsp : "/" + nsp);
  }

  #operator(): EmitterBroadcastOperator {
    return new EmitterBroadcastOperator(this.#redis, this.#channels);
  }

  /** Emits to every client of the namespace. */
  emit(event: string, ...args: unknown[]): true {
    return this.#operator().emit(event, ...args);
  }

  /** Targets the members of `room`. */
  to(room: Room | Room[]): EmitterBroadcastOperator {
    return this.#operator().to(room);
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): EmitterBroadcastOperator {
    return this.#operator().in(room);
  }

  /** Leaves out the members of `room`. */
  except(room: Room | Room[]): EmitterBroadcastOperator {
    return this.#operator().except(room);
  }

  /** Receivers that cannot take the packet right now drop it. */
  get volatile(): EmitterBroadcastOperator {
    return this.#operator().volatile;
  }

  /** Sets whether to compress. */
  compress(compress: boolean): EmitterBroadcastOperator {
    return this.#operator().compress(compress);
  }

  /** Makes every socket of the namespace join `rooms`. */
  socketsJoin(rooms: Room | Room[]): void {
    this.#operator().socketsJoin(rooms);
  }

  /** Makes every socket of the namespace leave `rooms`. */
  socketsLeave(rooms: Room | Room[]): void {
    this.#operator().socketsLeave(rooms);
  }

  /** Disconnects every socket of the namespace. */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }

  /** Emits to the servers (listen with `io.on(event)`); acknowledgements are not supported. */
  serverSideEmit(event: string, ...args: unknown[]): void {
    if (typeof args[args.length - 1] === "function") throw new Error("Acknowledgements are not supported");
    const request = { uid: UID, type: RequestType.SERVER_SIDE_EMIT, data: [event, ...args] };
    this.#redis.publish(this.#channels.request, JSON.stringify(request)).catch((err) =>
      console.error("[socket.io] redis emitter:", err)
    );
  }
}
