/**
 * Random ids (src/engine/ids.ts): drawn from a pool of random bytes refilled 64 ids at a time,
 * they stay 20 base64url characters, distinct, and uniformly spread across refills.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomId } from "../src/engine/ids.ts";

describe("randomId", () => {
  it("gives distinct 20-character base64url ids across many refills of its pool", () => {
    const ids = Array.from({ length: 1000 }, randomId);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("uses every character of the alphabet about as often (no byte of the pool reused or left zero)", () => {
    const counts = new Map<string, number>();
    const n = 3200; // 64,000 characters: 1,000 expected for each of the 64
    for (let i = 0; i < n; i++) for (const c of randomId()) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 64);
    for (const [c, count] of counts) assert.ok(count > 800 && count < 1200, `${c}: ${count} of ~1000`);
  });
});
