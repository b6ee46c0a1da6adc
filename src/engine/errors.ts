/**
 * Engine.IO error responses: a JSON body `{"code":N,"message":"..."}`, HTTP 403 for `Forbidden` and
 * 400 for every other code.
 *
 * @module
 */

import { type EngineResponse, textResponse } from "./exchange.ts";

/** Engine.IO error codes, as the reference server uses them. */
export const EngineErrorCode = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;

/** One of the Engine.IO error codes. */
export type EngineErrorCode = typeof EngineErrorCode[keyof typeof EngineErrorCode];

/** The default message of each code. */
export const ENGINE_ERROR_MESSAGES: Readonly<Record<EngineErrorCode, string>> = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
};

/** A refused request, as reported by the `connection_error` event. */
export interface EngineConnectionError {
  /**
   * The refused request as the runtime gave it, as engine.io's `err.req`: Node's
   * `IncomingMessage` on Node's HTTP server, the web `Request` elsewhere (with engine.io's `_query`).
   */
  // deno-lint-ignore no-explicit-any
  req: any;
  /** The refused request as a web `Request` (made for the event on Node). */
  request: Request;
  /** The Engine.IO error code. */
  code: EngineErrorCode;
  /** The message sent to the client. */
  message: string;
  /** Details for logs (never sent to the client). */
  context: Record<string, unknown>;
}

/**
 * The error answer for `code`.
 *
 * @example
 * ```ts
 * import { EngineErrorCode, errorResponse } from "./errors.ts";
 * errorResponse(EngineErrorCode.UNKNOWN_SID, new Headers()).status; // 400
 * ```
 */
export function errorResponse(
  code: EngineErrorCode,
  headers: Headers,
  message: string = ENGINE_ERROR_MESSAGES[code],
): EngineResponse {
  headers.set("Content-Type", "application/json");
  return textResponse(code === EngineErrorCode.FORBIDDEN ? 403 : 400, JSON.stringify({ code, message }), headers);
}

/**
 * The answer to a request whose URL cannot be parsed (a Host header that makes no URL): 400, and
 * one log line with the offending URL.
 *
 * @example
 * ```ts
 * import { badUrlResponse } from "./errors.ts";
 * badUrlResponse("http://a b/").status; // 400
 * ```
 */
export function badUrlResponse(url: string): EngineResponse {
  console.error(
    `[engine.io] refused a request with an invalid URL (bad Host header?): ${JSON.stringify(url.slice(0, 200))}`,
  );
  return textResponse(400, "Bad Request", new Headers({ "content-type": "text/plain" }));
}
