/**
 * Connection state recovery in a Durable Object's storage: what `connectionStateRecovery` needs
 * (each socket's session and the packets broadcast meanwhile) survives a restart of the object
 * (a deploy, an exception, `ctx.abort()`), which drops every WebSocket. A client that comes back
 * with its private session id and the offset of the last packet it received gets its socket id,
 * rooms and `socket.data` back, and the packets it missed, as socket.io promises within
 * `maxDisconnectionDuration`.
 *
 * What is stored (Durable Object storage: `put`/`get`/`delete`/`list`, one key a row):
 * - `sio:s:<nsp>|<pid>`: a socket's session (`{ v, sid, pid, nsp, rooms, data, at? }`),
 *   kept current while it is connected: written when the socket connects, when its rooms change
 *   and when its `socket.data` changed (compared with what was written, after each packet of its
 *   connection and each heartbeat; one write per change, none per event). `at` is when it
 *   disconnected (a session whose object restarted has none: its last offset bounds its age).
 * - `sio:p:<nsp>|<epoch><seq>`: the recoverable packets logged in one turn (`{ v, t, f, e, p }`:
 *   epoch, first sequence number, when, and `[rooms, except, data]` per packet): one row per
 *   turn that broadcasts, however many broadcasts and receivers; pruned after
 *   `maxDisconnectionDuration` and beyond `maxPackets`, as new ones are logged.
 *
 * Values are plain objects the storage serializes itself (structured clone: binary, `Map`, `Date`
 * stay what they are in `socket.data` and in packets). A record that is not what this module writes (a corrupt or forged one) is refused
 * with a log line: the client gets a new session.
 *
 * @module
 */

import {
  Adapter,
  type AnyNamespace,
  type BroadcastOptions,
  type Session,
  type SessionToPersist,
} from "../io/adapter.ts";
import type { Packet } from "../parser/socket_io.ts";
import { isRecoverablePacket, shouldIncludePacket } from "../io/recovery.ts";

/**
 * What recovery uses of a Durable Object's storage (`ctx.storage`).
 *
 * @example
 * ```ts
 * import type { RecoveryStorageLike } from "./durable_object_recovery.ts";
 * declare const ctx: { storage: RecoveryStorageLike };
 * await ctx.storage.list({ prefix: "sio:p:", limit: 1 });
 * ```
 */
export interface RecoveryStorageLike {
  /** One value, or several as a map. */
  get(key: string): Promise<unknown>;
  /** Several values (at most 128 keys). */
  get(keys: string[]): Promise<Map<string, unknown>>;
  /** Writes several values (at most 128). */
  put(entries: Record<string, unknown>): Promise<void>;
  /** Deletes several keys (at most 128). */
  delete(keys: string[]): Promise<number>;
  /** Lists keys in order with their values. */
  list(options: {
    prefix?: string;
    start?: string;
    startAfter?: string;
    end?: string;
    reverse?: boolean;
    limit?: number;
  }): Promise<Map<string, unknown>>;
}

/**
 * Options of {@linkcode durableObjectRecoveryAdapter}.
 *
 * @example
 * ```ts
 * import type { StoredRecoveryOptions } from "./durable_object_recovery.ts";
 * const options: StoredRecoveryOptions = { maxPackets: 5000 };
 * ```
 */
export interface StoredRecoveryOptions {
  /** At most about this many packets kept per namespace (default 1000). */
  maxPackets?: number;
}

const VERSION = 1;
const BATCH = 128;
const EPOCH_WIDTH = 9;
const SEQ_WIDTH = 8;
const OFFSET_PATTERN = /^[0-9a-z]{17}$/;
const PID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

interface StoredSession {
  v: number;
  sid: string;
  pid: string;
  nsp: string;
  rooms: string[];
  data: unknown;
  at?: number;
}

/** Where a session went (the sharded mode: the shard its pid names keeps this). */
interface StoredPointer {
  v: number;
  pid: string;
  nsp: string;
  moved: number;
  at: number;
}

/** How long a shard remembers where a session went (a pointer is rewritten at each move). */
const POINTER_TTL = 24 * 60 * 60 * 1000;

interface StoredChunk {
  v: number;
  t: number;
  f: number;
  e: number;
  p: [string[], string[], unknown[]][];
}

