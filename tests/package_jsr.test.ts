/**
 * The JSR package: `deno publish --dry-run` passes (no slow types), every export path of
 * deno.json has `@module` docs, and `deno doc --lint` on the export paths is clean (every public
 * symbol documented, every type it refers to exported), and `deno lint` finds nothing in the
 * repository, nor `deno fmt --check`. Runtime-independent, so it runs once,
 * under `deno test` (skipped under bun test and node --test).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DENO = `${ROOT}node_modules/.bin/deno`;
// deno-lint-ignore no-explicit-any
const onDeno = !!(globalThis as any).Deno && !(globalThis as any).Bun;
const exportsMap: Record<string, string> = JSON.parse(readFileSync(`${ROOT}deno.json`, "utf8")).exports;

/**
 * Known findings of `deno doc --lint` that need more than a doc or export edit, as
 * `"file:line rule"` prefixes of its `--> file:line` locations. Keep this empty.
 */
const KNOWN_DOC_FINDINGS: string[] = [];

function run(args: string[]): { code: number; output: string } {
  try {
    const output = execFileSync(DENO, args, {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 120_000,
    });
    return { code: 0, output };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

// Deno only (the tool is Deno's): other runtimes define no test here.
if (onDeno) {
  describe("JSR package", () => {
    it("every export path has @module docs", () => {
      for (const [path, file] of Object.entries(exportsMap)) {
        const text = readFileSync(`${ROOT}${file}`, "utf8");
        const first = /\/\*\*([\s\S]*?)\*\//.exec(text);
        assert.ok(first && first[1].includes("@module"), `${path} (${file}) has no @module doc comment first`);
      }
    });

    it("deno lint reports nothing (sources, tests, bench, scripts, examples)", () => {
      const { code, output } = run(["lint"]);
      assert.equal(code, 0, output.slice(-4000));
    });

    it("deno fmt --check reports nothing (the repository is formatted as deno.json says)", () => {
      const { code, output } = run(["fmt", "--check"]);
      assert.equal(code, 0, output.slice(-4000));
    });

    it("deno publish --dry-run passes (no slow types)", () => {
      const { code, output } = run(["publish", "--dry-run", "--allow-dirty"]);
      assert.equal(code, 0, output.slice(-4000));
    });

    it("deno doc --lint on the export paths reports nothing new", () => {
      const { output } = run(["doc", "--lint", ...Object.values(exportsMap)]);
      // deno-lint-ignore no-control-regex
      const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
      const findings: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        const m = /^error\[([a-z-]+)\]: (.*)$/.exec(lines[i]);
        if (!m) continue;
        const where = lines.slice(i + 1, i + 3).join(" ").match(/-->\s+(\S+?):(\d+)/);
        const file = where ? where[1].replace(ROOT, "") : "?";
        const privateType = /references private type '([^']+)'/.exec(m[2])?.[1] ?? "";
        const finding = `${file} ${m[1]} ${privateType}`.trim() + ` (line ${where?.[2] ?? "?"}: ${m[2]})`;
        if (!KNOWN_DOC_FINDINGS.some((known) => finding.startsWith(known))) findings.push(finding);
      }
      assert.deepEqual(findings, [], `deno doc --lint:\n${findings.join("\n")}`);
    });

    it("the examples in the docs type-check (every TSDoc block, none marked ignore, and the README)", () => {
      const sources: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(`${ROOT}${dir}`, { withFileTypes: true })) {
          const path = `${dir}/${entry.name}`;
          if (entry.isDirectory()) walk(path);
          else if (entry.name.endsWith(".ts") && !entry.name.startsWith("_client_bundle")) sources.push(path);
        }
      };
      walk("src");
      const ignored = [...sources, "README.md"].filter((path) =>
        readFileSync(`${ROOT}${path}`, "utf8").includes("```ts ignore")
      );
      assert.deepEqual(ignored, [], "every example is checked: none is marked ignore");
      const result = spawnSync(DENO, [
        "check",
        "--doc-only",
        "mod.ts",
        "server.ts",
        "client.ts",
        ...sources,
        "README.md",
      ], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 120_000,
      });
      const output = `${result.stdout}${result.stderr}`;
      assert.equal(result.status, 0, output.slice(-4000));
      // deno names each checked block FILE#FIRST-LAST.ts
      assert.ok((output.match(/#\d+-\d+\.ts/g) ?? []).length > 100, "the doc blocks were found and checked");
    });
  });
}
