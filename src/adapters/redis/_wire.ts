/**
 * Encodings shared by the sharded and the Streams adapters: a message is JSON unless its payload
 * holds binary (then msgpack), as `@socket.io/redis-adapter` and `@socket.io/redis-streams-adapter`
 * decide it.
 *
 * @module
 */

import { type ClusterMessage, MessageType } from "../cluster_message.ts";
import { decodeMsgpack } from "./_msgpack.ts";

/** The message types whose payload may hold binary (packets, socket data, ack values). */
const MAY_CONTAIN_BINARY: ReadonlySet<number> = new Set([
  MessageType.BROADCAST,
  MessageType.BROADCAST_ACK,
  MessageType.FETCH_SOCKETS_RESPONSE,
  MessageType.SERVER_SIDE_EMIT,
  MessageType.SERVER_SIDE_EMIT_RESPONSE,
]);

/**
 * Whether `value` holds an `ArrayBuffer` or a view anywhere (through `toJSON` once, as
 * socket.io's `hasBinary` looks).
 *
 * @example
 * ```ts
 * import { hasBinary } from "./_wire.ts";
 * hasBinary({ a: [new Uint8Array(1)] }); // true
 * ```
 */
export function hasBinary(value: unknown, viaToJSON = false, depth = 0): boolean {
  if (!value || typeof value !== "object" || depth > 100) return false;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (hasBinary(item, false, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && hasBinary((value as Record<string, unknown>)[key], false, depth + 1)) return true;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function" && !viaToJSON) return hasBinary(toJSON.call(value), true, depth + 1);
  return false;
}

/**
 * Whether a message goes as msgpack: its type may carry binary and its data does.
 *
 * @example
 * ```ts
 * import { needsMsgpack } from "./_wire.ts";
 * needsMsgpack({ uid: "a", nsp: "/", type: 3, data: { packet: { data: [new Uint8Array(1)] } } }); // true
 * ```
 */
export function needsMsgpack(message: ClusterMessage): boolean {
  return MAY_CONTAIN_BINARY.has(message.type) && hasBinary(message.data);
}

const OPEN_BRACE = 0x7b;

/**
 * Decodes a message that is either JSON (starts with `{`) or msgpack.
 *
 * @example
 * ```ts
 * import { decodeJsonOrMsgpack } from "./_wire.ts";
 * decodeJsonOrMsgpack(new TextEncoder().encode('{"type":2}')); // { type: 2 }
 * ```
 */
export function decodeJsonOrMsgpack(bytes: Uint8Array): unknown {
  if (bytes[0] === OPEN_BRACE) return JSON.parse(new TextDecoder().decode(bytes));
  return decodeMsgpack(bytes);
}

/**
 * Base64 of bytes.
 *
 * @example
 * ```ts
 * import { toBase64 } from "./_wire.ts";
 * toBase64(new Uint8Array([1, 2])); // "AQI="
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * The bytes of base64 text.
 *
 * @example
 * ```ts
 * import { fromBase64 } from "./_wire.ts";
 * fromBase64("AQI="); // Uint8Array [1, 2]
 * ```
 */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A Redis reply value as text (clients answer strings or bytes).
 *
 * @example
 * ```ts
 * import { text } from "./_wire.ts";
 * text(new TextEncoder().encode("1-0")); // "1-0"
 * ```
 */
export function text(value: unknown): string {
  return typeof value === "string"
    ? value
    : value instanceof Uint8Array
    ? new TextDecoder().decode(value)
    : String(value);
}
