/**
 * The messages python-socketio servers exchange on their pub/sub channel (`socketio` by default),
 * read from any version and written in the format one picks.
 *
 * Two formats exist:
 * - `"json"`, python-socketio 5.14 and later: JSON objects; an emit's `data` is the list of its
 *   arguments, with `"binary": true` when it held bytes (then `data` is `[payload with
 *   placeholders, base64 attachment, ...]`).
 * - `"legacy"`, up to 5.13 (Debian's 5.7.2): pickled objects whose `data` is the Python value
 *   itself (a tuple for several arguments, `bytes` as they are); those versions read JSON too,
 *   where `data` is then one argument.
 *
 * {@linkcode decodeMessage} reads both (pickles through the plain-data reader of `pickle.ts`) and
 * checks every field; {@linkcode encodeMessage} writes the chosen format. Legacy messages are
 * written as JSON when that means the same to an old server (no argument or one argument without
 * bytes), and as a plain-data pickle otherwise (several arguments, bytes).
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../parser/base64.ts";
import { deconstruct, hasBinary, reconstruct } from "../parser/binary.ts";
import { PickleError, readPickle, writePickle } from "./pickle.ts";
import { Tuple } from "./tuple.ts";

/**
 * Which message format to publish: python-socketio 5.14+ (`"json"`) or up to 5.13 (`"legacy"`).
 *
 * @example
 * ```ts
 * import type { PubSubFormat } from "./pubsub_message.ts";
 * const format: PubSubFormat = "legacy"; // a cluster with Debian's python3-socketio 5.7.2
 * ```
 */
export type PubSubFormat = "json" | "legacy";

/**
 * An emit: `event` with `args` to the sockets of `namespace` in any of `rooms` (every socket when
 * `null`) except `skipSids`; with `callback`, each receiver's acknowledgement goes back to the
 * host `hostId` as a {@linkcode CallbackMessage}.
 *
 * @example
 * ```ts
 * import type { EmitMessage } from "./pubsub_message.ts";
 * const m: EmitMessage = { method: "emit", event: "news", args: ["hi"], namespace: "/", rooms: null, skipSids: [] };
 * ```
 */
export interface EmitMessage {
  /** Always `"emit"`. */
  method: "emit";
  /** The event name. */
  event: string;
  /** Its arguments. */
  args: unknown[];
  /** The namespace. */
  namespace: string;
  /** Target rooms (a socket id is a room); `null` for everyone. */
  rooms: string[] | null;
  /** Socket ids left out. */
  skipSids: string[];
  /** Where acknowledgements go: the room (or sid) the sender addressed, its namespace and the ack id. */
  callback?: { room: string; namespace: string; id: number };
  /** The sender's host id. */
  hostId?: string;
}

/**
 * An acknowledgement travelling back to the host that emitted with a callback.
 *
 * @example
 * ```ts
 * import type { CallbackMessage } from "./pubsub_message.ts";
 * const m: CallbackMessage = { method: "callback", hostId: "abc", sid: "s1", namespace: "/", id: 1, args: ["ok"] };
 * ```
 */
export interface CallbackMessage {
  /** Always `"callback"`. */
  method: "callback";
  /** The host waiting for it. */
  hostId: string;
  /** The room (or sid) the emit addressed. */
  sid: string;
  /** The namespace. */
  namespace: string;
  /** The ack id the sender chose. */
  id: number;
  /** The client's answer. */
  args: unknown[];
}

/**
 * Disconnect one socket, wherever it is.
 *
 * @example
 * ```ts
 * import type { DisconnectMessage } from "./pubsub_message.ts";
 * const m: DisconnectMessage = { method: "disconnect", sid: "s1", namespace: "/" };
 * ```
 */
export interface DisconnectMessage {
  /** Always `"disconnect"`. */
  method: "disconnect";
  /** The socket id. */
  sid: string;
  /** The namespace. */
  namespace: string;
  /** The sender's host id. */
  hostId?: string;
}

/**
 * Every member leaves `room`.
 *
 * @example
 * ```ts
 * import type { CloseRoomMessage } from "./pubsub_message.ts";
 * const m: CloseRoomMessage = { method: "close_room", room: "lobby", namespace: "/" };
 * ```
 */
