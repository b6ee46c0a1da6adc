/**
 * `bench/RESULTS.md` is written by several benchmarks: `bench/run.ts` writes the whole file,
 * `bench/scale.ts` owns one section of it between two markers of its own, and smaller scripts
 * (`heartbeat_lateness.ts`, `shards.ts`) own sections between `<!-- name -->` and `<!-- /name -->`,
 * which `bench/run.ts` keeps. These helpers let each keep the others' parts.
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";

/** The first line of the scale section. */
export const SCALE_BEGIN = "<!-- bench:scale begin: written by `npx deno task bench:scale` (bench/scale.ts) -->";
/** The last line of the scale section. */
export const SCALE_END = "<!-- bench:scale end -->";

/** The scale section of a RESULTS.md text (markers included), or "" if it has none. */
export function scaleSection(text: string): string {
  const a = text.indexOf(SCALE_BEGIN);
  const b = text.indexOf(SCALE_END, a);
  return a >= 0 && b > a ? text.slice(a, b + SCALE_END.length) : "";
}

/** `text` with its scale section replaced by `section` (appended after the rest if it had none). */
export function withScaleSection(text: string, section: string): string {
  const old = scaleSection(text);
  if (old) return text.replace(old, () => section);
  if (section === "") return text;
  return (text === "" ? "" : text.replace(/\n*$/, "\n\n")) + section + "\n";
}

/**
 * Writes `section` (from `<!-- name -->` to `<!-- /name -->`) into the results file at `path`: in
 * place of the previous one, else before "## Raw data", else at the end.
 *
 * @example
 * ```ts
 * import { writeMarkedSection } from "./_results_section.ts";
 * writeMarkedSection("/tmp/RESULTS.md", "demo", "<!-- demo -->\n## Demo\n<!-- /demo -->");
 * ```
 */
export function writeMarkedSection(path: string, name: string, section: string): void {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch { /* a new file */ }
  const marked = new RegExp(`<!-- ${name} -->[\\s\\S]*?<!-- \\/${name} -->`);
  const next = marked.test(text)
    ? text.replace(marked, () => section)
    : text.includes("## Raw data")
    ? text.replace("## Raw data", () => `${section}\n\n## Raw data`)
    : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