function pad(n: number, width: number): string {
  return n.toString(36).padStart(width, "0");
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** A plain object (what this module stores), not an array, binary or another class. */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function tag(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `\u0000n${value}`;
  if (value instanceof Map) return ["\u0000m", [...value]];
  if (value instanceof Set) return ["\u0000s", [...value]];
  if (ArrayBuffer.isView(value)) {
    return ["\u0000b", Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))];
  }
  if (value instanceof ArrayBuffer) return ["\u0000b", Array.from(new Uint8Array(value))];
  return value;
}

/**
 * What a session record holds, as a string to compare with the one last written (undefined when
 * it cannot be told, e.g. a cycle: the record is then written each time it is checked).
 */
function fingerprint(record: StoredSession): string | undefined {
  try {
    return JSON.stringify(record, tag);
  } catch {
    return undefined;
  }
}

/** A stored session (or pointer), checked: what this module writes, for `pid` of `nsp` (else a reason). */
function checkSession(record: unknown, pid: string, nsp: string): StoredSession | StoredPointer | string {
  if (!isRecord(record)) return "not a record";
  const s = record as unknown as StoredSession;
  if (s.v !== VERSION) return "unknown version";
  const moved = record.moved as number | undefined;
  if (moved !== undefined) {
    if (!Number.isInteger(moved) || moved < 0 || s.pid !== pid || s.nsp !== nsp || !Number.isFinite(s.at)) {
      return "bad pointer";
    }
    return record as unknown as StoredPointer;
  }
  if (typeof s.sid !== "string" || s.sid === "" || s.sid.length > 128) return "bad socket id";
  if (s.pid !== pid || s.nsp !== nsp) return "it names another session";
  if (!isStringArray(s.rooms)) return "bad rooms";
  if (s.at !== undefined && !Number.isFinite(s.at)) return "bad disconnection time";
  return s;
}

/** A stored chunk of the packet log, checked (else a reason). */
function checkChunk(chunk: unknown, epoch: number, first: number): StoredChunk | string {
  if (!isRecord(chunk)) return "not a record";
  const c = chunk as unknown as StoredChunk;
  if (c.v !== VERSION) return "unknown version";
  if (c.t !== epoch || c.f !== first || !Number.isFinite(c.e) || !Array.isArray(c.p)) return "bad header";
  for (const p of c.p) {
    if (!Array.isArray(p) || !isStringArray(p[0]) || !isStringArray(p[1]) || !Array.isArray(p[2])) {
      return "bad packet";
    }
  }
  return c;
}

interface Tracked {
  pid: string;
  /** The fingerprint of what was last written. */
  written?: string;
  off: () => void;
}

/**
 * The recovery state of one namespace kept in a Durable Object's storage; the adapters of this
 * module and of the sharded mode delegate to it.
 *
 * @example
 * ```ts
 * import { StoredRecovery, type RecoveryStorageLike } from "./durable_object_recovery.ts";
 * import { Adapter } from "../io/adapter.ts";
 * import { Server } from "../io/server.ts";
 * declare const storage: RecoveryStorageLike;
 * const io = new Server({ connectionStateRecovery: {}, adapter: Adapter });
 * const recovery = new StoredRecovery(io.of("/").adapter, storage);
 * ```
 */
export class StoredRecovery {
  readonly #adapter: Adapter;
  readonly #storage: RecoveryStorageLike;
  readonly #maxPackets: number;
  readonly #sessionPrefix: string;
  readonly #logPrefix: string;
  /** This instance's epoch: offsets are (epoch, sequence), ordered across restarts. */
  readonly #epoch: number = Date.now();
  #seq = 0;
  /** Packets logged this turn, written as one row. */
  #chunk: StoredChunk | undefined;
  /** Packets logged by this instance and not pruned yet. */
  #count = 0;
  #prunedAt = 0;
  #sweepAfter: string | undefined;
  #tracked: Map<string, Tracked> = new Map();
  #dirty: Set<string> = new Set();
  #persisted: Set<string> = new Set();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #writes: Promise<unknown> = Promise.resolve();

