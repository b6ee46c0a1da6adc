/**
 * A pickle reader for plain data only, and a writer of the same subset.
 *
 * python-socketio up to 5.13 (Debian's 5.7.2 among them) publishes its pub/sub messages with
 * `pickle.dumps`. {@linkcode readPickle} decodes the opcodes that build `dict`, `list`, `tuple`,
 * `str`, `bytes`, `int`, `float`, `bool` and `None` (protocols 0 to 5, memo included) and refuses
 * everything else — `GLOBAL`, `STACK_GLOBAL`, `REDUCE`, `INST`, `OBJ`, `BUILD`, `NEWOBJ`,
 * extensions, persistent ids, sets, out-of-band buffers, unknown opcodes — with a
 * {@linkcode PickleError}: it never imports, calls or builds objects. Lengths are checked against
 * the input before anything is allocated; nesting depth, the number of values (shared references
 * counted each time they are used) and cycles are checked before a value is returned.
 *
 * {@linkcode writePickle} writes protocol 4 with the same opcodes, for python-socketio versions
 * that need a tuple (several arguments) or `bytes` in a message.
 *
 * @module
 */

import { Tuple } from "./tuple.ts";

/**
 * Why a pickle was refused: a forbidden or unknown opcode, a truncated input, or a limit.
 *
 * @example
 * ```ts
 * import { PickleError, readPickle } from "./pickle.ts";
 * try {
 *   readPickle(new Uint8Array([0x80, 0x04, 0x63])); // GLOBAL
 * } catch (err) {
 *   console.log(err instanceof PickleError, (err as Error).message);
 * }
 * ```
 */
export class PickleError extends Error {
  /** Always `"PickleError"`. */
  override name = "PickleError";
}

/**
 * Limits of {@linkcode readPickle}.
 *
 * @example
 * ```ts
 * import type { PickleReadOptions } from "./pickle.ts";
 * const opts: PickleReadOptions = { maxBytes: 1 << 20, maxDepth: 32, maxValues: 100_000 };
 * ```
 */
export interface PickleReadOptions {
  /** The largest input accepted, in bytes (default 16 MiB). */
  maxBytes?: number;
  /** The deepest nesting of lists, tuples and dicts (default 100). */
  maxDepth?: number;
  /**
   * The most values the result may hold, each use of a shared (memoized) value counted again, so
   * that a few bytes cannot expand into a huge structure (default 1,000,000).
   */
  maxValues?: number;
}

/** A dict being built: kept apart from plain objects the reader might otherwise confuse. */
class PyDict {
  readonly entries: Map<string, unknown> = new Map();
}

/** A tuple being built. */
class PyTuple {
  readonly items: unknown[];
  constructor(items: unknown[]) {
    this.items = items;
  }
}

/** A `bytearray` (mutable in Python; bytes here). */
class PyByteArray {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

const OPCODE_NAMES: Record<number, string> = {
  0x63: "GLOBAL",
  0x93: "STACK_GLOBAL",
  0x52: "REDUCE",
  0x69: "INST",
  0x6f: "OBJ",
  0x62: "BUILD",
  0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Reads the input, opcode by opcode. */
class Reader {
  #bytes: Uint8Array;
  #view: DataView;
  #pos = 0;
  #stack: unknown[] = [];
  #marks: unknown[][] = [];
  #memo: Map<number, unknown> = new Map();
  #maxValues: number;
  #made = 0;

  constructor(bytes: Uint8Array, maxValues: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#maxValues = maxValues;
  }

  #fail(message: string): never {
    throw new PickleError(`${message} (at byte ${this.#pos})`);
  }

  #need(n: number): number {
    if (n < 0 || n > this.#bytes.length - this.#pos) this.#fail(`Truncated pickle: ${n} bytes announced`);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  #u8(): number {
    return this.#bytes[this.#need(1)];
  }

  #u16(): number {
    return this.#view.getUint16(this.#need(2), true);
  }

