// The msgpack the Redis adapter and emitter write is byte-for-byte what notepack.io (used by
// @socket.io/redis-adapter and redis-emitter) writes, and each decodes the other's.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import notepack from "notepack.io";
import { decodeMsgpack, encodeMsgpack } from "../src/adapters/redis/_msgpack.ts";

const SAMPLES: unknown[] = [
  ["abc123", { type: 2, data: ["event", "text", 42, -7, 1.5, true, false, null], nsp: "/" }, {
    rooms: ["room1"],
    except: [],
    flags: { volatile: true },
  }],
  ["emitter", { type: 2, data: ["bin", new Uint8Array([0, 1, 2, 255])], nsp: "/custom" }, {
    rooms: [],
    except: ["x"],
    flags: {},
  }],
  {
    uid: "u",
    requestId: "r",
    type: 7,
    packet: { type: 2, data: ["q"], nsp: "/" },
    opts: { rooms: [], except: [], flags: { timeout: 1000 } },
  },
  { type: 9, requestId: "r", packet: { nested: { deep: [1, 2, { k: "v" }] } } },
  [
    "big",
    300,
    70000,
    5_000_000_000,
    -200,
    -40000,
    -3_000_000_000,
    "é€😀",
    "x".repeat(40),
    "y".repeat(300),
    "z".repeat(70000),
  ],
  { skipped: undefined, kept: 1, fn: () => 1, date: { toJSON: () => "2024-01-01" } },
  [new Uint8Array(300), new Uint8Array(70000)],
  { many: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) },
  Array.from({ length: 20 }, (_, i) => i),
];

function bytes(value: Uint8Array): number[] {
  return [...value];
}

describe("redis msgpack", () => {
  it("encodes exactly as notepack.io", () => {
    for (const sample of SAMPLES) {
      assert.deepEqual(
        bytes(encodeMsgpack(sample)),
        bytes(notepack.encode(sample)),
        JSON.stringify(sample)?.slice(0, 80),
      );
    }
  });

  it("decodes notepack.io's output and notepack decodes ours", () => {
    const value = ["uid", { type: 2, data: ["e", new Uint8Array([1, 2]), { a: [1, "b"] }], nsp: "/" }, {
      rooms: ["r"],
      except: [],
    }];
    const decoded = decodeMsgpack(notepack.encode(value)) as unknown[];
    const packet = decoded[1] as { data: unknown[] };
    assert.deepEqual([...(packet.data[1] as Uint8Array)], [1, 2]);
    assert.deepEqual(packet.data[2], { a: [1, "b"] });
    const back = notepack.decode(Buffer.from(encodeMsgpack(value))) as unknown[];
    assert.deepEqual([...((back[1] as { data: unknown[] }).data[1] as Uint8Array)], [1, 2]);
  });
});
