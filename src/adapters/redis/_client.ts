/**
 * One small interface over the Redis clients users bring: node-redis (`redis` v4 and v5,
 * `createClient()`) and ioredis (`new Redis()`). The adapter and the emitter only publish,
 * subscribe (with binary payloads) and send raw commands.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * A Redis client instance from `redis` (node-redis v4/v5) or `ioredis`. Typed loosely on purpose:
 * the library does not depend on either package.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import type { RedisClient } from "./_client.ts";
 * const client: RedisClient = createClient({ url: "redis://127.0.0.1:6379" });
 * ```
 */
// deno-lint-ignore no-explicit-any
export type RedisClient = any;

/** A message handler: the channel it came on and its payload. */
export type MessageHandler = (channel: string, message: Uint8Array) => void;

/**
 * What the adapter needs from a client, whichever package it comes from.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { wrapClient } from "./_client.ts";
 * const ops = wrapClient(createClient());
 * await ops.publish("chan", "hello");
 * ```
 */
export interface RedisOps {
  /** PUBLISH a text or binary payload. */
  publish(channel: string, payload: string | Uint8Array): Promise<unknown>;
  /** SPUBLISH (Redis 7 sharded pub/sub) a text or binary payload. */
  spublish(channel: string, payload: string | Uint8Array): Promise<unknown>;
  /**
   * Sends a raw command whose key, if it has one, is `args[1]` (`["XADD", stream, ...]`) unless
   * given: a Redis Cluster client sends it to the node that holds that key. Replies come back as
   * RESP2 shapes (ioredis 6 flattens RESP3 maps into `[key, value]` lists).
   */
  command(args: string[], key?: string): Promise<unknown>;
  /**
   * How many clients subscribe to `channel` (`PUBSUB NUMSUB`), summed over every node of a Redis
   * Cluster: each node counts only the subscribers connected to it.
   */
  numsub(channel: string): Promise<number>;
  /** How many clients subscribe to the shard channel `channel` (`PUBSUB SHARDNUMSUB`), over every node. */
  shardNumsub(channel: string): Promise<number>;
  /** SUBSCRIBE to channels; returns what undoes it. */
  subscribe(channels: string[], handler: MessageHandler): Promise<() => Promise<void>>;
  /** SSUBSCRIBE (sharded) to channels; returns what undoes it. */
  ssubscribe(channels: string[], handler: MessageHandler): Promise<() => Promise<void>>;
  /** PSUBSCRIBE to a pattern; returns what undoes it. */
  psubscribe(pattern: string, handler: MessageHandler): Promise<() => Promise<void>>;
  /**
   * Whether the client is connected now. While it is not, both clients keep commands in an
   * offline queue until they reconnect: a caller that must not wait that long asks first.
   */
  ready(): boolean;
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return new TextEncoder().encode(String(value));
}

function toText(value: unknown): string {
  return typeof value === "string" ? value : new TextDecoder().decode(value as Uint8Array);
}

