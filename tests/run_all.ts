/**
 * Runs every test group, streams its output, and ends with one plain line `N passed, M failed`
 * (CI looks for it); exits non-zero when anything failed.
 *
 *   deno run -A tests/run_all.ts              (or: npx deno task test) the default groups
 *   deno run -A tests/run_all.ts --lanes 1    one group at a time (default 2, or $TEST_LANES)
 *   deno run -A tests/run_all.ts reference    the conformance and interop suites against the
 *                                             real npm socket.io (proves the tests themselves)
 *
 * Counts are of leaf tests (`it`), read from the JUnit report deno test writes beside its normal
 * output; a `describe` counts only when it fails by itself (a hook threw). If no report is
 * written, the counts come from deno's summary line `ok | N passed | M failed`.
 *
 * To add a runtime later (bun test, node --test), add a group with its command and a parser.
 *
 * @module
 */

interface Group {
  /** Shown in the output. */
  name: string;
  /** The command, its arguments, and extra environment. */
  cmd: string[];
  env?: Record<string, string>;
  /** Runs before the command (installs what the group needs). */
  setup?: () => Promise<void>;
  /** Runs after the other groups, with nothing else running (load tests that judge timing). */
  alone?: boolean;
  /** The arguments that make the command write a JUnit report to `path`, and its dialect. */
  junit?: { args: (path: string) => string[]; dialect: "deno" | "flat" };
}

import { countJunit, countJunitFlat, type Counts, countSummary } from "./_junit.ts";

const deno = Deno.execPath();
const ROOT = new URL("../", import.meta.url).pathname;
const bun = `${ROOT}node_modules/.bin/bun`;
const node = `${ROOT}node_modules/.bin/node`;
const denoJunit = { args: (path: string) => [`--junit-path=${path}`], dialect: "deno" as const };

/** Installs Node 22 LTS from the npm registry into .cache/node22 (once). */
async function installNode22(): Promise<void> {
  const prefix = `${ROOT}.cache/node22`;
  try {
    await Deno.stat(`${prefix}/node_modules/node/bin/node`);
    return;
  } catch {
    // not installed yet
  }
  await Deno.mkdir(prefix, { recursive: true });
  await Deno.writeTextFile(`${prefix}/package.json`, '{"name":"node22","private":true}\n');
  const { code } = await new Deno.Command("npm", {
    args: ["install", "--prefix", prefix, "--no-audit", "--no-fund", "node@22"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error("npm install node@22 failed");
}

/**
 * Files whose servers and clients do not run on the test runner's runtime (workerd, the demo on
 * Deno, one process per runtime, Deno's own tools): the Deno group runs them; running them again
 * under bun test and node --test would test nothing new. `package_npm` installs the package into
 * Node and Bun itself; it runs under node --test too, for its tsc check.
 */
const RUNTIME_INDEPENDENT = new Set([
  "tests/workers.test.ts",
  "tests/workers_hibernation.test.ts",
  "tests/workers_shards.test.ts",
  "tests/workers_fuzz.test.ts",
  "tests/workers_leaks.test.ts",
  "tests/workers_client.test.ts",
  "tests/workers_heartbeat.test.ts",
  "tests/demo_browser.test.ts",
  "tests/examples.test.ts",
  "tests/python_example.test.ts",
  "tests/python_amqp.test.ts",
  "tests/package_jsr.test.ts",
  "tests/boundary.test.ts",
  "tests/compat/compat.test.ts",
]);

/**
 * Tests that judge timing (heartbeats kept under a burst of 50 clients; the engine's heartbeat with
 * its event loop held up on purpose, against a client in another process): they must not share the
 * machine's two cores with another group, so they run in groups of their own after the others,
 * alone, on each runtime.
 */
const ALONE = ["tests/heartbeat_load.test.ts", "tests/workers_heartbeat.test.ts", "tests/engine_heartbeat.test.ts"];

/** Every test file below tests/, for runners that take explicit paths (node --test). */
function testFiles(exclude: ReadonlySet<string> = new Set()): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${ROOT}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".test.ts") && !exclude.has(path)) files.push(path);
    }
  };
  walk("tests");
  return files.sort();
}

/** A group of `deno test -A` on `paths` with the fixture on `fixture`. */
function denoGroup(name: string, fixture: string, paths: string[], extra: Partial<Group> = {}): Group {
  return { name, cmd: [deno, "test", "-A", ...paths], env: { FIXTURE: fixture }, junit: denoJunit, ...extra };
}

