/**
 * Engine.IO v3 packets and polling payloads (the protocol of socket.io 1.x/2.x, engine.io 3.x).
 *
 * The packets are v4's (a type digit and the data), framed differently:
 * - A polling payload puts each packet behind its length: `<length>:<packet>`, the length in UTF-16
 *   code units (`6:4hello2:4a`). A binary packet in such a text payload is `b4` + base64.
 * - Clients with binary support (XHR2: browsers; not socket.io-client 2 on Node, which asks for
 *   `b64=1`) get the binary payload format when a batch holds binary: per packet a `0` (text) or
 *   `1` (binary) byte, the length as one byte per decimal digit, `255`, then the packet (UTF-8
 *   text, or the type byte `4` and the bytes). They POST that format too, as
 *   `application/octet-stream`.
 * - On WebSocket a binary message is a binary frame that starts with its type byte `4` (or a `b4`
 *   base64 text frame for `b64=1` clients).
 *
 * Each function stands alone, so a bundle keeps only the ones it uses (the client needs the text
 * payloads and the frames).
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./base64.ts";
import type { BinaryData, EnginePacket, EnginePacketType } from "./engine_io.ts";
import { concatBytes } from "./binary.ts";

const TYPES: readonly EnginePacketType[] = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
const MESSAGE = 4;

function typeCode(type: EnginePacketType): number {
  return TYPES.indexOf(type);
}

/** A packet as text: `type + data`, or `b4` + base64 for a binary message. */
function packetText(packet: EnginePacket): string {
  const data = packet.data;
  if (data === undefined) return String(typeCode(packet.type));
  if (typeof data === "string") return typeCode(packet.type) + data;
  return "b4" + encodeBase64(data);
}

/** The bytes of a binary message as a v3 binary frame: its type byte `4`, then the bytes. */
function prefixed(bytes: BinaryData): Uint8Array {
  const frame = new Uint8Array(bytes.byteLength + 1);
  frame[0] = MESSAGE;
  frame.set(bytes, 1);
  return frame;
}

/**
 * Decodes one packet from a v3 text frame or payload record, or from a binary frame (type byte,
 * then the bytes). Returns `null` when the packet is malformed; binary is only accepted for
 * messages.
 *
 * @example
 * ```ts
 * import { decodeFrameV3 } from "./engine_io_v3.ts";
 * decodeFrameV3("b4AQID"); // { type: "message", data: Uint8Array [1, 2, 3] }
 * decodeFrameV3(new Uint8Array([4, 1, 2])); // { type: "message", data: Uint8Array [1, 2] }
 * ```
 */
export function decodeFrameV3(data: string | BinaryData): EnginePacket | null {
  if (typeof data !== "string") {
    return data.byteLength > 0 && data[0] === MESSAGE ? { type: "message", data: data.subarray(1) } : null;
  }
  if (data.length === 0) return null;
  const code = data.charCodeAt(0);
  if (code === 98 /* b */) {
    if (data.charCodeAt(1) !== 48 + MESSAGE) return null;
    try {
      return { type: "message", data: decodeBase64(data.slice(2)) };
    } catch {
      return null;
    }
  }
  const type = TYPES[code - 48];
  if (type === undefined) return null;
  return data.length > 1 ? { type, data: data.slice(1) } : { type };
}

/**
 * Encodes a packet for a v3 WebSocket frame: text as `type + data`; a binary message as a binary
 * frame starting with its type byte when the peer takes binary, else as `b4` + base64.
 *
 * @example
 * ```ts
 * import { encodeFrameV3 } from "./engine_io_v3.ts";
 * encodeFrameV3({ type: "message", data: "hi" }, true); // "4hi"
 * encodeFrameV3({ type: "message", data: new Uint8Array([1]) }, true); // Uint8Array [4, 1]
 * encodeFrameV3({ type: "message", data: new Uint8Array([1]) }, false); // "b4AQ=="
 * ```
 */
export function encodeFrameV3(packet: EnginePacket, binary: boolean): string | BinaryData {
  const data = packet.data;
  if (data !== undefined && typeof data !== "string" && binary) return binaryFrameV3(data);
  return packetText(packet);
}

/**
 * Encodes packets as a v3 text payload (`<length>:<packet>` each; binary as `b4` + base64).
 *
 * @example
 * ```ts
 * import { encodeTextPayloadV3 } from "./engine_io_v3.ts";
 * encodeTextPayloadV3([{ type: "message", data: "hello" }, { type: "ping" }]); // "6:4hello1:2"
 * ```
 */
export function encodeTextPayloadV3(packets: readonly EnginePacket[]): string {
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    const text = packetText(packets[i]);
    out += text.length + ":" + text;
  }
  return out;
}

/**
 * Decodes a v3 text payload. Returns `null` when it is malformed (empty, a length that is not a
 * number or does not match, a bad packet); records of length 0 are skipped, as engine.io does.
 *
 * @example
 * ```ts
 * import { decodeTextPayloadV3 } from "./engine_io_v3.ts";
 * decodeTextPayloadV3("6:4hello1:2"); // [{ type: "message", data: "hello" }, { type: "ping" }]
 * ```
 */
