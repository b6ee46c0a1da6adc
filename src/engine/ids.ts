/**
 * Random identifiers: session ids, socket ids, recovery ids, cluster ids.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A random id of 20 base64url characters (120 bits from `crypto.getRandomValues`), the shape of
 * socket.io's ids.
 *
 * @example
 * ```ts
 * import { randomId } from "./ids.ts";
 * randomId().length; // 20
 * ```
 */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(15));
  let out = "";
  for (let i = 0; i < 15; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] +
      ALPHABET[n & 63];
  }
  return out;
}