export interface CloseRoomMessage {
  /** Always `"close_room"`. */
  method: "close_room";
  /** The room. */
  room: string;
  /** The namespace. */
  namespace: string;
  /** The sender's host id. */
  hostId?: string;
}

/**
 * One socket, wherever it is, enters or leaves a room (python-socketio 5.14+).
 *
 * @example
 * ```ts
 * import type { RoomMessage } from "./pubsub_message.ts";
 * const m: RoomMessage = { method: "enter_room", sid: "s1", room: "lobby", namespace: "/" };
 * ```
 */
export interface RoomMessage {
  /** `"enter_room"` or `"leave_room"`. */
  method: "enter_room" | "leave_room";
  /** The socket id. */
  sid: string;
  /** The room. */
  room: string;
  /** The namespace. */
  namespace: string;
  /** The sender's host id. */
  hostId?: string;
}

/**
 * Any message of the channel.
 *
 * @example
 * ```ts
 * import type { PubSubMessage } from "./pubsub_message.ts";
 * function describe(m: PubSubMessage): string { return m.method; }
 * ```
 */
export type PubSubMessage = EmitMessage | CallbackMessage | DisconnectMessage | CloseRoomMessage | RoomMessage;

/**
 * Why a message was refused (its text is what gets logged).
 *
 * @example
 * ```ts
 * import { decodeMessage, MessageError } from "./pubsub_message.ts";
 * try {
 *   decodeMessage('{"method":"emit","event":42}');
 * } catch (err) {
 *   console.log(err instanceof MessageError, (err as Error).message);
 * }
 * ```
 */
export class MessageError extends Error {
  /** Always `"MessageError"`. */
  override name = "MessageError";
}

/**
 * Limits of {@linkcode decodeMessage}.
 *
 * @example
 * ```ts
 * import type { DecodeLimits } from "./pubsub_message.ts";
 * const limits: DecodeLimits = { maxBytes: 1 << 20 };
 * ```
 */
export interface DecodeLimits {
  /** The largest message accepted, in bytes (default 4 MiB). */
  maxBytes?: number;
  /** The deepest nesting of a message's values (default 100). */
  maxDepth?: number;
}

const textDecoder = new TextDecoder("utf-8", { fatal: true });

function fail(message: string): never {
  throw new MessageError(message);
}

/** A Python dict read back: an object that is neither an array, a tuple nor bytes. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Tuple) &&
    !(value instanceof Uint8Array);
}

/** A tuple or a list: both are sequences to Python. */
function sequence(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Tuple) return [...value.items];
  return undefined;
}

/** Tuples nested in data become arrays (JSON sees lists). */
function plain(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array || depth > 1000) return value;
  if (value instanceof Tuple) return value.items.map((item) => plain(item, depth + 1));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = plain(value[i], depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const before = record[key];
    const after = plain(before, depth + 1);
    if (after !== before) Object.defineProperty(record, key, { value: after, enumerable: true, writable: true });
  }
  return value;
}

/** Python rooms may be numbers; here every room is a string. */
function roomName(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  fail(`"${field}" holds something that is not a room name`);
}

function roomList(value: unknown, field: string): string[] | null {
  if (value === null || value === undefined) return null;
  const list = sequence(value);
  if (list === undefined) return [roomName(value, field)];
  if (list.length > 100_000) fail(`"${field}" lists too many rooms`);
  return list.map((item) => roomName(item, field));
}

function text(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== "string") fail(`"${field}" is not a string`);
  return value;
}

function namespace(record: Record<string, unknown>): string {
  const value = record.namespace;
  if (value === null || value === undefined || value === "") return "/";
  if (typeof value !== "string") fail(`"namespace" is not a string`);
  return value;
}

function hostId(record: Record<string, unknown>): string | undefined {
  const value = record.host_id;
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string") fail(`"host_id" is not a string`);
  return value;
}

function ackId(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) fail(`"id" is not an ack id`);
  return value;
}

