/**
 * The path and query of a request's URL, as the engine reads them on every request: without
 * building a `URL` (and its `URLSearchParams`) where the URL is plain, which cost about 1 µs per
 * request on Bun and Deno, a few per cent of a long-polling message.
 *
 * @module
 */

/** The query parameters the engine reads: `URLSearchParams` has this shape. */
export interface QueryParams extends Iterable<[string, string]> {
  /** The first value of `name`, `null` when absent. */
  get(name: string): string | null;
}

/** A request URL's path and query parameters. */
export interface RequestTarget {
  /** The path, as `URL.pathname` gives it. */
  readonly pathname: string;
  /** The query parameters, as `URL.searchParams` gives them. */
  readonly searchParams: QueryParams;
}

/**
 * An absolute URL that `URL` parses and whose path and query need no decoding or normalising: a
 * host that is a name (its last label starts with a letter) or a dotted IPv4 address, a port of
 * at most 5 digits (checked for its range below), unreserved characters only in the path and the
 * query (no `%`, `+`, `#`), and no dot segment in the path. Anything else goes to `URL`.
 */
const PLAIN =
  /^https?:\/\/(?:(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?|(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(?::([0-9]{1,5}))?(\/[A-Za-z0-9._~\-/]*)(?:\?([A-Za-z0-9._~\-=&]*))?$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * Parses `url` (absolute) into its path and query parameters, with `URL`'s results; `null` when
 * `URL` cannot parse it.
 *
 * @example
 * ```ts
 * import { parseRequestTarget } from "./request_target.ts";
 * const target = parseRequestTarget("http://localhost/socket.io/?EIO=4&transport=polling")!;
 * target.pathname; // "/socket.io/"
 * target.searchParams.get("transport"); // "polling"
 * ```
 */
export function parseRequestTarget(url: string): RequestTarget | null {
  const plain = PLAIN.exec(url);
  if (plain !== null && (plain[1] === undefined || Number(plain[1]) <= 65535) && !DOT_SEGMENT.test(plain[2])) {
    return { pathname: plain[2], searchParams: new PlainQuery(plain[3] ?? "") };
  }
  return URL.parse(url);
}

/**
 * A query string of unreserved characters, `&` and `=` (nothing to decode), read where asked:
 * `get` scans it and allocates only the value it returns.
 */
class PlainQuery implements QueryParams {
  readonly #search: string;

  constructor(search: string) {
    this.#search = search;
  }

  get(name: string): string | null {
    const search = this.#search;
    let start = 0;
    while (start <= search.length) {
      let end = search.indexOf("&", start);
      if (end === -1) end = search.length;
      if (end > start) {
        const eq = search.indexOf("=", start);
        const keyEnd = eq === -1 || eq > end ? end : eq;
        if (keyEnd - start === name.length && search.startsWith(name, start)) {
          return keyEnd === end ? "" : search.slice(keyEnd + 1, end);
        }
      }
      start = end + 1;
    }
    return null;
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const pair of this.#search.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      yield eq === -1 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    }
  }
}
