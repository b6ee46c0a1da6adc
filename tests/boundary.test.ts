/**
 * The core/runtime boundary: the core (src/parser, src/engine, src/io, src/client, src/util, and
 * the runtime-free adapters and admin) uses web standards only. No core file names `Deno`, `Bun`
 * or `process` (as an identifier or a string: feature detection lives in src/util/platform.ts),
 * mentions a `node:` module, or imports from src/runtime/; the client imports nothing from src/io.
 * Files are read with the TypeScript parser, so comments and prose do not count. And a Worker
 * bundle of the Durable Object entry takes neither Node's shim nor `ws` along. Runtime-independent:
 * runs once, under `deno test`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { build, stop } from "esbuild";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// deno-lint-ignore no-explicit-any
const onDeno = !!(globalThis as any).Deno && !(globalThis as any).Bun;

/** The core: folders (every .ts below them) and single files, relative to the repository. */
const CORE_DIRS = ["src/parser", "src/engine", "src/io", "src/client", "src/util", "src/admin"];
const CORE_FILES = ["src/adapters/cluster.ts", "src/adapters/cluster_message.ts", "src/adapters/broadcast_channel.ts"];
/** The one core file that may look at runtimes' globals. */
const PLATFORM = "src/util/platform.ts";
const RUNTIME_NAMES = new Set(["Deno", "Bun", "process"]);

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(`${ROOT}${dir}`, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listTs(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Where `specifier`, imported from `file`, points in the repository (relative specifiers only). */
function resolve(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return new URL(specifier, `file:///${file}`).pathname.slice(1);
}

/** What `file` (its repository path and text) does against the boundary, one line per finding. */
export function boundaryViolations(file: string, text: string): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const where = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const isClient = file.startsWith("src/client/");
  const checkSpecifier = (node: ts.Node, specifier: string) => {
    const target = resolve(file, specifier);
    if (target?.startsWith("src/runtime/")) found.push(`${where(node)} imports ${specifier} (src/runtime)`);
    if (isClient && target?.startsWith("src/io/")) {
      found.push(`${where(node)} imports ${specifier} (the client, from src/io)`);
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && RUNTIME_NAMES.has(node.text) && file !== PLATFORM) {
      found.push(`${where(node)} names ${node.text}`);
    }
    if (ts.isStringLiteralLike(node)) {
      if (node.text.startsWith("node:")) found.push(`${where(node)} names ${node.text}`);
      else if (RUNTIME_NAMES.has(node.text) && file !== PLATFORM) found.push(`${where(node)} names "${node.text}"`);
    }
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) checkSpecifier(node, node.moduleSpecifier.text);
    }
    if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])
    ) {
      checkSpecifier(node, node.arguments[0].text);
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      checkSpecifier(node, node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

if (onDeno) {
  describe("core/runtime boundary", () => {
    it("no core file names a runtime, a node: module or src/runtime; the client imports nothing from src/io", () => {
      const files = [...CORE_DIRS.flatMap(listTs), ...CORE_FILES];
      assert.ok(files.length > 40, `the core was found (${files.length} files)`);
      const found = files.flatMap((file) => boundaryViolations(file, readFileSync(`${ROOT}${file}`, "utf8")));
      assert.deepEqual(found, []);
    });

    it("a Worker bundle of the Durable Object entry holds no Node shim and no ws", async () => {
      const bundled = await build({
        entryPoints: [`${ROOT}src/runtime/durable_object.ts`],
        bundle: true,
        format: "esm",
        platform: "browser",
        write: false,
        metafile: true,
        logLevel: "error",
      });
      await stop();
      const inputs = Object.keys(bundled.metafile.inputs);
      assert.ok(inputs.some((path) => path.endsWith("src/io/server.ts")), inputs.join("\n"));
      const unwanted = inputs.filter((path) => /src\/runtime\/(node|server)|node_modules/.test(path));
      assert.deepEqual(unwanted, []);
    });

    it("finds each kind of violation (the check can fail)", () => {
      const planted = [
        'import { createServer } from "node:http";',
        'import type { Upgrader } from "../runtime/deno.ts";',
        'export { serve } from "../runtime/serve.ts";',
        'const shim = await import("../runtime/node_http.ts");',
        "const deno = (globalThis as { Deno?: unknown }).Deno;",
        "if (typeof Bun !== 'undefined') {}",
        "const env = process.env;",
        'const name = (globalThis as Record<string, unknown>)["Deno"];',
        "// Deno, Bun and process in a comment, and node:http: not code",
        "/** Deno.serve(io.handler()) in a doc block */",
      ].join("\n");
      const found = boundaryViolations("src/engine/planted.ts", planted);
      assert.equal(found.length, 9, found.join("\n"));
      assert.deepEqual(boundaryViolations("src/util/platform.ts", "const d = globalThis.Deno;"), []);
      const client = boundaryViolations("src/client/planted.ts", 'import type { Server } from "../io/server.ts";');
      assert.deepEqual(client, ["src/client/planted.ts:1 imports ../io/server.ts (the client, from src/io)"]);
      assert.deepEqual(
        boundaryViolations("src/engine/planted.ts", 'import type { Server } from "../io/server.ts";'),
        [],
      );
    });
  });
}
