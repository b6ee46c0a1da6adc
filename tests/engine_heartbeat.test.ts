// The pong deadline counts from when the ping went out. When the event loop is held up past the
// time a ping was due (a long synchronous task), the ping goes out late, and the client still gets
// the whole pingTimeout to answer: counted from when the ping was due, the deadline had already
// passed and the session died before its pong could arrive.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../src/engine/server.ts";
import { answer } from "./_server.ts";

const PING_INTERVAL = 100;
const PING_TIMEOUT = 1000;

function holdEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a long synchronous task */ }
}

describe("Engine heartbeat after the event loop was held up", () => {
  it("gives the client pingTimeout from the late ping to answer", async () => {
    const engine = new Engine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    try {
      const base = "http://x/engine.io/?EIO=4&transport=polling";
      const open = await answer(engine, new Request(base));
      const sid = JSON.parse((await open!.text()).slice(1)).sid;
      const session = engine.clients.get(sid)!;
      let closeReason: string | undefined;
      session.once("close", (reason) => closeReason = reason);

      // The ping is due 100 ms after the handshake; the loop is busy until well after the pong
      // would have been due (100 + 1000 ms) had the deadline counted from then.
      holdEventLoop(PING_INTERVAL + PING_TIMEOUT + 300);
      const poll = await answer(engine, new Request(`${base}&sid=${sid}`));
      assert.equal(await poll!.text(), "2");

      // The client answers a little later, as one over a network would: after the timers due now.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(closeReason, undefined, "the session died before its pong could arrive");
      const pong = await answer(engine, new Request(`${base}&sid=${sid}`, { method: "POST", body: "3" }));
      assert.equal(pong!.status, 200);
      await pong!.text();
      assert.equal(session.readyState, "open");

      // Without a pong, the next ping's deadline still closes it.
      const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
      await closed;
      assert.equal(closeReason, "ping timeout");
    } finally {
      await engine.close(0);
    }
  });
});