export function decodeTextPayloadV3(payload: string): EnginePacket[] | null {
  if (payload.length === 0) return null;
  const packets: EnginePacket[] = [];
  let i = 0;
  while (i < payload.length) {
    const colon = payload.indexOf(":", i);
    if (colon === -1 || colon === i || colon - i > 15) return null;
    let length = 0;
    for (let j = i; j < colon; j++) {
      const digit = payload.charCodeAt(j) - 48;
      if (digit < 0 || digit > 9) return null;
      length = length * 10 + digit;
    }
    const start = colon + 1;
    if (start + length > payload.length) return null;
    if (length > 0) {
      const packet = decodeFrameV3(payload.slice(start, start + length));
      if (packet === null) return null;
      packets.push(packet);
    }
    i = start + length;
  }
  return packets;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes packets as a v3 polling payload: the binary payload format when `binary` (the client
 * takes it) and a packet is binary, otherwise a text payload.
 *
 * @example
 * ```ts
 * import { encodePayloadV3 } from "./engine_io_v3.ts";
 * encodePayloadV3([{ type: "message", data: "a" }], true); // "2:4a"
 * encodePayloadV3([{ type: "message", data: new Uint8Array([7]) }], true); // Uint8Array [1, 2, 255, 4, 7]
 * ```
 */
export function encodePayloadV3(packets: readonly EnginePacket[], binary: boolean): string | Uint8Array {
  if (!binary || !packets.some((packet) => packet.data !== undefined && typeof packet.data !== "string")) {
    return encodeTextPayloadV3(packets);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const packet of packets) {
    const data = packet.data;
    const isText = data === undefined || typeof data === "string";
    const body = isText ? encoder.encode(packetText(packet)) : data;
    const digits = String(isText ? body.byteLength : body.byteLength + 1);
    const header = new Uint8Array(digits.length + (isText ? 2 : 3));
    header[0] = isText ? 0 : 1;
    for (let i = 0; i < digits.length; i++) header[i + 1] = digits.charCodeAt(i) - 48;
    header[digits.length + 1] = 255;
    if (!isText) header[digits.length + 2] = MESSAGE;
    parts.push(header, body);
    size += header.byteLength + body.byteLength;
  }
  return concatBytes(parts, size);
}

/**
 * Decodes a v3 polling payload in the binary format (an XHR2 client's `application/octet-stream`
 * POST). Returns `null` when it is malformed (an empty body holds no packet).
 *
 * @example
 * ```ts
 * import { decodeBinaryPayloadV3 } from "./engine_io_v3.ts";
 * decodeBinaryPayloadV3(new Uint8Array([0, 2, 255, 52, 97])); // [{ type: "message", data: "a" }]
 * ```
 */
export function decodeBinaryPayloadV3(payload: Uint8Array): EnginePacket[] | null {
  const packets: EnginePacket[] = [];
  let i = 0;
  while (i < payload.length) {
    const kind = payload[i++];
    if (kind !== 0 && kind !== 1) return null;
    let length = 0;
    let digits = 0;
    for (;;) {
      if (i >= payload.length) return null;
      const byte = payload[i++];
      if (byte === 255) break;
      if (byte > 9 || ++digits > 15) return null;
      length = length * 10 + byte;
    }
    if (digits === 0 || i + length > payload.length) return null;
    const body = payload.subarray(i, i + length);
    i += length;
    let packet: EnginePacket | null;
    if (kind === 1) packet = decodeFrameV3(body);
    else {
      try {
        packet = decodeFrameV3(decoder.decode(body));
      } catch {
        return null;
      }
    }
    if (packet === null) return null;
    packets.push(packet);
  }
  return packets;
}

/**
 * Decodes a v3 polling payload: text, or the binary format.
 *
 * @example
 * ```ts
 * import { decodePayloadV3 } from "./engine_io_v3.ts";
 * decodePayloadV3("2:4a"); // [{ type: "message", data: "a" }]
 * ```
 */
export function decodePayloadV3(payload: string | Uint8Array): EnginePacket[] | null {
  return typeof payload === "string" ? decodeTextPayloadV3(payload) : decodeBinaryPayloadV3(payload);
}

/** While a broadcast writes one set of frames to many sessions: bytes -> their v3 frame. */
let shared: Map<BinaryData, Uint8Array> | null = null;
let sharing = 0;

/**
 * Runs `fn` (one broadcast writing the same frames to many sessions) so that each binary message
 * is framed for v3 WebSockets once, not once per session.
 *
 * @example
 * ```ts
 * import { binaryFrameV3, withSharedFrames } from "./engine_io_v3.ts";
 * const bytes = new Uint8Array([1, 2]);
 * withSharedFrames(() => binaryFrameV3(bytes) === binaryFrameV3(bytes)); // true
 * ```
 */
export function withSharedFrames<T>(fn: () => T): T {
  sharing++;
  try {
    return fn();
  } finally {
    if (--sharing === 0) shared = null;
  }
}

/**
 * The v3 binary frame of a binary message (its type byte, then the bytes); inside
 * {@linkcode withSharedFrames}, made once per bytes object.
 *
 * @example
 * ```ts
 * import { binaryFrameV3 } from "./engine_io_v3.ts";
 * binaryFrameV3(new Uint8Array([9])); // Uint8Array [4, 9]
 * ```
 */
export function binaryFrameV3(bytes: BinaryData): Uint8Array {
  if (sharing === 0) return prefixed(bytes);
  const memo = shared ??= new Map();
  let frame = memo.get(bytes);
  if (frame === undefined) memo.set(bytes, frame = prefixed(bytes));
  return frame;
}