  #i32(): number {
    return this.#view.getInt32(this.#need(4), true);
  }

  #u32(): number {
    return this.#view.getUint32(this.#need(4), true);
  }

  /** An 8-byte length: must fit in what is left. */
  #u64(): number {
    const at = this.#need(8);
    const value = this.#view.getBigUint64(at, true);
    if (value > BigInt(this.#bytes.length - this.#pos)) this.#fail(`Truncated pickle: ${value} bytes announced`);
    return Number(value);
  }

  #take(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#bytes.subarray(at, at + n);
  }

  /** A line of text up to `\n` (the newline dropped). */
  #line(): string {
    const end = this.#bytes.indexOf(0x0a, this.#pos);
    if (end === -1) this.#fail("Truncated pickle: no end of line");
    const text = latin1.decode(this.#bytes.subarray(this.#pos, end));
    this.#pos = end + 1;
    return text;
  }

  #utf8(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      this.#fail("Invalid UTF-8 in a string");
    }
  }

  #push(value: unknown): void {
    if (++this.#made > this.#maxValues) this.#fail(`More than ${this.#maxValues} values`);
    this.#stack.push(value);
  }

  #pop(): unknown {
    if (this.#stack.length === 0) this.#fail("Stack underflow");
    return this.#stack.pop();
  }

  #top(): unknown {
    if (this.#stack.length === 0) this.#fail("Stack underflow");
    return this.#stack[this.#stack.length - 1];
  }

  #popMark(): unknown[] {
    const items = this.#stack;
    const previous = this.#marks.pop();
    if (previous === undefined) this.#fail("No mark on the stack");
    this.#stack = previous;
    return items;
  }

  #list(): unknown[] {
    const list = this.#top();
    if (!Array.isArray(list)) this.#fail("Append to something that is not a list");
    return list;
  }

  #dict(): PyDict {
    const dict = this.#top();
    if (!(dict instanceof PyDict)) this.#fail("Item set on something that is not a dict");
    return dict;
  }

  #setItem(dict: PyDict, key: unknown, value: unknown): void {
    dict.entries.set(this.#key(key), value);
  }

  /** Dict keys become strings as Python's `json` writes them; other keys are refused. */
  #key(key: unknown): string {
    if (typeof key === "string") return key;
    if (typeof key === "number") return Number.isInteger(key) ? String(key) : pyFloatKey(key);
    if (typeof key === "boolean") return key ? "true" : "false";
    if (key === null) return "null";
    this.#fail("Dict key that is not a string, a number, a bool or None");
  }

  #memoPut(index: number): void {
    if (this.#memo.size >= this.#maxValues) this.#fail(`More than ${this.#maxValues} memo entries`);
    this.#memo.set(index, this.#top());
  }

  #memoGet(index: number): void {
    if (!this.#memo.has(index)) this.#fail(`Memo entry ${index} not defined`);
    this.#push(this.#memo.get(index));
  }

  #int(text: string): number {
    const trimmed = text.endsWith("L") ? text.slice(0, -1) : text;
    if (!/^[+-]?\d{1,400}$/.test(trimmed)) this.#fail("Invalid integer");
    return Number(BigInt(trimmed));
  }

  #long(bytes: Uint8Array): number {
    if (bytes.length === 0) return 0;
    let value = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
    if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(bytes.length * 8);
    return Number(value);
  }

  /** Protocol 0 `STRING`: a quoted Python 2 literal. */
  #quoted(text: string): string {
    const quote = text[0];
    if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) {
      this.#fail("Invalid quoted string");
    }
    return this.#unescape(text.slice(1, -1), false);
  }

  /** Backslash escapes of Python 2 literals (`raw`: raw-unicode-escape, only `\u` and `\U`). */
  #unescape(text: string, raw: boolean): string {
    let out = "";
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== "\\" || i + 1 >= text.length) {
        out += c;
        continue;
      }
      const next = text[i + 1];
      const hex = (n: number) => {
        const digits = text.slice(i + 2, i + 2 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.#fail("Invalid escape");
        i += 1 + n;
        const code = parseInt(digits, 16);
        if (code > 0x10ffff) this.#fail("Invalid escape");
        return String.fromCodePoint(code);
      };
      if (next === "u") out += hex(4);
      else if (next === "U") out += hex(8);
      else if (raw) out += c;
      else if (next === "x") out += hex(2);
      else {
        const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", "0": "\0" };
        if (!(next in simple)) this.#fail("Unsupported escape in a string");
        out += simple[next];
        i++;
      }
    }
    return out;
  }

  read(): unknown {
    const bytes = this.#bytes;
    while (true) {
      if (this.#pos >= bytes.length) this.#fail("Truncated pickle: no STOP");
      const at = this.#pos;
      const op = bytes[this.#pos++];
      switch (op) {
        case 0x80: { // PROTO
          const version = this.#u8();
          if (version > 5) this.#fail(`Unsupported pickle protocol ${version}`);
          break;
        }
        case 0x95: // FRAME: a length that only helps buffering
          this.#u64();
          break;
        case 0x2e: { // STOP
          const value = this.#pop();
          if (this.#stack.length !== 0 || this.#marks.length !== 0) this.#fail("Values left on the stack at STOP");
          return value;
        }
        case 0x28: // MARK
          this.#marks.push(this.#stack);
          this.#stack = [];
          break;
        case 0x30: // POP
          if (this.#stack.length > 0) this.#stack.pop();
          else this.#popMark();
          break;
        case 0x31: // POP_MARK
          this.#popMark();
          break;
        case 0x32: // DUP
          this.#push(this.#top());
          break;
        case 0x4e: // NONE
          this.#push(null);
          break;
        case 0x88: // NEWTRUE
          this.#push(true);
          break;
        case 0x89: // NEWFALSE
          this.#push(false);
          break;
        case 0x49: { // INT (text; I01 and I00 are the protocol 0 booleans)
          const text = this.#line();
          this.#push(text === "01" ? true : text === "00" ? false : this.#int(text));
          break;
        }
        case 0x4a: // BININT
          this.#push(this.#i32());
          break;
        case 0x4b: // BININT1
          this.#push(this.#u8());
          break;
        case 0x4d: // BININT2
          this.#push(this.#u16());
          break;
        case 0x4c: // LONG (text)
          this.#push(this.#int(this.#line()));
          break;
        case 0x8a: // LONG1
          this.#push(this.#long(this.#take(this.#u8())));
          break;
        case 0x8b: { // LONG4
          const n = this.#i32();
          if (n < 0 || n > 256) this.#fail("Integer too large");
          this.#push(this.#long(this.#take(n)));
          break;
        }
        case 0x46: { // FLOAT (text)
          const text = this.#line().trim();
          if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan)$/i.test(text)) {
            this.#fail("Invalid float");
          }
          const lower = text.toLowerCase();
          this.#push(
            lower.endsWith("inf")
              ? (lower.startsWith("-") ? -Infinity : Infinity)
              : lower.endsWith("nan")
              ? NaN
              : Number(text),
          );
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          this.#push(this.#view.getFloat64(this.#need(8), false));
          break;
        case 0x53: // STRING (protocol 0 quoted text)
          this.#push(this.#quoted(this.#line()));
          break;
        case 0x54: { // BINSTRING
          const n = this.#i32();
          this.#push(latin1.decode(this.#take(n)));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.#push(latin1.decode(this.#take(this.#u8())));
          break;
        case 0x56: // UNICODE (raw-unicode-escape text)
          this.#push(this.#unescape(this.#line(), true));
          break;
        case 0x58: // BINUNICODE
          this.#push(this.#utf8(this.#take(this.#u32())));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.#push(this.#utf8(this.#take(this.#u8())));
          break;
        case 0x8d: // BINUNICODE8
          this.#push(this.#utf8(this.#take(this.#u64())));
          break;
        case 0x42: // BINBYTES
          this.#push(this.#take(this.#u32()).slice());
          break;
        case 0x43: // SHORT_BINBYTES
          this.#push(this.#take(this.#u8()).slice());
          break;
        case 0x8e: // BINBYTES8
          this.#push(this.#take(this.#u64()).slice());
          break;
        case 0x96: // BYTEARRAY8
          this.#push(new PyByteArray(this.#take(this.#u64()).slice()));
          break;
        case 0x5d: // EMPTY_LIST
          this.#push([]);
          break;
        case 0x61: { // APPEND
          const value = this.#pop();
          this.#list().push(value);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.#popMark();
          const list = this.#list();
          for (const item of items) list.push(item);
          break;
        }
        case 0x6c: // LIST
          this.#push(this.#popMark());
          break;
        case 0x29: // EMPTY_TUPLE
          this.#push(new PyTuple([]));
          break;
        case 0x74: // TUPLE
          this.#push(new PyTuple(this.#popMark()));
          break;
        case 0x85: // TUPLE1
          this.#push(new PyTuple([this.#pop()]));
          break;
        case 0x86: { // TUPLE2
          const b = this.#pop();
          const a = this.#pop();
          this.#push(new PyTuple([a, b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.#pop();
          const b = this.#pop();
          const a = this.#pop();
          this.#push(new PyTuple([a, b, c]));
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.#push(new PyDict());
          break;
        case 0x64: { // DICT
          const items = this.#popMark();
          if (items.length % 2 !== 0) this.#fail("Odd number of items for a dict");
          const dict = new PyDict();
          for (let i = 0; i < items.length; i += 2) this.#setItem(dict, items[i], items[i + 1]);
          this.#push(dict);
          break;
        }
        case 0x73: { // SETITEM
          const value = this.#pop();
          const key = this.#pop();
          this.#setItem(this.#dict(), key, value);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.#popMark();
          if (items.length % 2 !== 0) this.#fail("Odd number of items for a dict");
          const dict = this.#dict();
          for (let i = 0; i < items.length; i += 2) this.#setItem(dict, items[i], items[i + 1]);
          break;
        }
        case 0x70: // PUT
          this.#memoPut(this.#int(this.#line()));
          break;
        case 0x71: // BINPUT
          this.#memoPut(this.#u8());
          break;
        case 0x72: // LONG_BINPUT
          this.#memoPut(this.#u32());
          break;
        case 0x94: // MEMOIZE
          this.#memoPut(this.#memo.size);
          break;
        case 0x67: // GET
          this.#memoGet(this.#int(this.#line()));
          break;
        case 0x68: // BINGET
          this.#memoGet(this.#u8());
          break;
        case 0x6a: // LONG_BINGET
          this.#memoGet(this.#u32());
          break;
        default: {
          this.#pos = at;
          const name = OPCODE_NAMES[op];
          const label = name ?? (op >= 0x20 && op < 0x7f ? `'${String.fromCharCode(op)}'` : "unknown");
          this.#fail(`Refused opcode ${label} (0x${op.toString(16).padStart(2, "0")})`);
        }
      }
    }
  }
}

function pyFloatKey(key: number): string {
  if (Number.isNaN(key)) return "NaN";
  if (!Number.isFinite(key)) return key > 0 ? "Infinity" : "-Infinity";
  return String(key);
}

/**
 * Turns what the reader built into plain values: dicts become objects (`__proto__` stays an own
 * key), tuples become `Tuple`s, bytearrays `Uint8Array`s. Shared values are copied each time they
 * are used (the result is a tree), every use counted against `maxValues`; a value inside itself is
 * refused.
 */
function toPlain(root: unknown, maxDepth: number, maxValues: number): unknown {
  let count = 0;
  const path = new Set<unknown>();
  const visit = (value: unknown, depth: number): unknown => {
    if (++count > maxValues) throw new PickleError(`More than ${maxValues} values`);
    if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
    if (value instanceof PyByteArray) return value.bytes;
    if (depth >= maxDepth) throw new PickleError(`Nested deeper than ${maxDepth}`);
    if (path.has(value)) throw new PickleError("A value contains itself");
    path.add(value);
    let out: unknown;
    if (Array.isArray(value)) {
      out = value.map((item) => visit(item, depth + 1));
    } else if (value instanceof PyTuple) {
      out = new Tuple(value.items.map((item) => visit(item, depth + 1)));
    } else {
      const object: Record<string, unknown> = {};
      for (const [key, item] of (value as PyDict).entries) {
        Object.defineProperty(object, key, {
          value: visit(item, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out = object;
    }
    path.delete(value);
    return out;
  };
  return visit(root, 0);
}

/**
 * Decodes a pickle of plain data: dicts become objects, lists arrays, tuples
 * {@linkcode Tuple}s, `bytes` and `bytearray` `Uint8Array`s, ints and floats numbers (ints beyond
 * 2^53 lose precision, as `JSON.parse` does), `None` `null`. Throws a {@linkcode PickleError} for
 * anything else and for input past the limits; it never runs code.
 *
 * @example
 * ```ts
 * import { readPickle } from "./pickle.ts";
 * // pickle.dumps({"a": [1, True, None]}, protocol=2)
 * const bytes = new Uint8Array([
 *   0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5d, 0x71, 0x02,
 *   0x28, 0x4b, 0x01, 0x88, 0x4e, 0x65, 0x73, 0x2e,
 * ]);
 * console.log(readPickle(bytes)); // { a: [1, true, null] }
 * ```
 */
export function readPickle(bytes: Uint8Array, options: PickleReadOptions = {}): unknown {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const maxValues = options.maxValues ?? 1_000_000;
  if (bytes.length > maxBytes) throw new PickleError(`Pickle of ${bytes.length} bytes is over the ${maxBytes} limit`);
  const built = new Reader(bytes, maxValues).read();
  return toPlain(built, options.maxDepth ?? 100, maxValues);
}

/** Builds a pickle, growing its buffer as needed. */
class Writer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  #reserve(n: number): number {
    if (this.#length + n > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + n));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    const at = this.#length;
    this.#length += n;
    return at;
  }

  // Each method reserves first: the buffer (and its view) may be replaced by a larger one.
  op(code: number): void {
    const at = this.#reserve(1);
    this.#bytes[at] = code;
  }

  u32(value: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, value, true);
  }

  i32(value: number): void {
    const at = this.#reserve(4);
    this.#view.setInt32(at, value, true);
  }

  f64(value: number): void {
    const at = this.#reserve(8);
    this.#view.setFloat64(at, value, false);
  }

  raw(bytes: Uint8Array): void {
    const at = this.#reserve(bytes.length);
    this.#bytes.set(bytes, at);
  }

  /** Writes `text` with its 4-byte length if it is ASCII (most keys and names are); else false. */
  ascii(text: string): boolean {
    const n = text.length;
    for (let i = 0; i < n; i++) if (text.charCodeAt(i) > 0x7f) return false;
    this.u32(n);
    const at = this.#reserve(n);
    const bytes = this.#bytes;
    for (let i = 0; i < n; i++) bytes[at + i] = text.charCodeAt(i);
    return true;
  }

  result(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

const encoder = new TextEncoder();

/** The little-endian two's complement bytes of `value` (LONG1), as short as possible. */
function longBytes(value: bigint): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (true) {
    const byte = Number(rest & 0xffn);
    out.push(byte);
    rest >>= 8n;
    if ((rest === 0n && !(byte & 0x80)) || (rest === -1n && (byte & 0x80))) break;
  }
  return new Uint8Array(out);
}

function write(w: Writer, value: unknown, depth: number): void {
  if (depth > 100) throw new PickleError("Nested deeper than 100");
  if (value === null || value === undefined || typeof value === "function" || typeof value === "symbol") {
    w.op(0x4e); // NONE
  } else if (value === true) {
    w.op(0x88);
  } else if (value === false) {
    w.op(0x89);
  } else if (typeof value === "number") {
    if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)) {
      w.op(0x4a); // BININT
      w.i32(value);
    } else if (Number.isSafeInteger(value)) {
      const bytes = longBytes(BigInt(value));
      w.op(0x8a); // LONG1
      w.op(bytes.length);
      w.raw(bytes);
    } else {
      w.op(0x47); // BINFLOAT
      w.f64(value);
    }
  } else if (typeof value === "bigint") {
    const bytes = longBytes(value);
    if (bytes.length > 255) throw new PickleError("Integer too large");
    w.op(0x8a);
    w.op(bytes.length);
    w.raw(bytes);
  } else if (typeof value === "string") {
    w.op(0x58); // BINUNICODE
    if (!w.ascii(value)) {
      const bytes = encoder.encode(value);
      w.u32(bytes.length);
      w.raw(bytes);
    }
  } else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const bytes = value instanceof Uint8Array
      ? value
      : value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    w.op(0x42); // BINBYTES
    w.u32(bytes.length);
    w.raw(bytes);
  } else if (value instanceof Tuple) {
    w.op(0x28); // MARK
    for (const item of value.items) write(w, item, depth + 1);
    w.op(0x74); // TUPLE
  } else if (Array.isArray(value)) {
    w.op(0x5d); // EMPTY_LIST
    if (value.length > 0) {
      w.op(0x28);
      for (const item of value) write(w, item, depth + 1);
      w.op(0x65); // APPENDS
    }
  } else if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    write(w, (value as { toJSON(): unknown }).toJSON(), depth + 1);
  } else {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) =>
      v !== undefined && typeof v !== "function" && typeof v !== "symbol"
    );
    w.op(0x7d); // EMPTY_DICT
    if (entries.length > 0) {
      w.op(0x28);
      for (const [key, item] of entries) {
        write(w, key, depth + 1);
        write(w, item, depth + 1);
      }
      w.op(0x75); // SETITEMS
    }
  }
}

/**
 * Encodes plain data as a protocol 4 pickle Python reads back with `pickle.loads`: objects become
 * dicts, arrays lists, {@linkcode Tuple}s tuples, binary `bytes`, `null` and `undefined` `None`
 * (`undefined` properties are left out, as JSON does).
 *
 * @example
 * ```ts
 * import { readPickle, writePickle } from "./pickle.ts";
 * import { tuple } from "./tuple.ts";
 * const bytes = writePickle({ method: "emit", data: tuple("a", new Uint8Array([1])) });
 * console.log(readPickle(bytes));
 * ```
 */
export function writePickle(value: unknown): Uint8Array {
  const w = new Writer();
  w.op(0x80); // PROTO 4
  w.op(4);
  write(w, value, 0);
  w.op(0x2e); // STOP
  return w.result();
}
