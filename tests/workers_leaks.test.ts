/**
 * Leak tests against our server inside workerd (a Durable Object), over the network only: every
 * close path of `leaks/_cycles.ts` (client close, server close, namespace disconnect, ping timeout,
 * transport error, aborted poll, upgrades that never finish), then all of them mixed. After each
 * batch the object must hold nothing: sessions, sockets and rooms per namespace, dynamic
 * namespaces, the isolate's live timers, and — with hibernation — the WebSockets workerd still
 * holds for it; after the mixed batch the isolate's heap (read through workerd's inspector after
 * forced collections) must be back near its baseline, with nothing logged or left unhandled.
 *
 * Every close path applies in workerd as it is. Two behave differently underneath and are kept on
 * purpose: an aborted poll is not seen by the object (workerd does not pass the client's abort on
 * to it), so that session ends by its heartbeat instead of at once; and with hibernation, the
 * WebSocket ping-timeout path is the alarm's check, not an engine timer.
 *
 * Once with the Hibernation API, once with in-memory WebSockets; each runs in its own workerd.
 * `LEAK_CYCLES=N` changes the cycles per path (default 20, as in-process). The long run is
 * `deno task soak --workerd` (tests/leaks/soak.ts).
 */

import { describe } from "node:test";
import process from "node:process";
import { leakSuite } from "./leaks/_suite.ts";
import { startWorkerdTarget } from "./workers/_fuzz_target.ts";

const PER_PATH = Number(process.env.LEAK_CYCLES ?? 20);
const OPTIONS = {
  perPath: PER_PATH,
  // Settling waits for the heartbeat of abandoned sessions; the alarms and a loaded 2-core machine
  // add their delay, so give it room (it returns as soon as the object is empty).
  settleLimitMs: 10000,
  // The isolate holds this server alone: about 1 MB after a collection, and 560 cycles grow it by
  // about 0.13 MB (250 B a cycle). So 1 kB a cycle, at least 1 MB: closed sockets kept by a
  // listener (about 3 kB a cycle) fail it, where the in-process bounds would let them pass.
  heapPerCycle: 1024,
  heapNoise: 1e6,
};

describe("leaks in workerd, Durable Object with hibernation", () => {
  leakSuite({ ...OPTIONS, start: () => startWorkerdTarget("leak") });
});

describe("leaks in workerd, Durable Object without hibernation", () => {
  leakSuite({ ...OPTIONS, start: () => startWorkerdTarget("leak-plain") });
});
