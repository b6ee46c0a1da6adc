/**
 * Cluster test helpers: our server in this process on a Redis adapter, our server in a child
 * process on another runtime, the Node reference (socket.io 4.8 + @socket.io/redis-adapter), and
 * socket.io-client helpers.
 *
 * @module
 */
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { Server, type ServerOptions } from "../../server.ts";
import type { ClusterAdapter } from "../../src/adapters/cluster.ts";
import type { RedisAdapter } from "../../src/adapters/redis/mod.ts";
import { type Running, startServer } from "../_server.ts";
import { bin, type ServerProcess, spawnServer } from "../client/_spawn.ts";
import { type AdapterKind, adapterOf, closeClients, type NodeRedisClient, redisClient } from "./_redis.ts";
import { installScenarios } from "./_scenarios.ts";

export type { ClientSocket };

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
/** The runtime running the tests. */
export const RUNTIME: string = g.Deno ? "deno" : g.Bun ? "bun" : "node";
/** The runtime our second server runs on (another one than this). */
export const OTHER_RUNTIME: string = RUNTIME === "deno" ? "node" : "deno";

/** Our server in this process (its adapter of type `A`: the classic Redis adapter unless told). */
export interface LocalServer<A extends ClusterAdapter = RedisAdapter> {
  io: Server;
  url: string;
  adapter: A;
  pub: NodeRedisClient;
  sub: NodeRedisClient;
  close(): Promise<void>;
}

/** Starts our server here with a Redis adapter (the classic one unless told) and the scenarios. */
export async function startLocal<A extends ClusterAdapter = RedisAdapter>(
  redisUrl: string,
  name: string,
  options: ServerOptions = {},
  kind: AdapterKind = "classic",
): Promise<LocalServer<A>> {
  const pub = await redisClient(redisUrl);
  const sub = await redisClient(redisUrl);
  const io = new Server({
    pingInterval: 300,
    pingTimeout: 200,
    cors: { origin: "*" },
    adapter: adapterOf(kind, pub, sub),
    ...options,
  });
  installScenarios(io, name);
  const running: Running = await startServer(io);
  return {
    io,
    url: running.url,
    adapter: io.of("/").adapter as A,
    pub,
    sub,
    async close() {
      await running.close();
      await closeClients(pub, sub);
    },
  };
}

/** Starts our server in a child process on `runtime`. */
export function startChild(
  redisUrl: string,
  name: string,
  runtime = OTHER_RUNTIME,
  flags: string[] = [],
): Promise<ServerProcess> {
  const script = "tests/adapters/cluster_server.ts";
  const prefix = runtime === "deno" ? ["run", "-A", script] : runtime === "bun" ? ["run", script] : [script];
  return spawnServer(bin(runtime), (port) => [...prefix, String(port), redisUrl, name, ...flags]);
}

/** Starts the Node reference server (`flags`: `--adapter=sharded|streams`, `--recovery`). */
export function startNodeReference(redisUrl: string, name: string, flags: string[] = []): Promise<ServerProcess> {
  return spawnServer(
    bin("node"),
    (port) => ["tests/adapters/node_cluster_server.mjs", String(port), redisUrl, name, ...flags],
  );
}

/** A socket.io-client socket over WebSocket, with short timers. */
export function client(
  url: string,
  auth: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): ClientSocket {
  return connect(url, { transports: ["websocket"], auth, reconnectionDelay: 100, forceNew: true, ...extra });
}

/** The arguments of the next `event` on `emitter`. */
export function next(
  emitter: {
    once(event: string, fn: (...args: unknown[]) => void): unknown;
    off(event: string, fn: (...args: unknown[]) => void): unknown;
  },
  event: string,
  timeout = 3000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const fn = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, fn);
      reject(new Error(`No "${event}" within ${timeout} ms`));
    }, timeout);
    emitter.once(event, fn);
  });
}

/** Resolves when `socket` is connected. */
export async function connected(socket: ClientSocket, timeout = 5000): Promise<void> {
  if (!socket.connected) await next(socket, "connect", timeout);
}

/** Collects every `event` on `socket` until stopped. */
export function collect(socket: ClientSocket, event: string): { items: unknown[][]; stop(): void } {
  const items: unknown[][] = [];
  const fn = (...args: unknown[]) => items.push(args);
  socket.on(event, fn);
  return { items, stop: () => socket.off(event, fn) };
}

export { sleep } from "../_helpers.ts";
