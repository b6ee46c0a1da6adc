// The engine's heartbeat queue: deadlines in order whatever order they are added in, one timer
// at a time, none left once the queue is empty, and entries moved or removed never fire.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DeadlineEntry, DeadlineQueue } from "../src/engine/deadline_queue.ts";
import { trackTimers } from "./leaks/_probe.ts";
import { sleep, until } from "./_helpers.ts";

describe("DeadlineQueue", () => {
  it("fires entries in deadline order, once each, with their deadline", async () => {
    const fired: Array<[string, number]> = [];
    const queue = new DeadlineQueue<string>((owner, at) => fired.push([owner, at]));
    const t0 = performance.now();
    const entries = ["c", "a", "d", "b"].map((name) => new DeadlineEntry(name));
    const at = { a: t0 + 10, b: t0 + 20, c: t0 + 30, d: t0 + 30 } as Record<string, number>;
    for (const entry of entries) queue.add(entry, at[entry.owner]);
    await until(() => fired.length >= 4, 3000, "four deadlines");
    assert.deepEqual(fired.map(([name]) => name), ["a", "b", "c", "d"]);
    for (const [name, when] of fired) assert.equal(when, at[name]);
    assert.ok(queue.empty);
    for (const entry of entries) assert.equal(entry.queue, null);
  });

  it("moves an entry between queues and never fires a removed one; no timer is left", async () => {
    const timers = trackTimers();
    try {
      const fired: string[] = [];
      const ping = new DeadlineQueue<string>((owner) => fired.push(`ping:${owner}`));
      const pong = new DeadlineQueue<string>((owner) => fired.push(`pong:${owner}`));
      const a = new DeadlineEntry("a");
      const b = new DeadlineEntry("b");
      const now = performance.now();
      ping.add(a, now + 10);
      ping.add(b, now + 15);
      assert.equal(timers.live(), 1);
      pong.add(a, now + 20); // a leaves the ping queue
      assert.equal(a.queue, pong);
      ping.remove(b);
      assert.ok(ping.empty);
      await until(() => fired.length >= 1, 3000, "pong:a");
      await sleep(10); // b's old deadline (now + 15) has passed too
      assert.deepEqual(fired, ["pong:a"]);
      assert.equal(timers.live(), 0);
      // Re-added with an earlier deadline than the armed one: the timer follows the new head.
      pong.add(b, performance.now() + 500);
      pong.add(a, performance.now() + 5);
      await until(() => fired.length >= 2, 3000, "pong:a again");
      assert.deepEqual(fired, ["pong:a", "pong:a"]);
      pong.remove(b);
      assert.equal(timers.live(), 0);
    } finally {
      timers.stop();
    }
  });

  it("keeps going when one owner's handler throws: the others fire, later entries too", async () => {
    const fired: string[] = [];
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const queue = new DeadlineQueue<string>((owner) => {
        fired.push(owner);
        if (owner === "a") throw new Error("a close listener threw");
      });
      const now = performance.now();
      for (const [name, delay] of [["a", 5], ["b", 5], ["c", 6]] as const) {
        queue.add(new DeadlineEntry<string>(name), now + delay);
      }
      await until(() => fired.length >= 3, 3000, "three deadlines");
      assert.deepEqual(fired, ["a", "b", "c"]);
      // The queue still has a timer for what comes next.
      queue.add(new DeadlineEntry("d"), performance.now() + 5);
      await until(() => fired.length >= 4, 3000, "the fourth deadline");
      assert.deepEqual(fired, ["a", "b", "c", "d"]);
      assert.equal(logged.length, 1);
      assert.match(String(logged[0][1]), /a close listener threw/);
    } finally {
      console.error = original;
    }
  });
});