/** The arguments of an emit, read the way the message's format means them. */
function emitArgs(record: Record<string, unknown>, pickled: boolean): unknown[] {
  const data = record.data;
  if (!("binary" in record)) {
    // up to 5.13: the Python value itself (a tuple for several arguments)
    if (data === null || data === undefined) return [];
    if (pickled && data instanceof Tuple) return data.items.map((item) => plain(item));
    return [plain(data)];
  }
  // 5.14+: the list of arguments; a single None stands for none (python-socketio sends no argument)
  let args = sequence(data);
  if (args === undefined) return data === null || data === undefined ? [] : [plain(data)];
  if (record.binary === true) {
    if (args.length === 0) fail(`"data" of a binary emit is empty`);
    const attachments = args.slice(1).map((item) => {
      if (typeof item !== "string") fail("a binary attachment is not base64 text");
      try {
        return decodeBase64(item);
      } catch {
        fail("a binary attachment is not base64 text");
      }
    });
    let rebuilt: unknown;
    try {
      rebuilt = reconstruct(plain(args[0]), attachments);
    } catch {
      fail("a binary placeholder has no attachment");
    }
    args = sequence(rebuilt);
    if (args === undefined) fail(`"data" of a binary emit is not a list`);
  } else if (record.binary !== false && record.binary !== null) {
    fail(`"binary" is not a boolean`);
  }
  if (args.length === 1 && (args[0] === null || args[0] === undefined)) return [];
  return args.map((item) => plain(item));
}

function decodeEmit(record: Record<string, unknown>, pickled: boolean): EmitMessage {
  const message: EmitMessage = {
    method: "emit",
    event: text(record, "event"),
    args: emitArgs(record, pickled),
    namespace: namespace(record),
    rooms: roomList(record.room, "room"),
    skipSids: roomList(record.skip_sid, "skip_sid") ?? [],
  };
  const callback = record.callback;
  if (callback !== null && callback !== undefined) {
    const parts = sequence(callback);
    if (parts === undefined || parts.length !== 3 || typeof parts[0] !== "string" || typeof parts[1] !== "string") {
      fail(`"callback" is not [room, namespace, id]`);
    }
    message.callback = { room: parts[0], namespace: parts[1] || "/", id: ackId(parts[2]) };
  }
  const host = hostId(record);
  if (host !== undefined) message.hostId = host;
  return message;
}

function fromRecord(record: Record<string, unknown>, pickled: boolean): PubSubMessage {
  switch (record.method) {
    case "emit":
      return decodeEmit(record, pickled);
    case "callback": {
      const host = hostId(record);
      if (host === undefined) fail(`"host_id" is missing`);
      const args = sequence(record.args);
      if (args === undefined) fail(`"args" is not a list`);
      return {
        method: "callback",
        hostId: host,
        sid: roomName(record.sid, "sid"),
        namespace: namespace(record),
        id: ackId(record.id),
        args: args.map((item) => plain(item)),
      };
    }
    case "disconnect":
      return withHost({ method: "disconnect", sid: text(record, "sid"), namespace: namespace(record) }, record);
    case "close_room":
      return withHost(
        { method: "close_room", room: roomName(record.room, "room"), namespace: namespace(record) },
        record,
      );
    case "enter_room":
    case "leave_room":
      return withHost({
        method: record.method,
        sid: text(record, "sid"),
        room: roomName(record.room, "room"),
        namespace: namespace(record),
      }, record);
    default:
      fail(typeof record.method === "string" ? `unknown method "${record.method.slice(0, 40)}"` : `no "method"`);
  }
}

function withHost<T extends DisconnectMessage | CloseRoomMessage | RoomMessage>(
  message: T,
  record: Record<string, unknown>,
): T {
  const host = hostId(record);
  if (host !== undefined) message.hostId = host;
  return message;
}

/**
 * Reads one message of the channel: JSON (any python-socketio version) or a plain-data pickle (up
 * to 5.13). Throws a {@linkcode MessageError} (or the pickle reader's `PickleError`) naming what
 * is wrong: too large, not JSON, a refused pickle opcode, a missing or mistyped field.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./pubsub_message.ts";
 * const m = decodeMessage('{"method":"emit","event":"news","data":["hi"],"binary":false,"namespace":"/","room":null}');
 * console.log(m); // { method: "emit", event: "news", args: ["hi"], namespace: "/", rooms: null, skipSids: [] }
 * ```
 */
