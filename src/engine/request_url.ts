/**
 * The URL of a request, from what a runtime built: Deno and Bun build it from the Host header, so
 * a bad one (`Host: a b`) makes `request.url` unparsable, and Bun leaves it relative when an
 * HTTP/1.0 request has no Host at all.
 *
 * @module
 */

import { headerOf } from "./request_fast_paths.ts";

/**
 * The request's URL, resolved against its Host (or `http://localhost`) when the runtime left it relative;
 * `null` when it cannot be parsed at all (the caller answers 400).
 *
 * @example
 * ```ts
 * import { requestUrl } from "./request_url.ts";
 * requestUrl(new Request("http://localhost/socket.io/?EIO=4"))?.pathname; // "/socket.io/"
 * ```
 */
export function requestUrl(request: Request): URL | null {
  const url = URL.parse(request.url);
  if (url !== null) return url;
  // Relative (Bun, which also leaves out a Host it cannot use): such a Host is refused as on the
  // other runtimes; none at all (HTTP/1.0) is served.
  const host = headerOf(request, "host");
  if (host !== null && !URL.canParse(`http://${host}/`)) return null;
  return URL.parse(request.url, `http://${host ?? "localhost"}`);
}

/**
 * The answer to a request whose URL cannot be parsed ({@linkcode requestUrl} gave `null`): 400,
 * and one log line with the offending URL.
 *
 * @example
 * ```ts
 * import { badUrlResponse } from "./request_url.ts";
 * badUrlResponse({ url: "http://a b/" }).status; // 400
 * ```
 */
export function badUrlResponse(request: { url: string }): Response {
  console.error(
    `[engine.io] refused a request with an invalid URL (bad Host header?): ${
      JSON.stringify(request.url.slice(0, 200))
    }`,
  );
  return new Response("Bad Request", { status: 400, headers: { "content-type": "text/plain" } });
}
