/**
 * `bench/RESULTS.md` is written by two benchmarks: `bench/run.ts` writes the whole file, and
 * `bench/scale.ts` owns one section of it, between two markers. These helpers let each keep the
 * other's part.
 *
 * @module
 */

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
