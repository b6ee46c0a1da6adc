/**
 * The engine's contract on web runtimes (Deno, Bun, Workers, Hono): a `Request` (and what the
 * runtime tells of the peer) as an {@linkcode EngineRequest}, an {@linkcode EngineResponse} as a
 * `Response`.
 *
 * @module
 */

import {
  type ConnInfo,
  type EngineRequest,
  type EngineResponse,
  type Fallback,
  headerRecord,
  readStreamText,
} from "./exchange.ts";

/**
 * A web `Request` as the engine reads it.
 *
 * @example
 * ```ts
 * import { WebEngineRequest } from "./web_exchange.ts";
 * const request = new WebEngineRequest(new Request("http://x/socket.io/?EIO=4", { headers: { Origin: "https://a" } }));
 * request.header("origin"); // "https://a"
 * ```
 */
export class WebEngineRequest implements EngineRequest {
  /** The runtime's `Request`. */
  readonly native: Request;
  /** The absolute URL. */
  readonly url: string;
  readonly #info: ConnInfo | undefined;

  /** Wraps `request`; `info` is what the runtime tells of the peer. */
  constructor(request: Request, info?: ConnInfo) {
    this.native = request;
    this.url = absoluteUrl(request);
    this.#info = info;
  }

  /**
   * What the runtime tells of the peer: the `info` given to the constructor. A runtime where asking
   * costs (Bun's `requestIP`) overrides it to ask only when the address is read (a handshake).
   */
  protected connInfo(): ConnInfo | undefined {
    return this.#info;
  }

  /** The peer's address, where the runtime tells. */
  get remoteAddress(): string | undefined {
    return this.connInfo()?.remoteAddress;
  }

  /** The peer's port, where the runtime tells. */
  get remotePort(): number | undefined {
    return this.connInfo()?.remotePort;
  }

  /** The method. */
  get method(): string {
    return this.native.method;
  }

  /** One header, `null` when absent. */
  header(name: string): string | null {
    return this.native.headers.get(name);
  }

  /** Every header as a plain object. */
  headerRecord(): Record<string, string> {
    return headerRecord(this.native.headers);
  }

  /** The body as UTF-8 text, `null` over `limit` bytes. */
  readText(limit: number): Promise<string | null> {
    return readStreamText(this.native.body, limit);
  }

  /** Watches the request's `signal`. */
  onAbort(listener: () => void): () => void {
    // Read only here (a poll waiting), not for every request: on Deno, reading `signal` prints a
    // notice about its legacy behaviour once.
    const signal = this.native.signal;
    if (!signal) return noop;
    if (signal.aborted) {
      queueMicrotask(listener);
      return noop;
    }
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  }

  /** The `Request` itself. */
  toRequest(): Request {
    return this.native;
  }
}

function noop(): void {}

/**
 * The request's URL, resolved against its Host when the runtime left it relative (Bun, for an
 * HTTP/1.0 request without Host); left as it is when that Host makes no URL (the engine answers
 * 400).
 */
function absoluteUrl(request: Request): string {
  const url = request.url;
  if (url.charCodeAt(0) !== 47 /* "/" */) return url;
  const host = request.headers.get("host");
  if (host !== null && !URL.canParse(`http://${host}/`)) return url;
  return `http://${host ?? "localhost"}${url}`;
}

/**
 * `request` (with what the runtime tells of the peer) as an {@linkcode EngineRequest}.
 *
 * @example
 * ```ts
 * import { fromWebRequest } from "./web_exchange.ts";
 * fromWebRequest(new Request("http://x/"), { remoteAddress: "127.0.0.1" }).remoteAddress; // "127.0.0.1"
 * ```
 */
export function fromWebRequest(request: Request, info?: ConnInfo): EngineRequest {
  return new WebEngineRequest(request, info);
}

/**
 * An {@linkcode EngineResponse} as a web `Response`: a `Response` as it is (a runtime's 101, a
 * user's answer), anything else built from its status, headers and body.
 *
 * @example
 * ```ts
 * import { toWebResponse } from "./web_exchange.ts";
 * const response = toWebResponse({ status: 200, headers: new Headers(), body: "ok" });
 * await response.text(); // "ok"
 * ```
 */
export function toWebResponse(response: EngineResponse): Response {
  if (response instanceof Response) return response;
  // The headers are set on the new response, not given in its init: Deno reads an init's headers
  // through WebIDL's conversions, 3-5 µs for two or more (a poll's answer has two), where setting
  // them costs under 1 µs. Bun copies an init at once: its shim uses toWebResponseFromInit.
  const answer = new Response(bodyOf(response), { status: response.status });
  const target = answer.headers;
  const source = response.headers;
  source.forEach((value, name) => {
    if (name !== "set-cookie") target.set(name, value);
  });
  for (const cookie of source.getSetCookie()) target.append("set-cookie", cookie);
  return answer;
}

/**
 * {@linkcode toWebResponse} with the headers given in the response's init: cheaper where the
 * runtime copies them natively (Bun: 0.5 µs against 0.9 for a poll's answer).
 *
 * @example
 * ```ts
 * import { toWebResponseFromInit } from "./web_exchange.ts";
 * const response = toWebResponseFromInit({ status: 200, headers: new Headers({ "x-a": "1" }), body: "ok" });
 * response.headers.get("x-a"); // "1"
 * ```
 */
export function toWebResponseFromInit(response: EngineResponse): Response {
  if (response instanceof Response) return response;
  return new Response(bodyOf(response), { status: response.status, headers: response.headers });
}

/** The body of `response`: none for 204, 205 and 304 (a `Response` refuses even an empty one). */
function bodyOf(response: EngineResponse): BodyInit | null {
  return NULL_BODY_STATUSES.has(response.status) ? null : response.body as BodyInit | null;
}

const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205, 304]);

/**
 * A fallback written for web `Request`s and `Response`s as a {@linkcode Fallback}.
 *
 * @example
 * ```ts
 * import { fromWebFallback } from "./web_exchange.ts";
 * const fallback = fromWebFallback(() => new Response("my app"));
 * ```
 */
export function fromWebFallback(fallback: (request: Request) => Response | Promise<Response>): Fallback {
  return (request) => fallback(request.toRequest());
}
