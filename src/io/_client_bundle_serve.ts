/**
 * Serves the embedded client bundles (`serveClient`): `PATH/socket.io.js` and
 * `PATH/socket.io.min.js` (a classic script setting the global `io`) and `PATH/socket.io.esm.min.js`
 * (an ES module exporting `io`), as socket.io does, with an ETag (a 304 for a matching
 * `If-None-Match`), `Cache-Control: public, max-age=0` (cache, but revalidate) and gzip when the
 * browser accepts it.
 *
 * @module
 */

import { CLIENT_BUNDLE_ESM, CLIENT_BUNDLE_GLOBAL, CLIENT_BUNDLE_HASH } from "./_client_bundle.ts";
import type { EngineRequest, EngineResponse } from "../engine/exchange.ts";

/** Which bundle: the classic script (global `io`) or the ES module. */
export type ClientBundleKind = "global" | "esm";
type Kind = ClientBundleKind;

const FILES: Record<string, Kind> = {
  "socket.io.js": "global",
  "socket.io.min.js": "global",
  "socket.io.esm.min.js": "esm",
};

const texts: Record<Kind, string> = { global: CLIENT_BUNDLE_GLOBAL, esm: CLIENT_BUNDLE_ESM };
const plain: Partial<Record<Kind, Uint8Array>> = {};
const gzipped: Partial<Record<Kind, Promise<Uint8Array | undefined>>> = {};

/**
 * Which bundle `pathname` names under the engine path `path` (without its trailing slash), if any.
 *
 * @example
 * ```ts
 * import { clientBundleKind } from "./_client_bundle_serve.ts";
 * clientBundleKind("/socket.io", "/socket.io/socket.io.js"); // "global"
 * ```
 */
export function clientBundleKind(path: string, pathname: string): Kind | undefined {
  if (pathname.length <= path.length + 1 || !pathname.startsWith(path) || pathname[path.length] !== "/") {
    return undefined;
  }
  const name = pathname.slice(path.length + 1);
  return Object.prototype.hasOwnProperty.call(FILES, name) ? FILES[name] : undefined;
}

function bytesOf(kind: Kind): Uint8Array {
  return plain[kind] ??= new TextEncoder().encode(texts[kind]);
}

async function gzipOf(kind: Kind): Promise<Uint8Array | undefined> {
  if (typeof CompressionStream !== "function") return undefined;
  try {
    const stream = new Blob([bytesOf(kind) as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return undefined;
  }
}

function acceptsGzip(request: EngineRequest): boolean {
  const accept = request.header("accept-encoding");
  if (!accept) return false;
  return accept.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding.trim() !== "gzip" && coding.trim() !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  });
}

function etagMatches(request: EngineRequest, etags: string[]): boolean {
  const header = request.header("if-none-match");
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => etags.includes(tag.trim().replace(/^W\//, "")));
}

/**
 * The answer to a GET or HEAD for one of the bundles.
 *
 * @example
 * ```ts
 * import { serveClientBundle } from "./_client_bundle_serve.ts";
 * import { fromWebRequest } from "../engine/web_exchange.ts";
 * const answer = await serveClientBundle(fromWebRequest(new Request("http://x/socket.io/socket.io.js")), "global");
 * answer.status; // 200
 * ```
 */
export async function serveClientBundle(request: EngineRequest, kind: Kind): Promise<EngineResponse> {
  const etag = `"${CLIENT_BUNDLE_HASH}-${kind}"`;
  const gzipEtag = `"${CLIENT_BUNDLE_HASH}-${kind}-gzip"`;
  const headers = new Headers({
    "cache-control": "public, max-age=0",
    "content-type": "application/javascript; charset=utf-8",
    "vary": "Accept-Encoding",
  });
  if (request.method !== "GET" && request.method !== "HEAD") {
    headers.set("allow", "GET, HEAD");
    return { status: 405, headers, body: "Method Not Allowed" };
  }
  let body = bytesOf(kind);
  let tag = etag;
  if (acceptsGzip(request)) {
    const gz = await (gzipped[kind] ??= gzipOf(kind));
    if (gz) {
      body = gz;
      tag = gzipEtag;
      headers.set("content-encoding", "gzip");
    }
  }
  headers.set("etag", tag);
  if (etagMatches(request, [etag, gzipEtag])) {
    headers.delete("content-encoding");
    return { status: 304, headers, body: null };
  }
  return { status: 200, headers, body: request.method === "HEAD" ? null : body };
}
