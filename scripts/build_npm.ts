/**
 * Builds the npm package into `dist/npm/` (and the browser bundles, see `build_browser.ts`):
 *
 * - ESM JavaScript bundled by esbuild, one file per export path of `deno.json` with shared chunks
 *   (so `./server` and `./node` share one `Server` class), Node 22+ and Bun; `ws`,
 *   `@msgpack/msgpack`, `bcryptjs` and `hono` stay imports (dependencies; `hono` an optional peer);
 * - `.d.ts` declarations by the TypeScript compiler (`emitDeclarationOnly`, no type check: the
 *   sources are checked by `deno check`), with `.ts` import paths rewritten to `.js`;
 * - CommonJS entries for `.` and `./server` shaped as socket.io's (`require(...)(httpServer)`);
 * - `package.json` with `exports` (`types`, `require` for those two, `import`), README and LICENSE.
 *
 *   deno run -A scripts/build_npm.ts        (or: npx deno task build)
 *
 * Fails (exit code 1) when a browser bundle is over its size budget or a step fails.
 *
 * @module
 */
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { BUDGET_GZIP_BYTES, buildBrowser } from "./build_browser.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

interface DenoJson {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

/** Output names (without `.js`) of each export path. */
function entryName(exportPath: string): string {
  return exportPath === "." ? "index" : exportPath.slice(2).replaceAll("/", "_");
}

/** The npm version range of an `npm:name@range` import of deno.json. */
function npmRange(deno: DenoJson, name: string): string {
  const spec = deno.imports[name];
  const match = spec && /^npm:(?:@[^/]+\/)?[^@]+@(.+)$/.exec(spec);
  if (!match) throw new Error(`deno.json has no npm: import for ${name}`);
  return match[1];
}

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = `${dir}/${name}`;
    if (statSync(path).isDirectory()) files.push(...listFiles(path));
    else files.push(path);
  }
  return files;
}

/** Export paths that `require()` gets as socket.io's module: a function that makes a server. */
const CJS_EXPORTS = [".", "./server"];

/**
 * A CommonJS entry for the ES module `esm`, shaped as socket.io's `module.exports`: a function
 * `(srv, opts) => new Server(srv, opts)` carrying every export (`Server`, `Namespace`...), so
 * `require("@sio/socket.io")(httpServer)` and `const { Server } = require(...)` both work. It
 * loads the ES module itself (`require()` of an ES module: Node 22.12+, Bun), so both kinds of
 * import share one module instance. (The compat tests make their socket.io shim with it too.)
 */
export function cjsEntry(esm: string): string {
  return `"use strict";
const esm = require(${JSON.stringify(esm)});
function createServer(srv, opts) {
  return new esm.Server(srv, opts);
}
module.exports = Object.assign(createServer, esm);
`;
}

/**
 * Builds `dist/npm/` (and `dist/browser/`; `writeModule: false` leaves `src/io/_client_bundle.ts`
 * as it is, for tests); returns the package.json written. With `outDir` (tests, which may run side
 * by side on several runtimes), the package goes there and nothing else is written: the browser
 * bundles are built and checked against their budget only.
 */
