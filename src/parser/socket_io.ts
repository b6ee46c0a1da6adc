/**
 * Socket.IO v5 packets: the default (JSON) parser with binary attachments.
 *
 * A packet is encoded as: the type digit, `N-` with the attachment count for binary types, the
 * namespace followed by `,` unless it is `/`, the ack id digits, then the JSON data. Binary values in
 * the data are replaced by placeholders and travel as frames of their own after the text frame.
 *
 * @module
 */

import { deconstruct, hasBinary, reconstruct } from "./binary.ts";

/** Socket.IO packet types. */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/** A Socket.IO packet type number. */
export type PacketType = typeof PacketType[keyof typeof PacketType];

/** One Socket.IO packet. */
export interface Packet {
  /** The packet type. */
  type: PacketType;
  /** The namespace, `/` by default. */
  nsp: string;
  /** The data: the event name and arguments for events, the arguments for acks. */
  // deno-lint-ignore no-explicit-any
  data?: any;
  /** The ack id, for events that expect an ack and for acks. */
  id?: number;
  /** How many binary attachments follow (binary types only). */
  attachments?: number;
}

/** Event names a client may not emit. */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/** Turns packets into frames: one string or binary frame, or a text frame and its attachments. */
export interface Encoder {
  /** Encodes a packet into the frames to send, in order. */
  encode(packet: Packet): Array<string | Uint8Array>;
}

/** Turns frames back into packets; throws an `Error` on malformed input. */
export interface Decoder {
  /** Feeds one received frame. Decoded packets are passed to `ondecoded`. */
  add(frame: string | Uint8Array): void;
  /** Called with each complete packet. */
  ondecoded: (packet: Packet) => void;
  /** Drops any half-received binary packet. */
  destroy(): void;
}

/** A packet format: the default one below, or msgpack. */
export interface Parser {
  /** Creates an encoder (one can serve a whole server). */
  createEncoder(): Encoder;
  /** Creates a decoder for one connection. */
  createDecoder(options?: DecoderOptions): Decoder;
}

/** Limits a decoder enforces. */
export interface DecoderOptions {
  /** The most binary attachments one packet may announce (default 1000). */
  maxAttachments?: number;
  /** The deepest nesting of arrays and objects a packet's data may have (default 1000). */
  maxDepth?: number;
  /**
   * How binary values reach the packet (Node's `Buffer` on Node, see `receivedBinary` of the
   * platform module), for decoders that make them (msgpack's); the default decoder's attachments
   * are the received frames themselves.
   */
  binary?: (bytes: Uint8Array) => Uint8Array;
}

/**
 * Whether JSON text nests arrays/objects deeper than `max` (strings skipped). Such data parses, but
 * re-encoding it (an echo, a broadcast) or walking it for attachments overflows the stack.
 */
function nestedDeeperThan(json: string, start: number, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/**
 * Encodes a packet as text, with its attachments as separate frames.
 *
 * @example
 * ```ts
 * import { PacketType, encodePacket } from "./socket_io.ts";
 * encodePacket({ type: PacketType.EVENT, nsp: "/chat", data: ["hi"], id: 3 }); // ['2/chat,3["hi"]']
 * ```
 */
export function encodePacket(packet: Packet): Array<string | Uint8Array> {
  if (
    (packet.type === PacketType.EVENT || packet.type === PacketType.ACK) &&
    hasBinary(packet.data)
  ) {
    const buffers: Uint8Array[] = [];
    const data = deconstruct(packet.data, buffers);
    const type = packet.type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
    const text = encodeText({ type, nsp: packet.nsp, data, id: packet.id, attachments: buffers.length });
    return [text, ...buffers];
  }
  if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
    const buffers: Uint8Array[] = [];
    const data = deconstruct(packet.data, buffers);
    return [encodeText({ ...packet, data, attachments: buffers.length }), ...buffers];
  }
  return [encodeText(packet)];
}

function encodeText(packet: Packet): string {
  let out = String(packet.type);
  if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
    out += packet.attachments + "-";
  }
  if (packet.nsp && packet.nsp !== "/") out += packet.nsp + ",";
  if (packet.id !== undefined && packet.id !== null) out += packet.id;
  if (packet.data !== undefined && packet.data !== null) out += JSON.stringify(packet.data);
  return out;
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether a decoded packet's data has the shape its type requires.
 *
 * @example
 * ```ts
 * import { PacketType, isPacketValid } from "./socket_io.ts";
 * isPacketValid({ type: PacketType.EVENT, nsp: "/", data: {} }); // false
 * ```
 */
export function isPacketValid(packet: Packet): boolean {
  if (typeof packet.nsp !== "string") return false;
  if (packet.id !== undefined && !Number.isSafeInteger(packet.id)) return false;
  const data = packet.data;
  switch (packet.type) {
    case PacketType.CONNECT:
      return data === undefined || isObject(data);
    case PacketType.DISCONNECT:
      return data === undefined;
    case PacketType.CONNECT_ERROR:
      return typeof data === "string" || isObject(data);
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      return Array.isArray(data) &&
        (typeof data[0] === "number" ||
          (typeof data[0] === "string" && !RESERVED_EVENTS.has(data[0])));
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      return Array.isArray(data);
    default:
      return false;
  }
}

