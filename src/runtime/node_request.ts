/**
 * A `Request` over a Node `IncomingMessage` that makes the web objects only when asked for.
 *
 * Building an undici `Request` for every poll and every upgrade (its `Headers`, a web stream over
 * the body, an `AbortSignal`) cost a quarter of the Node server's CPU under long-polling, and the
 * garbage made during a connection storm grew V8's young generation. The engine reads only the
 * URL, the method, a few headers and the body, which this object gives from the Node request
 * itself (see `src/engine/request_fast_paths.ts`); anything else a user's code reads (`headers`,
 * `clone()`, `json()`…) comes from a real `Request` made on first use.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import {
  addHeader,
  decodeChunks,
  HEADER_RECORD,
  READ_BODY_TEXT,
  readStreamText,
  WEB_REQUEST,
} from "../engine/request_fast_paths.ts";
import { TEXT_ANSWERS } from "../engine/text_response.ts";

/** The full URL of a Node request. */
export function requestUrl(req: IncomingMessage): string {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${secure ? "https" : "http"}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
}

/** The raw header pairs, for `Request` to fill its own `Headers` from (one copy, not two). */
export function requestHeaderPairs(req: IncomingMessage): [string, string][] {
  const raw = req.rawHeaders;
  const pairs: [string, string][] = new Array(raw.length / 2);
  for (let i = 0; i < raw.length; i += 2) pairs[i / 2] = [raw[i], raw[i + 1]];
  return pairs;
}

/**
 * A web `Request` for a Node request: its members are made when first read.
 *
 * `instanceof Request` holds; the standard members are answered by a real `Request` built on first
 * use (with the same URL, method, headers, body and abort signal), so code that reads them sees a
 * `Request` in every respect but identity.
 *
 * @example
 * ```ts ignore
 * server.on("request", (req, res) => engine.handleRequest(new NodeRequest(req, res)));
 * ```
 */
export class NodeRequest {
  readonly #req: IncomingMessage;
  readonly #url: string;
  #web: Request | undefined;
  #record: Record<string, string> | undefined;
  #controller: AbortController | undefined;
  #aborted = false;
  #bodyTaken = false;

  /** `res` (absent for upgrades) is watched: the signal aborts if it closes before it is sent. */
  constructor(req: IncomingMessage, res?: ServerResponse) {
    this.#req = req;
    this.#url = requestUrl(req);
    if (res !== undefined) {
      res.once("close", () => {
        if (res.writableFinished) return;
        this.#aborted = true;
        this.#controller?.abort();
      });
    }
  }

  /** The full URL. */
  get url(): string {
    return this.#url;
  }

  /** The method. */
  get method(): string {
    return this.#req.method ?? "GET";
  }

  /** The headers (a real `Headers`, made on first read). */
  get headers(): Headers {
    return this.#request().headers;
  }

  /** Aborts when the client goes away before the answer is sent. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /**
   * The headers as one plain object, lower-case names; repeated headers joined as `addHeader`
   * does. None once the real `Request` exists: user code may have changed its headers, which the
   * engine then reads.
   */
  get [HEADER_RECORD](): Record<string, string> | undefined {
    if (this.#web !== undefined) return undefined;
    if (this.#record !== undefined) return this.#record;
    const raw = this.#req.rawHeaders;
    const record: Record<string, string> = {};
    for (let i = 0; i < raw.length; i += 2) addHeader(record, raw[i].toLowerCase(), raw[i + 1]);
    return this.#record = record;
  }

  /** The Node shim writes every answer itself, text answers as they are. */
  get [TEXT_ANSWERS](): true {
    return true;
  }

  /** The real `Request`, for user code (see `webRequestOf`). */
  [WEB_REQUEST](): Request {
    return this.#request();
  }

  /** Reads the body straight from the Node stream: UTF-8 text, `null` past `limit` bytes. */
  [READ_BODY_TEXT](limit: number): Promise<string | null> {
    // Once the real Request exists, its stream has the body.
    if (this.#web !== undefined) return readStreamText(this.#web.body, limit);
    this.#bodyTaken = true;
    const req = this.#req;
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
          // The rest is read and dropped; the 413 answer closes the connection.
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

  /** The real `Request`, made once. */
  #request(): Request {
    if (this.#web !== undefined) return this.#web;
    const method = this.method;
    const init: RequestInit & { duplex?: "half" } = {
      method,
      headers: requestHeaderPairs(this.#req),
      signal: this.signal,
    };
    if (method !== "GET" && method !== "HEAD") {
      init.body = this.#bodyTaken
        ? new ReadableStream<Uint8Array>({ start: (c) => c.close() })
        : Readable.toWeb(this.#req) as unknown as ReadableStream<Uint8Array>;
      init.duplex = "half";
    }
    return this.#web = new Request(this.#url, init);
  }

  // The rest of Request, from the real one.
  /** See `Request.body`. */
  get body(): ReadableStream<Uint8Array> | null {
    return this.#request().body;
  }
  /** See `Request.bodyUsed`. */
  get bodyUsed(): boolean {
    return this.#bodyTaken || this.#request().bodyUsed;
  }
  /** See `Request.cache`. */
  get cache(): RequestCache {
    return this.#request().cache;
  }
  /** See `Request.credentials`. */
  get credentials(): RequestCredentials {
    return this.#request().credentials;
  }
  /** See `Request.destination`. */
  get destination(): RequestDestination {
    return this.#request().destination;
  }
  /** See `Request.integrity`. */
  get integrity(): string {
    return this.#request().integrity;
  }
  /** See `Request.keepalive`. */
  get keepalive(): boolean {
    return this.#request().keepalive;
  }
  /** See `Request.mode`. */
  get mode(): RequestMode {
    return this.#request().mode;
  }
  /** See `Request.redirect`. */
  get redirect(): RequestRedirect {
    return this.#request().redirect;
  }
  /** See `Request.referrer`. */
  get referrer(): string {
    return this.#request().referrer;
  }
  /** See `Request.referrerPolicy`. */
  get referrerPolicy(): ReferrerPolicy {
    return this.#request().referrerPolicy;
  }
  /** See `Request.duplex`. */
  get duplex(): string | undefined {
    return (this.#request() as { duplex?: string }).duplex;
  }
  /** See `Request.clone()`. */
  clone(): Request {
    return this.#request().clone();
  }
  /** See `Request.arrayBuffer()`. */
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#request().arrayBuffer();
  }
  /** See `Request.blob()`. */
  blob(): Promise<Blob> {
    return this.#request().blob();
  }
  /** See `Request.bytes()`. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return (this.#request() as unknown as { bytes(): Promise<Uint8Array<ArrayBuffer>> }).bytes();
  }
  /** See `Request.formData()`. */
  formData(): Promise<FormData> {
    return this.#request().formData();
  }
  /** See `Request.json()`. */
  json(): Promise<unknown> {
    return this.#request().json();
  }
  /** See `Request.text()`. */
  text(): Promise<string> {
    return this.#request().text();
  }

  /** What `console.log` and `util.inspect` show: the real `Request`. */
  [Symbol.for("nodejs.util.inspect.custom")](): Request {
    return this.#request();
  }

  /**
   * This request as the `Request` type the engine takes.
   *
   * @example
   * ```ts ignore
   * engine.handleRequest(new NodeRequest(req, res).asRequest());
   * ```
   */
  asRequest(): Request {
    return this as unknown as Request;
  }
}

// `instanceof Request` and the prototype's other members (Symbol.toStringTag…) are Request's.
Object.setPrototypeOf(NodeRequest.prototype, Request.prototype);
