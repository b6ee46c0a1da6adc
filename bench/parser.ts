/**
 * Parser micro-benchmarks: our Socket.IO and Engine.IO parsers against `socket.io-parser` and
 * `engine.io-parser` (the ones socket.io 4.8 uses), same inputs, same runtime, alternating samples.
 *
 *   node bench/parser.ts [sampleMs]   |   bun bench/parser.ts   |   deno run -A bench/parser.ts
 *
 * Prints one JSON line: for each case, ops/s of ours and theirs (median of the samples).
 *
 * @module
 */

import process from "node:process";
import * as sioParser from "socket.io-parser";
import * as eioParser from "engine.io-parser";
import { encodePacket as ourEncode, JsonDecoder, PacketType } from "../src/parser/socket_io.ts";
import {
  decodePacket as ourDecodePacket,
  decodePayload as ourDecodePayload,
  encodePacket as ourEncodePacket,
  encodePacketText as ourEncodePacketText,
  encodePayload as ourEncodePayload,
  type EnginePacket,
} from "../src/parser/engine_io.ts";

const SAMPLE_MS = Number(process.argv[2] ?? 150);
const SAMPLES = 7;
/** Milliseconds each side runs before calibration, so both are optimized by the JIT. */
const WARMUP_MS = Math.max(50, SAMPLE_MS);

// deno-lint-ignore no-explicit-any
let sink: any = 0;

/** Ops per second of `fn`, median of SAMPLES samples of about SAMPLE_MS, interleaved with `other`. */
function bench(a: () => unknown, b: () => unknown): [number, number] {
  for (const fn of [a, b]) {
    const t0 = performance.now();
    while (performance.now() - t0 < WARMUP_MS) for (let i = 0; i < 100; i++) sink = fn();
  }
  // Calibrate: iterations per sample for each side.
  const iters = [a, b].map((fn) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 30) {
      for (let i = 0; i < 100; i++) sink = fn();
      n += 100;
    }
    return Math.max(100, Math.round((n * SAMPLE_MS) / 30));
  });
  const rates: number[][] = [[], []];
  for (let s = 0; s < SAMPLES; s++) {
    for (const k of [0, 1]) {
      const fn = k === 0 ? a : b;
      const n = iters[k];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) sink = fn();
      rates[k].push(n / ((performance.now() - t0) / 1000));
    }
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [median(rates[0]), median(rates[1])];
}

const small = ["message", { id: 42, user: "alice", text: "hello world", tags: ["a", "b"], ok: true }];
const withAck = { type: PacketType.EVENT, nsp: "/chat", id: 1234, data: small };
const bytes = new Uint8Array(1024).map((_, i) => i & 255);
const binaryData = ["file", { name: "a.bin", size: 1024 }, bytes];

const cases: Record<string, [() => unknown, () => unknown]> = {};

// --- socket.io-parser ---
const theirEncoder = new sioParser.Encoder();
cases["sio encode event"] = [
  () => ourEncode({ type: PacketType.EVENT, nsp: "/", data: small }),
  () => theirEncoder.encode({ type: sioParser.PacketType.EVENT, nsp: "/", data: small }),
];
cases["sio encode event nsp+ack"] = [
  () => ourEncode({ ...withAck }),
  () => theirEncoder.encode({ ...withAck, type: sioParser.PacketType.EVENT }),
];
cases["sio encode binary event"] = [
  () => ourEncode({ type: PacketType.EVENT, nsp: "/", data: binaryData }),
  () => theirEncoder.encode({ type: sioParser.PacketType.EVENT, nsp: "/", data: binaryData }),
];

const textFrame = ourEncode({ type: PacketType.EVENT, nsp: "/", data: small })[0] as string;
const textFrameAck = ourEncode({ ...withAck })[0] as string;
const binFrames = ourEncode({ type: PacketType.EVENT, nsp: "/", data: binaryData });
if (textFrame !== theirEncoder.encode({ type: sioParser.PacketType.EVENT, nsp: "/", data: small })[0]) {
  throw new Error("encoders disagree");
}

const ourDecoder = new JsonDecoder();
let ourOut: unknown;
ourDecoder.ondecoded = (p) => (ourOut = p);
const theirDecoder = new sioParser.Decoder();
let theirOut: unknown;
theirDecoder.on("decoded", (p: unknown) => (theirOut = p));
cases["sio decode event"] = [
  () => (ourDecoder.add(textFrame), ourOut),
  () => (theirDecoder.add(textFrame), theirOut),
];
cases["sio decode event nsp+ack"] = [
  () => (ourDecoder.add(textFrameAck), ourOut),
  () => (theirDecoder.add(textFrameAck), theirOut),
];
cases["sio decode binary event"] = [
  () => {
    for (const f of binFrames) ourDecoder.add(f);
    return ourOut;
  },
  () => {
    for (const f of binFrames) theirDecoder.add(f);
    return theirOut;
  },
];

// --- engine.io-parser ---
let eioOut: unknown;
const cb = (x: unknown) => (eioOut = x);
cases["eio encode packet"] = [
  () => ourEncodePacket({ type: "message", data: textFrame }),
  () => (eioParser.encodePacket({ type: "message", data: textFrame }, true, cb), eioOut),
];
const eioFrame = "4" + textFrame;
cases["eio decode packet"] = [
  () => ourDecodePacket(eioFrame),
  () => eioParser.decodePacket(eioFrame),
];
const payloadPackets: EnginePacket[] = Array.from({ length: 10 }, () => ({ type: "message", data: textFrame }));
cases["eio encode payload (10)"] = [
  () => ourEncodePayload(payloadPackets),
  () => (eioParser.encodePayload(payloadPackets as never, cb), eioOut),
];
const payload = ourEncodePayload(payloadPackets);
cases["eio decode payload (10)"] = [
  () => ourDecodePayload(payload),
  () => eioParser.decodePayload(payload),
];
cases["eio encode binary (base64)"] = [
  () => ourEncodePacketText({ type: "message", data: bytes }),
  () => (eioParser.encodePacket({ type: "message", data: bytes as never }, false, cb), eioOut),
];
const b64 = ourEncodePacketText({ type: "message", data: bytes });
cases["eio decode binary (base64)"] = [
  () => ourDecodePacket(b64),
  () => eioParser.decodePacket(b64, "arraybuffer"),
];

// Sanity: engine.io-parser's callbacks are synchronous for these inputs.
eioOut = undefined;
eioParser.encodePayload(payloadPackets as never, cb);
if (eioOut !== payload) throw new Error("engine.io-parser encodePayload differs or is not synchronous");

const results: Record<string, { ours: number; theirs: number }> = {};
for (const [name, [a, b]] of Object.entries(cases)) {
  const [ours, theirs] = bench(a, b);
  results[name] = { ours, theirs };
}
console.log(JSON.stringify(results));
if (sink === Symbol.for("never")) console.log(sink);