  /** Keeps the recovery state of `adapter`'s namespace in `storage`. */
  constructor(adapter: Adapter, storage: RecoveryStorageLike, options: StoredRecoveryOptions = {}) {
    this.#adapter = adapter;
    this.#storage = storage;
    this.#maxPackets = Math.max(1, options.maxPackets ?? 1000);
    const nsp = encodeURIComponent(adapter.nsp.name);
    this.#sessionPrefix = `sio:s:${nsp}|`;
    this.#logPrefix = `sio:p:${nsp}|`;
    adapter.on("join-room", (room, id) => {
      if (room === id) this.#track(id);
      this.#mark(id);
    });
    adapter.on("leave-room", (room, id) => {
      if (room === id) this.#untrack(id);
      else this.#mark(id);
    });
  }

  get #nsp(): AnyNamespace {
    return this.#adapter.nsp;
  }

  get #maxDuration(): number {
    return this.#nsp.server._recovery?.maxDisconnectionDuration ?? 120000;
  }

  // ----- the packet log -----

  /**
   * Logs a broadcast packet if it is recoverable and returns its offset (to append to its data);
   * `undefined` otherwise. Written with the others of this turn, in one row.
   */
  log(packet: Packet, opts: BroadcastOptions): string | undefined {
    if (!isRecoverablePacket(packet, opts) || !Array.isArray(packet.data)) return undefined;
    const seq = this.#seq++;
    let chunk = this.#chunk;
    if (!chunk) {
      chunk = this.#chunk = { v: VERSION, t: this.#epoch, f: seq, e: Date.now(), p: [] };
      queueMicrotask(() => this.#writeChunk());
    }
    chunk.p.push([[...opts.rooms], [...(opts.except ?? [])], [...packet.data]]);
    return pad(this.#epoch, EPOCH_WIDTH) + pad(seq, SEQ_WIDTH);
  }

  #chunkKey(epoch: number, seq: number): string {
    return this.#logPrefix + pad(epoch, EPOCH_WIDTH) + pad(seq, SEQ_WIDTH);
  }

  #writeChunk(): void {
    const chunk = this.#chunk;
    this.#chunk = undefined;
    if (!chunk) return;
    this.#count += chunk.p.length;
    this.#write(() => this.#storage.put({ [this.#chunkKey(chunk.t, chunk.f)]: chunk }), "logging packets");
    const now = Date.now();
    const every = Math.min(30000, Math.max(1000, this.#maxDuration / 4));
    if (this.#count > this.#maxPackets + 64 || now - this.#prunedAt >= every) {
      this.#prunedAt = now;
      this.#write(() => this.#prune(now), "pruning the recovery log");
    }
  }

  /** Deletes the oldest chunks: expired ones, and beyond `maxPackets`; then a page of sessions. */
  async #prune(now: number): Promise<void> {
    const threshold = now - this.#maxDuration;
    const rows = await this.#storage.list({ prefix: this.#logPrefix, limit: BATCH });
    const doomed: string[] = [];
    let excess = this.#count - this.#maxPackets;
    for (const [key, value] of rows) {
      const chunk = isRecord(value) ? value as unknown as StoredChunk : undefined; // corrupt: deleted
      const size = Array.isArray(chunk?.p) ? chunk.p.length : 0;
      const expired = !chunk || !(chunk.e >= threshold);
      if (!expired && excess <= 0) break;
      doomed.push(key);
      if (chunk?.t === this.#epoch) {
        this.#count -= size;
        excess -= size;
      }
    }
    if (doomed.length > 0) await this.#storage.delete(doomed);
    await this.#sweep(threshold);
  }

  /** A page of sessions: deletes those disconnected too long ago, dates those left by a restart. */
  async #sweep(threshold: number): Promise<void> {
    const options = this.#sweepAfter === undefined
      ? { prefix: this.#sessionPrefix, limit: BATCH }
      : { prefix: this.#sessionPrefix, startAfter: this.#sweepAfter, limit: BATCH };
    const rows = await this.#storage.list(options);
    this.#sweepAfter = rows.size < BATCH ? undefined : [...rows.keys()].pop();
    const doomed: string[] = [];
    const dated: Record<string, StoredSession> = {};
    for (const [key, value] of rows) {
      const pid = key.slice(this.#sessionPrefix.length);
      const record = checkSession(value, pid, this.#nsp.name);
      if (typeof record === "string") {
        doomed.push(key);
        continue;
      }
      if ("moved" in record) {
        if (record.at < Date.now() - POINTER_TTL) doomed.push(key);
        continue;
      }
      if (this.#nsp.sockets.has(record.sid)) continue;
      if (record.at === undefined) {
        // Left behind by a restart: counted from now (its offset's age bounds it too).
        dated[key] = { ...record, at: Date.now() };
      } else if (record.at < threshold) doomed.push(key);
    }
    if (doomed.length > 0) await this.#storage.delete(doomed);
    if (Object.keys(dated).length > 0) await this.#storage.put(dated);
  }

  // ----- sessions -----

  #track(sid: string): void {
    const socket = this.#nsp.sockets.get(sid);
    if (!socket || socket.pid === undefined || this.#tracked.has(sid)) return;
    const conn = socket.conn;
    const check = () => this.#mark(sid);
    conn.on("message", check);
    conn.on("heartbeat", check);
    this.#tracked.set(sid, {
      pid: socket.pid,
      off: () => {
        conn.off("message", check);
        conn.off("heartbeat", check);
      },
    });
  }

  #untrack(sid: string): void {
    const tracked = this.#tracked.get(sid);
    if (!tracked) return;
    this.#tracked.delete(sid);
    this.#dirty.delete(sid);
    tracked.off();
    // Left on purpose (not kept by persist just before): its session goes.
    if (!this.#persisted.delete(tracked.pid)) {
      this.#write(() => this.#storage.delete([this.#sessionPrefix + tracked.pid]), "deleting a session");
    }
  }

  #mark(sid: string): void {
    if (!this.#tracked.has(sid)) return;
    this.#dirty.add(sid);
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushSessions();
    }, 0);
  }

  /** Writes the sessions that changed since they were last written. */
  #flushSessions(): void {
    const dirty = this.#dirty;
    this.#dirty = new Set();
    type Change = [string, Tracked, StoredSession, string | undefined];
    const changed: Change[] = [];
    const unknown: Change[] = [];
    for (const sid of dirty) {
      const tracked = this.#tracked.get(sid);
      const socket = this.#nsp.sockets.get(sid);
      if (!tracked || !socket || !socket.connected) continue;
      const record = this.#record(socket.id, tracked.pid, [...socket.rooms], socket.data);
      const print = fingerprint(record);
      if (print !== undefined && print === tracked.written) continue;
      // Back from hibernation (or recovered): compare with the stored one before writing.
      if (tracked.written === undefined && socket.recovered) unknown.push([sid, tracked, record, print]);
      else changed.push([sid, tracked, record, print]);
    }
    if (changed.length === 0 && unknown.length === 0) return;
    this.#write(async () => {
      for (let i = 0; i < unknown.length; i += BATCH) {
        const page = unknown.slice(i, i + BATCH);
        const stored = await this.#storage.get(page.map(([, t]) => this.#sessionPrefix + t.pid));
        for (const entry of page) {
          const current = stored.get(this.#sessionPrefix + entry[1].pid);
          const same = entry[3] !== undefined && isRecord(current) &&
            fingerprint(current as unknown as StoredSession) === entry[3];
          if (same) entry[1].written = entry[3];
          else changed.push(entry);
        }
      }
      for (let i = 0; i < changed.length; i += BATCH) {
        const entries: Record<string, StoredSession> = {};
        for (const [sid, tracked, record, print] of changed.slice(i, i + BATCH)) {
          if (!this.#tracked.has(sid)) continue; // gone meanwhile
          entries[this.#sessionPrefix + tracked.pid] = record;
          tracked.written = print;
        }
        await this.#put(entries);
      }
    }, "keeping sessions");
  }

  /** Writes `entries`; a value the storage refuses (too large, not clonable) is kept without data. */
  async #put(entries: Record<string, StoredSession>): Promise<void> {
    try {
      await this.#storage.put(entries);
    } catch (err) {
      console.error("socket.io: cannot keep a socket's data for recovery (kept without it):", String(err));
      const bare: Record<string, StoredSession> = {};
      for (const [key, record] of Object.entries(entries)) bare[key] = { ...record, data: {} };
      await this.#storage.put(bare);
    }
  }

  #record(sid: string, pid: string, rooms: string[], data: unknown, at?: number): StoredSession {
    const record: StoredSession = {
      v: VERSION,
      sid,
      pid,
      nsp: this.#nsp.name,
      rooms: rooms.filter((r) => r !== sid),
      data,
    };
    if (at !== undefined) record.at = at;
    return record;
  }

  /** A socket dropped (a recoverable reason): its session is kept with the time it left. */
  persist(session: SessionToPersist): void {
    this.#persisted.add(session.pid);
    this.#dirty.delete(session.sid);
    const record = this.#record(session.sid, session.pid, session.rooms, session.data, Date.now());
    this.#write(() => this.#put({ [this.#sessionPrefix + session.pid]: record }), "keeping a session");
  }

  /**
   * Takes the session `pid` and the packets it missed after `offset`; null when either is
   * unknown, expired, live, or refused (a record that is not what this module writes, logged).
   */
  async restore(pid: string, offset: string): Promise<Session | null> {
    if (!PID_PATTERN.test(pid) || !OFFSET_PATTERN.test(offset)) return null;
    await this.#writes; // this object's own writes are in (reads see them anyway: in order)
    const key = this.#sessionPrefix + pid;
    const value = await this.#storage.get(key);
    if (value === undefined) return null;
    const record = checkSession(value, pid, this.#nsp.name);
    if (typeof record === "string") {
      console.error(`socket.io: refused a stored recovery session (${record}); the client gets a new one`);
      await this.#storage.delete([key]);
      return null;
    }
    if ("moved" in record) return null; // see movedTo
    if (this.#nsp.sockets.has(record.sid)) return null; // still connected here
    const now = Date.now();
    const max = this.#maxDuration;
    if (record.at !== undefined && record.at + max < now) {
      await this.#storage.delete([key]);
      return null;
    }
    const missed = await this.#missed(offset, record.rooms, now - max);
    if (missed === null) return null;
    await this.#storage.delete([key]);
    return { sid: record.sid, pid: record.pid, rooms: record.rooms, data: record.data, missedPackets: missed };
  }

  /** The shard the session `pid` went to, when this one gave it away (the sharded mode). */
  async movedTo(pid: string): Promise<number | undefined> {
    if (!PID_PATTERN.test(pid)) return undefined;
    const value = await this.#storage.get(this.#sessionPrefix + pid);
    if (value === undefined) return undefined;
    const record = checkSession(value, pid, this.#nsp.name);
    return typeof record === "object" && "moved" in record ? record.moved : undefined;
  }

  /** Remembers that the session `pid` went to shard `shard` (replacing its record here). */
  pointTo(pid: string, shard: number): void {
    if (!PID_PATTERN.test(pid)) return;
    const pointer: StoredPointer = { v: VERSION, pid, nsp: this.#nsp.name, moved: shard, at: Date.now() };
    this.#write(() => this.#storage.put({ [this.#sessionPrefix + pid]: pointer }), "keeping where a session went");
  }

  /** The packets logged after `offset` for `rooms`; null when `offset` is not in the log (or too old). */
  async #missed(offset: string, rooms: string[], since: number): Promise<unknown[][] | null> {
    const epoch = parseInt(offset.slice(0, EPOCH_WIDTH), 36);
    const seq = parseInt(offset.slice(EPOCH_WIDTH), 36);
    // The chunk holding `offset`: the last one starting at or before it.
    const found = await this.#storage.list({
      prefix: this.#logPrefix,
      end: this.#chunkKey(epoch, seq + 1),
      reverse: true,
      limit: 1,
    });
    const [entry] = found;
    if (!entry) return null;
    const [key, value] = entry;
    const rest = key.slice(this.#logPrefix.length);
    const chunk = checkChunk(value, parseInt(rest.slice(0, EPOCH_WIDTH), 36), parseInt(rest.slice(EPOCH_WIDTH), 36));
    if (typeof chunk === "string") {
      console.error(`socket.io: refused a stored recovery log entry (${chunk}); the client gets a new session`);
      return null;
    }
    if (chunk.t !== epoch || seq >= chunk.f + chunk.p.length || chunk.e < since) return null;
    const missed: unknown[][] = [];
    const add = (c: StoredChunk, from: number) => {
      for (let i = from; i < c.p.length; i++) {
        const [to, except, data] = c.p[i];
        if (shouldIncludePacket(rooms, { rooms: to, except })) {
          missed.push([...data, pad(c.t, EPOCH_WIDTH) + pad(c.f + i, SEQ_WIDTH)]);
        }
      }
    };
    add(chunk, seq - chunk.f + 1);
    let after = key;
    for (;;) {
      const page = await this.#storage.list({ prefix: this.#logPrefix, startAfter: after, limit: BATCH });
      for (const [k, v] of page) {
        const r = k.slice(this.#logPrefix.length);
        const c = checkChunk(v, parseInt(r.slice(0, EPOCH_WIDTH), 36), parseInt(r.slice(EPOCH_WIDTH), 36));
        if (typeof c === "string") {
          console.error(`socket.io: refused a stored recovery log entry (${c}); the client gets a new session`);
          return null;
        }
        add(c, 0);
        after = k;
      }
      if (page.size < BATCH) break;
    }
    // What this turn logged and has not written yet.
    if (this.#chunk) add(this.#chunk, 0);
    return missed;
  }

  /** Runs storage work in order; a failure is logged (recovery then finds less), never thrown. */
  #write(work: () => Promise<unknown>, what: string): void {
    this.#writes = this.#writes.then(work).catch((err) => {
      console.error(`socket.io: recovery storage failed (${what}):`, String(err));
    });
  }
}

