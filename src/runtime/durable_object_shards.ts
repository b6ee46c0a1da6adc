/**
 * Cloudflare Workers, sharded: one Socket.IO app spread over several Durable Objects (shards) of
 * one namespace, with rooms and broadcasts across all of them.
 *
 * - The Worker ({@linkcode routeToSocketIoShard}) sends each new session to one shard (picked by
 *   a function of the request, random by default) and every later request and WebSocket of that
 *   session to the same shard: the Worker issues the session id, and the id names its shard
 *   (`3.` + 20 random characters, and a signature when a `secret` is given). A request whose id
 *   names no shard, or whose signature does not match, is answered by the Worker with the
 *   protocol's `Session ID unknown` error and reaches no object.
 * - Each shard ({@linkcode defineShardedSocketIoObject}) is the object of `durable_object.ts`
 *   (hibernation, heartbeat alarm, snapshots as without shards), its server on a cluster adapter
 *   whose bus is the other shards (`src/adapters/durable_object_bus.ts`): `io.emit`, rooms,
 *   `except`, `local`, broadcast acks, `fetchSockets`, `socketsJoin`/`socketsLeave`,
 *   `disconnectSockets`, `serverSideEmit` with acks reach every shard, and a broadcast wakes a
 *   hibernated one.
 * - With one shard it is the plain setup: shard 0 is the object called `name` ("default").
 *
 * @example
 * ```ts
 * import {
 *   defineShardedSocketIoObject,
 *   type DurableObjectNamespaceLike,
 *   routeToSocketIoShard,
 *   type SocketIoShards,
 * } from "./durable_object_shards.ts";
 * export const SHARDS: SocketIoShards = { count: 4, binding: "IO" };
 * export const SocketIoShard = defineShardedSocketIoObject((io) => {
 *   io.on("connection", (socket) => socket.on("say", (text) => io.emit("said", text)));
 * }, { shards: SHARDS });
 * export default {
 *   fetch: (request: Request, env: { IO: DurableObjectNamespaceLike }) =>
 *     routeToSocketIoShard(request, env.IO, SHARDS) ?? new Response("Not Found", { status: 404 }),
 * };
 * ```
 *
 * @module
 */

import {
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  SocketIoDurableObject,
  type SocketIoObject,
  type SocketIoObjectClass,
  type SocketIoObjectOptions,
  type SocketIoObjectSetup,
} from "./durable_object.ts";
import { BUS_HEADER, DurableObjectBus } from "../adapters/durable_object_bus.ts";
import { isRecoveryStorage } from "./durable_object_recovery.ts";
import { RecoveringBusAdapter } from "./durable_object_shard_recovery.ts";
import { randomId } from "../engine/ids.ts";
import type { Server } from "../io/server.ts";

export type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  Server,
  SocketIoObject,
  SocketIoObjectClass,
  SocketIoObjectOptions,
  SocketIoObjectSetup,
};

/**
 * How an app is sharded; the Worker and the objects must be given the same.
 *
 * @example
 * ```ts
 * import type { SocketIoShards } from "./durable_object_shards.ts";
 * const shards: SocketIoShards = {
 *   count: 8,
 *   binding: "IO",
 *   // a tenant's sessions together on one shard
 *   pick: (request, count) => {
 *     let hash = 0;
 *     for (const c of new URL(request.url).searchParams.get("tenant") ?? "") hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
 *     return hash % count;
 *   },
 * };
 * ```
 */
export interface SocketIoShards {
  /** How many objects share the app (1 to 1000). */
  count: number;
  /** The name of the Durable Object namespace binding in `env` (the shards reach each other through it). */
  binding: string;
  /** The object name of shard 0 (default `default`); shard `i` > 0 is `${name}:${i}`. */
  name?: string;
  /**
   * Picks the shard of a new session from its handshake request (an integer from 0 to
   * `count - 1`; default: at random). Anything else, or a throw, falls back to a random shard.
   */
  pick?: (request: Request, count: number) => number | Promise<number>;
}

