/**
 * Random identifiers: session ids, socket ids, recovery ids, cluster ids.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Random bytes for the next ids: 64 ids' worth, drawn at once (one call into the system's CSPRNG). */
const POOL_IDS = 64;
const pool = new Uint8Array(15 * POOL_IDS);
let used = pool.length;

/**
 * A random id of 20 base64url characters (120 bits from `crypto.getRandomValues`), the shape of
 * socket.io's ids. The bytes come from a pool refilled 64 ids at a time, as Node's `randomUUID`
 * does: a connection takes two ids (session and socket), and a call per id was 3% of a connect's
 * server CPU on Node (the bench's idle scenario, profiled).
 *
 * @example
 * ```ts
 * import { randomId } from "./ids.ts";
 * randomId().length; // 20
 * ```
 */
export function randomId(): string {
  if (used === pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  const bytes = pool;
  let out = "";
  const end = used + 15;
  for (let i = used; i < end; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] +
      ALPHABET[n & 63];
  }
  // the bytes an id was made of are not kept
  bytes.fill(0, used, end);
  used = end;
  return out;
}