/**
 * The adapter of one namespace of a single Durable Object with `connectionStateRecovery`: the
 * in-memory adapter, its sessions and packet log kept in the object's storage
 * ({@linkcode StoredRecovery}). `defineSocketIoObject` uses it when `connectionStateRecovery` is
 * set and no `adapter` is given.
 *
 * @example
 * ```ts
 * import { durableObjectRecoveryAdapter, type RecoveryStorageLike } from "./durable_object_recovery.ts";
 * import { Server } from "../io/server.ts";
 * declare const storage: RecoveryStorageLike;
 * const io = new Server({ connectionStateRecovery: {}, adapter: durableObjectRecoveryAdapter(storage) });
 * ```
 */
export class DurableObjectRecoveryAdapter extends Adapter {
  readonly #recovery: StoredRecovery;

  /** Creates the adapter of `nsp`, its recovery state in `storage`. */
  constructor(nsp: AnyNamespace, storage: RecoveryStorageLike, options: StoredRecoveryOptions = {}) {
    super(nsp);
    this.#recovery = new StoredRecovery(this, storage, options);
  }

  /** Logs recoverable packets (their offset appended to their data), then broadcasts. */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const offset = this.#recovery.log(packet, opts);
    if (offset !== undefined) (packet.data as unknown[]).push(offset);
    super.broadcast(packet, opts);
  }

  /** Keeps the session of a socket that dropped. */
  override persistSession(session: SessionToPersist): void {
    this.#recovery.persist(session);
  }

  /** The session and the packets it missed, from storage. */
  override restoreSession(pid: string, offset: string): Promise<Session | null> {
    return this.#recovery.restore(pid, offset);
  }
}

