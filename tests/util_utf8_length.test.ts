// utf8Length (the admin UI's byte counters) against TextEncoder: ASCII, 2-, 3- and 4-byte
// characters, lone surrogates (U+FFFD, 3 bytes) and random UTF-16, and the remembered last string.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { utf8Length } from "../src/util/utf8_length.ts";

describe("utf8Length", () => {
  it("counts what TextEncoder writes, for any UTF-16 string", () => {
    const encoder = new TextEncoder();
    const samples = ["", "abc", "é", "€", "😀", "a😀b", "\ud800", "x\udc00y", "\ud83d", "\ud83d\ud83d\ude00", "日本語"];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 2000; i++) {
      let s = "";
      for (let j = 0; j < 20; j++) s += String.fromCharCode(Math.floor(random() * 0x10000));
      samples.push(s);
    }
    for (const s of samples) assert.equal(utf8Length(s), encoder.encode(s).length, JSON.stringify(s));
    assert.equal(utf8Length(new Uint8Array(5)), 5);
  });

  it("gives the same count for the same string again, and a new one for another", () => {
    const long = "é".repeat(1000);
    assert.equal(utf8Length(long), 2000);
    assert.equal(utf8Length(long), 2000);
    assert.equal(utf8Length("a".repeat(1000)), 1000);
  });
});
