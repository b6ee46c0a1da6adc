/**
 * msgpack as `notepack.io` writes it (what `@socket.io/redis-adapter` and `redis-emitter` use):
 * `undefined` and function values in objects are left out, objects with `toJSON` (other than
 * `Date`) are encoded through it, binary views are msgpack `bin`, non-integers are float 64.
 * The bytes come from `@msgpack/msgpack`; `tests/redis_msgpack.test.ts` compares them with notepack's.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";

const ENCODE_OPTIONS = { ignoreUndefined: true } as const;

function normalize(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > 100) throw new Error("Value too deeply nested to encode");
  if (value instanceof Uint8Array || value instanceof Date) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const next = typeof item === "function" ? undefined : normalize(item, depth + 1);
      if (next !== item && !out) out = value.slice(0, i);
      if (out) out.push(next);
    }
    return out ?? value;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return normalize(toJSON.call(value), depth + 1);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === "function") continue;
    const next = normalize(item, depth + 1);
    if (key === "__proto__") {
      Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
    } else out[key] = next;
  }
  return out;
}

/**
 * Encodes `value` the way notepack.io does.
 *
 * @example
 * ```ts
 * import { encodeMsgpack } from "./_msgpack.ts";
 * encodeMsgpack(["uid", { type: 2, data: ["hi"], nsp: "/" }]); // Uint8Array
 * ```
 */
export function encodeMsgpack(value: unknown): Uint8Array {
  return encode(normalize(value), ENCODE_OPTIONS);
}

/**
 * Decodes msgpack bytes (binary values come back as `Uint8Array`).
 *
 * @example
 * ```ts
 * import { decodeMsgpack, encodeMsgpack } from "./_msgpack.ts";
 * decodeMsgpack(encodeMsgpack({ a: 1 })); // { a: 1 }
 * ```
 */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return decode(bytes);
}
