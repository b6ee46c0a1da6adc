/**
 * The msgpack parser (src/parser/msgpack.ts) against the npm `socket.io-msgpack-parser` 3.x:
 * byte-for-byte equal frames, each side decoding the other's (binary, ArrayBuffer, Date,
 * undefined), rejection of invalid packets, then socket.io-client with that parser against our
 * server (polling and WebSocket) and our client against our server, both with ours.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { io as npmIo, type Socket as NpmSocket } from "socket.io-client";
import npmParser from "socket.io-msgpack-parser";
import { Server } from "../server.ts";
import { io } from "../client.ts";
import { MsgpackPacketDecoder, MsgpackPacketEncoder, msgpackParser } from "../src/parser/msgpack.ts";
import type { Packet } from "../src/parser/socket_io.ts";
import { type Running, startServer } from "./_server.ts";
import { once } from "./_helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function ours(packet: Packet): Uint8Array {
  const frames = new MsgpackPacketEncoder().encode(packet);
  assert.equal(frames.length, 1);
  assert.ok(frames[0] instanceof Uint8Array);
  return frames[0] as Uint8Array;
}

function theirs(packet: Record<string, unknown>): Uint8Array {
  const frames = new (npmParser as Any).Encoder().encode(packet);
  assert.equal(frames.length, 1);
  return new Uint8Array(frames[0]);
}

function decodeOurs(frame: Uint8Array): Packet {
  const decoder = new MsgpackPacketDecoder();
  let out: Packet | undefined;
  decoder.ondecoded = (p) => out = p;
  decoder.add(frame);
  assert.ok(out);
  return out;
}

function decodeTheirs(frame: Uint8Array): Any {
  const decoder = new (npmParser as Any).Decoder();
  let out: Any;
  decoder.on("decoded", (p: Any) => out = p);
  decoder.add(Buffer.from(frame));
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

describe("msgpack parser: byte compatibility with socket.io-msgpack-parser", () => {
  // Packets in socket.io's own key order (type, data, id, nsp); binary as Node Buffers, which
  // notepack writes as msgpack bin like we do.
  const cases: Array<[string, Record<string, unknown>]> = [
    ["connect", { type: 0, data: { token: "abc" }, nsp: "/" }],
    ["connect without auth", { type: 0, nsp: "/admin" }],
    ["connect reply", { type: 0, data: { sid: "x".repeat(20), pid: "p" }, nsp: "/" }],
    ["disconnect", { type: 1, nsp: "/chat" }],
    ["event", { type: 2, data: ["message", "héllo ✓", 1, -1, 300, -300, 70000, 1.5, true, false, null], nsp: "/" }],
    ["event with ack", { type: 2, data: ["ask", { a: [1, 2, { b: "c" }] }], id: 42, nsp: "/chat" }],
    ["event with large numbers", { type: 2, data: ["n", 2 ** 40, -(2 ** 40), 4294967295, -2147483648], nsp: "/" }],
    ["long strings", { type: 2, data: ["s", "a".repeat(40), "b".repeat(300), "c".repeat(70000)], nsp: "/" }],
    ["binary", { type: 2, data: ["file", Buffer.from([1, 2, 3]), { nested: Buffer.alloc(300, 7) }], nsp: "/" }],
    ["ack", { type: 3, data: ["ok", 1], id: 7, nsp: "/" }],
    ["connect error", { type: 4, data: { message: "Not authorized", data: { code: 1 } }, nsp: "/" }],
    ["many keys and items", {
      type: 2,
      data: ["big", Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])), Array(20).fill(0)],
      nsp: "/",
    }],
  ];

  for (const [name, packet] of cases) {
    it(`${name}: same bytes, and each side decodes the other's`, () => {
      const mine = ours(packet as unknown as Packet);
      const expected = theirs(packet);
      assert.equal(hex(mine), hex(expected));
      const back = decodeOurs(expected);
      assert.equal(back.type, packet.type);
      assert.equal(back.nsp, packet.nsp);
      assert.equal(back.id, packet.id);
      assert.deepEqual(normalize(back.data), normalize(packet.data));
      assert.deepEqual(normalize(decodeTheirs(mine).data), normalize(packet.data));
    });
  }

  it("reads notepack's ArrayBuffer, Date and undefined extensions, including the 1- and 8-byte cases", () => {
    const date = new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123));
    const ab1 = new Uint8Array([9]).buffer;
    const ab8 = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer;
    const ab300 = new Uint8Array(300).fill(3).buffer;
    const frame = theirs({ type: 2, data: ["x", date, ab1, ab8, ab300, undefined], nsp: "/" });
    const packet = decodeOurs(frame);
    const [, d, a1, a8, a300, u] = packet.data;
    assert.ok(d instanceof Date);
    assert.equal(d.getTime(), date.getTime());
    for (const [got, want] of [[a1, ab1], [a8, ab8], [a300, ab300]]) {
      assert.ok(got instanceof ArrayBuffer);
      assert.deepEqual(new Uint8Array(got), new Uint8Array(want as ArrayBuffer));
    }
    assert.equal(u, undefined);
    assert.equal(packet.data.length, 6);
  });

  it("writes ArrayBuffer (any size) and Date so that notepack reads them back as such", () => {
    const date = new Date(-1234567);
    const sizes = [0, 1, 2, 4, 8, 16, 17, 300];
    const buffers = sizes.map((n) => new Uint8Array(n).fill(n & 0xff).buffer);
    const frame = ours({ type: 2, nsp: "/", data: ["x", date, ...buffers] });
    // Dates are byte-identical with notepack's
    assert.equal(hex(ours({ type: 2, nsp: "/", data: [date] })), hex(theirs({ type: 2, data: [date], nsp: "/" })));
    const decoded = decodeTheirs(frame);
    assert.ok(decoded.data[1] instanceof Date);
    assert.equal(decoded.data[1].getTime(), date.getTime());
    for (let i = 0; i < sizes.length; i++) {
      const got = decoded.data[2 + i];
      assert.ok(got instanceof ArrayBuffer, `size ${sizes[i]}: ${Object.prototype.toString.call(got)}`);
      assert.deepEqual(new Uint8Array(got), new Uint8Array(buffers[i]));
    }
    // and we read our own ArrayBuffers back too
    const ourBack = decodeOurs(frame).data;
    for (let i = 0; i < sizes.length; i++) {
      assert.ok(ourBack[2 + i] instanceof ArrayBuffer);
      assert.deepEqual(new Uint8Array(ourBack[2 + i]), new Uint8Array(buffers[i]));
    }
  });

  it("drops undefined in objects and writes null in arrays, as JSON does", () => {
    const packet = decodeOurs(ours({ type: 2, nsp: "/", data: ["x", { a: undefined, b: 1 }, undefined] }));
    assert.deepEqual(packet.data, ["x", { b: 1 }, null]);
  });

  it("decodes a packet sent by socket.io-client, with its extra `options` key", () => {
    const frame = theirs({ type: 2, data: ["hello", 1], options: { compress: true }, id: 3, nsp: "/" });
    const packet = decodeOurs(frame);
    assert.deepEqual({ ...packet }, { type: 2, nsp: "/", data: ["hello", 1], id: 3 });
  });

  it("rejects what socket.io-msgpack-parser rejects, and reserved events", () => {
    const bad: Array<Record<string, unknown>> = [
      { type: 5, data: ["x"], nsp: "/" },
      { type: 2.5, data: ["x"], nsp: "/" },
      { type: 2, data: ["x"], nsp: 1 },
      { type: 2, data: "x", nsp: "/" },
      { type: 2, data: ["x"], id: "1", nsp: "/" },
      { type: 0, data: "x", nsp: "/" },
      { type: 1, data: {}, nsp: "/" },
      { type: 4, data: 1, nsp: "/" },
      { type: 2, data: ["connect"], nsp: "/" },
      { type: 2, data: [], nsp: "/" },
    ];
    for (const packet of bad) {
      assert.throws(() => decodeOurs(theirs(packet)), Error, JSON.stringify(packet));
    }
    assert.throws(() => decodeOurs(new Uint8Array([0xc1])), /Invalid payload/);
    assert.throws(() => decodeOurs(new Uint8Array([0x93, 1, 2, 3])), /Invalid payload/);
    assert.throws(() => decodeOurs(new Uint8Array([0x82, 0xa4])), /Invalid payload/);
    const decoder = new MsgpackPacketDecoder();
    assert.throws(() => decoder.add('2["x"]'), /Invalid payload/);
  });
});

function normalize(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { bytes: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    return { bytes: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

describe("msgpack parser end to end", () => {
  let server: Server;
  let running: Running;

  before(async () => {
    server = new Server({ parser: msgpackParser, pingInterval: 300, pingTimeout: 200, cors: { origin: "*" } });
    server.on("connection", (socket) => {
      socket.emit("auth", socket.handshake.auth);
      socket.on("echo", (...args: unknown[]) => socket.emit("echo-back", ...args));
      socket.on("ack", (...args: unknown[]) => {
        const ack = args.pop() as (...a: unknown[]) => void;
        ack(...args);
      });
    });
    server.of("/custom").on("connection", (socket) => socket.emit("hi", socket.nsp.name));
    running = await startServer(server);
  });
  after(async () => {
    await running?.close();
  });

  for (const transport of ["polling", "websocket"] as const) {
    it(`socket.io-client with socket.io-msgpack-parser (${transport}): auth, events, binary, acks, namespaces`, async () => {
      const socket: NpmSocket = npmIo(running.url, {
        forceNew: true,
        reconnection: false,
        transports: [transport],
        parser: npmParser as Any,
        auth: { token: "t" },
      });
      try {
        const [auth] = await once(socket, "auth");
        assert.deepEqual(auth, { token: "t" });
        const date = new Date(1700000000000);
        socket.emit("echo", "text", 1, { deep: [Buffer.from([1, 2, 3])] }, date, new Uint8Array([4, 5]).buffer);
        const [text, n, obj, d, ab] = await once(socket, "echo-back");
        assert.equal(text, "text");
        assert.equal(n, 1);
        assert.deepEqual(Array.from(obj.deep[0]), [1, 2, 3]);
        assert.ok(d instanceof Date);
        assert.equal(d.getTime(), date.getTime());
        assert.ok(ab instanceof ArrayBuffer);
        assert.deepEqual(Array.from(new Uint8Array(ab)), [4, 5]);
        const reply = await socket.timeout(3000).emitWithAck("ack", { x: 1 }, [2]);
        assert.deepEqual(reply, { x: 1 });
        const custom = socket.io.socket("/custom");
        const [name] = await once(custom, "hi");
        assert.equal(name, "/custom");
        custom.disconnect();
      } finally {
        socket.disconnect();
      }
    });
  }

  it("our client with msgpackParser: events, binary and acks over polling then WebSocket", async () => {
    const socket = io(running.url, { forceNew: true, reconnection: false, parser: msgpackParser, auth: { a: 1 } });
    try {
      const [auth] = await once(socket, "auth");
      assert.deepEqual(auth, { a: 1 });
      socket.emit("echo", new Uint8Array([7, 8, 9]), "x");
      const [bytes, x] = await once(socket, "echo-back");
      assert.deepEqual(Array.from(new Uint8Array(bytes)), [7, 8, 9]);
      assert.equal(x, "x");
      const reply = await socket.timeout(3000).emitWithAck("ack", "pong");
      assert.equal(reply, "pong");
    } finally {
      socket.disconnect();
    }
  });

  it("a JSON-parser client cannot talk to it (formats must match)", async () => {
    const socket = npmIo(running.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    try {
      const [err] = await Promise.race([
        once(socket, "disconnect").then((args) => [new Error(String(args[0]))]),
        once(socket, "connect_error"),
      ]);
      assert.ok(err instanceof Error);
      assert.ok(!socket.connected);
    } finally {
      socket.disconnect();
    }
  });
});
