/**
 * The msgpack packet format, compatible with the npm `socket.io-msgpack-parser` (which uses
 * `notepack.io`): every packet is one binary frame, the msgpack map `{ type, data, id?, nsp }`.
 * Binary values travel inline (no attachments), so there are no `BINARY_EVENT`/`BINARY_ACK` types.
 *
 * Select it on both sides; a server and its clients must use the same format:
 *
 * ```ts
 * import { Server } from "../../server.ts"; // "@sio/socket.io/server"
 * import { io } from "../../client.ts"; // "@sio/socket.io/client"
 * import { msgpackParser } from "./msgpack.ts"; // "@sio/socket.io/msgpack"
 * const server = new Server({ parser: msgpackParser });
 * const socket = io("http://localhost:3000", { parser: msgpackParser });
 * ```
 *
 * Values map as notepack does: a `Uint8Array` (or Node `Buffer`, or any other view) is msgpack
 * `bin` and decodes to a `Uint8Array`; an `ArrayBuffer` is extension type 0 and decodes to an
 * `ArrayBuffer`; a `Date` is the 8-byte extension type 0 (milliseconds) and decodes to a `Date`;
 * `undefined` inside an object is dropped and inside an array becomes `null` (as `JSON.stringify`
 * does), while notepack's 3-byte `undefined` decodes to `undefined`.
 *
 * The encoding is done by `@msgpack/msgpack`; only notepack's extension type 0 is ours.
 *
 * @module
 */

import { Decoder as MsgpackDecoder, Encoder as MsgpackEncoder, ExtensionCodec } from "@msgpack/msgpack";
import {
  type Decoder,
  type DecoderOptions,
  type Encoder,
  isPacketValid,
  type Packet,
  PacketType,
  type Parser,
} from "./socket_io.ts";

/** notepack's extension type for `undefined` (1 byte), `Date` (8 bytes) and `ArrayBuffer`. */
const EXT_NOTEPACK = 0;
const FIXEXT1 = 0xd4;
const FIXEXT8 = 0xd7;
const TWO_POW_32 = 4294967296;

function encodeDate(date: Date): Uint8Array {
  const time = date.getTime();
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setInt32(0, Math.floor(time / TWO_POW_32));
  view.setUint32(4, time >>> 0);
  return out;
}

/**
 * The format byte in front of an extension's data. The data is a view on the decoded frame (the
 * decoder does not copy), so the header is right before it: `[d4..d8][type][data]` for fixext,
 * `[c7][len][type][data]` (and longer lengths) otherwise. Only fixext1 and fixext8 matter here,
 * and a length byte right before the type can never equal their format bytes for those sizes.
 */
function formatByte(data: Uint8Array): number {
  const frame = decodingFrame;
  if (!frame || data.buffer !== frame.buffer || data.byteOffset < 2) return -1;
  return new Uint8Array(data.buffer, data.byteOffset - 2, 1)[0];
}

/** The frame being decoded (decoding is synchronous and never re-entered). */
let decodingFrame: Uint8Array | undefined;

const codec = new ExtensionCodec();
// Dates go out as notepack's 8-byte extension 0, not msgpack's timestamp (-1), which notepack
// cannot read; a received timestamp still decodes to a Date.
codec.register({
  type: -1,
  encode: () => null,
  decode: (data: Uint8Array): Date => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength === 4) return new Date(view.getUint32(0) * 1000);
    if (data.byteLength === 8) {
      const nsec = view.getUint32(0) >>> 2;
      const sec = (view.getUint32(0) & 0x3) * TWO_POW_32 + view.getUint32(4);
      return new Date(sec * 1000 + nsec / 1e6);
    }
    if (data.byteLength === 12) {
      return new Date(Number(view.getBigInt64(4)) * 1000 + view.getUint32(0) / 1e6);
    }
    throw new Error("Invalid timestamp");
  },
});
codec.register({
  type: EXT_NOTEPACK,
  encode: (value: unknown): Uint8Array | ((pos: number) => Uint8Array) | null => {
    if (value instanceof Date) return encodeDate(value);
    // A function always gets the 32-bit length header (c9), which notepack reads as an
    // ArrayBuffer whatever the size; a 1- or 8-byte fixext would read as undefined or a Date.
    if (value instanceof ArrayBuffer) return () => new Uint8Array(value);
    return null;
  },
  decode: (data: Uint8Array): unknown => {
    const format = data.byteLength === 1 || data.byteLength === 8 ? formatByte(data) : -1;
    if (format === FIXEXT1) return undefined;
    if (format === FIXEXT8) {
      const view = new DataView(data.buffer, data.byteOffset, 8);
      return new Date(view.getInt32(0) * TWO_POW_32 + view.getUint32(4));
    }
    // A copy (a Node Buffer's own `slice` would not copy).
    return new Uint8Array(data).buffer;
  },
});

