/**
 * The fuzz/leak {@linkcode Target} in workerd: starts `fuzz_worker.ts` in its own workerd (so the
 * isolate holds nothing but this server) with one Durable Object class bound as `TARGET`, and
 * answers a run's questions over the network only:
 * - counters, live timers, error logs and unhandled rejections: `GET /__counts` on the object;
 * - uncaught exceptions: workerd's own log (verbose; `_workerd_log.ts`), plus a line if workerd
 *   exits early;
 * - heap: the isolate's, after forced collections, through workerd's inspector;
 * - RSS: the workerd process's, from /proc (informative).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { GuardReport } from "../fuzz/_guard.ts";
import type { Counts, EngineTimings } from "../fuzz/_handlers.ts";
import { STATIC_NAMESPACES } from "../fuzz/_handlers.ts";
import type { Target, TimerReport } from "../fuzz/_target.ts";
import { ROOT, startWorkerd } from "./_helpers.ts";
import { isolateHeapUsed } from "./_inspector.ts";

/** Which object: fuzz or leak options, with the Hibernation API or in-memory WebSockets. */
export type WorkerdTargetKind = "fuzz" | "fuzz-plain" | "leak" | "leak-plain";

const CLASSES: Record<WorkerdTargetKind, string> = {
  fuzz: "FuzzObject",
  "fuzz-plain": "FuzzPlainObject",
  leak: "LeakObject",
  "leak-plain": "LeakPlainObject",
};

const DESCRIPTIONS: Record<WorkerdTargetKind, string> = {
  fuzz: "workerd, Durable Object with hibernation",
  "fuzz-plain": "workerd, Durable Object without hibernation",
  leak: "workerd, Durable Object with hibernation",
  "leak-plain": "workerd, Durable Object without hibernation",
};

/** What `GET /__counts` answers (see `fuzz_worker.ts`). */
interface Snapshot {
  counts: Counts;
  engine: EngineTimings;
  timers: TimerReport;
  report: GuardReport;
}

async function snapshot(url: string): Promise<Snapshot> {
  const response = await fetch(`${url}/__counts`, { signal: AbortSignal.timeout(15000) });
  if (response.status !== 200) throw new Error(`GET /__counts: ${response.status} ${await response.text()}`);
  return await response.json() as Snapshot;
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Starts workerd with the object of `kind` and returns it as a target. The leak kinds open
 * workerd's inspector, for the heap; the fuzz kinds do not (a run needs no heap there, and an
 * attached inspector changes how workerd reports errors: see `_workerd_log.ts`), so their
 * `heapUsed()` rejects.
 */
export async function startWorkerdTarget(kind: WorkerdTargetKind): Promise<Target> {
  const inspector = kind === "leak" || kind === "leak-plain";
  const workerd = await startWorkerd(`${ROOT}tests/workers/fuzz_worker.ts`, { TARGET: CLASSES[kind] }, 0, {
    inspector,
    verbose: true,
  });
  const inspectorPort = workerd.inspectorPort;
  let first: Snapshot;
  try {
    if (inspector && inspectorPort === undefined) throw new Error("workerd's inspector port is unknown");
    first = await snapshot(workerd.url);
  } catch (err) {
    await workerd.close();
    throw err;
  }
  const url = new URL(workerd.url);
  // The object's report, with what workerd itself logged added.
  const withLog = (report: GuardReport): GuardReport => {
    const log = workerd.log();
    return {
      ...report,
      uncaughtExceptions: [...report.uncaughtExceptions, ...log.uncaught],
      notes: [
        ...(log.lostResponses
          ? [`${log.lostResponses} responses workerd could not write to clients that had left`]
          : []),
        ...(log.unreadBodies
          ? [`${log.unreadBodies} request bodies workerd could not forward after the answer (answered unread)`]
          : []),
      ],
    };
  };
  let last: GuardReport = first.report;
  return {
    name: DESCRIPTIONS[kind],
    httpBase: `${workerd.url}/socket.io/`,
    wsBase: `ws://${url.host}/socket.io/`,
    port: Number(url.port),
    namespaces: [...STATIC_NAMESPACES],
    engine: first.engine,
    counts: async () => (await snapshot(workerd.url)).counts,
    async report() {
      last = (await snapshot(workerd.url)).report;
      return withLog(last);
    },
    timers: async () => (await snapshot(workerd.url)).timers,
    heapUsed: () =>
      inspectorPort === undefined
        ? Promise.reject(new Error(`The heap is measured on the leak targets only, not on ${kind}`))
        : isolateHeapUsed(inspectorPort),
    rss: () => Promise.resolve(rssOf(workerd.workerdPid())),
    async close() {
      // The object's report dies with workerd: read it first (the last one read if it cannot).
      try {
        last = (await snapshot(workerd.url)).report;
      } catch (err) {
        last = { ...last, uncaughtExceptions: [...last.uncaughtExceptions, `reading the final report: ${err}`] };
      }
      await workerd.close();
      return withLog(last);
    },
  };
}
