/**
 * UTF-8 sizes without encoding (the admin UI's byte counters, once per frame in and out).
 *
 * @module
 */

let lastCounted = "";
let lastBytes = 0;

/**
 * The UTF-8 size of a frame, counted without encoding it (a lone surrogate counts as the 3 bytes
 * of U+FFFD, as `TextEncoder` writes it). The last string counted is remembered: a broadcast
 * writes one string to every recipient.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./utf8_length.ts";
 * utf8Length("é€😀"); // 2 + 3 + 4 = 9
 * ```
 */
export function utf8Length(data: string | Uint8Array): number {
  if (typeof data !== "string") return data.byteLength;
  if (data === lastCounted) return lastBytes;
  let bytes = data.length;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c < 0xdc00 && (data.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 code units
      i++;
    } else bytes += 2; // 3 bytes (a lone surrogate becomes U+FFFD, 3 bytes too)
  }
  lastCounted = data;
  lastBytes = bytes;
  return bytes;
}
