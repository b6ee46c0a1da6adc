/**
 * The engine's input and output, as a contract every runtime meets: an {@linkcode EngineRequest}
 * in (method, URL, one header by name, the body as text with a limit, the peer, the full web
 * `Request` on demand), an {@linkcode EngineResponse} out (status, headers, body). Web runtimes
 * adapt `Request`/`Response` to it (`web_exchange.ts`); Node implements it on `IncomingMessage` /
 * `ServerResponse` directly (`src/runtime/node_exchange.ts`). A web `Response` is an
 * `EngineResponse` as it is, so a runtime's own upgrade answer (Deno's 101, Workers' 101 with its
 * `webSocket`) and a user's fallback `Response` pass through untouched.
 *
 * @module
 */

import type { Upgrader } from "./websocket_like.ts";
import { concatBytes } from "../parser/binary.ts";

/** One request, as the engine and the io server read it. */
export interface EngineRequest {
  /** The method (`GET`, `POST`, `OPTIONS`...). */
  readonly method: string;
  /** The absolute URL (query included). */
  readonly url: string;
  /**
   * One header (`name` in lower case), `null` when absent. A repeated header is joined with `", "`,
   * as `Headers` does, a repeated `cookie` with `"; "`.
   */
  header(name: string): string | null;
  /**
   * Every header as a plain object: lower-case names, own properties only (`__proto__` is a
   * header, never the prototype), repeated headers joined as {@linkcode EngineRequest.header} does.
   * The caller may keep it; the values it holds are not changed afterwards.
   */
  headerRecord(): Record<string, string>;
  /**
   * The body as UTF-8 text: `null` when it is larger than `limit` bytes. Rejects when the client
   * went away before it was read.
   */
  readText(limit: number): Promise<string | null>;
  /**
   * Calls `listener` once if the client goes away before the answer is sent (an aborted long
   * poll); returns the function that stops watching.
   */
  onAbort(listener: () => void): () => void;
  /** The peer's address, where the runtime tells. */
  readonly remoteAddress: string | undefined;
  /** The peer's port, where the runtime tells. */
  readonly remotePort: number | undefined;
  /**
   * The request as a web `Request`, for user code (the `allowRequest`, `generateId` and header
   * hooks, `connection_error`, CORS functions): made on first call where the runtime has another
   * shape (Node), the runtime's own `Request` elsewhere.
   */
  toRequest(): Request;
  /** The runtime's own request object: Node's `IncomingMessage`; the `Request` on web runtimes. */
  readonly native: unknown;
  /**
   * The runtime's own response object, where it has one before the answer (Node's `ServerResponse`
   * for a request that is not an upgrade): engine middlewares get it as `res`.
   */
  readonly nativeResponse?: unknown;
}

/** The answer to a request. A web `Response` is one. */
export interface EngineResponse {
  /** The status code. */
  readonly status: number;
  /** The headers. */
  readonly headers: Headers;
  /** The body: text (UTF-8), bytes, a stream, or none. */
  readonly body: string | Uint8Array | ReadableStream<Uint8Array> | null;
}

/** What a runtime knows of the connection beyond the request itself. */
export interface ConnInfo {
  /** The peer's address, where the runtime tells. */
  remoteAddress?: string;
  /** The peer's port, where the runtime tells. */
  remotePort?: number;
}

/**
 * Answers a request outside the server's paths: an answer, or `undefined` when the runtime's own
 * handling took it over (on Node, the HTTP server's other listeners).
 */
export type Fallback = (request: EngineRequest) => EngineResponse | undefined | Promise<EngineResponse | undefined>;

/** Options of a {@linkcode Handle}. */
export interface HandleOptions {
  /** Turns a validated upgrade request into a WebSocket (default: the server's, if it has one). */
  upgrade?: Upgrader;
  /** Answers requests outside the server's paths (default: 404). */
  fallback?: Fallback;
}

/**
 * Answers one request: `io.handle` and `engine.handle` have this shape, and the runtime shims serve
 * a function of it. Resolves to `undefined` only when the runtime answered by itself (an upgrade on
 * Bun or Node, a fallback on Node).
 */
export type Handle = (request: EngineRequest, options?: HandleOptions) => Promise<EngineResponse | undefined>;

/**
 * An answer with a text body.
 *
 * @example
 * ```ts
 * import { textResponse } from "./exchange.ts";
 * const answer = textResponse(404, "Not Found", new Headers({ "content-type": "text/plain" }));
 * answer.status; // 404
 * ```
 */
export function textResponse(status: number, body: string, headers: Headers): EngineResponse {
  return { status, headers, body };
}

/**
 * The default answer to a request outside a server's paths: 404, `Not Found`.
 *
 * @example
 * ```ts
 * import { notFoundResponse } from "./exchange.ts";
 * notFoundResponse().status; // 404
 * ```
 */
export function notFoundResponse(): EngineResponse {
  return textResponse(404, "Not Found", new Headers({ "content-type": "text/plain" }));
}

/**
 * The headers as a plain object with own properties only (`__proto__` included, never the
 * prototype).
 *
 * @example
 * ```ts
 * import { headerRecord } from "./exchange.ts";
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
 * import { addHeader } from "./exchange.ts";
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
 * Reads a body stream as UTF-8 text, stopping at `limit` bytes: `null` when it is larger.
 *
 * @example
 * ```ts
 * import { readStreamText } from "./exchange.ts";
 * await readStreamText(new Response("4hi").body, 10); // "4hi"
 * ```
 */
export async function readStreamText(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | null> {
  const bytes = await readStreamBytes(body, limit);
  return bytes === null ? null : decoder.decode(bytes);
}

/**
 * Reads a body stream's bytes, stopping at `limit` bytes: `null` when it is larger.
 *
 * @example
 * ```ts
 * import { readStreamBytes } from "./exchange.ts";
 * await readStreamBytes(new Response("4hi").body, 2); // null
 * ```
 */
export async function readStreamBytes(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
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
  return concatBytes(chunks, size);
}

const decoder = new TextDecoder();

/**
 * UTF-8 text of `chunks` (`size` bytes in all).
 *
 * @example
 * ```ts
 * import { decodeChunks } from "./exchange.ts";
 * decodeChunks([new Uint8Array([104]), new Uint8Array([105])], 2); // "hi"
 * ```
 */
export function decodeChunks(chunks: readonly Uint8Array[], size: number): string {
  return chunks.length === 0 ? "" : decoder.decode(concatBytes(chunks, size));
}
