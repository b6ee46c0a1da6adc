/**
 * The soak (`deno task soak [cycles] [concurrency]`, default 10,000 cycles, 20 at a time): every
 * close path in turn, with the server's counters and live timers checked at each checkpoint
 * (every tenth of the run, once the server settled) and the heap measured after a forced
 * collection. Exits non-zero if anything is left behind or the heap does not come back near its
 * baseline. Also runs as `bun tests/leaks/soak.ts` and `node tests/leaks/soak.ts`.
 *
 * `--workerd` soaks our server inside workerd instead (a Durable Object with the WebSocket
 * Hibernation API; `--workerd=plain` without it), over the network only: counters, timers and
 * error logs come from the object, the heap is its isolate's (through the inspector), the RSS
 * workerd's.
 *
 * @module
 */

import process from "node:process";
import type { TargetFactory } from "../fuzz/_target.ts";
import { isEmpty, PATHS, runCycles, startLeakBench } from "./_run.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const total = Number(args[0] ?? 10000);
const concurrency = Number(args[1] ?? 20);
const checkpoints = 10;
const mb = (n: number) => (n / 1e6).toFixed(2);

const workerd = process.argv.find((a) => a === "--workerd" || a.startsWith("--workerd="));
let factory: TargetFactory | undefined;
if (workerd) {
  const { startWorkerdTarget } = await import("../workers/_fuzz_target.ts");
  factory = () => startWorkerdTarget(workerd === "--workerd=plain" ? "leak-plain" : "leak");
}
const bench = await startLeakBench(factory);
const target = bench.target;
const problems: string[] = [];
// Settling waits for the heartbeat of every abandoned session; workerd's alarms add their delay.
const settleLimit = workerd ? 10000 : 5000;
console.log(`soak on ${target.name}: ${total} cycles over ${PATHS.length} close paths, ${concurrency} at a time`);
const warm = await runCycles(bench, PATHS, PATHS.length * 3, concurrency, settleLimit);
if (warm.failures.length) problems.push(`warm-up failures: ${warm.failures.join("; ")}`);
const baseline = await target.heapUsed();
const rssBase = await target.rss();
console.log(`baseline heap ${mb(baseline)} MB, rss ${mb(rssBase)} MB`);
console.log("cycles  | elapsed s | cycles/s | settle ms | heap MB (vs baseline) | rss MB | left");
let done = 0;
const start = performance.now();
let lastHeap = baseline;
for (let c = 1; c <= checkpoints; c++) {
  const n = Math.round((total * c) / checkpoints) - done;
  const t0 = performance.now();
  const r = await runCycles(bench, PATHS, n, concurrency, settleLimit);
  done += n;
  if (r.failures.length) problems.push(`${r.failures.length} failed cycles, e.g. ${r.failures.slice(0, 3).join("; ")}`);
  const empty = await isEmpty(bench);
  const left = empty ? "nothing" : `${JSON.stringify(r.after)} timers ${JSON.stringify(r.timersWhere)}`;
  if (!empty) problems.push(`after ${done} cycles: ${left}`);
  lastHeap = await target.heapUsed();
  const rss = await target.rss();
  console.log(
    `${String(done).padStart(7)} | ${((performance.now() - start) / 1000).toFixed(1).padStart(9)} | ` +
      `${(n / ((performance.now() - t0) / 1000)).toFixed(0).padStart(8)} | ${r.settleMs.toFixed(0).padStart(9)} | ` +
      `${mb(lastHeap).padStart(8)} (${lastHeap >= baseline ? "+" : ""}${mb(lastHeap - baseline)}) | ${
        mb(rss).padStart(6)
      } | ${left}`,
  );
}
const growth = lastHeap - baseline;
// Near baseline: within 5 MB or 10 % (a leak of one session per cycle would be tens of MB).
const allowed = Math.max(5e6, baseline * 0.1);
if (growth > allowed) problems.push(`heap grew ${mb(growth)} MB over ${done} cycles (allowed ${mb(allowed)} MB)`);
const report = await bench.close();
for (const u of report.unhandledRejections) problems.push(`unhandled rejection: ${u}`);
for (const u of report.uncaughtExceptions) problems.push(`uncaught exception: ${u}`);
for (const l of report.errorLogs) problems.push(`server logged: ${l}`);
console.log(
  `heap: baseline ${mb(baseline)} MB, end ${mb(lastHeap)} MB (${growth >= 0 ? "+" : ""}${mb(growth)} MB, ` +
    `${(growth / done).toFixed(0)} B/cycle); ${((performance.now() - start) / 1000).toFixed(1)} s`,
);
if (problems.length) {
  console.log(`${problems.length} problem(s):`);
  for (const p of problems) console.log(`- ${p}`);
  process.exit(1);
}
console.log("no leaks");
process.exit(0);
