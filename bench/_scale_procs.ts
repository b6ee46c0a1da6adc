/**
 * The processes of the scale benchmark (`bench/scale.ts`), on Deno: servers, load generators
 * (`bench/scale_client.ts` on Bun) and redis-server, each started with its soft file-descriptor
 * limit raised to the hard one (through `sh -c 'ulimit -Sn ...; exec ...'`, which works for every
 * runtime), and what /proc says of them (descriptor limits and counts).
 *
 * @module
 */

import { liveChildren } from "./_children.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The repository's tools. */
export const BIN: string = `${ROOT}node_modules/.bin`;

/** Starts `cmd` with the soft descriptor limit raised to the hard one; the child is `cmd` itself (exec). */
function spawnRaised(cmd: string[], stdin: "piped" | "null"): Deno.ChildProcess {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh", ...cmd],
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  liveChildren.add(child);
  return child;
}

/** Stops a process: SIGTERM, SIGKILL after 3 s. */
export async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 3000);
  await child.status;
  clearTimeout(timer);
  liveChildren.delete(child);
}

/** Calls `onLine` with every line the child writes to its stdout. */
function lines(child: Deno.ChildProcess, onLine: (line: string) => void): void {
  (async () => {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          onLine(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      }
    } catch { /* closed */ }
  })();
}

/** A server process and the port it listens on (127.0.0.1). */
export interface ServerProc {
  pid: number;
  port: number;
  child: Deno.ChildProcess;
  /** The server's disconnections so far, by reason (its last `disconnects {...}` line). */
  disconnects: Record<string, number>;
}

/** Starts a server that prints `listening on PORT`. */
export async function startServer(cmd: string[], name: string): Promise<ServerProc> {
  const child = spawnRaised(cmd, "null");
  const port = Promise.withResolvers<number>();
  let disconnects: Record<string, number> = {};
  lines(child, (line) => {
    const m = /listening on (?:\S*:)?(\d+)/.exec(line);
    if (m) port.resolve(Number(m[1]));
    else if (line.startsWith("disconnects ")) disconnects = JSON.parse(line.slice("disconnects ".length));
    else if (line.trim() !== "") console.error(`${name}: ${line}`);
  });
  child.status.then((s) => port.reject(new Error(`${name} exited (code ${s.code}) before listening`)));
  const timer = setTimeout(() => port.reject(new Error(`${name} did not start within 30 s`)), 30_000);
  try {
    return {
      pid: child.pid,
      port: await port.promise,
      child,
      get disconnects() {
        return disconnects;
      },
    };
  } finally {
    clearTimeout(timer);
  }
}

// deno-lint-ignore no-explicit-any
export type Reply = Record<string, any>;

/** A load-generator process and its command channel. */
export interface Loadgen {
  pid: number;
  child: Deno.ChildProcess;
  /** Sends a command and resolves with its answer (rejects with the load generator's error). */
  call(cmd: Reply): Promise<Reply>;
}

/** Starts `bench/scale_client.ts` on Bun. */
export async function startLoadgen(): Promise<Loadgen> {
  const child = spawnRaised([`${BIN}/bun`, "bench/scale_client.ts"], "piped");
  const writer = child.stdin.getWriter();
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  const ready = Promise.withResolvers<void>();
  lines(child, (line) => {
    let msg: Reply;
    try {
      msg = JSON.parse(line);
    } catch {
      return console.error(`load generator ${child.pid}: ${line}`);
    }
    if (msg.ready) return ready.resolve();
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`load generator ${child.pid}: ${msg.error}`));
    else p.resolve(msg);
  });
  child.status.then((s) => {
    const err = new Error(`load generator ${child.pid} exited (code ${s.code})`);
    ready.reject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  await ready.promise;
  let ids = 0;
  const encoder = new TextEncoder();
  return {
    pid: child.pid,
    child,
    call(cmd) {
      const id = ids++;
      const answer = new Promise<Reply>((resolve, reject) => pending.set(id, { resolve, reject }));
      writer.write(encoder.encode(JSON.stringify({ ...cmd, id }) + "\n")).catch(() => {});
      return answer;
    },
  };
}

/** Starts redis-server on a free port of 127.0.0.1, without persistence. */
export async function startRedis(): Promise<{ url: string; child: Deno.ChildProcess; pid: number }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = spawnRaised([
    "redis-server",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], "null");
  const ready = Promise.withResolvers<void>();
  lines(child, (line) => {
    if (/Ready to accept connections/.test(line)) ready.resolve();
  });
  child.status.then((s) => ready.reject(new Error(`redis-server exited (code ${s.code})`)));
  const timer = setTimeout(() => ready.reject(new Error("redis-server did not start within 10 s")), 10_000);
  try {
    await ready.promise;
  } finally {
    clearTimeout(timer);
  }
  return { url: `redis://127.0.0.1:${port}`, child, pid: child.pid };
}

/** The soft and hard limits on open files of a process, and how many it has open. */
export interface FdInfo {
  soft: number;
  hard: number;
  open: number;
}

/** Reads /proc/PID/limits and /proc/PID/fd. */
export function fdInfo(pid: number): FdInfo {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(Deno.readTextFileSync(`/proc/${pid}/limits`));
  const n = (s: string | undefined) => (s === undefined || s === "unlimited" ? Infinity : Number(s));
  let open = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) open++;
  return { soft: n(m?.[1]), hard: n(m?.[2]), open };
}

/** Asks each process for full garbage collections (SIGUSR2, see servers/_app.ts), spaced, and waits. */
export async function collectGarbage(pids: number[], rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGUSR2");
      } catch { /* gone */ }
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}
