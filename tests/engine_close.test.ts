// Closing the engine while a polling client is between two polls: the session waits up to the grace
// period for the client's GET, then is terminated, and nothing of it is left behind (its close
// timer used to stay armed for pingInterval + pingTimeout, holding the process open after close).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../src/engine/server.ts";
import { answer } from "./_server.ts";
import { trackTimers } from "./leaks/_probe.ts";

describe("Engine.close with a polling session between polls", () => {
  it("terminates it after the grace period and leaves no timer armed", async () => {
    const timers = trackTimers();
    try {
      const engine = new Engine({ pingInterval: 25000, pingTimeout: 20000 });
      const base = "http://x/engine.io/?EIO=4&transport=polling";
      const open = await answer(engine, new Request(base));
      assert.equal(open?.status, 200);
      const sid = JSON.parse((await open!.text()).slice(1)).sid;
      const closed = new Promise<string>((resolve) =>
        engine.clients.get(sid)!.once("close", (reason) => resolve(reason))
      );
      const started = Date.now();
      await engine.close(50);
      assert.equal(await closed, "server shutting down");
      assert.ok(Date.now() - started < 5000);
      assert.equal(engine.clients.size, 0);
      assert.deepEqual(timers.where(), {});
      // The client's next GET finds no session.
      const late = await answer(engine, new Request(`${base}&sid=${sid}`));
      assert.equal(late?.status, 400);
    } finally {
      timers.stop();
    }
  });
});

describe("a session's close listener that throws", () => {
  it("does not keep the listeners after it from running, nor escape the request that closed it", async () => {
    const engine = new Engine({ pingInterval: 25000, pingTimeout: 20000 });
    const base = "http://x/engine.io/?EIO=4&transport=polling";
    const open = await answer(engine, new Request(base));
    const sid = JSON.parse((await open!.text()).slice(1)).sid;
    const session = engine.clients.get(sid)!;
    const reasons: string[] = [];
    const logged: unknown[][] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      session.on("close", () => {
        throw new Error("a broken close listener");
      });
      session.on("close", (reason) => void reasons.push(reason));
      // The client's close packet: the POST that carries it is answered as usual.
      const post = await answer(engine, new Request(`${base}&sid=${sid}`, { method: "POST", body: "1" }));
      assert.equal(post?.status, 200);
    } finally {
      console.error = error;
    }
    assert.deepEqual(reasons, ["transport close"]);
    assert.equal(engine.clients.size, 0);
    assert.ok(
      logged.some((args) => args.some((a) => a instanceof Error && a.message === "a broken close listener")),
      `not logged: ${JSON.stringify(logged.map((a) => a.map(String)))}`,
    );
    await engine.close();
  });
});
