// Interning keeps values intact: equal strings back, records keep every header (unique and odd
// names included), the table stays bounded. (That copies are shared is measured by the heap
// snapshots of bench/ and the leak tests; JavaScript cannot tell two equal strings apart.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { intern, INTERN_MAX_ENTRIES, INTERN_MAX_LENGTH, internHeaderValues } from "../src/util/intern.ts";

describe("intern", () => {
  it("returns equal strings, long ones as they are, and stays usable past its bound", () => {
    assert.equal(intern("websocket"), "websocket");
    const long = "x".repeat(INTERN_MAX_LENGTH + 1);
    assert.equal(intern(long), long);
    for (let i = 0; i < INTERN_MAX_ENTRIES * 2 + 3; i++) assert.equal(intern(`v${i}`), `v${i}`);
    assert.equal(intern("websocket"), "websocket");
  });

  it("keeps every header of a record, __proto__ as an own header", () => {
    const record: Record<string, string> = { upgrade: "websocket", "sec-websocket-key": "k==" };
    Object.defineProperty(record, "__proto__", { value: "p", enumerable: true, writable: true, configurable: true });
    const out = internHeaderValues(record);
    assert.equal(out, record);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ["upgrade", "sec-websocket-key", "__proto__"]);
    assert.equal(out.upgrade, "websocket");
    assert.equal(out["sec-websocket-key"], "k==");
    assert.equal(out["__proto__" as string], "p");
  });
});
