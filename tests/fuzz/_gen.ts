/**
 * Input generators for the fuzzer: JSON values (deep, odd keys, placeholders), Socket.IO packets
 * (every type, wrong attachment counts, odd namespaces, huge ack ids), Engine.IO packets and
 * polling payloads, and mutations (truncate, insert, delete, duplicate, flip) of any of them.
 *
 * @module
 */

import type { Rng } from "./_rng.ts";

const ODD_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "_placeholder",
  "num",
  "then",
  "",
  "a",
  "sid",
  "pid",
  "offset",
];

const ODD_STRINGS = [
  "",
  "connect",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
  "connect_error",
  "error",
  "message",
  "message-with-ack",
  "join",
  "leave",
  "throw",
  "*",
  "__proto__",
  "constructor",
  "\u0000",
  "\ud800",
  "\u2028\u2029",
  "\x1e",
  "é漢字🎉",
  "/custom",
];

/** Namespaces: real ones, dynamic ones, refused ones and odd strings. */
export function namespace(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => "/"],
    [3, () => "/custom"],
    [2, () => "/guarded"],
    [2, () => `/dyn-${rng.int(0, 20)}`],
    [2, () => "/nope"],
    [1, () => "/" + "x".repeat(rng.int(100, 3000))],
    [1, () => "/" + String.fromCharCode(...rng.bytes(rng.int(1, 8)))],
    [1, () => rng.pick(["/__proto__", "/constructor", "/a,b", "//", "/\u0000", "/é", "/dyn-", "/dyn-x"])],
  ])();
}

