import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeText, encodePacket, JsonDecoder, type Packet, PacketType } from "../src/parser/socket_io.ts";
import { hasBinary } from "../src/parser/binary.ts";

function decodeAll(frames: Array<string | Uint8Array>): Packet[] {
  const decoder = new JsonDecoder();
  const out: Packet[] = [];
  decoder.ondecoded = (p) => out.push(p);
  for (const f of frames) decoder.add(f);
  return out;
}

describe("socket.io parser: encoding", () => {
  it("encodes CONNECT, DISCONNECT, EVENT, ACK and CONNECT_ERROR as the reference does", () => {
    assert.deepEqual(encodePacket({ type: PacketType.CONNECT, nsp: "/" }), ["0"]);
    assert.deepEqual(encodePacket({ type: PacketType.CONNECT, nsp: "/admin", data: { token: "1" } }), [
      '0/admin,{"token":"1"}',
    ]);
    assert.deepEqual(encodePacket({ type: PacketType.DISCONNECT, nsp: "/admin" }), ["1/admin,"]);
    assert.deepEqual(encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["hello", 1] }), ['2["hello",1]']);
    assert.deepEqual(encodePacket({ type: PacketType.EVENT, nsp: "/chat", data: ["a"], id: 12 }), [
      '2/chat,12["a"]',
    ]);
    assert.deepEqual(encodePacket({ type: PacketType.ACK, nsp: "/", data: [], id: 3 }), ["33[]"]);
    assert.deepEqual(
      encodePacket({ type: PacketType.CONNECT_ERROR, nsp: "/x", data: { message: "no" } }),
      ['4/x,{"message":"no"}'],
    );
  });

  it("turns events and acks with binary into binary packets with placeholders", () => {
    const a = new Uint8Array([1, 2]);
    const b = new ArrayBuffer(1);
    const frames = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["up", { a, list: [b] }], id: 4 });
    assert.equal(frames[0], '52-4["up",{"a":{"_placeholder":true,"num":0},"list":[{"_placeholder":true,"num":1}]}]');
    assert.deepEqual(frames[1], a);
    assert.deepEqual(frames[2], new Uint8Array(b));
    const ack = encodePacket({ type: PacketType.ACK, nsp: "/n", data: [a], id: 9 });
    assert.equal(ack[0], '61-/n,9[{"_placeholder":true,"num":0}]');
  });

  it("sends only a view's own bytes", () => {
    const backing = new Uint8Array([0, 1, 2, 3, 4]);
    const frames = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["x", new DataView(backing.buffer, 1, 2)] });
    assert.deepEqual(frames[1], new Uint8Array([1, 2]));
  });

  it("detects binary inside toJSON results and nested structures", () => {
    assert.equal(hasBinary([{ toJSON: () => ({ b: new Uint8Array(1) }) }]), true);
    assert.equal(hasBinary([{ a: [{ b: "c" }] }]), false);
    assert.equal(hasBinary(new Date()), false);
  });
});

describe("socket.io parser: decoding", () => {
  it("decodes the reference's packets", () => {
    assert.deepEqual(decodeText("0"), { type: 0, nsp: "/" });
    assert.deepEqual(decodeText("40".slice(1)), { type: 0, nsp: "/" });
    assert.deepEqual(decodeText('0/admin,{"token":"123"}'), { type: 0, nsp: "/admin", data: { token: "123" } });
    assert.deepEqual(decodeText("0/random"), { type: 0, nsp: "/random" });
    assert.deepEqual(decodeText("1/admin,"), { type: 1, nsp: "/admin" });
    assert.deepEqual(decodeText('2456["a",1]'), { type: 2, nsp: "/", id: 456, data: ["a", 1] });
    assert.deepEqual(decodeText('2/chat,7["a"]'), { type: 2, nsp: "/chat", id: 7, data: ["a"] });
    assert.deepEqual(decodeText("3/chat,7[]"), { type: 3, nsp: "/chat", id: 7, data: [] });
    assert.deepEqual(decodeText('2[1,"numeric event"]'), { type: 2, nsp: "/", data: [1, "numeric event"] });
  });

  it("reconstructs binary packets from their attachments", () => {
    const packets = decodeAll([
      '452-789["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'.slice(1),
      new Uint8Array([1, 2, 3]),
      new Uint8Array([4, 5, 6]),
    ]);
    assert.equal(packets.length, 1);
    assert.equal(packets[0].type, PacketType.BINARY_EVENT);
    assert.equal(packets[0].id, 789);
    assert.deepEqual(packets[0].data, ["message", new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6])]);
  });

  it("round-trips through encode and decode", () => {
    const packet: Packet = {
      type: PacketType.EVENT,
      nsp: "/x",
      id: 1,
      data: ["e", { n: new Uint8Array([7]) }, null, "é"],
    };
    const [decoded] = decodeAll(encodePacket(packet));
    assert.deepEqual(decoded, { ...packet, type: PacketType.BINARY_EVENT, attachments: 1 });
  });

  const malformed: Array<[string, string]> = [
    ["unknown type", "9"],
    ["unknown type (letter)", "abc"],
    ["empty", ""],
    ["event data not an array", "2{}"],
    ["event without a name", "2[]"],
    ["event name of the wrong type", "2[{}]"],
    ["reserved event name", '2["disconnect"]'],
    ["reserved event name connect", '2["connect"]'],
    ["non-numeric ack id", '2abc["message-with-ack",1]'],
    ["broken JSON", '2["a",'],
    ["connect payload not an object", '0"str"'],
    ["connect payload an array", "0[1]"],
    ["disconnect with data", "1{}"],
    ["ack data not an array", "3{}"],
    ["ack id too large", "3123456789012345678[]"],
    ["binary without attachment count", '5["a"]'],
    ["binary count without dash", '52["a"]'],
    ["too many attachments", '51001-["a"]'],
  ];
  for (const [name, text] of malformed) {
    it(`rejects ${name}`, () => {
      assert.throws(() => decodeAll([text]));
    });
  }

  it("rejects binary data outside a binary packet and text while reconstructing", () => {
    assert.throws(() => decodeAll([new Uint8Array([1])]), /not reconstructing/);
    assert.throws(() => decodeAll(['51-["a",{"_placeholder":true,"num":0}]', '2["b"]']), /reconstructing/);
  });

  it("rejects placeholders that point outside the attachments", () => {
    assert.throws(() => decodeAll(['51-["a",{"_placeholder":true,"num":5}]', new Uint8Array([1])]), /attachments/);
    assert.throws(() => decodeAll(['51-["a",{"_placeholder":true,"num":"0"}]', new Uint8Array([1])]), /attachments/);
  });

  it("never lets __proto__ keys reach the prototype chain", () => {
    const [p] = decodeAll(['2["e",{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}]']);
    const arg = p.data[1];
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(arg), Object.prototype);
    const [b] = decodeAll(['51-["e",{"__proto__":{"_placeholder":true,"num":0}}]', new Uint8Array([1])]);
    assert.equal(Object.getPrototypeOf(b.data[1]), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(b.data[1], "__proto__")?.value, new Uint8Array([1]));
  });

  it("a decoder keeps working after destroy", () => {
    const decoder = new JsonDecoder();
    const out: Packet[] = [];
    decoder.ondecoded = (p) => out.push(p);
    decoder.add('51-["a",{"_placeholder":true,"num":0}]');
    decoder.destroy();
    decoder.add('2["b"]');
    assert.deepEqual(out.map((p) => p.data[0]), ["b"]);
  });
});