const ZERO = 48;
const NINE = 57;

/**
 * Parses the text frame of a packet (without attachments). Throws on malformed input.
 *
 * @example
 * ```ts
 * import { decodeText } from "./socket_io.ts";
 * decodeText('2/chat,3["hi"]'); // { type: 2, nsp: "/chat", id: 3, data: ["hi"] }
 * ```
 */
export function decodeText(text: string, maxAttachments = 1000, maxDepth = 1000): Packet {
  const type = text.charCodeAt(0) - ZERO;
  if (!(type >= 0 && type <= 6)) throw new Error("Unknown packet type");
  const packet: Packet = { type: type as PacketType, nsp: "/" };
  let i = 1;
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    const start = i;
    while (i < text.length && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) i++;
    if (i === start || text.charCodeAt(i) !== 45 /* - */ || i - start > 9) {
      throw new Error("Illegal attachments");
    }
    const attachments = Number(text.slice(start, i));
    if (attachments > maxAttachments) throw new Error("Too many attachments");
    packet.attachments = attachments;
    i++;
  }
  if (text.charCodeAt(i) === 47 /* / */) {
    const comma = text.indexOf(",", i);
    const end = comma === -1 ? text.length : comma;
    packet.nsp = text.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  const idStart = i;
  while (i < text.length && text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) i++;
  if (i > idStart) {
    if (i - idStart > 15) throw new Error("Invalid ack id");
    packet.id = Number(text.slice(idStart, i));
  }
  if (i < text.length) {
    // Nesting deeper than maxDepth needs at least 2 * maxDepth characters: short packets skip the scan.
    if (text.length - i > 2 * maxDepth && nestedDeeperThan(text, i, maxDepth)) throw new Error("Invalid payload");
    try {
      packet.data = JSON.parse(text.slice(i));
    } catch {
      throw new Error("Invalid payload");
    }
  }
  if (!isPacketValid(packet)) throw new Error("Invalid payload");
  return packet;
}

/**
 * The default decoder: text frames, followed by the announced number of binary frames for binary
 * packets.
 *
 * @example
 * ```ts
 * import { JsonDecoder } from "./socket_io.ts";
 * const decoder = new JsonDecoder();
 * decoder.ondecoded = (packet) => console.log(packet.data);
 * decoder.add('2["hello"]');
 * ```
 */
export class JsonDecoder implements Decoder {
  ondecoded: (packet: Packet) => void = () => {};
  #pending: Packet | null = null;
  /** The attachments of the pending packet (a shared empty array while none is pending). */
  #buffers: Uint8Array[] = NO_BUFFERS;
  #maxAttachments: number;
  #maxDepth: number;

  /** Creates a decoder with the given limits. */
  constructor(options: DecoderOptions = {}) {
    this.#maxAttachments = options.maxAttachments ?? 1000;
    this.#maxDepth = options.maxDepth ?? 1000;
  }

  add(frame: string | Uint8Array): void {
    if (typeof frame === "string") {
      if (this.#pending) throw new Error("Got plaintext data when reconstructing a packet");
      const packet = decodeText(frame, this.#maxAttachments, this.#maxDepth);
      if (packet.attachments !== undefined && packet.attachments > 0) {
        this.#pending = packet;
        this.#buffers = [];
        return;
      }
      if (packet.attachments === 0) packet.data = reconstruct(packet.data, []);
      this.ondecoded(packet);
      return;
    }
    const pending = this.#pending;
    if (!pending) throw new Error("Got binary data when not reconstructing a packet");
    this.#buffers.push(frame);
    if (this.#buffers.length === pending.attachments) {
      pending.data = reconstruct(pending.data, this.#buffers);
      this.#pending = null;
      this.#buffers = NO_BUFFERS;
      this.ondecoded(pending);
    }
  }

  destroy(): void {
    this.#pending = null;
    this.#buffers = NO_BUFFERS;
  }
}

/** No attachments: what an idle decoder holds (never written to: a packet with some gets its own array). */
const NO_BUFFERS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/**
 * The default Socket.IO parser (JSON text with binary attachments), compatible with
 * `socket.io-parser` 4.x.
 *
 * @example
 * ```ts
 * import { defaultParser } from "./socket_io.ts";
 * const frames = defaultParser.createEncoder().encode({ type: 2, nsp: "/", data: ["hi"] });
 * ```
 */
export const defaultParser: Parser = {
  createEncoder(): Encoder {
    return { encode: encodePacket };
  },
  createDecoder(options?: DecoderOptions): Decoder {
    return new JsonDecoder(options);
  },
};
