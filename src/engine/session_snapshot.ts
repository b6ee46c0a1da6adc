/**
 * A WebSocket session as plain data: what it takes to carry an open Engine.IO session on with the
 * same client over the same WebSocket in another engine instance (a Workers Durable Object that
 * woke from hibernation, or one that takes sessions over from another). Plain, structured-clonable
 * and versioned; {@linkcode readSessionSnapshot} checks every field of one read back from storage
 * or another process, so a corrupt or forged one is refused instead of half restored.
 *
 * @module
 */

import type { EngineProtocol } from "./protocol_v3.ts";

/**
 * The version of {@linkcode SessionSnapshot} this code writes and reads.
 *
 * @example
 * ```ts
 * import { SESSION_SNAPSHOT_VERSION } from "./session_snapshot.ts";
 * SESSION_SNAPSHOT_VERSION; // 1
 * ```
 */
export const SESSION_SNAPSHOT_VERSION = 1;

/**
 * The request that opened a snapshotted session.
 *
 * @example
 * ```ts
 * import type { SnapshotRequest } from "./session_snapshot.ts";
 * const request: SnapshotRequest = {
 *   url: "http://localhost/socket.io/?EIO=4&transport=websocket",
 *   method: "GET",
 *   headers: { host: "localhost" },
 *   address: "127.0.0.1",
 *   secure: false,
 * };
 * ```
 */
export interface SnapshotRequest {
  /** The full URL (query included). */
  url: string;
  /** Its method. */
  method: string;
  /** Its headers: lower-case names, string values. */
  headers: Record<string, string>;
  /** The peer's address (`""` where the runtime did not tell). */
  address: string;
  /** Whether it came over TLS. */
  secure: boolean;
}

/**
 * An open WebSocket session of the engine as plain data (`engine.snapshotSession(sid)`).
 *
 * @example
 * ```ts
 * import type { SessionSnapshot } from "./session_snapshot.ts";
 * const snapshot: SessionSnapshot = {
 *   v: 1,
 *   sid: "Xh3kq9vU2pLr8AaBcDeF",
 *   protocol: 4,
 *   upgraded: false,
 *   request: { url: "http://localhost/socket.io/?EIO=4", method: "GET", headers: {}, address: "", secure: false },
 * };
 * ```
 */
export interface SessionSnapshot {
  /** The format's version ({@linkcode SESSION_SNAPSHOT_VERSION}). */
  v: number;
  /** The session id. */
  sid: string;
  /** The Engine.IO protocol revision: 4, or 3 (`allowEIO3`). */
  protocol: EngineProtocol;
  /** Engine.IO v3: whether the client takes binary frames (`b64=1` asked for base64). */
  binary?: boolean;
  /** Whether the session came to WebSocket by an upgrade from polling. */
  upgraded: boolean;
  /** The request that opened the session. */
  request: SnapshotRequest;
}

/** The longest session id a snapshot may carry (ours are 20 characters; `generateId` may differ). */
const MAX_SID_LENGTH = 256;
/** Header names as `Headers` keeps them (an RFC 9110 token, lower case). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** Header values `Headers` accepts: no NUL, CR or LF. */
const HEADER_VALUE = /^[^\0\r\n]*$/;
/** Printable ASCII without spaces: what a session id travels as, in a URL's query. */
const SID = /^[\x21-\x7e]+$/;

/**
 * Whether `value` is an object made of own data properties (not null, not an array), as structured
 * clone gives back an object.
 *
 * @example
 * ```ts
 * import { isPlainRecord } from "./session_snapshot.ts";
 * isPlainRecord({ a: 1 }); // true
 * isPlainRecord([1]); // false
 * ```
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `value` is a {@linkcode SessionSnapshot} of this version, field by field: returns it
 * typed, or the sentence-case reason it is refused.
 *
 * @example
 * ```ts
 * import { readSessionSnapshot } from "./session_snapshot.ts";
 * readSessionSnapshot({ v: 1, sid: 42 }); // "Its sid is not a session id"
 * ```
 */
export function readSessionSnapshot(value: unknown): SessionSnapshot | string {
  if (!isPlainRecord(value)) return "It is not an object";
  if (value.v !== SESSION_SNAPSHOT_VERSION) return `Its version is ${String(value.v)}, not ${SESSION_SNAPSHOT_VERSION}`;
  const { sid, protocol, binary, upgraded, request } = value;
  if (typeof sid !== "string" || sid.length > MAX_SID_LENGTH || !SID.test(sid)) return "Its sid is not a session id";
  if (protocol !== 3 && protocol !== 4) return "Its protocol is neither 3 nor 4";
  if (binary !== undefined && typeof binary !== "boolean") return "Its binary flag is not a boolean";
  if (typeof upgraded !== "boolean") return "Its upgraded flag is not a boolean";
  if (!isPlainRecord(request)) return "Its request is not an object";
  const { url, method, headers, address, secure } = request;
  if (typeof url !== "string" || URL.parse(url) === null) return "Its request URL is not a URL";
  if (typeof method !== "string" || !HEADER_NAME.test(method.toLowerCase())) return "Its request method is not one";
  if (typeof address !== "string" || typeof secure !== "boolean") return "Its request peer is malformed";
  if (!isPlainRecord(headers)) return "Its request headers are not an object";
  for (const name of Object.keys(headers)) {
    const header = headers[name];
    if (!HEADER_NAME.test(name) || typeof header !== "string" || !HEADER_VALUE.test(header)) {
      return "Its request headers are malformed";
    }
  }
  return value as unknown as SessionSnapshot;
}
