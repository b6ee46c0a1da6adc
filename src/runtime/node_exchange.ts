/**
 * The engine's contract on Node's HTTP server, implemented on `IncomingMessage` and
 * `ServerResponse` directly: the engine reads the URL, the method, a few headers and the body
 * straight from the Node request, and its answers are written as they are. A web `Request` is made
 * only when user code asks for one (`allowRequest`, `generateId`, the header hooks,
 * `connection_error`): building one per poll (its `Headers`, a web stream over the body, an
 * `AbortSignal`) cost a quarter of the Node server's CPU under long-polling.
 *
 * No `node:` import: the Node objects are described by the parts used, so this file loads on any
 * runtime that has a `node:http` server (Node, Bun, Deno).
 *
 * @module
 */

import {
  addHeader,
  decodeChunks,
  type EngineRequest,
  type EngineResponse,
  headerRecord,
  readStreamText,
} from "../engine/exchange.ts";
import { utf8Length } from "../util/utf8_length.ts";

/** An event listener of a Node emitter. */
// deno-lint-ignore no-explicit-any
export type NodeListener = (...args: any[]) => void;

/** The parts of Node's `IncomingMessage` used here (Node's own type satisfies it). */
export interface NodeIncomingMessage {
  /** The method. */
  readonly method?: string;
  /** The request target (path and query). */
  readonly url?: string;
  /** The headers, lower-case names (for `host`). */
  readonly headers: { host?: string };
  /** The headers as received: name, value, name, value... */
  readonly rawHeaders: string[];
  /** The connection. */
  readonly socket: { remoteAddress?: string; remotePort?: number };
  /** Whether the whole body arrived. */
  readonly complete: boolean;
  /** Whether the stream was destroyed. */
  readonly destroyed: boolean;
  /** Whether the body was read to its end. */
  readonly readableEnded: boolean;
  /** Adds a listener (`data`, `end`, `error`, `close`). */
  on(event: string, listener: NodeListener): unknown;
  /** Removes a listener. */
  off(event: string, listener: NodeListener): unknown;
  /** Lets data flow (and be dropped when nobody listens). */
  resume(): unknown;
  /** Stops the flow of data. */
  pause(): unknown;
}

/** The parts of Node's `ServerResponse` used here (Node's own type satisfies it). */
export interface NodeServerResponse {
  /** Whether the whole answer was handed to the system. */
  readonly writableFinished: boolean;
  /** Whether the response closed (Node, Bun). */
  readonly closed?: boolean;
  /** Whether the response was destroyed (also where `closed` is missing: Deno). */
  readonly destroyed?: boolean;
  /** Whether the head was sent. */
  readonly headersSent: boolean;
  /** Adds a one-time listener (`close`). */
  once(event: string, listener: NodeListener): unknown;
  /** Removes a listener. */
  off(event: string, listener: NodeListener): unknown;
  /** Writes the status line and headers. */
  writeHead(status: number, headers?: Record<string, string | string[]>): unknown;
  /** Writes a chunk of the body. */
  write(chunk: string | Uint8Array): boolean;
  /** Ends the answer, with a last chunk. */
  end(chunk?: string | Uint8Array): unknown;
}

/** The full URL of a Node request. */
function requestUrl(req: NodeIncomingMessage): string {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${secure ? "https" : "http"}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
}

/**
 * A Node request as the engine reads it: headers from `rawHeaders` (repeated ones joined as
 * `Headers` joins them), the body from the stream, the client going away from the response's
 * `close`.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { NodeEngineRequest } from "./node_exchange.ts";
 * const server = createServer((req, res) => {
 *   const request = new NodeEngineRequest(req, res);
 *   res.end(request.header("user-agent") ?? "");
 * });
 * ```
 */
export class NodeEngineRequest implements EngineRequest {
  /** Node's `IncomingMessage`. */
  readonly native: NodeIncomingMessage;
  /** Node's `ServerResponse` for it; none for an upgrade request. */
  readonly response: NodeServerResponse | undefined;
  /** The absolute URL. */
  readonly url: string;
  #record: Record<string, string> | undefined;
  #web: Request | undefined;
  #bodyTaken = false;

  /** Wraps `req`, whose answer goes to `res` (absent for an upgrade request). */
  constructor(req: NodeIncomingMessage, res?: NodeServerResponse) {
    this.native = req;
    this.response = res;
    this.url = requestUrl(req);
  }

  /** The method. */
  get method(): string {
    return this.native.method ?? "GET";
  }

  /** Node's `ServerResponse` (engine middlewares get it); none for an upgrade request. */
  get nativeResponse(): NodeServerResponse | undefined {
    return this.response;
  }

  /** The peer's address. */
  get remoteAddress(): string | undefined {
    return this.native.socket.remoteAddress;
  }

  /** The peer's port. */
  get remotePort(): number | undefined {
    return this.native.socket.remotePort;
  }

