/**
 * Runs connect/disconnect cycles against the target and waits for the server to come back to
 * nothing: no session, no socket, no room, no dynamic namespace, no live timer of ours (and, in
 * workerd with hibernation, no WebSocket the platform still holds).
 *
 * @module
 */

import { LEAK_SERVER_OPTIONS } from "../fuzz/_handlers.ts";
import { type Counts, startTarget, type Target, type TargetFactory } from "../fuzz/_target.ts";
import type { GuardReport } from "../fuzz/_guard.ts";
import { sleep } from "../fuzz/_wire.ts";
import { CYCLES } from "./_cycles.ts";

export { LEAK_SERVER_OPTIONS } from "../fuzz/_handlers.ts";

/** A target with its timers tracked and its side watched. */
export interface LeakBench {
  target: Target;
  /** Stops the target; returns what its side saw. */
  close(): Promise<GuardReport>;
}

/**
 * Starts the target: by default ours in this process with {@linkcode LEAK_SERVER_OPTIONS}, its
 * timers tracked and the process guarded from before it exists.
 */
export async function startLeakBench(
  start: TargetFactory = () => startTarget(LEAK_SERVER_OPTIONS, { guard: true, quiet: true, timers: true }),
): Promise<LeakBench> {
  const target = await start();
  return { target, close: () => target.close() };
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

/** The live timers of the bench's server (a leak check needs them: no tracking is an error). */
async function liveTimers(bench: LeakBench): Promise<{ live: number; where: Record<string, number> }> {
  const timers = await bench.target.timers();
  if (!timers) throw new Error(`The target (${bench.target.name}) does not track its timers`);
  return timers;
}

/** Whether counters say the server holds nothing. */
function emptyCounts(c: Counts, bench: LeakBench): boolean {
  return c.sessions === 0 && Object.keys(c.sockets).length === 0 && Object.keys(c.rooms).length === 0 &&
    c.namespaces === bench.target.namespaces.length && !c.webSockets;
}

/** The server's live timers and counters, in one reading. */
interface State {
  timers: { live: number; where: Record<string, number> };
  counts: Counts;
}

/**
 * Reads the live timers first, then the counters. In workerd each reading is a request to the
 * object, whose handling arms a 0 ms timer (the snapshot settle) that fires only once the object is
 * idle: read right after another request, the timers showed that one (a loaded machine made it
 * "live timers left" after a clean batch). Timers are read first, after the caller's pause.
 */
async function readState(bench: LeakBench): Promise<State> {
  const timers = await liveTimers(bench);
  return { timers, counts: await bench.target.counts() };
}

function emptyState(state: State, bench: LeakBench): boolean {
  return emptyCounts(state.counts, bench) && state.timers.live === 0;
}

/** Whether a run's last reading found the server holding nothing. */
export function leftNothing(r: CycleResult, bench: LeakBench): boolean {
  return emptyCounts(r.after, bench) && r.timers === 0;
}

/** Whether the server holds nothing. */
export async function isEmpty(bench: LeakBench): Promise<boolean> {
  return emptyState(await readState(bench), bench);
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
  let state = await readState(bench);
  while (!emptyState(state, bench) && performance.now() - settleStart < settleLimitMs) {
    await sleep(10);
    state = await readState(bench);
  }
  const settleMs = performance.now() - settleStart;
  // What the last reading saw: another reading now would come right after it (see readState).
  const timers = state.timers;
  return {
    cycles,
    failures,
    after: state.counts,
    timers: timers.live,
    timersWhere: timers.where,
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

/** Measures the server's heap before and after `run`, each after a forced collection. */
export async function measureHeap(target: Target, run: () => Promise<unknown>): Promise<HeapFigures> {
  const baseline = await target.heapUsed();
  await run();
  const after = await target.heapUsed();
  return { baseline, after, growth: after - baseline };
}