export async function buildNpm(
  options: { quiet?: boolean; writeModule?: boolean; outDir?: string } = {},
): Promise<Record<string, unknown>> {
  const log = options.quiet ? () => {} : console.log;
  const out = options.outDir ?? `${root}dist/npm`;
  const browser = await buildBrowser({
    quiet: options.quiet,
    writeModule: options.writeModule,
    check: options.outDir !== undefined,
  });
  if (!browser.ok) throw new Error(`A browser bundle is over its budget of ${BUDGET_GZIP_BYTES} bytes min+gzip`);

  const deno: DenoJson = JSON.parse(readFileSync(`${root}deno.json`, "utf8"));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // 1. JavaScript
  const entryPoints: Record<string, string> = {};
  for (const [exportPath, file] of Object.entries(deno.exports)) entryPoints[entryName(exportPath)] = `${root}${file}`;
  const external = ["node:*", "ws", "hono", "hono/*", "@msgpack/msgpack", "bcryptjs"];
  await build({
    entryPoints,
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external,
    chunkNames: "_chunks/[name]-[hash]",
    legalComments: "none",
    logLevel: "error",
  });

  // 2. Declarations: tsc on a generated tsconfig, into <out>/types (same tree as the sources).
  const tsconfig = {
    compilerOptions: {
      target: "es2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["es2023", "dom", "dom.iterable"],
      types: ["node"],
      // The generated tsconfig sits beside the output, which may be outside the project.
      typeRoots: [`${root}node_modules/@types`],
      declaration: true,
      emitDeclarationOnly: true,
      noCheck: true,
      skipLibCheck: true,
      strict: true,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      verbatimModuleSyntax: true,
      declarationDir: `${out}/types`,
      rootDir: root,
    },
    files: Object.values(deno.exports).map((file) => `${root}${file}`),
  };
  const tsconfigPath = `${out}.tsconfig.json`;
  writeFileSync(tsconfigPath, JSON.stringify(tsconfig, null, 2));
  const tsc = `${root}node_modules/typescript/bin/tsc`;
  const node = existsSync(`${root}node_modules/.bin/node`) ? `${root}node_modules/.bin/node` : "node";
  try {
    execFileSync(node, [tsc, "-p", tsconfigPath], { cwd: root, stdio: "inherit" });
  } finally {
    rmSync(tsconfigPath, { force: true });
  }
  // Declarations still name `./x.ts`: point them at `./x.js` (whose declarations are `x.d.ts`).
  for (const file of listFiles(`${out}/types`)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1$2.js$3");
    if (fixed !== text) writeFileSync(file, fixed);
  }

  // 3. CommonJS entries for the server's paths, as socket.io's: `require(...)(httpServer, opts)`.
  for (const exportPath of CJS_EXPORTS) {
    const name = entryName(exportPath);
    writeFileSync(`${out}/${name}.cjs`, cjsEntry(`./${name}.js`));
  }

  // 4. package.json, README, LICENSE
  const exports: Record<string, { types: string; require?: string; import: string; default: string }> = {};
  for (const [exportPath, file] of Object.entries(deno.exports)) {
    const js = `./${entryName(exportPath)}.js`;
    exports[exportPath] = {
      types: `./types/${file.replace(/^\.\//, "").replace(/\.ts$/, ".d.ts")}`,
      ...(CJS_EXPORTS.includes(exportPath) ? { require: `./${entryName(exportPath)}.cjs` } : {}),
      import: js,
      default: js,
    };
  }
  const pkg: Record<string, unknown> = {
    name: deno.name,
    version: deno.version,
    description:
      "Socket.IO server and client (protocol v5, wire-compatible with socket.io 4.x) on web standards: Node, Bun, Deno, Cloudflare Workers and browsers.",
    license: deno.license,
    type: "module",
    main: "./index.js",
    types: exports["."].types,
    exports: { ...exports, "./package.json": "./package.json" },
    sideEffects: true,
    engines: { node: ">=22" },
    keywords: ["socket.io", "websocket", "realtime", "engine.io", "deno", "bun", "cloudflare-workers", "hono"],
    dependencies: {
      "@msgpack/msgpack": npmRange(deno, "@msgpack/msgpack"),
      ...(deno.imports.bcryptjs ? { bcryptjs: npmRange(deno, "bcryptjs") } : {}),
      ws: npmRange(deno, "ws"),
    },
    peerDependencies: { hono: npmRange(deno, "hono") },
    peerDependenciesMeta: { hono: { optional: true } },
  };
  writeFileSync(`${out}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
  for (const file of ["README.md", "LICENSE"]) {
    if (existsSync(`${root}${file}`)) cpSync(`${root}${file}`, `${out}/${file}`);
  }
  const jsBytes = listFiles(out).filter((f) => f.endsWith(".js")).reduce((n, f) => n + statSync(f).size, 0);
  log(`dist/npm: ${Object.keys(exports).length} export paths, ${(jsBytes / 1024).toFixed(0)} KB of JavaScript`);
  return pkg;
}

if (import.meta.main || process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await buildNpm();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
