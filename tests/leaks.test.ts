/**
 * Leak tests: connect/disconnect cycles over every transport and close path (client close, server
 * close, namespace disconnect, ping timeout, transport error, aborted poll, upgrades that never
 * finish), after which the server must hold nothing — `io.engine.clientsCount`, the sockets and
 * rooms of each namespace, dynamic namespaces, and the live timers armed by src/ all back to zero —
 * and the heap must come back near its baseline. A few hundred cycles here; `deno task soak` runs
 * 10,000 (tests/leaks/soak.ts).
 *
 * `LEAK_CYCLES=N` changes the cycles per path (default 20).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Engine } from "../src/engine/server.ts";
import { heapUsed } from "./leaks/_probe.ts";
import { isEmpty, type LeakBench, PATHS, runCycles, startLeakBench } from "./leaks/_run.ts";
import { within } from "./fuzz/_wire.ts";

const PER_PATH = Number(process.env.LEAK_CYCLES ?? 20);

describe("leaks", () => {
  let bench: LeakBench;
  let baseline = 0;
  let total = 0;

  before(async () => {
    bench = await startLeakBench();
    // warm up every path once (JIT, caches, lazily created namespaces), then take the baseline
    const warm = await runCycles(bench, PATHS, PATHS.length * 2, 10);
    assert.deepEqual(warm.failures, []);
    baseline = await heapUsed();
  });

  after(async () => {
    await bench?.close();
  });

  for (const path of PATHS) {
    it(`${path}: ${PER_PATH} cycles leave no session, socket, room or timer`, async () => {
      const r = await runCycles(bench, [path], PER_PATH, 10);
      total += r.cycles;
      assert.deepEqual(r.failures, [], "every cycle completes");
      assert.equal(r.after.sessions, 0, `sessions left: ${JSON.stringify(r.after)}`);
      assert.deepEqual(r.after.sockets, {}, "sockets left");
      assert.deepEqual(r.after.rooms, {}, "rooms left");
      assert.equal(r.after.namespaces, bench.target.namespaces.length, "namespaces left");
      assert.equal(r.timers, 0, `live timers left: ${JSON.stringify(r.timersWhere)}`);
    });
  }

  it("all paths mixed: the heap comes back near its baseline, nothing logged", async () => {
    const r = await runCycles(bench, PATHS, PATHS.length * PER_PATH, 20);
    total += r.cycles;
    assert.deepEqual(r.failures, []);
    assert.ok(isEmpty(bench), `left: ${JSON.stringify(r.after)}, timers ${JSON.stringify(r.timersWhere)}`);
    const heap = await heapUsed();
    const growth = heap - baseline;
    console.log(
      `leaks: ${total} cycles; heap baseline ${(baseline / 1e6).toFixed(1)} MB, after ${(heap / 1e6).toFixed(1)} MB ` +
        `(${growth >= 0 ? "+" : ""}${(growth / 1e6).toFixed(2)} MB, ${(growth / total).toFixed(0)} B/cycle)`,
    );
    // A leaked session (socket, rooms, decoder, timers, request copy) weighs several kB: 4 kB per
    // cycle would be a leak of most of them; below that is noise at this count.
    assert.ok(growth < Math.max(4 * 1024 * total, 4e6), `heap grew by ${growth} bytes over ${total} cycles`);
    const report = bench.guard.report();
    assert.deepEqual(report.unhandledRejections, []);
    assert.deepEqual(report.uncaughtExceptions, []);
    assert.deepEqual(report.errorLogs, []);
  });

  it("an aborted poll settles its request handler (found by the fuzzer)", async () => {
    // Before: the pending GET's promise never settled when the client went away, so every
    // aborted poll kept its request in the runtime (and Deno.serve's shutdown waited forever).
    const engine = new Engine({ pingInterval: 1000, pingTimeout: 1000 });
    const open = await engine.handleRequest(new Request("http://x/engine.io/?EIO=4&transport=polling"));
    const sid = JSON.parse((await open!.text()).slice(1)).sid;
    const controller = new AbortController();
    const poll = engine.handleRequest(
      new Request(`http://x/engine.io/?EIO=4&transport=polling&sid=${sid}`, { signal: controller.signal }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const response = await within(Promise.resolve(poll), 1000, "the aborted poll's handler to settle");
    await response?.body?.cancel();
    assert.equal(engine.clientsCount, 0, "the session is closed");
    await engine.close();
  });
});