/** A group of `bun test` on `files`, servers and clients on Bun. */
function bunGroup(name: string, files: string[], extra: Partial<Group> = {}): Group {
  return {
    name,
    cmd: [bun, "test", "--timeout", "20000", ...files],
    env: { FIXTURE: "bun" },
    junit: { args: (path) => ["--reporter=junit", `--reporter-outfile=${path}`], dialect: "flat" },
    ...extra,
  };
}

/** A group of `node --test` on `files` (one at a time), servers and clients on Node. */
function nodeGroup(name: string, files: string[], extra: Partial<Group> = {}): Group {
  return {
    name,
    cmd: [node, "--test", "--test-concurrency=1", "--test-timeout=20000"],
    env: { FIXTURE: "node" },
    junit: {
      // the files after the reporters: node --test takes its options before them
      args: (path) => [
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=junit",
        `--test-reporter-destination=${path}`,
        ...files,
      ],
      dialect: "flat",
    },
    ...extra,
  };
}

const SUITES = ["tests/conformance/", "tests/interop/"];
const alone = { alone: true };

const GROUPS: Record<string, Group> = {
  deno: denoGroup("deno test (all of tests/, servers on Deno)", "deno", [`--ignore=${ALONE.join(",")}`, "tests/"]),
  bun: bunGroup(
    "bun test (tests/, servers and clients on Bun)",
    testFiles(new Set([...RUNTIME_INDEPENDENT, ...ALONE, "tests/package_npm.test.ts"])),
  ),
  node: nodeGroup(
    "node --test (tests/, servers and clients on Node 24)",
    testFiles(new Set([...RUNTIME_INDEPENDENT, ...ALONE])),
  ),
  node22: denoGroup("deno test (conformance + interop against the fixture on Node 22)", "node22", SUITES, {
    setup: installNode22,
  }),
  workerd: denoGroup(
    "deno test (conformance + interop against the fixture in workerd, a Durable Object)",
    "workerd",
    SUITES,
  ),
  "workerd-shards": denoGroup(
    "deno test (conformance + interop against the fixture in workerd, 4 Durable Objects)",
    "workerd-shards",
    SUITES,
  ),
  "heartbeat-deno": denoGroup(
    "deno test (heartbeats under load, alone: the fixture on Deno and in workerd)",
    "deno",
    ALONE,
    alone,
  ),
  "heartbeat-bun": denoGroup(
    "deno test (heartbeats under load, alone: the fixture on Bun)",
    "bun",
    ["tests/heartbeat_load.test.ts"],
    alone,
  ),
  "heartbeat-node": denoGroup(
    "deno test (heartbeats under load, alone: the fixture on Node)",
    "node",
    ["tests/heartbeat_load.test.ts"],
    alone,
  ),
  "heartbeat-engine-bun": bunGroup(
    "bun test (the engine's heartbeat with a held-up event loop, alone)",
    ["tests/engine_heartbeat.test.ts"],
    alone,
  ),
  "heartbeat-engine-node": nodeGroup(
    "node --test (the engine's heartbeat with a held-up event loop, alone)",
    ["tests/engine_heartbeat.test.ts"],
    alone,
  ),
  reference: denoGroup("deno test (conformance + interop against the reference socket.io)", "reference", SUITES),
};
/** The default groups, longest first (the lanes take them in this order). */
const DEFAULT_GROUPS = [
  "deno",
  "node",
  "bun",
  "workerd",
  "workerd-shards",
  "node22",
  "heartbeat-deno",
  "heartbeat-bun",
  "heartbeat-node",
  "heartbeat-engine-bun",
  "heartbeat-engine-node",
];

async function pump(stream: ReadableStream<Uint8Array>, out: { writeSync(p: Uint8Array): number }, tail: string[]) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    let written = 0;
    while (written < chunk.length) written += out.writeSync(chunk.subarray(written));
    tail.push(decoder.decode(chunk, { stream: true }));
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  }
}

/** What a group ended with, and its output (buffered when groups run side by side). */
interface GroupResult {
  counts: Counts;
  seconds: number;
}

/**
 * Runs one group. With `live`, its output streams as it comes; otherwise it is kept and printed
 * whole when the group ends, so that groups running side by side do not interleave their lines.
 */