/**
 * Encodes packets as single msgpack frames.
 *
 * @example
 * ```ts
 * import { MsgpackPacketEncoder } from "./msgpack.ts";
 * const [frame] = new MsgpackPacketEncoder().encode({ type: 2, nsp: "/", data: ["hi"] });
 * frame instanceof Uint8Array; // true
 * ```
 */
export class MsgpackPacketEncoder implements Encoder {
  #encoder: MsgpackEncoder = new MsgpackEncoder({
    extensionCodec: codec,
    ignoreUndefined: true,
  });

  /** Encodes one packet into one binary frame. */
  encode(packet: Packet): Array<string | Uint8Array> {
    // Key order as socket.io's own packets: type, data, id, nsp.
    const out: Record<string, unknown> = { type: toPlainType(packet.type) };
    if (packet.data !== undefined) out.data = packet.data;
    if (packet.id !== undefined && packet.id !== null) out.id = packet.id;
    out.nsp = packet.nsp;
    // `encode` returns a fresh copy (not a view on its reused buffer): safe to queue.
    return [this.#encoder.encode(out)];
  }
}

function toPlainType(type: PacketType): PacketType {
  if (type === PacketType.BINARY_EVENT) return PacketType.EVENT;
  if (type === PacketType.BINARY_ACK) return PacketType.ACK;
  return type;
}

/**
 * Decodes msgpack frames into packets; throws on a text frame or an invalid packet.
 *
 * @example
 * ```ts
 * import { MsgpackPacketDecoder, MsgpackPacketEncoder } from "./msgpack.ts";
 * const decoder = new MsgpackPacketDecoder();
 * decoder.ondecoded = (packet) => console.log(packet.data); // ["hi"]
 * for (const frame of new MsgpackPacketEncoder().encode({ type: 2, nsp: "/", data: ["hi"] })) {
 *   decoder.add(frame);
 * }
 * ```
 */
export class MsgpackPacketDecoder implements Decoder {
  ondecoded: (packet: Packet) => void = () => {};
  #decoder: MsgpackDecoder = new MsgpackDecoder({ extensionCodec: codec });
  readonly #binary: ((bytes: Uint8Array) => Uint8Array) | undefined;

  /** A decoder; `options.binary` turns each decoded `bin` into what the runtime delivers (a Buffer on Node). */
  constructor(options: DecoderOptions = {}) {
    this.#binary = options.binary;
  }

  /** Feeds one frame: each one is a whole packet. */
  add(frame: string | Uint8Array): void {
    if (typeof frame === "string") throw new Error("Invalid payload");
    // The extension decoder looks at the format byte in this frame.
    decodingFrame = frame;
    let decoded: unknown;
    try {
      decoded = this.#decoder.decode(frame);
    } catch {
      throw new Error("Invalid payload");
    } finally {
      decodingFrame = undefined;
    }
    const packet = toPacket(decoded);
    if (this.#binary !== undefined && packet.data !== undefined) packet.data = mapBinary(packet.data, this.#binary, 0);
    this.ondecoded(packet);
  }

  /** Nothing to drop: a msgpack packet is never split across frames. */
  destroy(): void {}
}

/** `data` with every `Uint8Array` in it (arrays and plain objects, to 1000 levels) passed through `binary`. */
function mapBinary(data: unknown, binary: (bytes: Uint8Array) => Uint8Array, depth: number): unknown {
  if (data === null || typeof data !== "object" || depth > 1000) return data;
  if (data instanceof Uint8Array) return binary(data);
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) data[i] = mapBinary(data[i], binary, depth + 1);
  } else if (Object.getPrototypeOf(data) === Object.prototype) {
    const record = data as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const before = record[key];
      const after = mapBinary(before, binary, depth + 1);
      if (after !== before) {
        Object.defineProperty(record, key, { value: after, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return data;
}

function toPacket(decoded: unknown): Packet {
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
    throw new Error("Invalid payload");
  }
  const { type, nsp, data, id } = decoded as Record<string, unknown>;
  if (!Number.isInteger(type) || (type as number) < 0 || (type as number) > PacketType.CONNECT_ERROR) {
    throw new Error("Invalid packet type");
  }
  if (typeof nsp !== "string") throw new Error("Invalid namespace");
  const packet: Packet = { type: type as PacketType, nsp };
  if (data !== undefined) packet.data = data;
  if (id !== undefined) {
    if (!Number.isInteger(id)) throw new Error("Invalid packet id");
    packet.id = id as number;
  }
  if (!isPacketValid(packet)) throw new Error("Invalid payload");
  return packet;
}

/**
 * The msgpack parser, for the `parser` option of the server and of the client. Wire-compatible
 * with `socket.io-msgpack-parser` 3.x.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { msgpackParser } from "./msgpack.ts";
 * const io = new Server({ parser: msgpackParser });
 * ```
 */
export const msgpackParser: Parser = {
  createEncoder(): Encoder {
    return new MsgpackPacketEncoder();
  },
  createDecoder(options?: DecoderOptions): Decoder {
    return new MsgpackPacketDecoder(options);
  },
};
