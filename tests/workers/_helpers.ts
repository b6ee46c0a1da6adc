/**
 * Starts a Worker in workerd (Miniflare's JS API runs on Node, so `_start.mjs` runs in a child
 * `node` process) and small socket.io-client helpers for the workerd tests. Only node: built-ins,
 * so it works under deno test, bun test and node --test.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { type WorkerdLog, workerdLogReader } from "./_workerd_log.ts";
import { type EventSource, once, sleep } from "../_helpers.ts";

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
  /** The inspector's port on 127.0.0.1 (with `inspector: true`). */
  inspectorPort?: number;
  /**
   * What workerd logged so far (with `verbose: true`; see `_workerd_log.ts`); an exit of workerd's
   * launcher before `close()` shows as an uncaught exception.
   */
  log(): WorkerdLog;
  /** The last 256 KB of what workerd printed (the Worker's `console` output among it). */
  output(): string;
  /** The workerd process's id (a child of the launcher), if it can be found in /proc. */
  workerdPid(): number | undefined;
  /** Stops workerd and waits for the process to exit. */
  close(): Promise<void>;
}

/** Options of {@linkcode startWorkerd}. */
export interface WorkerdOptions {
  /** Open workerd's inspector (Chrome DevTools Protocol) on a free port. */
  inspector?: boolean;
  /** Have workerd log uncaught exceptions (read by {@linkcode WorkerdServer.log}). */
  verbose?: boolean;
}

/** Finds the workerd process below `pid` (Miniflare spawns it) in /proc. */
function findWorkerd(pid: number): number | undefined {
  const children = (p: number): number[] => {
    try {
      return readdirSync(`/proc/${p}/task`).flatMap((tid) =>
        readFileSync(`/proc/${p}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)
      );
    } catch {
      return [];
    }
  };
  const queue = children(pid);
  while (queue.length > 0) {
    const child = queue.shift()!;
    try {
      if (readFileSync(`/proc/${child}/comm`, "utf8").trim() === "workerd") return child;
    } catch { /* gone */ }
    queue.push(...children(child));
  }
  return undefined;
}

/**
 * Bundles `entry` and serves it in workerd on a free port; `bindings` maps Durable Object binding
 * names to exported class names.
 */
export function startWorkerd(
  entry: string,
  bindings: Record<string, string>,
  port = 0,
  options: WorkerdOptions = {},
): Promise<WorkerdServer> {
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
    env: {
      ...process.env,
      WORKERD_STOP_ON_STDIN: "1",
      WORKERD_INSPECTOR: options.inspector ? "1" : "",
      WORKERD_VERBOSE: options.verbose ? "1" : "",
    },
  });
  let closing = false;
  const reader = workerdLogReader();
  let earlyExit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      if (!closing) earlyExit = `workerd's launcher exited before close (code ${code}, signal ${signal})`;
      resolve();
    })
  );
  let output = "";
  let tail = "";
  let started = false;
  let pid: number | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`workerd did not start in 30 s:\n${output}`)), 30000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    };
    const onOutput = (chunk: Buffer) => {
      if (process.env.WORKERD_LOG) process.stderr.write(chunk);
      const text = String(chunk);
      reader.feed(text);
      tail = (tail + text).slice(-256 * 1024);
      if (!started) output += text;
    };
    child.stderr!.on("data", onOutput);
    child.stdout!.on("data", (chunk: Buffer) => {
      onOutput(chunk);
      if (started) return;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match) return;
      started = true;
      clearTimeout(timer);
      const inspector = /inspector on 127\.0\.0\.1:(\d+)/.exec(output);
      resolve({
        url: match[1],
        inspectorPort: inspector ? Number(inspector[1]) : undefined,
        log() {
          const log = reader.log();
          if (earlyExit) {
            log.uncaught.push(earlyExit);
            log.uncaughtCount++;
          }
          return log;
        },
        output: () => tail,
        workerdPid: () => pid ??= child.pid === undefined ? undefined : findWorkerd(child.pid),
        async close() {
          closing = true;
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
    child.once("exit", (code) => {
      if (!started) fail(new Error(`workerd exited with ${code}:\n${output}`));
    });
  });
}

/** Resolves once `socket` is connected; rejects on `connect_error`. */
export async function connected<T extends { connected: boolean }>(socket: T): Promise<T> {
  if (!socket.connected) {
    const source = socket as unknown as EventSource;
    const [err] = await Promise.race([
      once(source, "connect").then(() => [undefined]),
      once(source, "connect_error"),
    ]);
    if (err) throw new Error(`connect_error: ${err.message}`);
  }
  return socket;
}

export { once, sleep as delay };
