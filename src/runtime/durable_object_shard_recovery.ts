/**
 * Connection state recovery for the shards of a sharded Durable Object app: each shard keeps the
 * sessions of its sockets and a log of every broadcast it delivers (its own and those from other
 * shards, with offsets of its own) in its storage ({@linkcode StoredRecovery}).
 *
 * A client comes back through a new handshake, which the Worker may send to any shard: a
 * socket's private session id names the shard that keeps it (`2.` + random characters), and the
 * shard that receives the recovery asks that one for the session and the packets it missed (one
 * bus request). The socket then lives on the new shard, with a private session id naming it.
 *
 * @module
 */

import type { AnyNamespace, BroadcastOptions, Session, SessionToPersist } from "../io/adapter.ts";
import type { Packet } from "../parser/socket_io.ts";
import { randomId } from "../engine/ids.ts";
import type { ClusterAdapterOptions, ClusterBroadcast } from "../adapters/cluster.ts";
import { type DurableObjectBus, DurableObjectBusAdapter } from "../adapters/durable_object_bus.ts";
import { type RecoveryStorageLike, StoredRecovery, type StoredRecoveryOptions } from "./durable_object_recovery.ts";

const SHARD_PID = /^(0|[1-9]\d{0,3})\./;

function roomList(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((room) => typeof room === "string") ? value : undefined;
}

/**
 * The bus adapter of a shard with `connectionStateRecovery`, its recovery state in the shard's
 * storage.
 *
 * @example
 * ```ts
 * import { RecoveringBusAdapter } from "./durable_object_shard_recovery.ts";
 * import { DurableObjectBus } from "../adapters/durable_object_bus.ts";
 * import type { RecoveryStorageLike } from "./durable_object_recovery.ts";
 * declare const env: { IO: import("../adapters/durable_object_bus.ts").BusNamespaceLike };
 * declare const storage: RecoveryStorageLike;
 * const bus = new DurableObjectBus({
 *   namespace: env.IO,
 *   names: ["default", "default:1"],
 *   self: 0,
 *   createAdapter: (nsp, bus, options) => new RecoveringBusAdapter(nsp, bus, options, storage),
 * });
 * ```
 */
export class RecoveringBusAdapter extends DurableObjectBusAdapter {
  readonly #bus: DurableObjectBus;
  readonly #recovery: StoredRecovery;

  /** Creates the adapter of `nsp` on `bus`, its recovery state in `storage`. */
  constructor(
    nsp: AnyNamespace,
    bus: DurableObjectBus,
    options: ClusterAdapterOptions,
    storage: RecoveryStorageLike,
    recoveryOptions: StoredRecoveryOptions = {},
  ) {
    super(nsp, bus, options);
    this.#bus = bus;
    this.#recovery = new StoredRecovery(this, storage, recoveryOptions);
  }

  /** A private session id naming this shard. */
  override newPid(): string {
    return `${this.#bus.self ?? 0}.${randomId()}`;
  }

  /** Logs a broadcast of this shard; its offset is this shard's. */
  protected override appendToLog(packet: Packet, opts: BroadcastOptions): Promise<string> | undefined {
    const offset = this.#recovery.log(packet, opts);
    return offset === undefined ? undefined : Promise.resolve(offset);
  }

  /** Logs a broadcast from another shard with an offset of this shard's, then delivers it. */
  protected override onBroadcast(message: ClusterBroadcast): void {
    const { uid, packet, opts } = message;
    if (
      this.nsp.server._recovery && uid !== this.uid && packet && typeof packet === "object" &&
      (packet.nsp ?? "/") === this.nsp.name && packet.type === 2 && packet.id === undefined &&
      Array.isArray(packet.data)
    ) {
      const rooms = roomList(opts?.rooms);
      const except = roomList(opts?.except);
      const flags = opts?.flags !== null && typeof opts?.flags === "object" ? opts.flags : {};
      if (rooms && except) {
        const offset = this.#recovery.log(packet, { rooms: new Set(rooms), except: new Set(except), flags });
        if (offset !== undefined) message = { uid, packet, opts: { ...opts, offset } };
      }
    }
    super.onBroadcast(message);
  }

  /** Keeps the session of a socket that dropped. */
  override persistSession(session: SessionToPersist): void {
    this.#recovery.persist(session);
  }

  /**
   * The session and the packets it missed: from this shard's storage, or else from the shard its
   * pid names (which keeps where the session went when it moved on). The socket then lives here.
   */
  override async restoreSession(pid: string, offset: string): Promise<Session | null> {
    const self = this.#bus.self;
    const home = homeOf(pid);
    const here = await this.#recovery.restore(pid, offset);
    if (here || home === undefined || self === undefined) return here;
    if (home !== self) return await this.#bus.recover(home, this.nsp.name, pid, offset);
    // Its home is here, and it went elsewhere.
    const moved = await this.#recovery.movedTo(pid);
    if (moved === undefined || moved === self) return null;
    const session = await this.#bus.recover(moved, this.nsp.name, pid, offset);
    return session;
  }

  /**
   * Another shard's recovery request: from this shard's storage; at the session's home shard,
   * from the shard it went to. The home shard then remembers that it went to `claimant`.
   */
  override async restoreSessionHere(pid: string, offset: string, claimant: number): Promise<Session | null> {
    const self = this.#bus.self;
    const home = homeOf(pid);
    let session = await this.#recovery.restore(pid, offset);
    if (!session && home === self && self !== undefined) {
      const moved = await this.#recovery.movedTo(pid);
      if (moved !== undefined && moved !== self && moved !== claimant) {
        session = await this.#bus.recover(moved, this.nsp.name, pid, offset);
      }
    }
    if (session && home === self) this.#recovery.pointTo(pid, claimant);
    return session;
  }
}

function homeOf(pid: string): number | undefined {
  const match = SHARD_PID.exec(pid);
  return match ? Number(match[1]) : undefined;
}
