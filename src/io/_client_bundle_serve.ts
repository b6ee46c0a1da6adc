/**
 * Serves the client's files (`serveClient`) as socket.io does: `PATH/socket.io.js`,
 * `socket.io.min.js` (a classic script setting the global `io`), `socket.io.msgpack.min.js` (the same
 * speaking msgpack), `socket.io.esm.min.js` (an ES module exporting `io`) and the `.map` of each;
 * with the server's CORS headers, an ETag (a 304 for a matching `If-None-Match`),
 * `Cache-Control: public, max-age=0` (cache, but revalidate) and brotli, gzip or deflate as the
 * request's `Accept-Encoding` prefers (brotli where the runtime's `CompressionStream` has it: Deno,
 * Bun, Node; on Workers the platform compresses).
 *
 * @module
 */

import type { EngineRequest, EngineResponse } from "../engine/exchange.ts";
import { applyCors, type CorsOptions } from "../engine/cors.ts";
import { preferredEncoding } from "../engine/accept_encoding.ts";
import { canCompress, type StreamEncoding } from "../util/compression.ts";
import { platformCompressesHttp } from "../util/platform.ts";
import { type ClientFile, clientFileBytes, clientFileEtag } from "./_client_files.ts";

export { type ClientBundleKind, type ClientFile, clientFileOf } from "./_client_files.ts";

/**
 * The codings offered, in socket.io's order of preference (none where the platform compresses
 * HTTP answers itself: Workers).
 */
function encodings(): StreamEncoding[] {
  const offered: StreamEncoding[] = [];
  if (platformCompressesHttp()) return offered;
  for (const encoding of ["br", "gzip", "deflate"] as const) {
    if (canCompress(encoding)) offered.push(encoding);
  }
  return offered;
}

function etagMatches(request: EngineRequest, etags: string[]): boolean {
  const header = request.header("if-none-match");
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => etags.includes(tag.trim().replace(/^W\//, "")));
}

/**
 * The answer to a request for one of the client's files; `cors` is the server's `cors` option
 * (its headers on every answer, and preflight requests answered).
 *
 * @example
 * ```ts
 * import { clientFileOf, serveClientFile } from "./_client_bundle_serve.ts";
 * import { fromWebRequest } from "../engine/web_exchange.ts";
 * const request = fromWebRequest(new Request("http://x/socket.io/socket.io.min.js"));
 * const answer = await serveClientFile(request, clientFileOf("/socket.io", "/socket.io/socket.io.min.js")!);
 * answer.status; // 200
 * ```
 */
export async function serveClientFile(
  request: EngineRequest,
  file: ClientFile,
  cors?: CorsOptions,
): Promise<EngineResponse> {
  const headers = new Headers();
  const method = request.method;
  if (cors) {
    try {
      await applyCors(cors, request, headers, method === "OPTIONS");
    } catch {
      // An origin function that failed: no CORS headers (the browser refuses the file).
    }
    if (method === "OPTIONS") return { status: cors.optionsSuccessStatus ?? 204, headers, body: null };
  }
  headers.set("Cache-Control", "public, max-age=0");
  headers.set("Content-Type", `application/${file.map ? "json" : "javascript"}; charset=utf-8`);
  headers.append("Vary", "Accept-Encoding");
  if (method !== "GET" && method !== "HEAD") {
    headers.set("Allow", "GET, HEAD");
    return { status: 405, headers, body: "Method Not Allowed" };
  }
  const offered = encodings();
  const etags = ["identity" as const, ...offered].map((encoding) => clientFileEtag(file, encoding));
  let encoding: StreamEncoding | "identity" = preferredEncoding(request.header("accept-encoding"), offered) as
    | StreamEncoding
    | undefined ?? "identity";
  if (etagMatches(request, etags)) {
    headers.set("ETag", clientFileEtag(file, encoding));
    return { status: 304, headers, body: null };
  }
  let body: Uint8Array;
  try {
    body = await clientFileBytes(file, encoding);
  } catch {
    encoding = "identity";
    body = await clientFileBytes(file, encoding);
  }
  headers.set("ETag", clientFileEtag(file, encoding));
  if (encoding !== "identity") headers.set("Content-Encoding", encoding);
  return { status: 200, headers, body: method === "HEAD" ? null : body };
}