/**
 * The `adapter` option of a server whose recovery state is kept in a Durable Object's storage.
 *
 * @example
 * ```ts
 * import { durableObjectRecoveryAdapter, type RecoveryStorageLike } from "./durable_object_recovery.ts";
 * import { Server } from "../io/server.ts";
 * declare const ctx: { storage: RecoveryStorageLike };
 * const io = new Server({
 *   connectionStateRecovery: { maxDisconnectionDuration: 60000 },
 *   adapter: durableObjectRecoveryAdapter(ctx.storage, { maxPackets: 2000 }),
 * });
 * ```
 */
export function durableObjectRecoveryAdapter(
  storage: RecoveryStorageLike,
  options: StoredRecoveryOptions = {},
): (nsp: AnyNamespace) => DurableObjectRecoveryAdapter {
  return (nsp) => new DurableObjectRecoveryAdapter(nsp, storage, options);
}

/**
 * Whether `storage` has what {@linkcode StoredRecovery} uses.
 *
 * @example
 * ```ts
 * import { isRecoveryStorage } from "./durable_object_recovery.ts";
 * isRecoveryStorage({}); // false
 * ```
 */
export function isRecoveryStorage(storage: unknown): storage is RecoveryStorageLike {
  const s = storage as Partial<RecoveryStorageLike> | undefined;
  return typeof s?.get === "function" && typeof s.put === "function" && typeof s.delete === "function" &&
    typeof s.list === "function";
}
