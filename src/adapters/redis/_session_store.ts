/**
 * Connection state recovery across a cluster, kept in Redis: every recoverable broadcast is
 * appended to a Redis Stream (its entry id is the offset clients get), and the session of a socket
 * that dropped is a key that expires after `maxDisconnectionDuration`. Any server can then restore
 * a session: it reads the key and replays the stream entries after the client's offset.
 *
 * @module
 */

import type { BroadcastOptions, Session, SessionToPersist } from "../../io/adapter.ts";
import { shouldIncludePacket } from "../../io/recovery.ts";
import { decodeMsgpack, encodeMsgpack } from "./_msgpack.ts";
import type { RedisOps } from "./_client.ts";
import { within } from "../../util/within.ts";
import { fromBase64, text, toBase64 } from "./_wire.ts";

type StreamEntry = [string, unknown[]];

/**
 * Options of the recovery store.
 *
 * @example
 * ```ts
 * import type { SessionStoreOptions } from "./_session_store.ts";
 * const opts: SessionStoreOptions = { streamName: "socket.io-stream", maxLen: 10000 };
 * ```
 */
export interface SessionStoreOptions {
  /** The stream holding the packet log (default `${key}-stream`). */
  streamName?: string;
  /** The prefix of session keys (default `${key}-session:`). */
  sessionKeyPrefix?: string;
  /** Approximate maximum length of the stream (default 10000). */
  maxLen?: number;
}

/**
 * Sessions and the packet log of one namespace, in Redis.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { RedisSessionStore } from "./_session_store.ts";
 * import { wrapClient } from "./_client.ts";
 * const store = new RedisSessionStore(wrapClient(createClient()), "/", {
 *   streamName: "s",
 *   sessionKeyPrefix: "k:",
 *   maxLen: 10000,
 * });
 * const offset = await store.append(["news", "hello"], { rooms: new Set(), except: new Set() });
 * ```
 */
export class RedisSessionStore {
  readonly #redis: RedisOps;
  readonly #nsp: string;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #maxLen: number;
  readonly #timeout: number;

  /**
   * Creates the store of namespace `nsp`. Its commands fail at once while the client is
   * disconnected, and after `timeout` ms without an answer: a broadcast waits for its offset,
   * and a reconnecting client for its session, so neither may wait for the end of an outage.
   */
  constructor(redis: RedisOps, nsp: string, options: Required<SessionStoreOptions>, timeout = 5000) {
    this.#redis = redis;
    this.#timeout = timeout;
    this.#nsp = nsp;
    this.#stream = options.streamName;
    this.#prefix = options.sessionKeyPrefix;
    this.#maxLen = options.maxLen;
  }

  // A command that timed out is not taken back: an XADD may still land, and a client that later
  // recovers from an earlier offset then gets that packet again (it went out without an offset).
  // Rare (Redis slower than requestsTimeout), and better than holding every broadcast.
  #command(args: string[]): Promise<unknown> {
    if (!this.#redis.ready()) return Promise.reject(new Error(`Redis is not connected (${args[0]})`));
    return within(
      this.#redis.command(args),
      this.#timeout,
      () => `timeout reached: no answer to ${args[0]} within ${this.#timeout} ms`,
    );
  }

  /** Appends a packet's data and receivers; resolves with the entry id (the offset). */
  async append(data: unknown[], opts: BroadcastOptions): Promise<string> {
    const payload = toBase64(encodeMsgpack({ data, rooms: [...opts.rooms], except: [...(opts.except ?? [])] }));
    const id = await this.#command([
      "XADD",
      this.#stream,
      "MAXLEN",
      "~",
      String(this.#maxLen),
      "*",
      "nsp",
      this.#nsp,
      "p",
      payload,
    ]);
    return text(id);
  }

  /** Stores a session until `ttl` ms have passed. */
  async persist(session: SessionToPersist, ttl: number): Promise<void> {
    const payload = toBase64(encodeMsgpack(session));
    await this.#command(["SET", this.#prefix + session.pid, payload, "PX", String(Math.max(1, Math.round(ttl)))]);
  }

  /** Takes a session and the packets it missed after `offset`; null when either is gone. */
  async restore(pid: string, offset: string): Promise<Session | null> {
    if (!/^\d+-\d+$/.test(offset)) return null;
    const [raw, found] = await Promise.all([
      this.#command(["GETDEL", this.#prefix + pid]),
      this.#command(["XRANGE", this.#stream, offset, offset]),
    ]);
    if (raw === null || raw === undefined || !Array.isArray(found) || found.length === 0) return null;
    const session = decodeMsgpack(fromBase64(text(raw))) as SessionToPersist;
    const missedPackets: unknown[][] = [];
    let from = offset;
    for (let round = 0; round < 100; round++) {
      const entries = await this.#command(["XRANGE", this.#stream, "(" + from, "+", "COUNT", "1000"]) as
        | StreamEntry[]
        | null;
      if (!entries || entries.length === 0) break;
      for (const [rawId, fields] of entries) {
        const id = text(rawId);
        from = id;
        const values: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) values[text(fields[i])] = text(fields[i + 1]);
        if (values.nsp !== this.#nsp || !values.p) continue;
        const entry = decodeMsgpack(fromBase64(values.p)) as { data: unknown[]; rooms: string[]; except: string[] };
        if (shouldIncludePacket(session.rooms, entry)) missedPackets.push([...entry.data, id]);
      }
      if (entries.length < 1000) break;
    }
    return { ...session, missedPackets };
  }
}
