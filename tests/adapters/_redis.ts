/**
 * Test helpers: a throw-away `redis-server` on a free port of 127.0.0.1 (no persistence), node-redis
 * clients for it, and a free-port finder. Works under deno test, bun test and node --test.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { Redis } from "ioredis";
import type { Adapter, AnyNamespace } from "../../src/io/adapter.ts";
import { createAdapter, createShardedAdapter, createStreamsAdapter } from "../../src/adapters/redis/mod.ts";
import { until } from "../conformance/_helpers.ts";
import { HeartbeatBusAdapter } from "./_heartbeat_bus.ts";

/** Whether `redis-server` can be started here. */
export const HAS_REDIS: boolean = (() => {
  try {
    return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
})();

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running redis-server. */
export interface RedisServer {
  port: number;
  url: string;
  /** Stops it (SIGKILL when `hard`), waiting for the exit. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** Starts one redis-server on `port` (no persistence; `extra` arguments appended). */
function spawnRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  return new Promise<ChildProcess>((resolve, reject) => {
    const proc = spawn(
      "redis-server",
      ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", ...extra],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10000);
    proc.stdout!.on("data", (chunk) => {
      out += String(chunk);
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${out}`));
    });
  });
}

/** A running Redis Cluster (masters only). */
export interface RedisClusterServer {
  /** The nodes' ports. */
  ports: number[];
  /** Stops every node. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of `nodes` masters on free ports (`redis-cli --cluster create`), and
 * waits until every node says `cluster_state:ok`.
 */
export async function startRedisCluster(nodes = 3): Promise<RedisClusterServer> {
  const dir = mkdtempSync(join(tmpdir(), "sio-redis-cluster-"));
  const ports: number[] = [];
  for (let i = 0; i < nodes; i++) ports.push(await freePort());
  const procs = await Promise.all(
    ports.map((port) =>
      spawnRedis(port, [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
        "--dir",
        dir,
      ])
    ),
  );
  const stop = async () => {
    await Promise.all(procs.map((proc) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return undefined;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGKILL");
      return exited.then(() => {
        proc.stdout?.destroy();
        proc.stderr?.destroy();
      });
    }));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const created = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      { encoding: "utf8", timeout: 20000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
    await until(
      () =>
        ports.every((port) =>
          /cluster_state:ok/.test(
            spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8" }).stdout ?? "",
          )
        ),
      10000,
      "the cluster to be ok on every node",
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, stop };
}

/** Starts redis-server on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = await spawnRedis(port);
  };
  const stop = async (hard = false) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
    proc.stdout?.destroy();
    proc.stderr?.destroy();
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, start };
}

// deno-lint-ignore no-explicit-any
export type NodeRedisClient = any;

/** A connected node-redis client (errors are swallowed: tests restart Redis on purpose). */
export async function redisClient(url: string): Promise<NodeRedisClient> {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** A connected ioredis client (errors swallowed, as above). */
export async function ioredisClient(url: string): Promise<Redis> {
  const client = new Redis(url, { retryStrategy: () => 50, lazyConnect: true });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Which of our Redis adapters a test server uses. */
export type AdapterKind = "classic" | "sharded" | "streams" | "heartbeat";

/** The adapter factory of `kind` over `pub` (and `sub`), with the tests' short timers. */
export function adapterOf(
  kind: AdapterKind,
  pub: NodeRedisClient,
  sub: NodeRedisClient,
): (nsp: AnyNamespace) => Adapter {
  if (kind === "sharded") return createShardedAdapter(pub, sub, { requestsTimeout: 1000 });
  if (kind === "heartbeat") return (nsp) => new HeartbeatBusAdapter(nsp, pub, sub);
  if (kind === "streams") return createStreamsAdapter(pub, { requestsTimeout: 1000, blockTimeInMs: 1000 });
  return createAdapter(pub, sub, { requestsTimeout: 1000 });
}

/** Closes clients without waiting for a Redis that may be gone. */
export async function closeClients(...clients: NodeRedisClient[]): Promise<void> {
  await Promise.allSettled(clients.map(async (c) => {
    try {
      if (typeof c.status === "string") c.disconnect(); // ioredis
      else if (c.isOpen) await (c.destroy ? c.destroy() : c.disconnect());
    } catch {
      // already closed
    }
  }));
}

export { until };
