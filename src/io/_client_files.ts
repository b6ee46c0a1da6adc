/**
 * The files `serveClient` serves, under socket.io's names: the three browser bundles of the client
 * (`_client_bundle.ts`) and their source maps (`_client_bundle_maps.ts`, loaded on the first request
 * for a map), each as bytes in any content coding, made once and kept.
 *
 * @module
 */

import {
  CLIENT_BUNDLE_ESM,
  CLIENT_BUNDLE_GLOBAL,
  CLIENT_BUNDLE_HASH,
  CLIENT_BUNDLE_MSGPACK,
} from "./_client_bundle.ts";
import { decodeBase64 } from "../parser/base64.ts";
import { compressBody, decompressBody, type StreamEncoding } from "../util/compression.ts";

/** Which bundle: the classic script (global `io`), the ES module, or the msgpack classic script. */
export type ClientBundleKind = "global" | "esm" | "msgpack";

/** One of the files served: a bundle, or its source map. */
export interface ClientFile {
  /** The bundle. */
  readonly kind: ClientBundleKind;
  /** Whether it is the bundle's source map. */
  readonly map: boolean;
}

function file(kind: ClientBundleKind, map: boolean): ClientFile {
  return Object.freeze({ kind, map });
}

/** The names socket.io serves (`socket.io.js` is the minified classic script here too). */
const FILES: ReadonlyMap<string, ClientFile> = new Map([
  ["socket.io.js", file("global", false)],
  ["socket.io.js.map", file("global", true)],
  ["socket.io.min.js", file("global", false)],
  ["socket.io.min.js.map", file("global", true)],
  ["socket.io.esm.min.js", file("esm", false)],
  ["socket.io.esm.min.js.map", file("esm", true)],
  ["socket.io.msgpack.min.js", file("msgpack", false)],
  ["socket.io.msgpack.min.js.map", file("msgpack", true)],
]);

/**
 * The file `pathname` names under the engine path `path` (without its trailing slash), if any.
 *
 * @example
 * ```ts
 * import { clientFileOf } from "./_client_files.ts";
 * clientFileOf("/socket.io", "/socket.io/socket.io.min.js.map"); // { kind: "global", map: true }
 * ```
 */
export function clientFileOf(path: string, pathname: string): ClientFile | undefined {
  if (pathname.length <= path.length + 1 || !pathname.startsWith(path) || pathname[path.length] !== "/") {
    return undefined;
  }
  return FILES.get(pathname.slice(path.length + 1));
}

/**
 * The ETag of `file` in `encoding` (`identity` for none): one per representation, from a hash of
 * every bundle and map.
 *
 * @example
 * ```ts
 * import { clientFileEtag } from "./_client_files.ts";
 * clientFileEtag({ kind: "esm", map: false }, "gzip"); // '"<hash>-esm-gzip"'
 * ```
 */
export function clientFileEtag(file: ClientFile, encoding: StreamEncoding | "identity"): string {
  const coding = encoding === "identity" ? "" : `-${encoding}`;
  return `"${CLIENT_BUNDLE_HASH}-${file.kind}${file.map ? "-map" : ""}${coding}"`;
}

const SCRIPTS: Record<ClientBundleKind, string> = {
  global: CLIENT_BUNDLE_GLOBAL,
  esm: CLIENT_BUNDLE_ESM,
  msgpack: CLIENT_BUNDLE_MSGPACK,
};

/** The packed maps, as `_client_bundle_maps.ts` holds them. */
interface PackedMaps {
  sources: Record<string, string>;
  maps: Record<ClientBundleKind, { sources: string[]; names: string[]; mappings: string }>;
}

let packedMaps: Promise<PackedMaps> | undefined;

function unpackMaps(): Promise<PackedMaps> {
  return packedMaps ??= (async () => {
    const { CLIENT_BUNDLE_MAPS } = await import("./_client_bundle_maps.ts");
    const json = await decompressBody(decodeBase64(CLIENT_BUNDLE_MAPS), "gzip");
    return JSON.parse(new TextDecoder().decode(json)) as PackedMaps;
  })();
}

/** A bundle's source map (JSON), with the texts of its sources. */
async function mapText(kind: ClientBundleKind): Promise<string> {
  const packed = await unpackMaps();
  const map = packed.maps[kind];
  return JSON.stringify({
    version: 3,
    sources: map.sources,
    sourcesContent: map.sources.map((path) => packed.sources[path]),
    mappings: map.mappings,
    names: map.names,
  });
}

const made = new Map<string, Promise<Uint8Array>>();

/**
 * The bytes of `file` in `encoding` (`identity`: as they are), made on first use and kept.
 *
 * @example
 * ```ts
 * import { clientFileBytes } from "./_client_files.ts";
 * const gzipped = await clientFileBytes({ kind: "global", map: false }, "gzip");
 * ```
 */
export function clientFileBytes(file: ClientFile, encoding: StreamEncoding | "identity"): Promise<Uint8Array> {
  const key = `${file.kind} ${file.map} ${encoding}`;
  let bytes = made.get(key);
  if (bytes === undefined) {
    bytes = encoding === "identity"
      ? (file.map ? mapText(file.kind) : Promise.resolve(SCRIPTS[file.kind])).then((text) =>
        new TextEncoder().encode(text)
      )
      : clientFileBytes(file, "identity").then((plain) => compressBody(plain, encoding));
    made.set(key, bytes);
    // A failure (a runtime without the coding after all) is not kept: the next request tries again.
    bytes.catch(() => made.delete(key));
  }
  return bytes;
}
