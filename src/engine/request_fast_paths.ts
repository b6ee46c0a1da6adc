/**
 * Fast paths a runtime shim may offer on the `Request` it hands the engine, keyed by symbols so
 * they never clash with the standard members. A shim that builds its `Request` from another shape
 * (Node's `IncomingMessage`) can give the engine what it reads on every request, the headers as a
 * plain object and the body as text, without making the web `Headers` and body stream the engine
 * would otherwise read them through. Every engine read goes through the helpers here, which fall
 * back to the standard members, so a plain `Request` behaves exactly as before.
 *
 * @module
 */

/** Key of a plain object of the request's headers: lower-case names, own properties only. */
export const HEADER_RECORD: unique symbol = Symbol("sio.request.headerRecord");

/** Key of a function that reads the body as UTF-8 text, `null` if it is over `limit` bytes. */
export const READ_BODY_TEXT: unique symbol = Symbol("sio.request.readBodyText");

/**
 * Key of a function that returns a real `Request` for this one, for user code: a shim's stand-in
 * can be read like a `Request` but not passed to `new Request()` or `fetch()`.
 */
export const WEB_REQUEST: unique symbol = Symbol("sio.request.web");

/**
 * What a `Request` may carry besides its standard members.
 *
 * @example
 * ```ts
 * import { HEADER_RECORD, type RequestFastPaths } from "./request_fast_paths.ts";
 * const parts: RequestFastPaths = { [HEADER_RECORD]: { origin: "https://a" } };
 * ```
 */
export interface RequestFastPaths {
  /** The headers, as {@linkcode HEADER_RECORD} describes. */
  readonly [HEADER_RECORD]?: Record<string, string>;
  /** Reads the body, as {@linkcode READ_BODY_TEXT} describes. */
  readonly [READ_BODY_TEXT]?: (limit: number) => Promise<string | null>;
  /** A real `Request`, as {@linkcode WEB_REQUEST} describes. */
  readonly [WEB_REQUEST]?: () => Request;
}

/**
 * The `Request` to hand user code (hooks, events): the shim's real one when it offers one, else
 * `request` itself.
 *
 * @example
 * ```ts
 * import { webRequestOf } from "./request_fast_paths.ts";
 * const request = new Request("http://x/");
 * webRequestOf(request) === request; // true
 * ```
 */
export function webRequestOf(request: Request): Request {
  const web = (request as RequestFastPaths)[WEB_REQUEST];
  return web === undefined ? request : web.call(request);
}

/**
 * One header of `request` (name in lower case), `null` if absent.
 *
 * @example
 * ```ts
 * import { headerOf } from "./request_fast_paths.ts";
 * headerOf(new Request("http://x/", { headers: { Upgrade: "websocket" } }), "upgrade"); // "websocket"
 * ```
 */
export function headerOf(request: Request, name: string): string | null {
  const record = (request as RequestFastPaths)[HEADER_RECORD];
  if (record === undefined) return request.headers.get(name);
  return Object.hasOwn(record, name) ? record[name] : null;
}

/**
 * The headers of `request` as a plain object with own properties only (`__proto__` included as a
 * header, never as the prototype). The shim's own object when it offers one: do not modify it.
 *
 * @example
 * ```ts
 * import { headerRecordOf } from "./request_fast_paths.ts";
 * headerRecordOf(new Request("http://x/", { headers: { Origin: "https://a" } })).origin; // "https://a"
 * ```
 */
export function headerRecordOf(request: Request): Record<string, string> {
  return (request as RequestFastPaths)[HEADER_RECORD] ?? headerRecord(request.headers);
}

/**
 * The headers as a plain object with own properties only (`__proto__` included, never the
 * prototype).
 *
 * @example
 * ```ts
 * import { headerRecord } from "./request_fast_paths.ts";
 * headerRecord(new Headers({ Origin: "https://a" })).origin; // "https://a"
 * ```
 */
export function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    headers.forEach((value, name) => setHeader(out, name, value));
  } catch {
    // A runtime that refuses to read a finished request's headers: nothing to keep.
  }
  return out;
}

/**
 * Sets `name` on a header record as an own property, joining a repeated header with `", "` as
 * `Headers` does, and repeated `cookie` headers with `"; "` (as HTTP/2 and Node do: a cookie value
 * may hold a comma).
 *
 * @example
 * ```ts
 * import { addHeader } from "./request_fast_paths.ts";
 * const record: Record<string, string> = {};
 * addHeader(record, "accept", "a");
 * addHeader(record, "accept", "b"); // record.accept === "a, b"
 * ```
 */
export function addHeader(record: Record<string, string>, name: string, value: string): void {
  if (!Object.hasOwn(record, name)) setHeader(record, name, value);
  else setHeader(record, name, `${record[name]}${name === "cookie" ? "; " : ", "}${value}`);
}

function setHeader(record: Record<string, string>, name: string, value: string): void {
  if (name === "__proto__") {
    Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  } else record[name] = value;
}

/**
 * Reads the body of `request` as UTF-8 text, stopping at `limit` bytes: `null` when the body is
 * larger than the limit.
 *
 * @example
 * ```ts
 * import { readBodyText } from "./request_fast_paths.ts";
 * await readBodyText(new Request("http://x/", { method: "POST", body: "4hi" }), 10); // "4hi"
 * ```
 */
export function readBodyText(request: Request, limit: number): Promise<string | null> {
  const read = (request as RequestFastPaths)[READ_BODY_TEXT];
  return read !== undefined ? read.call(request, limit) : readStreamText(request.body, limit);
}

/**
 * Reads a body stream as UTF-8 text, stopping at `limit` bytes: `null` when it is larger.
 *
 * @example
 * ```ts
 * import { readStreamText } from "./request_fast_paths.ts";
 * await readStreamText(new Response("4hi").body, 10); // "4hi"
 * ```
 */
export async function readStreamText(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | null> {
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return decodeChunks(chunks, size);
}

const decoder = new TextDecoder();

/**
 * UTF-8 text of `chunks` (`size` bytes in all).
 *
 * @example
 * ```ts
 * import { decodeChunks } from "./request_fast_paths.ts";
 * decodeChunks([new Uint8Array([104]), new Uint8Array([105])], 2); // "hi"
 * ```
 */
export function decodeChunks(chunks: readonly Uint8Array[], size: number): string {
  if (chunks.length === 0) return "";
  if (chunks.length === 1) return decoder.decode(chunks[0]);
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decoder.decode(all);
}