/**
 * Options of {@linkcode routeToSocketIoShard}.
 *
 * @example
 * ```ts
 * import type { ShardRouteOptions } from "./durable_object_shards.ts";
 * declare const env: { SIO_SECRET: string };
 * const options: ShardRouteOptions = { path: "/socket.io", secret: env.SIO_SECRET };
 * ```
 */
export interface ShardRouteOptions {
  /** The server's path (default `/socket.io`). */
  path?: string;
  /**
   * Signs the session ids (HMAC-SHA-256, 72 bits kept), so that an id naming another shard than
   * the one that issued it is refused by the Worker itself. Keep it in a secret binding.
   */
  secret?: string;
}

/** Options of {@linkcode defineShardedSocketIoObject}: the object's, plus the shards. */
export interface ShardedSocketIoObjectOptions extends SocketIoObjectOptions {
  /** The shards (the same as the Worker's), or a function of `env` returning them. */
  shards: SocketIoShards | ((env: unknown) => SocketIoShards);
  /** How long cross-shard requests (`fetchSockets`, acks) wait for the others, in ms (default 5000). */
  requestsTimeout?: number;
}

/** The header carrying the session id the Worker issued for a handshake. */
const SID_HEADER = "x-socket-io-sid";
/** The header carrying the index of the shard a request is for. */
const SHARD_HEADER = "x-socket-io-shard";
/** Where a shard that cannot read its own name keeps its index. */
const SHARD_KEY = "socket.io:shard";
const MAX_SHARDS = 1000;

/** Checks `shards` and fills in the defaults. */
function resolveShards(shards: SocketIoShards): Required<Omit<SocketIoShards, "pick">> & SocketIoShards {
  const { count, binding } = shards;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new RangeError(`The shard count must be an integer from 1 to ${MAX_SHARDS}, got ${count}`);
  }
  if (typeof binding !== "string" || binding === "") throw new TypeError("The shards need the binding's name");
  return { ...shards, name: shards.name ?? "default" };
}

/**
 * The object name of shard `index`.
 *
 * @example
 * ```ts
 * import { shardName } from "./durable_object_shards.ts";
 * shardName({ count: 4, binding: "IO" }, 0); // "default"
 * shardName({ count: 4, binding: "IO" }, 2); // "default:2"
 * ```
 */
export function shardName(shards: SocketIoShards, index: number): string {
  const name = shards.name ?? "default";
  return index === 0 ? name : `${name}:${index}`;
}

/** The index of the shard called `name`, if it is one. */
function shardIndexOf(shards: SocketIoShards, name: unknown): number | undefined {
  if (typeof name !== "string") return undefined;
  for (let i = 0; i < shards.count; i++) if (shardName(shards, i) === name) return i;
  return undefined;
}

// ----- session ids -----

const SID_PATTERN = /^(0|[1-9]\d{0,3})\.([A-Za-z0-9_-]{20})(?:\.([A-Za-z0-9_-]{12}))?$/;
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    if (keys.size > 16) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

async function signature(secret: string, text: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(text)));
  let binary = "";
  for (let i = 0; i < 9; i++) binary += String.fromCharCode(mac[i]);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_");
}

/** A new session id for shard `index` (signed with `secret` when given). */
async function issueSessionId(index: number, secret: string | undefined): Promise<string> {
  const sid = `${index}.${randomId()}`;
  return secret === undefined ? sid : `${sid}.${await signature(secret, sid)}`;
}

/**
 * The shard a session id names: `undefined` when it names none of the `count` shards, or its
 * signature is missing or wrong (with `secret`).
 */
async function shardOfSessionId(sid: string, count: number, secret: string | undefined): Promise<number | undefined> {
  const match = SID_PATTERN.exec(sid);
  if (!match) return undefined;
  const index = Number(match[1]);
  if (index >= count) return undefined;
  if (secret === undefined) return match[3] === undefined ? index : undefined;
  if (match[3] === undefined) return undefined;
  const expected = await signature(secret, `${match[1]}.${match[2]}`);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ match[3].charCodeAt(i);
  return diff === 0 ? index : undefined;
}

