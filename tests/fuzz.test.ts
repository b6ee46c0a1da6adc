/**
 * The short fuzz run of the normal suite (about 10 s): random and mutated Engine.IO and Socket.IO
 * traffic over polling, WebSocket, upgrades and raw HTTP against our server on this runtime, while
 * three control clients exchange events. It fails if a control client loses or misses anything,
 * a new handshake fails, the process sees an unhandled rejection or uncaught exception, the server
 * logs an error, or a fuzz session, socket or room is left behind.
 *
 * Replay a run: `FUZZ_SEED=N deno test -A tests/fuzz.test.ts`; the long run is `deno task fuzz`.
 * Also here: the regressions the fuzzer found, as small deterministic tests.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { problems, runFuzz, summary } from "./fuzz/_harness.ts";
import { startTarget } from "./fuzz/_target.ts";
import { FuzzSocket, sleep, within } from "./fuzz/_wire.ts";
import { until } from "./conformance/_helpers.ts";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 0x5eed0007;

describe("fuzz", () => {
  it("survives random traffic while the control clients lose nothing (short run)", async () => {
    const result = await runFuzz({ seed: SEED, inputs: 6000, durationMs: 7000, workers: 6, quiet: true });
    console.log(summary(result));
    assert.deepEqual(problems(result), [], `seed ${SEED}: replay with FUZZ_SEED=${SEED}`);
    assert.ok(result.inputs >= 1000, `only ${result.inputs} inputs were sent`);
  });

  it("refuses data nested deeper than the decoder allows (found by the fuzzer)", async () => {
    // Before: 10,000 levels parsed, then the echo's JSON.stringify overflowed the stack on Node
    // ("RangeError: Maximum call stack size exceeded" logged from the listener).
    const target = await startTarget({}, { guard: true, quiet: true });
    let report;
    try {
      const ws = new FuzzSocket(`${target.wsBase}?EIO=4&transport=websocket`);
      assert.ok(await ws.opened);
      await ws.firstText();
      ws.send("40");
      await until(() => target.io.of("/").sockets.size === 1, 3000, "the socket to connect");
      ws.send(`42["message",${"[".repeat(10000)}${"]".repeat(10000)}]`);
      await within(ws.closedPromise, 3000, "the server closes the connection (parse error)");
      await sleep(20);
      assert.equal(target.io.engine.clientsCount, 0);
      // Deep but within the limit still goes through.
      const ok = new FuzzSocket(`${target.wsBase}?EIO=4&transport=websocket`);
      assert.ok(await ok.opened);
      await ok.firstText();
      const back = new Promise<string>((resolve) =>
        ok.ws.addEventListener("message", (e: MessageEvent) => {
          if (typeof e.data === "string" && e.data.startsWith("43")) resolve(e.data);
        })
      );
      const nested = "[".repeat(500) + "]".repeat(500);
      ok.send("40");
      ok.send(`421["message-with-ack",${nested}]`);
      assert.equal(await within(back, 3000, "ack"), `431[${nested}]`);
      await ok.close();
    } finally {
      report = await target.close();
    }
    assert.deepEqual(report.errorLogs, []);
    assert.deepEqual(report.unhandledRejections, []);
  });
});
