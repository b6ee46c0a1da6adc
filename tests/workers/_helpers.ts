/**
 * Starts a Worker in workerd (Miniflare's JS API runs on Node, so `_start.mjs` runs in a child
 * `node` process) and small socket.io-client helpers for the workerd tests. Only node: built-ins,
 * so it works under deno test, bun test and node --test.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The repository's root directory. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The test Worker (`tests/workers/worker.ts`) and its Durable Object bindings. */
export const TEST_WORKER: [string, Record<string, string>] = [
  `${ROOT}tests/workers/worker.ts`,
  {
    FAST: "FastObject",
    PLAIN: "PlainObject",
    AUTO: "AutoObject",
    SLOW: "SlowObject",
    SLOW_AUTO: "SlowAutoObject",
  },
];

/** A Worker running in workerd. */
export interface WorkerdServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Stops workerd and waits for the process to exit. */
  close(): Promise<void>;
}

/**
 * Bundles `entry` and serves it in workerd on a free port; `bindings` maps Durable Object binding
 * names to exported class names.
 */
export function startWorkerd(entry: string, bindings: Record<string, string>, port = 0): Promise<WorkerdServer> {
  const node = existsSync(`${ROOT}node_modules/.bin/node`) ? `${ROOT}node_modules/.bin/node` : "node";
  const args = [
    `${ROOT}tests/workers/_start.mjs`,
    entry,
    String(port),
    ...Object.entries(bindings).map(([binding, cls]) => `${binding}=${cls}`),
  ];
  const child = spawn(node, args, {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, WORKERD_STOP_ON_STDIN: "1" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`workerd did not start in 30 s:\n${output}`)), 30000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    };
    child.stderr!.on("data", (chunk) => {
      output += chunk;
      if (process.env.WORKERD_LOG) process.stderr.write(chunk);
    });
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      if (process.env.WORKERD_LOG) process.stderr.write(chunk);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        async close() {
          if (child.exitCode === null) {
            child.kill("SIGTERM");
            const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(killer);
          }
          child.stdout!.destroy();
          child.stderr!.destroy();
          child.stdin!.destroy();
        },
      });
    });
    child.once("exit", (code) => fail(new Error(`workerd exited with ${code}:\n${output}`)));
  });
}

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;
// deno-lint-ignore no-explicit-any
type EventSource = any;

/** The arguments of the next `event` on `source`; rejects after `ms`. */
// deno-lint-ignore no-explicit-any
export function once(source: EventSource, event: string, ms = 3000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const listener: Listener = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      source.off(event, listener);
      reject(new Error(`Timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    source.once(event, listener);
  });
}

/** Resolves once `socket` is connected; rejects on `connect_error`. */
export async function connected<T extends { connected: boolean }>(socket: T): Promise<T> {
  if (!socket.connected) {
    const [err] = await Promise.race([
      once(socket, "connect").then(() => [undefined]),
      once(socket, "connect_error"),
    ]);
    if (err) throw new Error(`connect_error: ${err.message}`);
  }
  return socket;
}

/** Waits `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
