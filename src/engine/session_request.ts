/**
 * The request that opened a session, kept for the session's whole life in its cheapest form: the
 * URL as a string and the headers as one plain object, read once from the request (some runtimes
 * release a request once it is answered). `url` and `headers` are built on first use only, so an
 * idle connection does not hold a `URL` and a `Headers` it never reads.
 *
 * @module
 */

import type { HandshakeRequest } from "./types.ts";
import type { EngineRequest } from "./exchange.ts";
import { intern, internHeaderValues } from "../util/intern.ts";

/**
 * A {@linkcode HandshakeRequest} whose `URL` and `Headers` are made when first read.
 *
 * @example
 * ```ts
 * import { SessionRequest } from "./session_request.ts";
 * import { fromWebRequest } from "./web_exchange.ts";
 * const opening = new Request("http://x/socket.io/?EIO=4&room=a", { headers: { "x-a": "1" } });
 * const req = SessionRequest.from(fromWebRequest(opening), false);
 * req.headerRecord["x-a"]; // "1"
 * req.url.searchParams.get("room"); // "a"
 * ```
 */
export class SessionRequest implements HandshakeRequest {
  /** The full URL of the request. */
  readonly href: string;
  /** The headers, lower-case names (as `Headers` iterates them), own properties only. */
  readonly headerRecord: Record<string, string>;
  /** Its method. */
  readonly method: string;
  /** The peer's address, where the runtime tells; `""` otherwise. */
  readonly remoteAddress: string;
  /** Whether it came over TLS. */
  readonly secure: boolean;
  /** The `URL` and `Headers`, once read (one field for both: most sessions never read them). */
  #views: { url?: URL; headers?: Headers } | undefined;

  /** Keeps the given parts; see {@linkcode SessionRequest.from}. */
  constructor(
    href: string,
    headerRecord: Record<string, string>,
    method: string,
    remoteAddress: string,
    secure: boolean,
  ) {
    this.href = href;
    this.headerRecord = headerRecord;
    this.method = method;
    this.remoteAddress = remoteAddress;
    this.secure = secure;
  }

  /** Reads what a session keeps of `request`. */
  static from(request: EngineRequest, secure: boolean): SessionRequest {
    // Header values, the URL and the address repeat across connections: one copy of each.
    return new SessionRequest(
      intern(request.url),
      internHeaderValues(request.headerRecord()),
      intern(request.method),
      intern(request.remoteAddress ?? ""),
      secure,
    );
  }

  /** The full URL (query included). */
  get url(): URL {
    return (this.#views ??= {}).url ??= new URL(this.href);
  }

  /** The headers. */
  get headers(): Headers {
    return (this.#views ??= {}).headers ??= new Headers(Object.entries(this.headerRecord));
  }

  /** The path and query string, as in `socket.handshake.url`. */
  get pathAndQuery(): string {
    const href = this.href;
    const start = href.indexOf("/", href.indexOf("//") + 2);
    const hash = href.indexOf("#");
    return start === -1 ? "/" : href.slice(start, hash === -1 ? href.length : hash);
  }

  /** The query string without `?` (`""` if none). */
  get search(): string {
    const href = this.href;
    const q = href.indexOf("?");
    if (q === -1) return "";
    const hash = href.indexOf("#", q);
    return href.slice(q + 1, hash === -1 ? href.length : hash);
  }
}
