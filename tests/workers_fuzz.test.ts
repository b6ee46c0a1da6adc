/**
 * The short fuzz run against our server inside workerd (a Durable Object), over the network only:
 * the same random and mutated traffic and the same checks as `fuzz.test.ts` — control clients
 * lose nothing, new handshakes keep working, nothing is left behind — with the server-side report
 * (unhandled rejections, error logs, live counters) read from the object and the uncaught
 * exceptions from workerd's log. Once with the WebSocket Hibernation API (heartbeat from alarms),
 * once with in-memory WebSockets and the engine's timers. About 10 s each.
 *
 * Replay a run: `FUZZ_SEED=N deno test -A tests/workers_fuzz.test.ts`; the long run is
 * `deno task fuzz --workerd` (tests/fuzz_run.ts).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { problems, runFuzz, summary } from "./fuzz/_harness.ts";
import { startWorkerdTarget, type WorkerdTargetKind } from "./workers/_fuzz_target.ts";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 0x5eed0007;

async function fuzz(kind: WorkerdTargetKind): Promise<void> {
  const result = await runFuzz({
    seed: SEED,
    inputs: 6000,
    durationMs: 7000,
    workers: 6,
    quiet: true,
    target: () => startWorkerdTarget(kind),
  });
  console.log(summary(result));
  assert.deepEqual(problems(result), [], `seed ${SEED}: replay with FUZZ_SEED=${SEED}`);
  assert.ok(result.inputs >= 1000, `only ${result.inputs} inputs were sent`);
}

describe("fuzz in workerd", () => {
  it("a Durable Object with hibernation survives random traffic (short run)", () => fuzz("fuzz"));
  it("a Durable Object without hibernation survives random traffic (short run)", () => fuzz("fuzz-plain"));
});