// ----- the Worker side -----

function engineError(code: 0 | 1, message: string): Response {
  return new Response(JSON.stringify({ code, message }), {
    status: 400,
    headers: { "content-type": "application/json" },
  });
}

async function pickShard(shards: SocketIoShards, request: Request): Promise<number> {
  if (shards.pick) {
    try {
      const index = await shards.pick(request, shards.count);
      if (Number.isInteger(index) && index >= 0 && index < shards.count) return index;
      console.error(`socket.io: the shard picker returned ${String(index)}, not a shard: picking one at random`);
    } catch (err) {
      console.error("socket.io: the shard picker threw; picking a shard at random:", err);
    }
  }
  return Math.floor(Math.random() * shards.count);
}

async function route(
  request: Request,
  namespace: DurableObjectNamespaceLike,
  shards: SocketIoShards,
  secret: string | undefined,
): Promise<Response> {
  try {
    const url = new URL(request.url);
    const sid = url.searchParams.get("sid");
    const headers = new Headers(request.headers);
    // Only the Worker says which shard and session a request is for.
    headers.delete(SID_HEADER);
    headers.delete(BUS_HEADER);
    let index: number;
    if (sid === null) {
      index = await pickShard(shards, request);
      headers.set(SID_HEADER, await issueSessionId(index, secret));
    } else {
      // The engine's order: the transport first, then the session.
      const transport = url.searchParams.get("transport");
      if (transport !== "polling" && transport !== "websocket") return engineError(0, "Transport unknown");
      const found = await shardOfSessionId(sid, shards.count, secret);
      if (found === undefined) return engineError(1, "Session ID unknown");
      index = found;
    }
    headers.set(SHARD_HEADER, String(index));
    const stub = namespace.get(namespace.idFromName(shardName(shards, index)));
    return await stub.fetch(new Request(request, { headers }));
  } catch (err) {
    console.error("socket.io: routing a request to its shard failed:", err);
    return new Response(null, { status: 502 });
  }
}

/**
 * Forwards a request under `path` (default `/socket.io`) to its shard: a new session's to the
 * shard `shards.pick` chooses, a session's to the shard its id names; answers a session id that
 * names no shard (or is not signed with `secret`) with the protocol's error itself.
 * `undefined` for other paths, so a Worker can chain its own routes with `??`. Never throws.
 *
 * @example
 * ```ts
 * import { type DurableObjectNamespaceLike, routeToSocketIoShard } from "./durable_object_shards.ts";
 * export const SHARDS = { count: 4, binding: "IO" };
 * export default {
 *   fetch: (request: Request, env: { IO: DurableObjectNamespaceLike; SIO_SECRET: string }) =>
 *     routeToSocketIoShard(request, env.IO, SHARDS, { secret: env.SIO_SECRET }) ?? new Response("hello"),
 * };
 * ```
 */
export function routeToSocketIoShard(
  request: Request,
  namespace: DurableObjectNamespaceLike,
  shards: SocketIoShards,
  options: ShardRouteOptions = {},
): Promise<Response> | undefined {
  const path = options.path ?? "/socket.io";
  let pathname: string;
  try {
    pathname = new URL(request.url).pathname;
  } catch {
    return undefined;
  }
  if (pathname !== path && !pathname.startsWith(path + "/")) return undefined;
  return route(request, namespace, resolveShards(shards), options.secret);
}

// ----- the object side -----

/** The object's name, where the platform tells it (`ctx.id.name`). */
function nameOf(state: DurableObjectStateLike): unknown {
  return (state as { id?: { name?: unknown } }).id?.name;
}

