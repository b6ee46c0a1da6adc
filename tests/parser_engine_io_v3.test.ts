/**
 * The Engine.IO v3 codec (src/parser/engine_io_v3.ts) against the real engine.io-parser 2.2.1 that
 * socket.io 2.5.1 runs: what one encodes the other decodes to the same packets, for text payloads
 * (with `b4` base64 binary), the binary payload format of XHR2 clients, and WebSocket frames;
 * malformed input is refused.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  binaryFrameV3,
  decodeFrameV3,
  decodePayloadV3,
  decodeTextPayloadV3,
  encodeFrameV3,
  encodePayloadV3,
  encodeTextPayloadV3,
  withSharedFrames,
} from "../src/parser/engine_io_v3.ts";
import type { EnginePacket } from "../src/parser/engine_io.ts";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const reference: any = require("socket.io-v2/node_modules/engine.io-parser");

type RefPacket = { type: string; data?: string | Uint8Array };

/** Their decodePayload, collected (it calls back once per packet). */
function theirDecode(payload: string | Uint8Array): RefPacket[] {
  const out: RefPacket[] = [];
  const input = typeof payload === "string" ? payload : Buffer.from(payload);
  reference.decodePayload(input, (packet: RefPacket) => {
    out.push(packet);
  });
  return out;
}

function theirEncode(packets: RefPacket[], binary: boolean): string | Uint8Array {
  let out: string | Uint8Array = "";
  reference.encodePayload(packets.map((p) => ({ ...p })), binary, (data: string | Uint8Array) => (out = data));
  return out;
}

function toRef(p: EnginePacket): RefPacket {
  return { type: p.type, data: p.data instanceof Uint8Array ? Buffer.from(p.data) : p.data };
}

/** Packets in a comparable form: binary as a plain array of numbers, no data for "". */
function plain(packets: Array<EnginePacket | RefPacket>): unknown[] {
  return packets.map((p) =>
    p.data === undefined || p.data === ""
      ? { type: p.type }
      : { type: p.type, data: typeof p.data === "string" ? p.data : [...(p.data as Uint8Array)] }
  );
}

const MIXED: EnginePacket[] = [
  { type: "open", data: '{"sid":"abc"}' },
  { type: "message", data: '2["héllo 😀",1]' },
  { type: "message", data: new Uint8Array([0, 1, 255, 128]) },
  { type: "ping" },
  { type: "message", data: "" },
  { type: "noop" },
];

describe("Engine.IO v3 codec against engine.io-parser 2.2.1", () => {
  it("text payloads: ours decode theirs and theirs decode ours", () => {
    const text = MIXED.filter((p) => !(p.data instanceof Uint8Array)).concat([
      { type: "message", data: new Uint8Array([9, 8, 7]) },
    ]);
    const theirs = theirEncode(text.map(toRef), false);
    assert.equal(typeof theirs, "string");
    const ours = encodeTextPayloadV3(text);
    assert.equal(ours, theirs);
    assert.deepEqual(plain(decodeTextPayloadV3(theirs as string)!), plain(text));
    assert.deepEqual(plain(theirDecode(ours)), plain(text));
    // lengths count UTF-16 code units, as JavaScript strings do
    assert.equal(encodeTextPayloadV3([{ type: "message", data: "😀" }]), "3:4😀");
  });

  it("binary payloads (XHR2 clients): both ways, UTF-8 text inside", () => {
    const theirs = theirEncode(MIXED.map(toRef), true);
    assert.ok(theirs instanceof Uint8Array, "a binary payload");
    const ours = encodePayloadV3(MIXED, true);
    assert.ok(ours instanceof Uint8Array);
    assert.deepEqual([...ours], [...theirs]);
    // zero-length text records are skipped by their text decoder, but kept in the binary format
    assert.deepEqual(plain(decodePayloadV3(theirs as Uint8Array)!), plain(MIXED));
    assert.deepEqual(plain(theirDecode(ours)), plain(MIXED));
    // without binary in the batch, or for a b64 client, the text format
    assert.equal(typeof encodePayloadV3([{ type: "message", data: "x" }], true), "string");
    assert.equal(encodePayloadV3([MIXED[2]], false), "10:b4AAH/gA==");
  });

  it("WebSocket frames: binary with its type byte, or b4 base64 for b64 clients", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    // deno-lint-ignore no-explicit-any
    let theirs: any = "";
    reference.encodePacket({ type: "message", data: Buffer.from(bytes) }, true, (d: Uint8Array) => (theirs = d));
    const ours = encodeFrameV3({ type: "message", data: bytes }, true);
    assert.deepEqual([...(ours as Uint8Array)], [...(theirs as Uint8Array)]);
    assert.deepEqual(plain([decodeFrameV3(theirs)!]), [{ type: "message", data: [1, 2, 3] }]);
    reference.encodePacket({ type: "message", data: Buffer.from(bytes) }, false, (d: string) => (theirs = d));
    assert.equal(encodeFrameV3({ type: "message", data: bytes }, false), theirs);
    assert.deepEqual(plain([decodeFrameV3(theirs)!]), [{ type: "message", data: [1, 2, 3] }]);
    const back = reference.decodePacket(Buffer.from(ours as Uint8Array));
    assert.deepEqual([back.type, [...back.data]], ["message", [1, 2, 3]]);
    assert.equal(encodeFrameV3({ type: "ping", data: "probe" }, true), "2probe");
    assert.deepEqual(decodeFrameV3("3probe"), { type: "pong", data: "probe" });
  });

  it("refuses malformed payloads and frames", () => {
    for (const bad of ["", "abc", "5:4a", "2:4", "1:x", "2:4a3", ":4a", "1:9", "3:b9AA", "5:b4!!!"]) {
      assert.equal(decodeTextPayloadV3(bad), null, JSON.stringify(bad));
    }
    assert.deepEqual(decodeTextPayloadV3("0:2:4a"), [{ type: "message", data: "a" }]);
    for (
      const bad of [
        [2, 1, 255, 52],
        [0, 255, 52],
        [0, 5, 255, 52, 97],
        [0, 1, 2, 3],
        [1, 2, 255, 3, 1],
        [0, 1, 255, 0xff],
      ]
    ) {
      assert.equal(decodePayloadV3(new Uint8Array(bad)), null, JSON.stringify(bad));
    }
    assert.deepEqual(decodePayloadV3(new Uint8Array(0)), []);
    assert.equal(decodeFrameV3(new Uint8Array([2, 1])), null);
    assert.equal(decodeFrameV3(new Uint8Array(0)), null);
    assert.equal(decodeFrameV3(""), null);
  });

  it("frames a broadcast's binary once per protocol, a lone write each time", () => {
    const bytes = new Uint8Array([5]);
    const [a, b] = withSharedFrames(() => [binaryFrameV3(bytes), binaryFrameV3(bytes)]);
    assert.equal(a, b);
    assert.deepEqual([...a], [4, 5]);
    assert.notEqual(binaryFrameV3(bytes), binaryFrameV3(bytes));
  });
});