function toArg(payload: string | Uint8Array): string | Uint8Array {
  if (typeof payload === "string" || payload instanceof Buffer) return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/**
 * Whether `client` is a node-redis client (v4 or v5), as opposed to ioredis.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { isNodeRedis } from "./_client.ts";
 * isNodeRedis(createClient()); // true
 * ```
 */
export function isNodeRedis(client: RedisClient): boolean {
  return typeof client?.pSubscribe === "function" && typeof client?.sendCommand === "function";
}

/**
 * How many of our subscribers each channel (or pattern) has on an ioredis client. ioredis keeps
 * one subscription per channel, so an UNSUBSCRIBE from one adapter would end it for another on
 * the same client (io.adapter() swapping adapters, two servers sharing clients): only the last
 * one out unsubscribes. (node-redis counts listeners itself.)
 */
type SubscriptionKind = "channels" | "patterns" | "shardChannels";

const subscribers = new WeakMap<object, Record<SubscriptionKind, Map<string, number>>>();

function subscriberCounts(client: object, kind: SubscriptionKind): Map<string, number> {
  let counts = subscribers.get(client);
  if (counts === undefined) {
    subscribers.set(client, counts = { channels: new Map(), patterns: new Map(), shardChannels: new Map() });
  }
  return counts[kind];
}

/** One subscriber less; whether it was the last. */
function release(counts: Map<string, number>, name: string): boolean {
  const left = (counts.get(name) ?? 1) - 1;
  if (left > 0) {
    counts.set(name, left);
    return false;
  }
  counts.delete(name);
  return true;
}

/** ioredis states in which a command would wait in the offline queue (or fail). */
const OFFLINE_IOREDIS = new Set(["connecting", "reconnecting", "close", "end"]);

/** The count in a `PUBSUB NUMSUB channel` reply (`[channel, count]`). */
function countOf(reply: unknown): number {
  return Array.isArray(reply) ? Number(reply[1] ?? 0) || 0 : 0;
}

/** The sum of each node's `PUBSUB NUMSUB channel` (or `SHARDNUMSUB`). */
async function sumNumsub(nodes: Array<() => Promise<unknown>>): Promise<number> {
  const replies = await Promise.all(nodes.map((ask) => ask()));
  let total = 0;
  for (const reply of replies) total += countOf(reply);
  return total;
}

/**
 * Whether `client` is a Redis Cluster client of node-redis (`createCluster()`): it keeps its
 * nodes in `masters`, and its `sendCommand` takes the command's key first.
 */
function isNodeRedisCluster(client: RedisClient): boolean {
  return Array.isArray(client?.masters);
}

/**
 * Wraps a node-redis or ioredis client, or a Redis Cluster client of either (`createCluster()`,
 * `new Cluster()`).
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { wrapClient } from "./_client.ts";
 * const ops = wrapClient(new Redis({ lazyConnect: true }));
 * const servers = await ops.numsub("socket.io-request#/#");
 * ```
 */
export function wrapClient(client: RedisClient): RedisOps {
  if (isNodeRedis(client)) {
    const cluster = isNodeRedisCluster(client);
    const numsub = (kind: string) =>
      cluster
        ? (channel: string) => {
          // Every master, and the replicas it has a connection to (a subscriber may sit there).
          const nodes = [...client.masters, ...(client.replicas ?? []).filter((n: { client?: unknown }) => n.client)];
          return sumNumsub(nodes.map((node: { client?: RedisClient }) => async () => {
            const nodeClient = node.client ?? await client.nodeClient(node);
            return nodeClient.sendCommand(["PUBSUB", kind, channel]);
          }));
        }
        : async (channel: string) => countOf(await client.sendCommand(["PUBSUB", kind, channel]));
    return {
      publish: (channel, payload) => client.publish(channel, toArg(payload)),
      spublish: (channel, payload) => client.sPublish(channel, toArg(payload)),
      command: cluster
        ? (args, key = args[1]) => client.sendCommand(key, false, args)
        : (args) => client.sendCommand(args),
      numsub: numsub("NUMSUB"),
      shardNumsub: numsub("SHARDNUMSUB"),
      async subscribe(channels, handler) {
        const listener = (message: unknown, channel: unknown) => handler(toText(channel), toBytes(message));
        await client.subscribe(channels, listener, true);
        return async () => {
          for (const channel of channels) await client.unsubscribe(channel, listener, true);
        };
      },
      async ssubscribe(channels, handler) {
        const listener = (message: unknown, channel: unknown) => handler(toText(channel), toBytes(message));
        // one at a time: on a Redis Cluster, node-redis sends them all to the first channel's node
        for (const channel of channels) await client.sSubscribe(channel, listener, true);
        return async () => {
          for (const channel of channels) await client.sUnsubscribe(channel, listener, true);
        };
      },
      async psubscribe(pattern, handler) {
        const listener = (message: unknown, channel: unknown) => handler(toText(channel), toBytes(message));
        await client.pSubscribe(pattern, listener, true);
        return () => client.pUnsubscribe(pattern, listener, true);
      },
      ready: () => client.isReady !== false,
    };
  }
  if (typeof client?.psubscribe !== "function" || typeof client?.call !== "function") {
    throw new TypeError("Unsupported Redis client: pass a node-redis (redis v4/v5) or an ioredis client");
  }
  const numsub = (kind: string) =>
    client.isCluster === true
      ? (channel: string) =>
        sumNumsub(client.nodes("all").map((node: RedisClient) => () => node.call("PUBSUB", kind, channel)))
      : async (channel: string) => countOf(await client.call("PUBSUB", kind, channel));
  /** (S)SUBSCRIBE through ioredis, which emits the messages of every subscription as one event. */
  const subscribeWith =
    (kind: "channels" | "shardChannels") =>
    async (channels: string[], handler: MessageHandler): Promise<() => Promise<void>> => {
      const [event, on, off] = kind === "channels"
        ? ["messageBuffer", "subscribe", "unsubscribe"]
        : ["smessageBuffer", "ssubscribe", "sunsubscribe"];
      const wanted = new Set(channels);
      const listener = (channel: unknown, message: unknown) => {
        const name = toText(channel);
        if (wanted.has(name)) handler(name, toBytes(message));
      };
      const counts = subscriberCounts(client, kind);
      for (const channel of channels) counts.set(channel, (counts.get(channel) ?? 0) + 1);
      client.on(event, listener);
      try {
        // one at a time: sharded channels of a Redis Cluster may live on different nodes
        if (kind === "channels") await client[on](...channels);
        else for (const channel of channels) await client[on](channel);
      } catch (err) {
        client.off(event, listener);
        // Another subscriber may have left meanwhile, counting on this one to stay.
        const last = channels.filter((channel) => release(counts, channel));
        for (const channel of last) client[off](channel).catch(() => {});
        throw err;
      }
      return async () => {
        client.off(event, listener);
        const last = channels.filter((channel) => release(counts, channel));
        for (const channel of last) await client[off](channel);
      };
    };
  return {
    publish: (channel, payload) => client.publish(channel, toArg(payload)),
    spublish: (channel, payload) => client.spublish(channel, toArg(payload)),
    // A Cluster routes by the command's key by itself.
    command: ([name, ...args]) => client.call(name, ...args),
    numsub: numsub("NUMSUB"),
    shardNumsub: numsub("SHARDNUMSUB"),
    subscribe: subscribeWith("channels"),
    ssubscribe: subscribeWith("shardChannels"),
    async psubscribe(pattern, handler) {
      const listener = (matched: unknown, channel: unknown, message: unknown) => {
        if (toText(matched) === pattern) handler(toText(channel), toBytes(message));
      };
      const counts = subscriberCounts(client, "patterns");
      counts.set(pattern, (counts.get(pattern) ?? 0) + 1);
      client.on("pmessageBuffer", listener);
      try {
        await client.psubscribe(pattern);
      } catch (err) {
        client.off("pmessageBuffer", listener);
        if (release(counts, pattern)) client.punsubscribe(pattern).catch(() => {});
        throw err;
      }
      return async () => {
        client.off("pmessageBuffer", listener);
        if (release(counts, pattern)) await client.punsubscribe(pattern);
      };
    },
    // "wait" is a lazyConnect client before its first command, which connects it.
    ready: () => !OFFLINE_IOREDIS.has(client.status),
  };
}

/**
 * A new connection with the options of `client` (node-redis `duplicate()` + `connect()`, ioredis
 * `duplicate()`), for a subscription or a blocking read of its own. Its errors are left to the
 * caller's commands (no `error` event goes unhandled).
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { closeClient, duplicateClient, wrapClient } from "./_client.ts";
 * const client = createClient();
 * const reader = await duplicateClient(client);
 * await wrapClient(reader).command(["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]);
 * await closeClient(reader);
 * ```
 */
export async function duplicateClient(client: RedisClient): Promise<RedisClient> {
  const copy = client.duplicate();
  copy.on("error", () => {});
  if (isNodeRedis(client)) await copy.connect();
  else if (copy.status === "wait") await copy.connect(); // an ioredis lazyConnect client
  return copy;
}

/**
 * Closes a connection made by {@linkcode duplicateClient} at once, without waiting for its
 * pending commands (a blocking read is abandoned).
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { closeClient, duplicateClient } from "./_client.ts";
 * await closeClient(await duplicateClient(createClient()));
 * ```
 */
export async function closeClient(client: RedisClient): Promise<void> {
  try {
    if (isNodeRedis(client)) {
      if (client.isOpen === false) return;
      await (typeof client.destroy === "function" ? client.destroy() : client.disconnect());
    } else client.disconnect();
  } catch {
    // already closed
  }
}
