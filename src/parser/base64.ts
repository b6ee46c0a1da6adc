/**
 * Base64 for the polling transport's binary packets, using the native `Uint8Array` methods where the
 * runtime has them and `btoa`/`atob` otherwise.
 *
 * @module
 */

import { nodeBuffer } from "../util/platform.ts";

type NativeBase64 = {
  toBase64?: (this: Uint8Array) => string;
};
type NativeFromBase64 = { fromBase64?: (s: string) => Uint8Array };

const nativeTo = (Uint8Array.prototype as unknown as NativeBase64).toBase64;
const nativeFrom = (Uint8Array as unknown as NativeFromBase64).fromBase64;

// Node's Buffer (`nodeBuffer`), where the runtime has one and no native Uint8Array base64: 10x
// faster there than btoa over a binary string. Used by its imported name: the browser bundles
// make it `undefined`, and their second minifying pass then drops its branches.

/**
 * Encodes the bytes of a view (only its own bytes, not the whole underlying buffer) as base64.
 *
 * @example
 * ```ts
 * import { encodeBase64 } from "./base64.ts";
 * encodeBase64(new Uint8Array([1, 2, 3, 4])); // "AQIDBA=="
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  if (nativeTo) return nativeTo.call(bytes);
  if (nodeBuffer) return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + chunk) as unknown as number[],
    );
  }
  return btoa(binary);
}

/**
 * Decodes base64 into bytes; throws on malformed input.
 *
 * @example
 * ```ts
 * import { decodeBase64 } from "./base64.ts";
 * decodeBase64("AQIDBA=="); // Uint8Array [1, 2, 3, 4]
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  if (nativeFrom) return nativeFrom(text);
  if (nodeBuffer) {
    // Buffer skips bad characters silently: a decoded length short of what the text's length
    // promises gives them away.
    const length = text.length;
    if (length % 4 !== 0) throw new SyntaxError("Invalid base64");
    const padding = length === 0
      ? 0
      : text.charCodeAt(length - 1) !== 61
      ? 0
      : text.charCodeAt(length - 2) === 61
      ? 2
      : 1;
    const buffer = nodeBuffer.from(text, "base64");
    if (buffer.byteLength !== (length / 4) * 3 - padding) throw new SyntaxError("Invalid base64");
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
