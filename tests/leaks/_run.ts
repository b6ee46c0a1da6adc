/**
 * Runs connect/disconnect cycles against the target and waits for the server to come back to
 * nothing: no session, no socket, no room, no dynamic namespace, no live timer of ours.
 *
 * @module
 */

import { startGuard, type Guard } from "../fuzz/_guard.ts";
import { counts, type Counts, startTarget, type Target } from "../fuzz/_target.ts";
import { sleep } from "../fuzz/_wire.ts";
import { CYCLES } from "./_cycles.ts";
import { heapUsed, trackTimers, type TimerTracker } from "./_probe.ts";

/** Short timers, so that the heartbeat and upgrade paths finish quickly. */
export const LEAK_SERVER_OPTIONS = {
  pingInterval: 200,
  pingTimeout: 300,
  upgradeTimeout: 500,
  connectTimeout: 500,
};

/** A target with the timer tracker and the guard on. */
export interface LeakBench {
  target: Target;
  timers: TimerTracker;
  guard: Guard;
  close(): Promise<void>;
}

/** Starts the target (timers tracked from before it exists). */
export async function startLeakBench(): Promise<LeakBench> {
  const timers = trackTimers();
  const guard = startGuard({ quiet: true });
  const target = await startTarget(LEAK_SERVER_OPTIONS);
  return {
    target,
    timers,
    guard,
    async close() {
      try {
        await target.close();
      } finally {
        timers.stop();
        guard.stop();
      }
    },
  };
}

/** What a batch of cycles left behind. */
export interface CycleResult {
  cycles: number;
  failures: string[];
  /** Counters once settled. */
  after: Counts;
  /** Live timers of ours once settled, and where they were armed. */
  timers: number;
  timersWhere: Record<string, number>;
  /** Milliseconds the server took to come back to nothing. */
  settleMs: number;
  elapsedMs: number;
}

/** Whether the server holds nothing. */
export function isEmpty(bench: LeakBench): boolean {
  const c = counts(bench.target.io);
  return c.sessions === 0 && Object.keys(c.sockets).length === 0 && Object.keys(c.rooms).length === 0 &&
    c.namespaces === bench.target.namespaces.length && bench.timers.live() === 0;
}

/** Runs `cycles` cycles of the named paths (round robin), `concurrency` at a time, then settles. */
export async function runCycles(
  bench: LeakBench,
  paths: string[],
  cycles: number,
  concurrency = 10,
  settleLimitMs = 3000,
): Promise<CycleResult> {
  const start = performance.now();
  const failures: string[] = [];
  let next = 0;
  const t = { httpBase: bench.target.httpBase, wsBase: bench.target.wsBase };
  await Promise.all(Array.from({ length: Math.min(concurrency, cycles) }, async () => {
    while (next < cycles) {
      const n = next++;
      const path = paths[n % paths.length];
      try {
        await CYCLES[path](t, n);
      } catch (err) {
        if (failures.length < 20) failures.push(`${path} #${n}: ${err instanceof Error ? err.message : err}`);
        else failures.length++;
      }
    }
  }));
  const settleStart = performance.now();
  while (!isEmpty(bench) && performance.now() - settleStart < settleLimitMs) await sleep(10);
  const settleMs = performance.now() - settleStart;
  return {
    cycles,
    failures,
    after: counts(bench.target.io),
    timers: bench.timers.live(),
    timersWhere: bench.timers.where(),
    settleMs,
    elapsedMs: performance.now() - start,
  };
}

/** Every path's name. */
export const PATHS: string[] = Object.keys(CYCLES);

/** Heap figures of a run. */
export interface HeapFigures {
  baseline: number;
  after: number;
  growth: number;
}

/** Measures the heap before and after `run`, each after a forced collection. */
export async function measureHeap(run: () => Promise<unknown>): Promise<HeapFigures> {
  const baseline = await heapUsed();
  await run();
  const after = await heapUsed();
  return { baseline, after, growth: after - baseline };
}