  /**
   * One header, `null` when absent. Once user code made the web `Request`, from its headers (a hook
   * may have changed them: they are the session's then).
   */
  header(name: string): string | null {
    if (this.#web !== undefined) return this.#web.headers.get(name);
    const record = this.#headers();
    return Object.hasOwn(record, name) ? record[name] : null;
  }

  /** Every header as a plain object (see {@linkcode NodeEngineRequest.header}). */
  headerRecord(): Record<string, string> {
    return this.#web !== undefined ? headerRecord(this.#web.headers) : this.#headers();
  }

  #headers(): Record<string, string> {
    if (this.#record !== undefined) return this.#record;
    const raw = this.native.rawHeaders;
    const record: Record<string, string> = {};
    for (let i = 0; i < raw.length; i += 2) addHeader(record, raw[i].toLowerCase(), raw[i + 1]);
    return this.#record = record;
  }

  /** Reads the body straight from the Node stream: UTF-8 text, `null` past `limit` bytes. */
  readText(limit: number): Promise<string | null> {
    // Once the web Request exists, its stream has the body.
    if (this.#web !== undefined) return readStreamText(this.#web.body, limit);
    this.#bodyTaken = true;
    return readNodeBody(this.native, limit);
  }

  /** Calls `listener` if the response closes before it was sent. */
  onAbort(listener: () => void): () => void {
    const res = this.response;
    if (res === undefined || res.writableFinished) return noop;
    if (isClosed(res)) {
      // Gone already (while a hook ran): tell on the next turn, as an event would.
      queueMicrotask(listener);
      return noop;
    }
    const onClose = () => {
      if (!res.writableFinished) listener();
    };
    res.once("close", onClose);
    return () => res.off("close", onClose);
  }

  /** The request as a web `Request` (made once, with the same URL, method, headers, body and an abort signal). */
  toRequest(): Request {
    if (this.#web !== undefined) return this.#web;
    const method = this.method;
    const controller = new AbortController();
    this.onAbort(() => controller.abort());
    const raw = this.native.rawHeaders;
    const headers: [string, string][] = new Array(raw.length / 2);
    for (let i = 0; i < raw.length; i += 2) headers[i / 2] = [raw[i], raw[i + 1]];
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal: controller.signal };
    if (method !== "GET" && method !== "HEAD") {
      init.body = this.#bodyTaken ? null : nodeBodyStream(this.native);
      init.duplex = "half";
    }
    return this.#web = new Request(this.url, init);
  }
}

function noop(): void {}

function isClosed(res: NodeServerResponse): boolean {
  return res.closed === true || res.destroyed === true;
}

/** Reads a Node request's body as UTF-8 text; `null` past `limit` bytes (the rest is dropped). */
function readNodeBody(req: NodeIncomingMessage, limit: number): Promise<string | null> {
  // Listeners added after the stream ended or closed would wait for ever.
  if (req.destroyed || req.readableEnded) return Promise.reject(new Error("request closed before its body was read"));
  return new Promise<string | null>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > limit) {
        done();
        // The rest is read and dropped: the connection then carries the next request.
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(decodeChunks(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(new Error("request closed before its body was read"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** A web stream over a Node request's body, paused while the reader does not ask for more. */
function nodeBodyStream(req: NodeIncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.on("end", () => controller.close());
      req.on("error", (err: Error) => controller.error(err));
      req.on("close", () => {
        if (!req.complete) controller.error(new Error("request closed before its body was read"));
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      req.resume();
    },
  });
}

/**
 * Writes an engine answer to a Node response: text and bytes as they are, with their length; a
 * stream chunk by chunk.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { writeNodeResponse } from "./node_exchange.ts";
 * const server = createServer((_req, res) => {
 *   writeNodeResponse(res, { status: 200, headers: new Headers({ "content-type": "text/plain" }), body: "ok" });
 * });
 * ```
 */
export function writeNodeResponse(res: NodeServerResponse, response: EngineResponse): Promise<void> | undefined {
  const headers = nodeHeaders(response.headers);
  const body = response.body;
  if (typeof body === "string") {
    headers["content-length"] = String(utf8Length(body));
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  if (body === null) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  if (body instanceof Uint8Array) {
    headers["content-length"] = String(body.byteLength);
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  return pipeStream(body, res);
}

async function pipeStream(body: ReadableStream<Uint8Array>, res: NodeServerResponse): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (isClosed(res)) {
        await reader.cancel();
        return;
      }
      res.write(value);
    }
    res.end();
  } finally {
    reader.releaseLock();
  }
}

/**
 * `Headers` as the object `writeHead` takes (`set-cookie` as a list: one header line each).
 *
 * @example
 * ```ts
 * import { nodeHeaders } from "./node_exchange.ts";
 * const headers = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
 * nodeHeaders(headers)["set-cookie"]; // ["a=1", "b=2"]
 * ```
 */
export function nodeHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, key) => {
    if (key !== "set-cookie") out[key] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}