async function runGroup(group: Group, live: boolean): Promise<GroupResult> {
  const started = performance.now();
  const buffer: Uint8Array[] = [];
  const sink = live ? Deno.stdout : {
    writeSync(p: Uint8Array): number {
      buffer.push(p.slice());
      return p.length;
    },
  };
  const say = (line: string) => sink.writeSync(new TextEncoder().encode(line + "\n"));
  say(`\n=== ${group.name} ===`);
  const dir = await Deno.makeTempDir({ prefix: "run_all_" });
  const junitPath = `${dir}/junit.xml`;
  const [cmd, ...args] = group.cmd;
  await group.setup?.();
  const child = new Deno.Command(cmd, {
    args: group.junit ? [...args, ...group.junit.args(junitPath)] : args,
    env: group.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  await Promise.all([pump(child.stdout, sink, tail), pump(child.stderr, live ? Deno.stderr : sink, tail)]);
  const { code } = await child.status;
  let counts: Counts | undefined;
  if (group.junit) {
    try {
      const xml = await Deno.readTextFile(junitPath);
      counts = group.junit.dialect === "deno" ? countJunit(xml) : countJunitFlat(xml);
    } catch {
      counts = undefined;
    }
  }
  counts ??= countSummary(tail.join(""));
  counts ??= { passed: 0, failed: 0, ignored: 0 };
  if (code !== 0 && counts.failed === 0) {
    // the command failed without a failing test to show for it (type errors, a crash)
    say(`${group.name}: exited with code ${code} and no failing test reported; counting 1 failure`);
    counts.failed = 1;
    counts.failures = [`exited with code ${code} and no failing test reported (see its output above)`];
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const seconds = Math.round((performance.now() - started) / 1000);
  say(
    `=== ${group.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.ignored} ignored (${seconds} s) ===`,
  );
  for (const chunk of buffer) {
    let written = 0;
    while (written < chunk.length) written += Deno.stdout.writeSync(chunk.subarray(written));
  }
  return { counts, seconds };
}

/**
 * Runs the groups in `lanes` side by side (each lane takes the next group when its last one ends;
 * list the longest groups first). The suite's processes wait on the network and timers more than
 * they compute, so two lanes on two cores take little more than half the time of one.
 */
async function runLanes(names: string[], lanes: number): Promise<Map<string, GroupResult>> {
  const results = new Map<string, GroupResult>();
  const queue = names.filter((name) => !GROUPS[name].alone);
  const lane = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      if (lanes > 1) console.log(`--- started: ${GROUPS[name].name}`);
      results.set(name, await runGroup(GROUPS[name], lanes === 1));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  for (const name of names.filter((name) => GROUPS[name].alone)) {
    results.set(name, await runGroup(GROUPS[name], true));
  }
  return results;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const lanesFlag = args.findIndex((a) => a === "--lanes");
  const lanes = Number(lanesFlag >= 0 ? args.splice(lanesFlag, 2)[1] : Deno.env.get("TEST_LANES") ?? 2);
  if (!Number.isInteger(lanes) || lanes < 1) {
    console.error("--lanes takes a whole number of at least 1");
    Deno.exit(2);
  }
  const names = args.length ? args : DEFAULT_GROUPS;
  for (const name of names) {
    if (!GROUPS[name]) {
      console.error(`Unknown group ${JSON.stringify(name)}; groups: ${Object.keys(GROUPS).join(", ")}`);
      Deno.exit(2);
    }
  }
  const started = performance.now();
  const results = await runLanes(names, lanes);
  const total: Counts = { passed: 0, failed: 0, ignored: 0 };
  const failures = names.flatMap((name) =>
    (results.get(name)!.counts.failures ?? []).map((failure) => `  ${GROUPS[name].name}: ${failure}`)
  );
  if (failures.length) console.log(`\nFailed:\n${failures.join("\n")}`);
  console.log("");
  for (const name of names) {
    const { counts, seconds } = results.get(name)!;
    console.log(`${GROUPS[name].name}: ${counts.passed} passed, ${counts.failed} failed (${seconds} s)`);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.ignored += counts.ignored;
  }
  console.log(`(${lanes} lane${lanes > 1 ? "s" : ""}, ${Math.round((performance.now() - started) / 1000)} s in all)`);
  console.log("");
  console.log(`${total.passed} passed, ${total.failed} failed`);
  Deno.exit(total.failed > 0 ? 1 : 0);
}
