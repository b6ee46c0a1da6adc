/**
 * HTTP requests over node:http (Deno, Bun and Node all have it) that hand back the body as it came
 * on the wire: never decoded, whatever its `Content-Encoding` (fetch would decode it), and
 * `decodedText` to read it with Node's zlib (not the code under test).
 *
 * @module
 */
import { request } from "node:http";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

/** An answer as it came. */
export interface RawAnswer {
  /** The status code. */
  status: number;
  /** The headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** The body's bytes as sent. */
  body: Uint8Array;
}

/** Sends a request (a new connection each) and reads the whole answer. */
export function raw(
  url: string,
  headers: Record<string, string> = {},
  method = "GET",
  body?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The body's bytes, decoded by its `Content-Encoding` (gzip, deflate, br) with Node's zlib. */
export function decodedBody(answer: RawAnswer): Uint8Array {
  const coding = answer.headers["content-encoding"];
  if (coding === "gzip") return gunzipSync(answer.body);
  if (coding === "deflate") return inflateSync(answer.body);
  if (coding === "br") return brotliDecompressSync(answer.body);
  if (coding !== undefined) throw new Error(`unknown Content-Encoding ${coding}`);
  return answer.body;
}

/** The body as text, decoded by its `Content-Encoding`. */
export function decodedText(answer: RawAnswer): string {
  return new TextDecoder().decode(decodedBody(answer));
}
