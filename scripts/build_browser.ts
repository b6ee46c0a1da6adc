/**
 * Builds the browser bundles of the client with esbuild, each with its source map, and checks their
 * size budget:
 *
 * - `dist/browser/socket.io.esm.min.js` (also as `client.min.js`): an ES module exporting `io`,
 *   `connect`, `Manager`, `Socket`, `SimpleClient` and the rest of `client.ts`;
 * - `dist/browser/socket.io.min.js` (also as `client.global.min.js`): a classic script that sets
 *   the global `io` (a function, with `io.Manager`, `io.Socket`, `io.connect`... as
 *   socket.io-client's UMD build has);
 * - `dist/browser/socket.io.msgpack.min.js`: the same script with the msgpack format as the
 *   client's default (as socket.io-client's msgpack bundle);
 * - `src/io/_client_bundle.ts` (the three bundles as strings) and `src/io/_client_bundle_maps.ts`
 *   (their source maps, packed), which the server serves under socket.io's names (`serveClient`).
 *   They are modules rather than files read at startup because Workers have no file system.
 *
 * Prints each size minified and min+gzip next to socket.io-client's own bundles, and exits with
 * code 1 when a bundle is larger than its budget ({@linkcode BUDGET_GZIP_BYTES},
 * {@linkcode MSGPACK_BUDGET_GZIP_BYTES}) min+gzip.
 *
 *   deno run -A scripts/build_browser.ts      (or: node scripts/build_browser.ts)
 *   deno run -A scripts/build_browser.ts --check   (build in memory; fail if the embedded
 *                                                    modules are out of date)
 *
 * @module
 */
import { build, type BuildOptions, type Plugin, transform } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import process from "node:process";

/**
 * The most min+gzip bytes each browser bundle may have. It was 10 KB for a 9.1 KB bundle; raised
 * to 11 KB when socket.io-client's remaining browser options (issue 14: the URL parts as options,
 * transportOptions, requestTimeout, forceBase64, closeOnBeforeunload, useNativeTimers, a settable
 * engine binaryType, packetCreate options) took the bundle from 9.9 to 10.5 KB; lowered to 10,600
 * bytes when the browser-only build (issue 15) took the ES module from 10,801 to 10,235 bytes and
 * the classic script to 10,356; 10,700 when the parser-module option (drop-in) and the emitter's
 * single-listener form (memory per connection) brought them to 10,514 and 10,634.
 */
export const BUDGET_GZIP_BYTES = 10_700;

/**
 * The budget of `socket.io.msgpack.min.js`, which carries a msgpack codec (`@msgpack/msgpack`,
 * about 6 KB min+gzip) besides the client: 16,567 bytes in the build of issue 15.
 */
export const MSGPACK_BUDGET_GZIP_BYTES = 17 * 1024;

const root = fileURLToPath(new URL("../", import.meta.url));