/** A random JSON-able value, `depth` levels deep at most. */
export function jsonValue(rng: Rng, depth = 3): unknown {
  const leaf = depth <= 0;
  return rng.weighted<() => unknown>([
    [3, () => rng.int(-1000, 1000)],
    [1, () => rng.pick([0, -0, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 1.5, -(2 ** 31), 4294967296])],
    [3, () => rng.pick(ODD_STRINGS)],
    [2, () => "s".repeat(rng.int(0, 40))],
    [1, () => rng.chance(0.5)],
    [1, () => null],
    [leaf ? 0 : 2, () => Array.from({ length: rng.int(0, 4) }, () => jsonValue(rng, depth - 1))],
    [
      leaf ? 0 : 2,
      () => {
        const out: Record<string, unknown> = {};
        const n = rng.int(0, 4);
        for (let i = 0; i < n; i++) {
          Object.defineProperty(out, rng.pick(ODD_KEYS), {
            value: jsonValue(rng, depth - 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      },
    ],
    [1, () => ({ _placeholder: true, num: rng.pick([0, 1, -1, 1e9, 0.5, "0", null]) })],
  ])();
}

/** JSON text nested `depth` levels deep (arrays or objects). */
export function deepJson(rng: Rng, depth: number): string {
  if (rng.chance(0.5)) {
    return "[" + '"message",'.repeat(rng.chance(0.5) ? 1 : 0) + "[".repeat(depth) + "]".repeat(depth) + "]";
  }
  return '["message",' + '{"a":'.repeat(depth) + "1" + "}".repeat(depth) + "]";
}

/** A Socket.IO packet as its text frame and the binary frames that follow it. */
export interface SioFrames {
  text: string;
  attachments: Uint8Array[];
}

function ackId(rng: Rng): string {
  return rng.weighted<string>([
    [6, ""],
    [3, String(rng.int(0, 1000))],
    [1, String(2 ** 53 - 1)],
    [1, String(2 ** 53 + 1)],
    [1, "9".repeat(rng.int(15, 40))],
    [1, "0".repeat(rng.int(2, 20))],
  ]);
}

/** A Socket.IO packet, most of them close to valid, some of them not at all. */
export function sioPacket(rng: Rng, nsp = namespace(rng)): SioFrames {
  const type = rng.weighted<string>([
    [1, "0"],
    [1, "1"],
    [6, "2"],
    [2, "3"],
    [1, "4"],
    [3, "5"],
    [1, "6"],
    [1, rng.pick(["7", "9", "a", "-", " ", ""])],
  ]);
  const nspPart = nsp === "/" && rng.chance(0.9) ? "" : nsp + ",";
  const id = ackId(rng);
  const attachments: Uint8Array[] = [];
  let prefix = "";
  let data: unknown;
  switch (type) {
    case "0":
      data = rng.weighted<unknown>([[4, undefined], [4, { token: jsonValue(rng, 1) }], [2, jsonValue(rng)]]);
      break;
    case "1":
      data = rng.chance(0.8) ? undefined : jsonValue(rng);
      break;
    case "2":
    case "3":
    case "5":
    case "6": {
      const args = Array.from({ length: rng.int(0, 4) }, () => jsonValue(rng));
      if (type === "2" || type === "5") {
        args.unshift(rng.weighted<unknown>([[6, rng.pick(ODD_STRINGS)], [2, rng.int(-5, 5)], [1, jsonValue(rng, 1)]]));
      }
      const declared = type === "5" || type === "6";
      if (declared) {
        const n = rng.weighted<number>([[5, rng.int(0, 3)], [1, rng.int(4, 1200)], [1, 0]]);
        for (let i = 0; i < Math.min(n, 3); i++) {
          args.push({ _placeholder: true, num: rng.chance(0.9) ? i : rng.int(-1, 10) });
        }
        prefix = rng.weighted<string>([
          [8, `${n}-`],
          [1, `${rng.int(0, 9999999999)}-`],
          [1, rng.pick(["-", "1", "01-", "1--", "99999999999999999999-", "-1-"])],
        ]);
        const sent = rng.weighted<number>([[6, n], [1, rng.int(0, n + 2)]]);
        for (let i = 0; i < Math.min(sent, 8); i++) attachments.push(rng.bytes(rng.int(0, 32)));
      }
      data = rng.chance(0.95) ? args : jsonValue(rng);
      break;
    }
    case "4":
      data = rng.chance(0.5) ? { message: "x" } : jsonValue(rng);
      break;
    default:
      data = jsonValue(rng);
  }
  let body = data === undefined ? "" : JSON.stringify(data) ?? "";
  if (rng.chance(0.03)) body = deepJson(rng, rng.int(50, 20000));
  return { text: type + prefix + nspPart + id + body, attachments };
}

/** A valid CONNECT packet for `nsp`. */
export function connectPacket(rng: Rng, nsp: string): string {
  const auth = rng.chance(0.5) ? "" : JSON.stringify({ token: jsonValue(rng, 1), deny: rng.chance(0.2) });
  return "0" + (nsp === "/" ? "" : nsp + ",") + auth;
}

/** Mutates `text` once or a few times. */
export function mutate(rng: Rng, text: string): string {
  const rounds = rng.int(1, 3);
  let s = text;
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(0, s.length);
    s = rng.weighted<() => string>([
      [3, () => s.slice(0, at)],
      [
        3,
        () =>
          s.slice(0, at) +
          rng.pick(['"', "[", "]", "{", "}", ",", "\x1e", "\\", "\u0000", "-", "/", "b", "0", "9", ":"]) + s.slice(at),
      ],
      [2, () => s.slice(0, at) + s.slice(at + rng.int(1, 8))],
      [1, () => s.slice(0, at) + s.slice(Math.max(0, at - 8), at) + s.slice(at)],
      [1, () => s.slice(0, at) + String.fromCharCode(rng.int(0, 0xffff)) + s.slice(at + 1)],
      [1, () => s.slice(at) + s.slice(0, at)],
    ])();
  }
  return s;
}

/** An Engine.IO text packet (what one WebSocket text frame or one polling record holds). */
export function enginePacket(rng: Rng, nsp?: string): string {
  return rng.weighted<() => string>([
    [10, () => "4" + sioPacket(rng, nsp).text],
    [4, () => "4" + mutate(rng, sioPacket(rng, nsp).text)],
    [1, () => "3"],
    [1, () => rng.pick(["2", "2probe", "3probe", "5", "6", "1", "0", "0{}", "7", "8", "", "x", "4", "6x"])],
    [1, () => "b" + rng.pick(["AQID", "====", "!!", "", "AQ", "aGVsbG8="])],
    [1, () => String.fromCharCode(...rng.bytes(rng.int(1, 16)))],
  ])();
}

/** A polling payload: packets joined by the record separator (binary as `b` + base64). */
export function pollingPayload(rng: Rng, nsp?: string): string {
  const n = rng.weighted<number>([[6, 1], [3, rng.int(2, 5)], [1, rng.int(6, 40)]]);
  const records: string[] = [];
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.85)) {
      const p = sioPacket(rng, nsp);
      records.push("4" + (rng.chance(0.8) ? p.text : mutate(rng, p.text)));
      for (const a of p.attachments) records.push("b" + btoa(String.fromCharCode(...a)));
    } else records.push(enginePacket(rng, nsp));
  }
  let payload = records.join("\x1e");
  if (rng.chance(0.1)) payload = mutate(rng, payload);
  if (rng.chance(0.05)) payload += "\x1e";
  return payload;
}

/** Query strings for a new session: mostly right, sometimes wrong in one way. */
export function handshakeQuery(rng: Rng, transport: "polling" | "websocket"): string {
  return rng.weighted<string>([
    [12, `EIO=4&transport=${transport}`],
    [1, `EIO=3&transport=${transport}`],
    [1, `EIO=${rng.pick(["", "5", "x", "4.0", "04"])}&transport=${transport}`],
    [1, `transport=${transport}`],
    [1, `EIO=4&transport=${rng.pick(["", "flashsocket", "POLLING", "websocket ", "polling&transport=websocket"])}`],
    [1, `EIO=4`],
    [1, `EIO=4&transport=${transport}&sid=${rng.pick(["", "x", "%00", "a".repeat(200)])}`],
    [1, `EIO=4&transport=${transport}&j=${rng.int(0, 9)}&t=${"x".repeat(rng.int(0, 2000))}`],
  ]);
}
