/**
 * The long fuzz run (`deno task fuzz [seed] [inputs] [seconds] [workers]`): many thousands of
 * random and mutated inputs against our server on this runtime, with the control clients checked
 * all along. Prints the figures and exits non-zero on any problem. Also runs as
 * `bun tests/fuzz_run.ts ...` and `node tests/fuzz_run.ts ...`.
 *
 *   deno task fuzz                      seed from the clock, 50,000 inputs, at most 300 s
 *   deno task fuzz 42 20000 120         seed 42, 20,000 inputs, at most 120 s
 *
 * `--json` prints the full result as JSON as well. `--workerd` attacks our server inside workerd
 * instead (a Durable Object with the WebSocket Hibernation API; `--workerd=plain` without it),
 * over the network only: `deno task fuzz 42 20000 120 --workerd`.
 *
 * @module
 */

import process from "node:process";
import { problems, runFuzz, summary } from "./fuzz/_harness.ts";
import type { TargetFactory } from "./fuzz/_target.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const seed = args[0] !== undefined && args[0] !== "" ? Number(args[0]) >>> 0 : Date.now() >>> 0;
const inputs = Number(args[1] ?? 50000);
const seconds = Number(args[2] ?? 300);
const workers = Number(args[3] ?? 8);

const workerd = process.argv.find((a) => a === "--workerd" || a.startsWith("--workerd="));
let target: TargetFactory | undefined;
if (workerd) {
  const { startWorkerdTarget } = await import("./workers/_fuzz_target.ts");
  target = () => startWorkerdTarget(workerd === "--workerd=plain" ? "fuzz-plain" : "fuzz");
}

console.log(`fuzz: seed ${seed}, up to ${inputs} inputs or ${seconds} s, ${workers} workers`);
const result = await runFuzz({
  seed,
  inputs,
  durationMs: seconds * 1000,
  workers,
  quiet: true,
  progress: (line) => console.log(line),
  target,
});
console.log(summary(result));
if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
const found = problems(result);
if (found.length > 0) {
  console.log(`\n${found.length} problem(s):`);
  for (const p of found) console.log(`- ${p}`);
  console.log(`replay: deno task fuzz ${seed} ${inputs} ${seconds} ${workers}${workerd ? ` ${workerd}` : ""}`);
  process.exit(1);
}
console.log("no problems");
process.exit(0);