const browserEnv: Plugin = {
  // In the bundle the code knows it runs in a browser, so the cookie jar and the header code for
  // server runtimes drop out.
  name: "browser-env",
  setup(b) {
    b.onLoad({ filter: /src[\\/]client[\\/]env\.ts$/ }, () => ({
      contents: "export const isBrowser = true;\nexport const isWorkers = false;",
      loader: "ts",
    }));
    // The browser bundle carries no debug logging (like socket.io-client's production build): the
    // loggers become no-ops and the pattern matching drops out.
    b.onLoad({ filter: /src[\\/]util[\\/]debug\.ts$/ }, () => ({
      contents: [
        "export const createDebug = () => Object.assign(() => {}, { enabled: false });",
        "export const enableDebug = () => {};",
        "export const setDebugSink = () => {};",
        "export const readDebugEnvironment = () => undefined;",
      ].join("\n"),
      loader: "ts",
    }));
    // TLS settings, autoUnref and unreferenced timers are for Deno, Bun and Node: the code that
    // finds them in the runtime (and the node:http transports behind it) stays out.
    b.onLoad({ filter: /src[\\/]client[\\/]_runtime_features\.ts$/ }, () => ({
      contents: "export const unrefTimer = () => {};\nexport const resolveTransports = (o) => o;",
      loader: "ts",
    }));
    // Socket.IO v4 (the `protocol: 4` option) stays out of the bundles: their size budget.
    b.onLoad({ filter: /src[\\/]client[\\/]protocol_v4\.ts$/ }, () => ({
      contents: "export const protocolV4 = undefined;",
      loader: "ts",
    }));
    // Browsers have no Node `Buffer` (the base64 of polling's binary packets uses it elsewhere;
    // parser modules written for Node get their binary frames as they come).
    b.onLoad({ filter: /src[\\/]util[\\/]platform\.ts$/ }, () => ({
      contents: "export const nodeBuffer = undefined; export const toNodeBuffer = (bytes: Uint8Array) => bytes;",
      loader: "ts",
    }));
    // Browsers keep cookies themselves: the jar is never created there.
    b.onLoad({ filter: /src[\\/]client[\\/]cookie_jar\.ts$/ }, () => ({
      contents: "export class CookieJar {}",
      loader: "ts",
    }));
    // The client's logging calls go too, with their messages: each module's `const debug =
    // createDebug(...)` line and its `debug(...);` lines (each left empty: the map's lines stay
    // those of the file).
    b.onLoad({ filter: /src[\\/]client[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!/^const debug = createDebug\(/m.test(text)) return undefined;
      const contents = text.replace(/^([ \t]*debug\(|const debug = createDebug\().*\);[ \t]*$/gm, "");
      // A call over several lines would be left calling a `debug` that is no longer there.
      if (/\bdebug\(/.test(contents)) throw new Error(`${args.path}: a debug(...) call that is not one line`);
      return { contents, loader: "ts" };
    });
  },
};

const msgpackDefault: Plugin = {
  // socket.io.msgpack.min.js: the msgpack format is the client's default (as in socket.io-client's
  // msgpack bundle), the JSON one stays out.
  name: "msgpack-default",
  setup(b) {
    b.onLoad({ filter: /src[\\/]client[\\/]default_parser\.ts$/ }, () => ({
      contents: 'export { msgpackParser as clientDefaultParser } from "../parser/msgpack.ts";',
      loader: "ts",
    }));
  },
};

const common: BuildOptions & { write: false } = {
  bundle: true,
  minify: true,
  platform: "browser",
  target: ["es2022", "chrome100", "firefox100", "safari15.4"],
  legalComments: "none",
  // The client's internal members (`@internal`, named with a leading `_` because the Manager and
  // its sockets share them) get short names; each is listed, so that no property of the wire
  // (`_placeholder`) nor of a library in the bundle is touched.
  mangleProps: /^_(readyState|reconnecting|autoConnect|timers|packet|destroy|close|list)$/,
  write: false,
  // A map per bundle with the sources in it (served next to the bundle, as socket.io does). Inline
  // here: the second pass (see `minifyAgain`) reads it and makes the map of the final code.
  sourcemap: "inline",
  sourcesContent: true,
  plugins: [browserEnv],
};

/** One built bundle: its code (which names its map) and the source map. */
export interface BrowserBundle {
  /** The minified code. */
  code: string;
  /** Its source map (JSON). */
  map: string;
}

/** The built bundles, by the name socket.io serves each as. */
export interface BrowserBundles {
  /** The ES module (`socket.io.esm.min.js`). */
  esm: BrowserBundle;
  /** The classic script that sets `globalThis.io` (`socket.io.min.js`, and `socket.io.js`). */
  global: BrowserBundle;
  /** The classic script whose client speaks msgpack by default (`socket.io.msgpack.min.js`). */
  msgpack: BrowserBundle;
  /** esbuild's metafile of the ES module. */
  meta: unknown;
}

/** The classic-script entry: the global `io` (a function, with the rest of the client on it). */
const GLOBAL_ENTRY = {
  contents: [
    'import * as client from "./client.ts";',
    "globalThis.io = Object.assign(client.io, client);",
  ].join("\n"),
  resolveDir: root,
  sourcefile: "client_global.ts",
  loader: "ts" as const,
};

/**
 * The code and map of a build (its one output file, with an inline map), minified a second time.
 * In the bundle, the constants of other modules that the bundler put in place (`isBrowser`, the
 * stubs' `undefined`s) are now the code's own: this pass folds the branches they decide and drops
 * what only those branches used, which a bundle's single pass does not do.
 */
async function minifyAgain(result: { outputFiles?: { path: string; text: string }[] }): Promise<BrowserBundle> {
  const file = result.outputFiles![0];
  const name = file.path.slice(file.path.lastIndexOf("/") + 1);
  const again = await transform(file.text, {
    minify: true,
    treeShaking: true,
    target: common.target,
    legalComments: "none",
    sourcemap: "external",
    sourcesContent: true,
    sourcefile: name,
  });
  return { code: again.code + `//# sourceMappingURL=${name}.map\n`, map: again.map };
}

/** Builds the three bundles in memory. */
export async function buildBrowserBundles(): Promise<BrowserBundles> {
  const out = `${root}dist/browser/`;
  const esm = await build({
    ...common,
    entryPoints: [`${root}client.ts`],
    format: "esm",
    metafile: true,
    outfile: `${out}socket.io.esm.min.js`,
  });
  const global = await build({ ...common, format: "iife", stdin: GLOBAL_ENTRY, outfile: `${out}socket.io.min.js` });
  const msgpack = await build({
    ...common,
    format: "iife",
    stdin: GLOBAL_ENTRY,
    outfile: `${out}socket.io.msgpack.min.js`,
    plugins: [browserEnv, msgpackDefault],
  });
  return {
    esm: await minifyAgain(esm),
    global: await minifyAgain(global),
    msgpack: await minifyAgain(msgpack),
    meta: esm.metafile,
  };
}

/** A source's path as the maps name it: from the repository's root (`src/client/socket.ts`). */
function sourcePath(path: string): string {
  const modules = path.lastIndexOf("node_modules/");
  if (modules >= 0) return path.slice(modules);
  return path.replace(/^(\.\.\/)+/, "");
}

/** A source map with its sources named from the repository's root (the same wherever it is built). */
function normalizeMap(map: string): SourceMap {
  const parsed = JSON.parse(map) as SourceMap;
  return {
    version: 3,
    sources: parsed.sources.map(sourcePath),
    sourcesContent: parsed.sourcesContent,
    mappings: parsed.mappings,
    names: parsed.names,
  };
}

/** A source map (version 3) as esbuild writes it. */
export interface SourceMap {
  /** Always 3. */
  version: 3;
  /** The sources' paths. */
  sources: string[];
  /** The sources' texts. */
  sourcesContent: string[];
  /** The mappings. */
  mappings: string;
  /** The names. */
  names: string[];
}

/** The bundles' kinds, as `src/io/_client_bundle_serve.ts` names them. */
const KINDS = ["global", "esm", "msgpack"] as const;

/** Every source map, normalized (sources from the repository's root). */
export function sourceMapsOf(bundles: BrowserBundles): Record<(typeof KINDS)[number], SourceMap> {
  return {
    global: normalizeMap(bundles.global.map),
    esm: normalizeMap(bundles.esm.map),
    msgpack: normalizeMap(bundles.msgpack.map),
  };
}

/**
 * A hash of the bundles' code: the ETag they are served with, and the staleness check. The maps are
 * not in it: they are made with the code, and describe it from the sources as they were then (an
 * edit that leaves the minified code as it is, a comment, needs no new build).
 */
export function bundlesHash(bundles: BrowserBundles): string {
  const hash = createHash("sha256");
  for (const kind of KINDS) hash.update(bundles[kind].code).update("\0");
  return hash.digest("hex").slice(0, 20);
}

const HEADER = [
  "// deno-fmt-ignore-file",
  "// deno-lint-ignore-file",
  "// Generated by scripts/build_browser.ts (deno task build:browser) from the client's sources: do not edit.",
];

/** The text of `src/io/_client_bundle.ts` for these bundles. */
export function clientBundleModule(bundles: BrowserBundles): string {
  return [
    ...HEADER,
    "/**",
    " * The client's browser bundles, embedded so that every runtime (Workers too, which have no file",
    " * system) can serve them at `/socket.io/socket.io.min.js` and friends (the `serveClient` option).",
    " * Their source maps are in `_client_bundle_maps.ts`.",
    " *",
    " * @module",
    " */",
    "",
    "/** A hash of the bundles' code: the ETag they are served with. */",
    `export const CLIENT_BUNDLE_HASH: string = ${JSON.stringify(bundlesHash(bundles))};`,
    "",
    "/** The classic script that sets the global `io` (`socket.io.min.js`, and `socket.io.js`). */",
    `export const CLIENT_BUNDLE_GLOBAL: string = ${JSON.stringify(bundles.global.code)};`,
    "",
    "/** The ES module exporting `io` (`socket.io.esm.min.js`). */",
    `export const CLIENT_BUNDLE_ESM: string = ${JSON.stringify(bundles.esm.code)};`,
    "",
    "/** The classic script whose `io` speaks msgpack unless told otherwise (`socket.io.msgpack.min.js`). */",
    `export const CLIENT_BUNDLE_MSGPACK: string = ${JSON.stringify(bundles.msgpack.code)};`,
    "",
  ].join("\n");
}

/**
 * The text of `src/io/_client_bundle_maps.ts`: the three source maps, their sources' texts once
 * (the bundles share most of them), gzipped and in base64 (a third of the maps' size).
 */
export function clientBundleMapsModule(bundles: BrowserBundles): string {
  const maps = sourceMapsOf(bundles);
  const sources: Record<string, string> = {};
  const parts: Record<string, { sources: string[]; names: string[]; mappings: string }> = {};
  for (const kind of KINDS) {
    const map = maps[kind];
    map.sources.forEach((path, i) => {
      if (path in sources && sources[path] !== map.sourcesContent[i]) throw new Error(`two texts of ${path}`);
      sources[path] = map.sourcesContent[i];
    });
    parts[kind] = { sources: map.sources, names: map.names, mappings: map.mappings };
  }
  const packed = gzipSync(new TextEncoder().encode(JSON.stringify({ sources, maps: parts })), { level: 9 });
  return [
    ...HEADER,
    "/**",
    " * The source maps of the client's browser bundles (`socket.io.min.js.map` and friends): gzipped",
    " * JSON in base64, `{ sources: { [path]: text }, maps: { [kind]: { sources, names, mappings } } }`.",
    " *",
    " * @module",
    " */",
    "",
    "/** The hash of `_client_bundle.ts` these maps belong to. */",
    `export const CLIENT_BUNDLE_MAPS_HASH: string = ${JSON.stringify(bundlesHash(bundles))};`,
    "",
    "/** The maps, packed. */",
    `export const CLIENT_BUNDLE_MAPS: string = ${JSON.stringify(Buffer.from(packed).toString("base64"))};`,
    "",
  ].join("\n");
}

const gzip = (text: string) => gzipSync(new TextEncoder().encode(text), { level: 9 }).length;
const kb = (n: number) => (n / 1024).toFixed(1) + " KB";

/** The hash a generated module at `path` was made for (`undefined` if there is none). */
function hashIn(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return /export const CLIENT_BUNDLE(?:_MAPS)?_HASH: string = "([0-9a-f]+)"/.exec(readFileSync(path, "utf8"))?.[1];
}

/**
 * Builds, writes `dist/browser/` and the embedded modules `src/io/_client_bundle.ts` and
 * `src/io/_client_bundle_maps.ts` (unless `writeModule` is false, or `check` is set: then nothing
 * is written), prints the sizes; returns the sizes, whether each is within its budget, the bundles,
 * and whether the embedded modules were up to date (made from the same code: its hash is compared;
 * gzip's bytes may differ from one runtime's zlib to another's).
 */
export async function buildBrowser(
  options: { check?: boolean; quiet?: boolean; writeModule?: boolean } = {},
): Promise<
  { ok: boolean; sizes: Record<string, { min: number; gzip: number }>; upToDate: boolean; bundles: BrowserBundles }
> {
  const log = options.quiet ? () => {} : console.log;
  const bundles = await buildBrowserBundles();
  const hash = bundlesHash(bundles);
  const modulePath = `${root}src/io/_client_bundle.ts`;
  const mapsPath = `${root}src/io/_client_bundle_maps.ts`;
  const upToDate = hashIn(modulePath) === hash && hashIn(mapsPath) === hash;
  if (!options.check) {
    const out = `${root}dist/browser`;
    mkdirSync(out, { recursive: true });
    const maps = sourceMapsOf(bundles);
    const files = [["esm", "socket.io.esm.min.js"], ["global", "socket.io.min.js"], [
      "msgpack",
      "socket.io.msgpack.min.js",
    ]] as const;
    for (const [kind, file] of files) {
      writeFileSync(`${out}/${file}`, bundles[kind].code);
      writeFileSync(`${out}/${file}.map`, JSON.stringify(maps[kind]));
    }
    // The names the tests and the examples load.
    writeFileSync(`${out}/client.min.js`, bundles.esm.code);
    writeFileSync(`${out}/client.global.min.js`, bundles.global.code);
    writeFileSync(`${out}/meta.json`, JSON.stringify(bundles.meta));
    if (!upToDate && options.writeModule !== false) {
      writeFileSync(modulePath, clientBundleModule(bundles));
      writeFileSync(mapsPath, clientBundleMapsModule(bundles));
    }
  }
  const sizes: Record<string, { min: number; gzip: number }> = {};
  let ok = true;
  for (
    const [name, text, budget] of [
      ["socket.io.esm.min.js", bundles.esm.code, BUDGET_GZIP_BYTES],
      ["socket.io.min.js", bundles.global.code, BUDGET_GZIP_BYTES],
      ["socket.io.msgpack.min.js", bundles.msgpack.code, MSGPACK_BUDGET_GZIP_BYTES],
    ] as const
  ) {
    const size = { min: new TextEncoder().encode(text).length, gzip: gzip(text) };
    sizes[name] = size;
    const over = size.gzip > budget;
    if (over) ok = false;
    log(
      `dist/browser/${name}: ${kb(size.min)} min, ${kb(size.gzip)} min+gzip (${size.gzip} bytes; budget ${budget})` +
        (over ? "  OVER BUDGET" : ""),
    );
  }
  for (const file of ["socket.io.esm.min.js", "socket.io.msgpack.min.js"]) {
    const reference = `${root}node_modules/socket.io-client/dist/${file}`;
    if (!existsSync(reference)) continue;
    const ref = readFileSync(reference, "utf8");
    log(`socket.io-client ${file}: ${kb(ref.length)} min, ${kb(gzip(ref))} min+gzip`);
  }
  return { ok, sizes, upToDate, bundles };
}

if (import.meta.main || process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const result = await buildBrowser({ check });
  if (!result.ok) {
    console.error("A browser bundle is over its budget (min+gzip).");
    process.exit(1);
  }
  if (check && !result.upToDate) {
    console.error("src/io/_client_bundle.ts or _client_bundle_maps.ts is out of date: run `deno task build:browser`.");
    process.exit(1);
  }
  if (!check && !result.upToDate) console.log("wrote src/io/_client_bundle.ts and src/io/_client_bundle_maps.ts");
}
