/**
 * HTTP body compression with the web-standard `CompressionStream` (Deno, Bun, Node, Workers and
 * browsers all have it, with `gzip` and `deflate`): long-polling answers (`httpCompression`) and
 * the served client bundle.
 *
 * @module
 */

/** A content coding the server produces with `CompressionStream`. */
export type StreamEncoding = "gzip" | "deflate";

const encoder = new TextEncoder();

/**
 * Compresses `data` (text as UTF-8) to `encoding` (`deflate` is the zlib format, as HTTP's
 * `deflate` coding and Node's `createDeflate` have it).
 *
 * @example
 * ```ts
 * import { compressBody } from "./compression.ts";
 * const gzipped = await compressBody("hello ".repeat(1000), "gzip");
 * gzipped.byteLength < 6000; // true
 * ```
 */
export function compressBody(data: string | Uint8Array, encoding: StreamEncoding): Promise<Uint8Array> {
  return transform(new CompressionStream(encoding), typeof data === "string" ? encoder.encode(data) : data);
}

/**
 * Decompresses `data` from `encoding`.
 *
 * @example
 * ```ts
 * import { compressBody, decompressBody } from "./compression.ts";
 * const bytes = await decompressBody(await compressBody("hi", "gzip"), "gzip");
 * new TextDecoder().decode(bytes); // "hi"
 * ```
 */
export function decompressBody(data: Uint8Array, encoding: StreamEncoding): Promise<Uint8Array> {
  return transform(new DecompressionStream(encoding), data);
}

async function transform(stream: CompressionStream | DecompressionStream, data: Uint8Array): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Not awaited: the writes complete as the readable side is read (a stream with a small
  // high-water mark would otherwise wait for ever).
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
