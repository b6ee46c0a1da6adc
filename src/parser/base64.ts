/**
 * Base64 for the polling transport's binary packets, using the native `Uint8Array` methods where the
 * runtime has them and `btoa`/`atob` otherwise.
 *
 * @module
 */

type NativeBase64 = {
  toBase64?: (this: Uint8Array) => string;
};
type NativeFromBase64 = { fromBase64?: (s: string) => Uint8Array };

const nativeTo = (Uint8Array.prototype as unknown as NativeBase64).toBase64;
const nativeFrom = (Uint8Array as unknown as NativeFromBase64).fromBase64;

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
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
