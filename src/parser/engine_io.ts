/**
 * Engine.IO v4 packets and polling payloads.
 *
 * A packet is a type digit followed by its data. On WebSocket a text packet is one text frame and a
 * binary message is a binary frame with no type prefix. A polling payload joins packets with the
 * record separator `\x1e`; a binary packet inside it is `b` followed by base64.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./base64.ts";

/** The Engine.IO packet types, by name. */
export type EnginePacketType =
  | "open"
  | "close"
  | "ping"
  | "pong"
  | "message"
  | "upgrade"
  | "noop";

/** Binary data as the engine carries it. */
export type BinaryData = Uint8Array;

/** One Engine.IO packet. */
export interface EnginePacket {
  /** The packet type. */
  type: EnginePacketType;
  /** Text or binary data; only `message` packets carry binary. */
  data?: string | BinaryData;
  /**
   * How it is sent (a server's outgoing packets): `compress: false` keeps it out of HTTP and
   * permessage-deflate compression (`socket.compress(false)`); absent, it may be compressed.
   */
  options?: { compress?: boolean };
}

const TYPES: readonly EnginePacketType[] = [
  "open",
  "close",
  "ping",
  "pong",
  "message",
  "upgrade",
  "noop",
];

const CODES: Record<EnginePacketType, string> = {
  open: "0",
  close: "1",
  ping: "2",
  pong: "3",
  message: "4",
  upgrade: "5",
  noop: "6",
};

/** The separator between packets of a polling payload. */
export const RECORD_SEPARATOR = "\x1e";

/**
 * Encodes a packet for a WebSocket frame: text packets become `type + data`, binary messages are
 * returned as they are (one binary frame).
 *
 * @example
 * ```ts
 * import { encodePacket } from "./engine_io.ts";
 * encodePacket({ type: "message", data: "hello" }); // "4hello"
 * ```
 */
export function encodePacket(packet: EnginePacket): string | BinaryData {
  const data = packet.data;
  if (data === undefined) return CODES[packet.type];
  if (typeof data === "string") return CODES[packet.type] + data;
  return data;
}

/**
 * Encodes a packet as text, as it travels inside a polling payload (`b` + base64 for binary).
 *
 * @example
 * ```ts
 * import { encodePacketText } from "./engine_io.ts";
 * encodePacketText({ type: "message", data: new Uint8Array([1, 2, 3, 4]) }); // "bAQIDBA=="
 * ```
 */
export function encodePacketText(packet: EnginePacket): string {
  const data = packet.data;
  if (data === undefined) return CODES[packet.type];
  if (typeof data === "string") return CODES[packet.type] + data;
  return "b" + encodeBase64(data);
}

/**
 * Decodes one packet from a WebSocket frame or a payload record. Returns `null` when the packet is
 * malformed (unknown type, bad base64).
 *
 * @example
 * ```ts
 * import { decodePacket } from "./engine_io.ts";
 * decodePacket("4hello"); // { type: "message", data: "hello" }
 * ```
 */
export function decodePacket(data: string | BinaryData): EnginePacket | null {
  if (typeof data !== "string") return { type: "message", data };
  if (data.length === 0) return null;
  const code = data.charCodeAt(0);
  if (code === 98 /* b */) {
    try {
      return { type: "message", data: decodeBase64(data.slice(1)) };
    } catch {
      return null;
    }
  }
  const type = TYPES[code - 48];
  if (type === undefined) return null;
  return data.length > 1 ? { type, data: data.slice(1) } : { type };
}

/**
 * Encodes packets as one polling payload.
 *
 * @example
 * ```ts
 * import { encodePayload } from "./engine_io.ts";
 * encodePayload([{ type: "message", data: "a" }, { type: "ping" }]); // "4a\x1e2"
 * ```
 */
export function encodePayload(packets: readonly EnginePacket[]): string {
  if (packets.length === 1) return encodePacketText(packets[0]);
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += RECORD_SEPARATOR;
    out += encodePacketText(packets[i]);
  }
  return out;
}

/**
 * Decodes a polling payload. Returns `null` if any packet in it is malformed.
 *
 * @example
 * ```ts
 * import { decodePayload } from "./engine_io.ts";
 * decodePayload("4a\x1e2"); // [{ type: "message", data: "a" }, { type: "ping" }]
 * ```
 */
export function decodePayload(payload: string): EnginePacket[] | null {
  const records = payload.split(RECORD_SEPARATOR);
  const packets: EnginePacket[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const packet = decodePacket(records[i]);
    if (packet === null) return null;
    packets[i] = packet;
  }
  return packets;
}
