/**
 * The leak suite, against any target: every close path of `_cycles.ts` in turn, then all of them
 * mixed. After each batch the server must hold nothing — sessions, sockets and rooms per
 * namespace, dynamic namespaces, live timers (and WebSockets the platform holds, where counted) —
 * and after the mixed batch its heap must be back near the baseline taken after a warm-up, with
 * no unhandled rejection, uncaught exception or error log on the server side.
 *
 * `tests/leaks.test.ts` runs it in this process, `tests/workers_leaks.test.ts` against workerd.
 *
 * @module
 */

import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import type { TargetFactory } from "../fuzz/_target.ts";
import { type LeakBench, leftNothing, PATHS, runCycles, startLeakBench } from "./_run.ts";

/** How to run the suite. */
export interface LeakSuiteOptions {
  /** Cycles per close path (the mixed batch runs as many per path). */
  perPath: number;
  /** The target (default: ours in this process). */
  start?: TargetFactory;
  /** How long the server may take to come back to nothing after a batch (default 3000 ms). */
  settleLimitMs?: number;
  /**
   * The heap growth tolerated per cycle (default 4 kB: a leak of most of a session) and at least
   * (default 4 MB: the noise of a runtime's whole heap). A small isolate can take tighter ones.
   */
  heapPerCycle?: number;
  heapNoise?: number;
}

/** Declares the suite's tests (inside the caller's `describe`). */
export function leakSuite(options: LeakSuiteOptions): void {
  const { perPath, settleLimitMs = 3000, heapPerCycle = 4 * 1024, heapNoise = 4e6 } = options;
  let bench: LeakBench;
  let baseline = 0;
  let total = 0;

  before(async () => {
    bench = await startLeakBench(options.start);
    // warm up every path (JIT, caches, lazily created namespaces), then take the baseline
    const warm = await runCycles(bench, PATHS, PATHS.length * 2, 10, settleLimitMs);
    assert.deepEqual(warm.failures, []);
    baseline = await bench.target.heapUsed();
  });

  after(async () => {
    await bench?.close();
  });

  for (const path of PATHS) {
    it(`${path}: ${perPath} cycles leave no session, socket, room or timer`, async () => {
      const r = await runCycles(bench, [path], perPath, 10, settleLimitMs);
      total += r.cycles;
      assert.deepEqual(r.failures, [], "every cycle completes");
      assert.equal(r.after.sessions, 0, `sessions left: ${JSON.stringify(r.after)}`);
      assert.deepEqual(r.after.sockets, {}, "sockets left");
      assert.deepEqual(r.after.rooms, {}, "rooms left");
      assert.equal(r.after.namespaces, bench.target.namespaces.length, "namespaces left");
      assert.ok(!r.after.webSockets, `WebSockets the platform still holds: ${r.after.webSockets}`);
      assert.equal(r.timers, 0, `live timers left: ${JSON.stringify(r.timersWhere)}`);
    });
  }

  it("all paths mixed: the heap comes back near its baseline, nothing logged", async () => {
    const r = await runCycles(bench, PATHS, PATHS.length * perPath, 20, settleLimitMs);
    total += r.cycles;
    assert.deepEqual(r.failures, []);
    assert.ok(leftNothing(r, bench), `left: ${JSON.stringify(r.after)}, timers ${JSON.stringify(r.timersWhere)}`);
    const heap = await bench.target.heapUsed();
    const growth = heap - baseline;
    console.log(
      `leaks on ${bench.target.name}: ${total} cycles; heap baseline ${(baseline / 1e6).toFixed(1)} MB, ` +
        `after ${(heap / 1e6).toFixed(1)} MB (${growth >= 0 ? "+" : ""}${(growth / 1e6).toFixed(2)} MB, ` +
        `${(growth / total).toFixed(0)} B/cycle)`,
    );
    // A leaked session (socket, rooms, decoder, timers, request copy) weighs several kB: 4 kB per
    // cycle would be a leak of most of them; below that is noise at this count.
    assert.ok(growth < Math.max(heapPerCycle * total, heapNoise), `heap grew by ${growth} bytes over ${total} cycles`);
    const report = await bench.target.report();
    assert.deepEqual(report.unhandledRejections, []);
    assert.deepEqual(report.uncaughtExceptions, []);
    assert.deepEqual(report.errorLogs, []);
  });
}
