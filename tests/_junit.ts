/**
 * Reads what the test runners report: leaf counts and the failing tests' names from a JUnit file
 * (deno test's nested dialect, or the flat one of bun test and node --test), or counts from deno
 * test's summary line. Plain string work, no runtime API, so the tests of it run everywhere.
 *
 * @module
 */

export interface Counts {
  passed: number;
  failed: number;
  ignored: number;
  /** The failing tests' names and the first line of why (printed again at the end). */
  failures?: string[];
}

/** `name: first line of the message`, short enough for a CI log's tail. */
function describeFailure(name: string, message: string): string {
  const first = unescapeXml(message).split("\n").find((line) => line.trim()) ?? "";
  return `${name}: ${first.trim().slice(0, 240)}`;
}

function unescapeXml(text: string): string {
  return text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)))
    .replaceAll("&amp;", "&");
}

/** Leaf counts from a deno JUnit report (steps are named `parent > child`). */
export function countJunit(xml: string): Counts {
  const cases: Array<{ name: string; body: string }> = [];
  const re = /<testcase name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) cases.push({ name: unescapeXml(m[1]), body: m[2] ?? "" });
  const counts: Counts = { passed: 0, failed: 0, ignored: 0, failures: [] };
  for (const { name, body } of cases) {
    const isContainer = cases.some((c) => c.name.startsWith(name + " > "));
    const failure = /<failure message="([^"]*)"/.exec(body);
    if (isContainer) {
      // a describe fails "due to N failed steps" (already counted) or by itself (a hook threw)
      if (failure && !/^\d+ test steps? failed/.test(unescapeXml(failure[1]))) {
        counts.failed++;
        counts.failures!.push(describeFailure(name, failure[1]));
      }
      continue;
    }
    if (failure) {
      counts.failed++;
      counts.failures!.push(describeFailure(name, failure[1]));
    } else if (/<skipped\s*\/?>/.test(body)) counts.ignored++;
    else counts.passed++;
  }
  return counts;
}

/** Leaf counts from a JUnit report where describes are <testsuite>s (bun test, node --test). */
export function countJunitFlat(xml: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, ignored: 0, failures: [] };
  // attribute values may hold a bare ">" (node --test writes test names unescaped there)
  const re = /<testcase\b((?:"[^"]*"|[^>"])*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[2] ?? "";
    const failure = /<(failure|error)\b((?:"[^"]*"|[^>"])*)>?([\s\S]*?)(?:<\/\1>|$)/.exec(body);
    if (failure) {
      counts.failed++;
      const attr = (text: string, key: string) => unescapeXml(new RegExp(`\\b${key}="([^"]*)"`).exec(text)?.[1] ?? "");
      const name = [attr(m[1], "classname"), attr(m[1], "name")].filter(Boolean).join(" > ");
      counts.failures!.push(describeFailure(name, attr(failure[2], "message") || failure[3]));
    } else if (/<skipped\b/.test(body)) counts.ignored++;
    else counts.passed++;
  }
  return counts;
}

/** Counts from deno test's summary line, `ok | 3 passed (20 steps) | 1 failed (2 steps) | ...`. */
export function countSummary(output: string): Counts | undefined {
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const line = plain.split("\n").reverse().find((l) => /^(ok|FAILED) \| \d+ passed/.test(l));
  if (!line) return undefined;
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? 0);
  return {
    passed: num(/(\d+) passed/),
    failed: num(/(\d+) failed/),
    ignored: num(/(\d+) ignored/),
  };
}