/**
 * Returns the Durable Object class of a sharded app: every shard hosts the same server, set up
 * by `setup` (as with `defineSocketIoObject`), on the cluster adapter of the shards' bus (the
 * `adapter` option is taken by it). `options` may be a function of the Worker's `env` (read when
 * an object starts), for settings that come from bindings. Session ids come from the Worker
 * ({@linkcode routeToSocketIoShard}): a `generateId` option is not used.
 *
 * @example
 * ```ts
 * import { defineShardedSocketIoObject } from "./durable_object_shards.ts";
 * export const ChatShard = defineShardedSocketIoObject((io) => {
 *   io.on("connection", (socket) => {
 *     if (!socket.recovered) socket.join("lobby");
 *     socket.on("say", (text) => io.to("lobby").emit("said", text)); // every shard's lobby
 *   });
 * }, { shards: { count: 4, binding: "CHAT" } });
 * ```
 */
export function defineShardedSocketIoObject(
  setup: SocketIoObjectSetup,
  options: ShardedSocketIoObjectOptions | ((env: unknown) => ShardedSocketIoObjectOptions),
): SocketIoObjectClass {
  return class ShardedSocketIoObject extends SocketIoDurableObject {
    readonly #bus: DurableObjectBus;
    readonly #state: DurableObjectStateLike;

    constructor(state: DurableObjectStateLike, env: unknown) {
      const { shards, requestsTimeout, fallback, ...objectOptions } = typeof options === "function"
        ? options(env)
        : options;
      const config = resolveShards(typeof shards === "function" ? shards(env) : shards);
      const namespace = (env as Record<string, unknown> | undefined)?.[config.binding] as
        | DurableObjectNamespaceLike
        | undefined;
      if (!namespace || typeof namespace.idFromName !== "function") {
        throw new TypeError(`No Durable Object namespace binding named ${JSON.stringify(config.binding)} in env`);
      }
      const names = Array.from({ length: config.count }, (_, i) => shardName(config, i));
      // Connection state recovery that survives a restart of the shard: kept in its storage.
      const storage = state.storage;
      const recovering = objectOptions.connectionStateRecovery !== undefined && isRecoveryStorage(storage);
      const maxPackets = objectOptions.maxRecoveryPackets;
      const bus = new DurableObjectBus({
        namespace,
        names,
        self: shardIndexOf(config, nameOf(state)),
        requestsTimeout,
        createAdapter: recovering
          ? (nsp, bus, options) => new RecoveringBusAdapter(nsp, bus, options, storage, { maxPackets })
          : undefined,
      });
      const wrapped: SocketIoObjectSetup = (io, env, state) => {
        const handler = setup(io, env, state);
        const next = typeof handler === "function" ? handler : fallback;
        return (request) => {
          if (bus.isBusRequest(request)) return bus.receive(request);
          return next ? next(request) : new Response("Not Found", { status: 404 });
        };
      };
      super(state, env, wrapped, {
        ...objectOptions,
        adapter: bus.adapter,
        generateId: (request) => request.headers.get(SID_HEADER) ?? `${bus.self ?? 0}.${randomId()}`,
      });
      this.#bus = bus;
      this.#state = state;
      if (bus.self === undefined) {
        // The platform does not tell the object its name: the index it learned earlier.
        const load = async () => {
          const index = await state.storage.get<number>(SHARD_KEY);
          if (bus.self === undefined) bus.self = index;
        };
        const block = (state as { blockConcurrencyWhile?: (fn: () => Promise<unknown>) => Promise<unknown> })
          .blockConcurrencyWhile;
        if (typeof block === "function") block.call(state, load);
      }
    }

    /** Serves one request; the first one tells a shard that cannot read its name which one it is. */
    override fetch(request: Request): Promise<Response> {
      if (this.#bus.self === undefined) {
        const index = Number(request.headers.get(SHARD_HEADER));
        this.#bus.self = index;
        if (this.#bus.self !== undefined) {
          this.#state.storage.put(SHARD_KEY, index).catch((err) =>
            console.error("socket.io: storing the shard index failed", err)
          );
        }
      }
      return super.fetch(request);
    }
  };
}