export function decodeMessage(payload: Uint8Array | string, limits: DecodeLimits = {}): PubSubMessage {
  const maxBytes = limits.maxBytes ?? 4 * 1024 * 1024;
  const size = typeof payload === "string" ? payload.length : payload.byteLength;
  if (size > maxBytes) fail(`message of ${size} bytes is over the ${maxBytes} limit`);
  let value: unknown;
  let pickled = false;
  const first = typeof payload === "string" ? payload.trimStart()[0] : firstNonSpace(payload);
  if (first === "{") {
    let json: string;
    try {
      json = typeof payload === "string" ? payload : textDecoder.decode(payload);
    } catch {
      fail("message is not UTF-8");
    }
    try {
      value = JSON.parse(json);
    } catch {
      fail("message is not JSON");
    }
    if (depthOver(value, limits.maxDepth ?? 100)) fail("message is nested too deep");
  } else {
    if (typeof payload === "string") fail("message is neither JSON nor a pickle");
    try {
      value = readPickle(payload, { maxBytes, maxDepth: limits.maxDepth ?? 100 });
    } catch (err) {
      if (err instanceof PickleError) fail(`pickle refused: ${err.message}`);
      throw err;
    }
    pickled = true;
  }
  if (!isRecord(value)) fail("message is not an object");
  return fromRecord(value, pickled);
}

function firstNonSpace(bytes: Uint8Array): string | undefined {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return String.fromCharCode(byte);
  }
  return undefined;
}

function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth >= max) return true;
    for (const child of Object.values(item as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}

function roomField(rooms: string[] | null): string | string[] | null {
  if (rooms === null || rooms.length === 0) return null;
  return rooms.length === 1 ? rooms[0] : rooms;
}

/**
 * Writes a message in `format`: a JSON string, or (legacy messages that JSON cannot say the same
 * way: several arguments, bytes) a plain-data pickle.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./pubsub_message.ts";
 * const payload = encodeMessage(
 *   { method: "emit", event: "news", args: ["hi"], namespace: "/", rooms: ["lobby"], skipSids: [], hostId: "abc" },
 *   "json",
 * );
 * ```
 */
export function encodeMessage(message: PubSubMessage, format: PubSubFormat): string | Uint8Array {
  const host = message.hostId;
  switch (message.method) {
    case "emit": {
      const record: Record<string, unknown> = { method: "emit", event: message.event };
      const binary = hasBinary(message.args);
      if (format === "json") {
        if (binary) {
          const buffers: Uint8Array[] = [];
          const payload = deconstruct(message.args, buffers);
          record.data = [payload, ...buffers.map(encodeBase64)];
        } else record.data = message.args;
        record.binary = binary;
      } else {
        record.data = message.args.length === 0
          ? null
          : message.args.length === 1
          ? message.args[0]
          : new Tuple(message.args);
      }
      record.namespace = message.namespace;
      record.room = roomField(message.rooms);
      record.skip_sid = roomField(message.skipSids);
      record.callback = message.callback
        ? [message.callback.room, message.callback.namespace, message.callback.id]
        : null;
      record.host_id = host ?? null;
      if (format === "legacy" && (binary || message.args.length > 1)) return writePickle(record);
      return JSON.stringify(record);
    }
    case "callback": {
      const record = {
        method: "callback",
        host_id: message.hostId,
        sid: message.sid,
        namespace: message.namespace,
        id: message.id,
        args: message.args,
      };
      if (hasBinary(message.args)) {
        // python-socketio 5.14+ cannot carry bytes in an acknowledgement: only a pickle can
        if (format === "json") throw new MessageError("binary in an acknowledgement needs the legacy format");
        return writePickle({ ...record, args: new Tuple(message.args) });
      }
      return JSON.stringify(record);
    }
    case "disconnect":
      return JSON.stringify({ method: "disconnect", sid: message.sid, namespace: message.namespace, host_id: host });
    case "close_room":
      return JSON.stringify({ method: "close_room", room: message.room, namespace: message.namespace, host_id: host });
    case "enter_room":
    case "leave_room":
      return JSON.stringify({
        method: message.method,
        sid: message.sid,
        room: message.room,
        namespace: message.namespace,
        host_id: host,
      });
  }
}
