/**
 * What the engine does differently for Engine.IO v3 sessions (`allowEIO3`, socket.io 1.x/2.x
 * clients): which protocol a request asks for, how binary reaches each transport's peer, and the
 * polling answers and bodies in the v3 payload formats. The packets themselves are v4's; the
 * codecs are in `parser/engine_io_v3.ts`, the heartbeat direction in `socket.ts`.
 *
 * @module
 */

import type { EnginePacket } from "../parser/engine_io.ts";
import { decodePayloadV3, encodePayloadV3 } from "../parser/engine_io_v3.ts";
import { type EngineRequest, type EngineResponse, readStreamBytes, textResponse } from "./exchange.ts";
import type { QueryParams } from "./request_target.ts";

/** The Engine.IO protocol revisions the engine speaks. */
export type EngineProtocol = 3 | 4;

/**
 * How a v3 transport frames for its peer: binary unless the request that made the transport asked
 * for base64 (`b64=1`: socket.io-client 2 on Node, clients without XHR2), and JSONP polling when
 * it had a `j` parameter (clients without XHR, or with `forceJSONP`).
 */
export interface V3Framing {
  /** Whether the peer takes binary (payloads in the binary format, binary WebSocket frames). */
  readonly binary: boolean;
  /** JSONP polling: the index of the page's callback (`___eio[j]`). */
  readonly jsonp?: string;
}

/**
 * The protocol a new session's request asks for: 4, or 3 when `allowEIO3` is on; `null` when
 * refused.
 *
 * @example
 * ```ts
 * import { requestedProtocol } from "./protocol_v3.ts";
 * requestedProtocol(new URLSearchParams("EIO=3"), true); // 3
 * requestedProtocol(new URLSearchParams("EIO=3"), false); // null
 * ```
 */
export function requestedProtocol(query: QueryParams, allowEIO3: boolean | undefined): EngineProtocol | null {
  const eio = query.get("EIO");
  if (eio === "4") return 4;
  return eio === "3" && allowEIO3 === true ? 3 : null;
}

/**
 * Whether a request with a session's id asks for another protocol than the session's (answered
 * with `Bad request`, as socket.io does).
 *
 * @example
 * ```ts
 * import { isProtocolMismatch } from "./protocol_v3.ts";
 * isProtocolMismatch(new URLSearchParams("EIO=4&sid=x"), 3); // true
 * ```
 */
export function isProtocolMismatch(query: QueryParams, protocol: EngineProtocol): boolean {
  return (query.get("EIO") === "3") !== (protocol === 3);
}

/**
 * The v3 framing a request asks for (`b64` present and not empty: base64).
 *
 * @example
 * ```ts
 * import { v3FramingOf } from "./protocol_v3.ts";
 * v3FramingOf(new URLSearchParams("EIO=3&b64=1")).binary; // false
 * ```
 */
export function v3FramingOf(query: QueryParams): V3Framing {
  const j = query.get("j");
  if (j !== null) return { binary: false, jsonp: j.replace(/[^0-9]/g, "") };
  return { binary: !query.get("b64") };
}

/**
 * The answer to a v3 poll: a text payload, or the binary payload format
 * (`application/octet-stream`) when the peer takes binary and a packet is binary.
 *
 * @example
 * ```ts
 * import { v3PollAnswer } from "./protocol_v3.ts";
 * const headers = new Headers({ "Content-Type": "text/plain; charset=UTF-8" });
 * v3PollAnswer([{ type: "message", data: "a" }], { binary: true }, headers).body; // "2:4a"
 * ```
 */
export function v3PollAnswer(
  packets: readonly EnginePacket[],
  framing: V3Framing,
  headers: Headers,
): EngineResponse {
  const body = encodePayloadV3(packets, framing.binary);
  if (framing.jsonp !== undefined) {
    // A script calling the page's callback (JavaScript, not JSON: U+2028 and U+2029 escaped).
    const js = JSON.stringify(body).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
    return textResponse(200, `___eio[${framing.jsonp}](${js});`, headers);
  }
  if (typeof body === "string") return textResponse(200, body, headers);
  headers.set("Content-Type", "application/octet-stream");
  return { status: 200, headers, body };
}

/**
 * Reads and decodes the body of a v3 POST: text, the binary payload format when sent as
 * `application/octet-stream`, or a JSONP form. `"too large"` past `limit` bytes, `null` when malformed; rejects
 * when the request closed before its body was read.
 *
 * @example
 * ```ts
 * import { readV3Post } from "./protocol_v3.ts";
 * import { fromWebRequest } from "./web_exchange.ts";
 * const request = fromWebRequest(new Request("http://x/", { method: "POST", body: "2:4a" }));
 * await readV3Post(request, false, 1e6); // [{ type: "message", data: "a" }]
 * ```
 */
export async function readV3Post(
  request: EngineRequest,
  binary: boolean,
  limit: number,
  framing?: V3Framing,
): Promise<EnginePacket[] | null | "too large"> {
  if (!binary) {
    const text = await request.readText(limit);
    if (text === null) return "too large";
    return decodePayloadV3(framing?.jsonp === undefined ? text : jsonpPayload(text));
  }
  // A binary body (v3 XHR2 clients only) is read through the web Request: the contract reads text.
  const bytes = await readStreamBytes(request.toRequest().body, limit);
  return bytes === null ? "too large" : decodePayloadV3(bytes);
}

/**
 * The payload of a JSONP POST: the form field `d`, whose newlines the client escaped (a newline as
 * `\n`, a `\n` as `\\n`) so that no browser turns them into `\r\n`.
 */
function jsonpPayload(form: string): string {
  const d = new URLSearchParams(form).get("d") ?? "";
  return d.replace(/(\\)?\\n/g, (match, slash) => slash ? match : "\n").replace(/\\\\n/g, "\\n");
}
