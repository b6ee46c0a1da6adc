/**
 * The benchmark's report helpers: `bench:scale` owns one section of bench/RESULTS.md that
 * `bench` (which rewrites the file) keeps, and draws its charts as SVG text.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SCALE_BEGIN,
  SCALE_END,
  scaleSection,
  withScaleSection,
  writeMarkedSection,
} from "../bench/_results_section.ts";
import { lineChart } from "../bench/_svg_chart.ts";
import { median } from "../bench/_stats.ts";

const section = (body: string) => `${SCALE_BEGIN}\n## Scale\n\n${body}\n${SCALE_END}`;

describe("the scale section of bench/RESULTS.md", () => {
  it("is appended to a file without one, the rest kept", () => {
    const text = withScaleSection("# Benchmark results\n\n| a |\n\n", section("one"));
    assert.equal(text, `# Benchmark results\n\n| a |\n\n${section("one")}\n`);
    assert.equal(scaleSection(text), section("one"));
    assert.equal(scaleSection("# Benchmark results\n"), "");
  });

  it("is replaced in place by a new run, what surrounds it untouched", () => {
    const before = `# Benchmark results\n\n${section("old $& figures")}\n\n## Later\n`;
    const after = withScaleSection(before, section("new $1 figures"));
    assert.equal(after, `# Benchmark results\n\n${section("new $1 figures")}\n\n## Later\n`);
  });

  it("survives the main benchmark rewriting the file (bench/run.ts)", () => {
    const old = `# Benchmark results\n\nold tables\n\n${section("kept")}\n`;
    const rewritten = withScaleSection("# Benchmark results\n\nnew tables\n", scaleSection(old));
    assert.equal(rewritten, `# Benchmark results\n\nnew tables\n\n${section("kept")}\n`);
    // Without a section to keep, the new text is written as it is.
    assert.equal(withScaleSection("new tables\n", ""), "new tables\n");
  });
});

describe("a marked section of bench/RESULTS.md (heartbeat_lateness.ts, shards.ts)", () => {
  it("goes before the raw data, then replaces itself in place", () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-results-"));
    try {
      const path = join(dir, "RESULTS.md");
      writeFileSync(path, "# R\n\n## Raw data\nx\n");
      writeMarkedSection(path, "demo", "<!-- demo -->\none $1\n<!-- /demo -->");
      assert.equal(readFileSync(path, "utf8"), "# R\n\n<!-- demo -->\none $1\n<!-- /demo -->\n\n## Raw data\nx\n");
      writeMarkedSection(path, "demo", "<!-- demo -->\ntwo $&\n<!-- /demo -->");
      writeMarkedSection(path, "other", "<!-- other -->\n<!-- /other -->");
      assert.equal(
        readFileSync(path, "utf8"),
        "# R\n\n<!-- demo -->\ntwo $&\n<!-- /demo -->\n\n<!-- other -->\n<!-- /other -->\n\n## Raw data\nx\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("lineChart", () => {
  it("draws one line per series, higher values higher, names escaped", () => {
    const svg = lineChart({
      title: "Memory <per> connection",
      xLabel: "connections",
      yLabel: "KB",
      series: [
        { name: "ours & co", points: [[1000, 10], [20000, 9]] },
        { name: "theirs", points: [[1000, 20], [20000, 30]], dashed: true },
        { name: "one point", points: [[5000, 5], [6000, NaN]] },
      ],
    });
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.ok(svg.includes("Memory &lt;per&gt; connection") && svg.includes("ours &amp; co"));
    const lines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) =>
      m[1].split(" ").map((p) => p.split(",").map(Number))
    );
    assert.equal(lines.length, 2, "a series with one finite point has no line");
    const [ours, theirs] = lines;
    // x grows to the right; in SVG, y grows downwards: the larger value has the smaller y.
    assert.ok(ours[1][0] > ours[0][0]);
    assert.ok(theirs[0][1] < ours[0][1] && theirs[1][1] < theirs[0][1]);
    for (const [x, y] of [...ours, ...theirs]) assert.ok(x > 0 && x < 640 && y > 0 && y < 400, `${x},${y}`);
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 2, "the dashed line and its legend");
  });
});

describe("the benchmarks' median (bench/_stats.ts)", () => {
  it("takes the middle value, the mean of the middle two for an even count, and skips non-numbers", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([3, 1, 2, 10]), 2.5);
    assert.equal(median([NaN, 4, Infinity, 2]), 3);
    assert.ok(Number.isNaN(median([])));
  });
});
