import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodePacket, decodePayload, encodePacket, encodePacketText, encodePayload } from "../src/parser/engine_io.ts";
import { decodeBase64, encodeBase64 } from "../src/parser/base64.ts";

describe("engine.io parser", () => {
  it("encodes every packet type", () => {
    assert.equal(encodePacket({ type: "open", data: "{}" }), "0{}");
    assert.equal(encodePacket({ type: "close" }), "1");
    assert.equal(encodePacket({ type: "ping" }), "2");
    assert.equal(encodePacket({ type: "pong", data: "probe" }), "3probe");
    assert.equal(encodePacket({ type: "message", data: "hello" }), "4hello");
    assert.equal(encodePacket({ type: "upgrade" }), "5");
    assert.equal(encodePacket({ type: "noop" }), "6");
  });

  it("sends binary messages as they are on WebSocket and as b+base64 in payloads", () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    assert.equal(encodePacket({ type: "message", data: bytes }), bytes);
    assert.equal(encodePacketText({ type: "message", data: bytes }), "bAQIDBA==");
  });

  it("base64-encodes only a view's own bytes", () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9]);
    const view = backing.subarray(2, 6);
    assert.equal(encodePacketText({ type: "message", data: view }), "bAQIDBA==");
  });

  it("decodes packets and rejects malformed ones", () => {
    assert.deepEqual(decodePacket("4hello"), { type: "message", data: "hello" });
    assert.deepEqual(decodePacket("2"), { type: "ping" });
    assert.deepEqual(decodePacket("2probe"), { type: "ping", data: "probe" });
    assert.deepEqual(decodePacket("bAQIDBA=="), { type: "message", data: new Uint8Array([1, 2, 3, 4]) });
    assert.equal(decodePacket(""), null);
    assert.equal(decodePacket("7"), null);
    assert.equal(decodePacket("abc"), null);
    assert.equal(decodePacket("b!!!"), null);
    const bin = new Uint8Array([5]);
    assert.deepEqual(decodePacket(bin), { type: "message", data: bin });
  });

  it("round-trips payloads with the record separator", () => {
    const packets = [
      { type: "message" as const, data: "a" },
      { type: "message" as const, data: new Uint8Array([255, 0]) },
      { type: "ping" as const },
    ];
    const payload = encodePayload(packets);
    assert.equal(payload, "4a\x1eb/wA=\x1e2");
    assert.deepEqual(decodePayload(payload), packets);
  });

  it("rejects a payload with any malformed packet", () => {
    assert.equal(decodePayload("4ok\x1ezzz"), null);
    assert.equal(decodePayload("4ok\x1e"), null);
    assert.equal(decodePayload(""), null);
  });

  it("keeps non-ASCII text intact", () => {
    assert.deepEqual(decodePayload(encodePayload([{ type: "message", data: "héllo €😀" }])), [
      { type: "message", data: "héllo €😀" },
    ]);
  });

  it("base64 round-trips large buffers", () => {
    const big = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
    assert.deepEqual(decodeBase64(encodeBase64(big)), big);
  });
});
