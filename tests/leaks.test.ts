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

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Engine } from "../src/engine/server.ts";
import { leakSuite } from "./leaks/_suite.ts";
import { within } from "./fuzz/_wire.ts";
import { answer } from "./_server.ts";

const PER_PATH = Number(process.env.LEAK_CYCLES ?? 20);

describe("leaks", () => {
  leakSuite({ perPath: PER_PATH });

  it("an aborted poll settles its request handler (found by the fuzzer)", async () => {
    // Before: the pending GET's promise never settled when the client went away, so every
    // aborted poll kept its request in the runtime (and Deno.serve's shutdown waited forever).
    const engine = new Engine({ pingInterval: 1000, pingTimeout: 1000 });
    const open = await answer(engine, new Request("http://x/engine.io/?EIO=4&transport=polling"));
    const sid = JSON.parse((await open.text()).slice(1)).sid;
    const controller = new AbortController();
    const poll = answer(
      engine,
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
