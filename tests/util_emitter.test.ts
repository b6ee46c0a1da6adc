// The Emitter every layer uses: listener order and removal, once, names that are
// Object.prototype members, and the listener table not growing with names that come and go.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Emitter } from "../src/util/emitter.ts";
import { heapUsed } from "./leaks/_probe.ts";
import { emitIsolated } from "../src/util/emit_isolated.ts";

// deno-lint-ignore no-explicit-any
type AnyEvents = Record<string, (...args: any[]) => void>;

describe("Emitter", () => {
  it("calls listeners in order; off removes one, then all of an event, then everything", () => {
    const e = new Emitter<AnyEvents>();
    const calls: string[] = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    e.on("x", a).on("x", b).on("x", a).on("y", b);
    e.emitReserved("x");
    assert.deepEqual(calls, ["a", "b", "a"]);
    e.off("x", a); // the last one added
    assert.equal(e.listenerCount("x"), 2);
    e.off("x");
    assert.equal(e.hasListeners("x"), false);
    assert.equal(e.emitReserved("x"), false);
    e.off();
    assert.equal(e.emitReserved("y"), false);
  });

  it("runs a once listener once, and off() finds it by the original function", () => {
    const e = new Emitter<AnyEvents>();
    let n = 0;
    const inc = () => n++;
    e.once("x", inc);
    e.emitReserved("x");
    e.emitReserved("x");
    assert.equal(n, 1);
    e.once("x", inc);
    e.off("x", inc);
    e.emitReserved("x");
    assert.equal(n, 1);
  });

  it("keeps listeners removed during an emit in that emit, and adds none to it", () => {
    const e = new Emitter<AnyEvents>();
    const calls: string[] = [];
    const second = () => calls.push("second");
    e.on("x", () => {
      calls.push("first");
      e.off("x", second);
      e.on("x", () => calls.push("late"));
    });
    e.on("x", second);
    e.emitReserved("x");
    assert.deepEqual(calls, ["first", "second"]);
  });

  it("treats Object.prototype member names as plain event names", () => {
    const e = new Emitter<AnyEvents>();
    const got: string[] = [];
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      assert.equal(e.listenerCount(name), 0);
      assert.equal(e.emitReserved(name), false);
      e.on(name, () => got.push(name));
    }
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) e.emitReserved(name);
    assert.deepEqual(got, ["__proto__", "constructor", "toString", "hasOwnProperty"]);
    assert.equal(({} as Record<string, unknown>).constructor, Object);
  });

  it("does not keep the names of events whose listeners are gone", async () => {
    // once("reply:" + id) per request on a long-lived socket: a key per name would stay for ever
    // (about 95 bytes each; 100,000 names kept 9.5 MB).
    const e = new Emitter<AnyEvents>();
    let answered = 0;
    e.on("keep", () => answered++);
    const churn = (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        e.once(`reply:${i}`, () => answered++);
        e.emitReserved(`reply:${i}`);
      }
    };
    churn(0, 1000); // warm up the code paths
    const before = await heapUsed();
    churn(1000, 100_000);
    const grown = (await heapUsed()) - before;
    assert.equal(answered, 101_000);
    e.emitReserved("keep");
    assert.equal(answered, 101_001);
    assert.ok(grown < 3_000_000, `the emitter grew by ${grown} bytes over 100,000 names`);
  });

  it("emitIsolated: a listener that throws or rejects goes to onError, the others still run", async () => {
    const e = new Emitter<AnyEvents>();
    const got: string[] = [];
    const errors: Array<[string, string, boolean]> = [];
    const onError = function (this: unknown, err: unknown, event: string) {
      errors.push([event, (err as Error).message, this === e]);
    };
    // One listener (the inline path)...
    e.on("one", () => {
      throw new Error("sync");
    });
    assert.equal(emitIsolated(e, "one", onError, 1), true);
    // ... several, one of them async.
    e.on("many", (n: number) => got.push(`first ${n}`));
    e.on("many", () => {
      throw new Error("second");
    });
    e.on("many", (n: number) => Promise.reject(new Error(`third ${n}`)));
    e.on("many", (n: number) => got.push(`fourth ${n}`));
    assert.equal(emitIsolated(e, "many", onError, 2), true);
    assert.equal(emitIsolated(e, "none", onError), false);
    assert.deepEqual(got, ["first 2", "fourth 2"]);
    await Promise.resolve();
    assert.deepEqual(errors, [["one", "sync", true], ["many", "second", true], ["many", "third 2", true]]);
  });
  it("goes from one listener to several and back: order, counts, copies and once all hold", () => {
    const e = new Emitter<AnyEvents>();
    const got: string[] = [];
    const a = () => got.push("a");
    const b = () => got.push("b");
    const c = () => got.push("c");
    e.on("x", a);
    assert.equal(e.listenerCount("x"), 1);
    const copy = e.listeners("x");
    copy.push(b);
    assert.deepEqual(e.listeners("x"), [a], "listeners() hands out a copy");
    e.off("x", b); // not a listener of "x": nothing changes
    assert.equal(e.listenerCount("x"), 1);
    e.on("x", b).on("x", c);
    e.emitReserved("x");
    e.off("x", a).off("x", c); // back to one
    assert.equal(e.listenerCount("x"), 1);
    e.emitReserved("x");
    e.once("x", a); // several again, one of them once
    e.emitReserved("x");
    e.emitReserved("x");
    assert.deepEqual(got, ["a", "b", "c", "b", "b", "a", "b"]);
    e.off("x", b);
    assert.equal(e.hasListeners("x"), false);
    e.once("y", a); // a lone once listener, removed by its original function
    e.off("y", a);
    assert.equal(e.emitReserved("y"), false);
    assert.equal(e.listenerCount("y"), 0);
  });
});
