/**
 * Binary attachments of Socket.IO packets: detection, deconstruction into placeholders and
 * reconstruction from received frames.
 *
 * @module
 */

/** A value that travels as a binary attachment. */
export type BinaryLike = ArrayBuffer | ArrayBufferView;

/** The JSON object that stands for an attachment inside a packet's data. */
export interface Placeholder {
  /** Always `true`. */
  _placeholder: true;
  /** The attachment's index. */
  num: number;
}

/**
 * Whether `value` is binary (an `ArrayBuffer`, a typed array, a `DataView` or a Node `Buffer`).
 *
 * @example
 * ```ts
 * import { isBinary } from "./binary.ts";
 * isBinary(new Uint8Array(1)); // true
 * ```
 */
export function isBinary(value: unknown): value is BinaryLike {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * The bytes of a binary value, as a view on the same memory (no copy).
 *
 * @example
 * ```ts
 * import { toBytes } from "./binary.ts";
 * toBytes(new ArrayBuffer(2)).length; // 2
 * ```
 */
export function toBytes(value: BinaryLike): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Whether `data` holds binary anywhere (arrays, plain objects, `toJSON` results).
 *
 * @example
 * ```ts
 * import { hasBinary } from "./binary.ts";
 * hasBinary(["event", { file: new Uint8Array(3) }]); // true
 * ```
 */
export function hasBinary(data: unknown, depth = 0): boolean {
  if (data === null || typeof data !== "object" || depth > 1000) return false;
  if (isBinary(data)) return true;
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      if (hasBinary(data[i], depth + 1)) return true;
    }
    return false;
  }
  const toJSON = (data as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function" && !(data instanceof Date)) {
    return hasBinary(toJSON.call(data), depth + 1);
  }
  for (const key in data) {
    if (
      Object.prototype.hasOwnProperty.call(data, key) &&
      hasBinary((data as Record<string, unknown>)[key], depth + 1)
    ) return true;
  }
  return false;
}

/**
 * Replaces each binary value in `data` by a placeholder and collects the bytes, in order.
 *
 * @example
 * ```ts
 * import { deconstruct } from "./binary.ts";
 * const buffers: Uint8Array[] = [];
 * deconstruct(["a", new Uint8Array([1])], buffers); // ["a", { _placeholder: true, num: 0 }]
 * ```
 */
export function deconstruct(data: unknown, buffers: Uint8Array[]): unknown {
  if (data === null || typeof data !== "object") return data;
  if (isBinary(data)) {
    const placeholder: Placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(toBytes(data));
    return placeholder;
  }
  if (Array.isArray(data)) {
    const out = new Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = deconstruct(data[i], buffers);
    return out;
  }
  const toJSON = (data as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function" && !(data instanceof Date)) {
    return deconstruct(toJSON.call(data), buffers);
  }
  if (data instanceof Date) return data;
  const out: Record<string, unknown> = {};
  for (const key in data) {
    if (Object.prototype.hasOwnProperty.call(data, key)) {
      const value = deconstruct((data as Record<string, unknown>)[key], buffers);
      if (key === "__proto__") {
        // defineProperty keeps "__proto__" an own data property instead of setting the prototype.
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      } else out[key] = value;
    }
  }
  return out;
}

/**
 * Puts received attachments back where their placeholders stand. Throws on a placeholder whose
 * index is out of range.
 *
 * @example
 * ```ts
 * import { reconstruct } from "./binary.ts";
 * reconstruct([{ _placeholder: true, num: 0 }], [new Uint8Array([1])]); // [Uint8Array [1]]
 * ```
 */
export function reconstruct(data: unknown, buffers: readonly Uint8Array[]): unknown {
  if (data === null || typeof data !== "object") return data;
  if ((data as Placeholder)._placeholder === true) {
    const num = (data as Placeholder).num;
    if (typeof num === "number" && Number.isInteger(num) && num >= 0 && num < buffers.length) {
      return buffers[num];
    }
    throw new Error("Illegal attachments");
  }
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) data[i] = reconstruct(data[i], buffers);
    return data;
  }
  const record = data as Record<string, unknown>;
  for (const key in record) {
    if (Object.prototype.hasOwnProperty.call(record, key)) {
      const before = record[key];
      const after = reconstruct(before, buffers);
      if (after !== before) {
        if (key === "__proto__") {
          Object.defineProperty(record, key, { value: after, enumerable: true, writable: true, configurable: true });
        } else record[key] = after;
      }
    }
  }
  return data;
}

/**
 * One `Uint8Array` holding `chunks` one after the other (`size`: their total length, when the
 * caller counted it already); a lone chunk is returned as it is, not copied.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./binary.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[], size?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  if (size === undefined) {
    size = 0;
    for (const chunk of chunks) size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
