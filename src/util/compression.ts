/**
 * Body compression with the web-standard `CompressionStream` (Deno, Bun, Node, Workers and
 * browsers all have it, with `gzip` and `deflate`; Deno, Bun and Node also with brotli): long-polling
 * answers (`httpCompression`), the served client bundle, and our client's node:http transport.
 *
 * Where the runtime has Node's zlib (Node, Deno, Bun), gzip and deflate bodies up to 64 KiB are
 * compressed by its synchronous functions instead: on Node a `CompressionStream` costs 160 µs of
 * CPU for a 2 KB polling answer, `gzipSync` 20 µs (the stream's machinery, not the compression:
 * both cost the same at 64 KB); on Deno 52 against 21 µs; on Bun the same. Larger bodies go through
 * the stream, which does not hold up the event loop.
 *
 * @module
 */

import { nodeBuiltinModule } from "./platform.ts";
import { concatBytes } from "../parser/binary.ts";

/** An HTTP content coding made with `CompressionStream` (`br`: where the runtime has brotli). */
export type StreamEncoding = "gzip" | "deflate" | "br";

const FORMATS: Record<StreamEncoding, string> = { gzip: "gzip", deflate: "deflate", br: "brotli" };

const encoder = new TextEncoder();

const supported: Partial<Record<StreamEncoding, boolean>> = {};

/** The synchronous functions of Node's zlib used here. */
interface SyncZlib {
  gzipSync(data: Uint8Array): Uint8Array;
  deflateSync(data: Uint8Array): Uint8Array;
}

/** The largest body compressed synchronously (about 0.4 ms of CPU at most). */
const SYNC_LIMIT = 64 * 1024;

let syncZlib: SyncZlib | null | undefined;

function zlibOfRuntime(): SyncZlib | null {
  if (syncZlib === undefined) {
    let zlib: Partial<SyncZlib> | undefined;
    try {
      zlib = nodeBuiltinModule("zlib") as Partial<SyncZlib> | undefined;
    } catch {
      zlib = undefined;
    }
    syncZlib = typeof zlib?.gzipSync === "function" && typeof zlib.deflateSync === "function" ? zlib as SyncZlib : null;
  }
  return syncZlib;
}

/**
 * Whether this runtime's `CompressionStream` makes `encoding` (brotli is not a web standard:
 * Deno, Bun and Node have it, Workers and browsers do not).
 *
 * @example
 * ```ts
 * import { canCompress } from "./compression.ts";
 * canCompress("gzip"); // true
 * ```
 */
export function canCompress(encoding: StreamEncoding): boolean {
  let known = supported[encoding];
  if (known === undefined) {
    try {
      new CompressionStream(FORMATS[encoding] as CompressionFormat);
      known = true;
    } catch {
      known = false;
    }
    supported[encoding] = known;
  }
  return known;
}

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
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  if (encoding !== "br" && bytes.byteLength <= SYNC_LIMIT) {
    const zlib = zlibOfRuntime();
    if (zlib !== null) {
      try {
        const out = encoding === "gzip" ? zlib.gzipSync(bytes) : zlib.deflateSync(bytes);
        // A plain view (not Node's Buffer) on the same memory.
        return Promise.resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      } catch (err) {
        return Promise.reject(err);
      }
    }
  }
  return transform(new CompressionStream(FORMATS[encoding] as CompressionFormat), bytes);
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
  return transform(new DecompressionStream(FORMATS[encoding] as CompressionFormat), data);
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
  return concatBytes(chunks, size);
}
