/**
 * The test runner's reading of JUnit reports (tests/_junit.ts): counts of leaf tests and, for a
 * CI log whose tail is all one sees, the failing tests' names with the first line of why. The
 * samples are trimmed from what deno test, bun test and node --test wrote for one describe with
 * a passing and a failing `it`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { countJunit, countJunitFlat, countSummary } from "./_junit.ts";

const DENO = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="3" failures="2" errors="0" time="0.019">
    <testsuite name="./f.test.ts" tests="1" disabled="0" errors="0" failures="1">
        <testcase name="outer" classname="./f.test.ts" time="0.011" line="3" col="1">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
    </testsuite>
    <testsuite name="ext:deno_node/testing.ts" tests="2" disabled="0" errors="0" failures="1">
        <testcase name="outer &gt; passes" classname="ext:deno_node/testing.ts" time="0.000" line="1" col="23191">
        </testcase>
        <testcase name="outer &gt; fails &lt;here&gt; &amp; there" classname="ext:deno_node/testing.ts" time="0.008">
            <failure message="Uncaught AssertionError: one is not two

1 !== 2
">AssertionError: one is not two</failure>
        </testcase>
    </testsuite>
</testsuites>`;

const BUN = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bun test" tests="2" assertions="0" failures="1" skipped="0" time="0.16">
  <testsuite name="f.test.ts" file="f.test.ts" tests="2" failures="1" skipped="0" time="0.05">
    <testsuite name="outer" file="f.test.ts" line="3" tests="2" failures="1" skipped="0" time="0.004">
      <testcase name="passes" classname="outer" time="0.001715" file="f.test.ts" line="4" assertions="0" />
      <testcase name="fails &lt;here&gt; &amp; there" classname="outer" time="0.00358" file="f.test.ts" line="5">
        <failure type="AssertionError" message="one is not two&#10;&#10;1 !== 2&#10;">AssertionError: one is not two&#10;</failure>
      </testcase>
      <testcase name="later" classname="outer" time="0" file="f.test.ts" line="6"><skipped /></testcase>
    </testsuite>
  </testsuite>
</testsuites>`;

// node --test leaves a bare ">" in attribute values
const NODE = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
	<testsuite name="outer" time="0.003291" disabled="0" errors="0" tests="2" failures="1" skipped="0">
		<testcase name="passes" time="0.000821" classname="outer" file="/tmp/ra/f.test.ts"/>
		<testcase name="fails &lt;here> &amp; there" time="0.001154" classname="outer" file="/tmp/ra/f.test.ts" failure="one is not two&#10;&#10;1 !== 2&#10;">
			<failure type="testCodeFailure" message="one is not two&#10;&#10;1 !== 2">
Error [ERR_TEST_FAILURE]: one is not two
			</failure>
		</testcase>
	</testsuite>
</testsuites>`;

describe("reading JUnit reports", () => {
  it("counts deno's leaf steps and names the failing one, not the describe that holds it", () => {
    assert.deepEqual(countJunit(DENO), {
      passed: 1,
      failed: 1,
      ignored: 0,
      failures: ["outer > fails <here> & there: Uncaught AssertionError: one is not two"],
    });
  });

  it("counts a describe of deno's that failed by itself (a hook threw)", () => {
    const xml = `<testcase name="outer" classname="x"><failure message="Error: before() threw">x</failure></testcase>
      <testcase name="outer &gt; a" classname="x"></testcase>`;
    assert.deepEqual(countJunit(xml), {
      passed: 1,
      failed: 1,
      ignored: 0,
      failures: ["outer: Error: before() threw"],
    });
  });

  it("counts bun's flat report, skipped ones apart, and names the failure with its describe", () => {
    assert.deepEqual(countJunitFlat(BUN), {
      passed: 1,
      failed: 1,
      ignored: 1,
      failures: ["outer > fails <here> & there: one is not two"],
    });
  });

  it("reads node's report, whose attribute values may hold a bare >", () => {
    assert.deepEqual(countJunitFlat(NODE), {
      passed: 1,
      failed: 1,
      ignored: 0,
      failures: ["outer > fails <here> & there: one is not two"],
    });
  });

  it("falls back on deno's summary line, colours and all", () => {
    const out =
      "running 3 tests\n\x1b[0m\x1b[31mFAILED\x1b[0m | 3 passed (20 steps) | 1 failed (2 steps) | 2 ignored\n";
    assert.deepEqual(countSummary(out), { passed: 3, failed: 1, ignored: 2 });
    assert.equal(countSummary("no summary here\n"), undefined);
  });
});
