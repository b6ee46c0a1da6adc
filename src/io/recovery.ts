/**
 * Connection state recovery: a client that loses its connection for a short while reconnects with
 * its private session id and the offset of the last event it received; the server gives it back
 * its socket id, rooms and `data`, replays the events it missed and marks it `recovered`.
 *
 * This module holds the option, the rules shared by every adapter (which disconnections are
 * recoverable, which packets are logged, which logged packets a session missed) and
 * {@linkcode SessionAwareAdapter}, the in-memory adapter that keeps the sessions and the packet log
 * of one process. Cluster adapters (Redis) keep both in the shared store instead.
 *
 * @module
 */

import type { Packet } from "../parser/socket_io.ts";
import { unrefTimer } from "../util/platform.ts";
import {
  Adapter,
  type AnyNamespace,
  type BroadcastOptions,
  type Room,
  type Session,
  type SessionToPersist,
} from "./adapter.ts";

/**
 * The `connectionStateRecovery` option of the server.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server({
 *   connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
 * });
 * io.on("connection", (socket) => {
 *   if (socket.recovered) console.log("welcome back", socket.id, socket.rooms);
 * });
 * ```
 */
export interface ConnectionStateRecoveryOptions {
  /** How long a session and the packets it may miss are kept, in ms (default 120000). */
  maxDisconnectionDuration?: number;
  /** Whether a recovered socket skips the connection middlewares (default true). */
  skipMiddlewares?: boolean;
}

/**
 * The recovery options with their defaults filled in.
 *
 * @example
 * ```ts
 * import { resolveRecoveryOptions } from "./recovery.ts";
 * resolveRecoveryOptions({}).maxDisconnectionDuration; // 120000
 * ```
 */
export function resolveRecoveryOptions(
  options: ConnectionStateRecoveryOptions,
): Required<ConnectionStateRecoveryOptions> {
  return {
    maxDisconnectionDuration: options.maxDisconnectionDuration ?? 2 * 60 * 1000,
    skipMiddlewares: options.skipMiddlewares ?? true,
  };
}

/**
 * The disconnection reasons after which a session is kept for recovery (the client did not leave
 * on purpose).
 *
 * @example
 * ```ts
 * import { RECOVERABLE_DISCONNECT_REASONS } from "./recovery.ts";
 * RECOVERABLE_DISCONNECT_REASONS.has("transport close"); // true
 * ```
 */
export const RECOVERABLE_DISCONNECT_REASONS: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

/**
 * Whether a broadcast packet goes to the recovery log and gets an offset: events without an
 * acknowledgement that are not volatile.
 *
 * @example
 * ```ts
 * import { isRecoverablePacket } from "./recovery.ts";
 * isRecoverablePacket({ type: 2, nsp: "/", data: ["hi"] }, { rooms: new Set() }); // true
 * ```
 */
export function isRecoverablePacket(packet: Packet, opts: BroadcastOptions): boolean {
  return packet.type === 2 && packet.id === undefined && !opts.flags?.volatile;
}

/**
 * Whether a session in `rooms` was a receiver of a broadcast to `opts` (rooms and except as arrays
 * or sets).
 *
 * @example
 * ```ts
 * import { shouldIncludePacket } from "./recovery.ts";
 * shouldIncludePacket(["a", "news"], { rooms: ["news"], except: [] }); // true
 * ```
 */
export function shouldIncludePacket(
  rooms: Room[],
  opts: { rooms: Iterable<Room>; except?: Iterable<Room> },
): boolean {
  const targets = opts.rooms instanceof Set ? opts.rooms : new Set(opts.rooms);
  const except = opts.except instanceof Set ? opts.except : new Set(opts.except ?? []);
  const included = targets.size === 0 || rooms.some((room) => targets.has(room));
  return included && rooms.every((room) => !except.has(room));
}

let counter = 0;
const prefix = Date.now().toString(36);

/**
 * A fresh offset for the in-memory packet log: unique in this process.
 *
 * @example
 * ```ts
 * import { nextOffset } from "./recovery.ts";
 * nextOffset() !== nextOffset(); // true
 * ```
 */
export function nextOffset(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}

interface LoggedPacket {
  id: string;
  rooms: Room[];
  except: Room[];
  data: unknown[];
  emittedAt: number;
}

/**
 * The in-memory adapter with connection state recovery: every recoverable broadcast gets an offset
 * (appended as its last argument) and is logged; sessions of sockets that dropped are kept for
 * `maxDisconnectionDuration`. The server picks it when `connectionStateRecovery` is set and no
 * other adapter was chosen.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server({ connectionStateRecovery: {} }); // uses SessionAwareAdapter
 * ```
 */
export class SessionAwareAdapter extends Adapter {
  #sessions: Map<string, SessionToPersist & { disconnectedAt: number }> = new Map();
  #packets: LoggedPacket[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Creates the adapter of `nsp`. */
  constructor(nsp: AnyNamespace) {
    super(nsp);
  }

  #maxDuration(): number {
    return this.nsp.server._recovery?.maxDisconnectionDuration ?? 120000;
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#expire(), Math.min(60000, Math.max(1000, this.#maxDuration())));
    unrefTimer(this.#timer);
  }

  #expire(): void {
    const threshold = Date.now() - this.#maxDuration();
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt < threshold) this.#sessions.delete(pid);
    }
    let drop = 0;
    while (drop < this.#packets.length && this.#packets[drop].emittedAt < threshold) drop++;
    if (drop) this.#packets.splice(0, drop);
    if (this.#sessions.size === 0 && this.#packets.length === 0) this.close();
  }

  /** Stops the expiry timer. */
  override close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Logs recoverable packets (with their offset appended), then broadcasts. */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    if (isRecoverablePacket(packet, opts)) {
      const id = nextOffset();
      const data = packet.data as unknown[];
      data.push(id);
      this.#packets.push({
        id,
        rooms: [...opts.rooms],
        except: [...(opts.except ?? [])],
        data,
        emittedAt: Date.now(),
      });
      this.#startTimer();
    }
    super.broadcast(packet, opts);
  }

  /** Keeps the session of a socket that dropped. */
  override persistSession(session: SessionToPersist): void {
    this.#sessions.set(session.pid, { ...session, disconnectedAt: Date.now() });
    this.#startTimer();
  }

  /** The session and the packets it missed, or null when unknown, expired or the offset is gone. */
  override restoreSession(pid: string, offset: string): Promise<Session | null> {
    const session = this.#sessions.get(pid);
    if (!session) return Promise.resolve(null);
    this.#sessions.delete(pid);
    if (session.disconnectedAt + this.#maxDuration() < Date.now()) return Promise.resolve(null);
    const index = this.#packets.findIndex((p) => p.id === offset);
    if (index === -1) return Promise.resolve(null);
    const missedPackets: unknown[][] = [];
    for (let i = index + 1; i < this.#packets.length; i++) {
      const p = this.#packets[i];
      if (shouldIncludePacket(session.rooms, p)) missedPackets.push(p.data);
    }
    const { disconnectedAt: _, ...rest } = session;
    return Promise.resolve({ ...rest, missedPackets });
  }
}
