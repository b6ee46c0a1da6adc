/**
 * Profiles our server under one benchmark scenario: starts `bench/servers/ours.ts` with the
 * runtime's CPU profiler (`--cpu-prof`), drives it with the load generator, stops it, and prints
 * the hottest functions by self time and the inclusive time of our own functions.
 *
 *   deno run -A bench/profile.ts RUNTIME SCENARIO [SECONDS]
 *     RUNTIME: node | deno | bun      SCENARIO: echo | ack | broadcast | polling | idle
 *   deno run -A bench/profile.ts --summarize FILE.cpuprofile      (an existing profile)
 *
 * Profiles are kept in bench/profiles/ (git-ignored).
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin`;
const OUT = `${ROOT}bench/profiles`;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(n: Node): string {
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(ROOT, "");
  const name = n.callFrame.functionName || "(anonymous)";
  return url ? `${name} ${url}:${n.callFrame.lineNumber + 1}` : name;
}

/** Prints self and inclusive time per function (summed over call sites). */
export function summarize(path: string, top = 30): string {
  const p: Profile = JSON.parse(Deno.readTextFileSync(path));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  let idle = 0;
  // Sample weights: the time delta to the next sample.
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i])!;
    const key = where(node);
    all += dt;
    if (node.callFrame.functionName === "(idle)") idle += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = where(byId.get(id)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const busy = all - idle;
  const pct = (x: number) => `${((100 * x) / busy).toFixed(1).padStart(5)}%`;
  const lines: string[] = [];
  lines.push(
    `${path.replace(ROOT, "")}: ${(all / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (JS thread)`,
  );
  lines.push("", "Self time (of busy):");
  for (const [k, v] of [...self].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  lines.push("", "Inclusive time of our code (src/, server.ts):");
  for (
    const [k, v] of [...total].filter(([k]) => / (src\/|server\.ts)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)
  ) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  if (Deno.args[0] === "--summarize") {
    console.log(summarize(Deno.args[1], Number(Deno.args[2] ?? 30)));
    Deno.exit(0);
  }
  const [runtime, scenario = "echo", secondsArg = "6"] = Deno.args;
  if (!["node", "deno", "bun"].includes(runtime)) {
    console.error("usage: profile.ts node|deno|bun echo|ack|broadcast|polling|idle [seconds]");
    Deno.exit(2);
  }
  Deno.mkdirSync(OUT, { recursive: true });
  const name = `ours-${runtime}-${scenario}.cpuprofile`;
  const prof = [`--cpu-prof`, `--cpu-prof-dir=${OUT}`, `--cpu-prof-name=${name}`];
  const args = runtime === "deno"
    ? ["run", "-A", ...prof, "bench/servers/ours.ts"]
    : [...prof, "bench/servers/ours.ts"];
  const child = new Deno.Command(`${BIN}/${runtime}`, { args, cwd: ROOT, stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!/listening on (\d+)/.test(buf)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited");
    buf += value;
  }
  const port = Number(/listening on (\d+)/.exec(buf)![1]);
  const clients = { echo: 100, ack: 100, broadcast: 1000, polling: 50, idle: 2000 }[scenario] ?? 100;
  const opts = { scenario, port, pid: child.pid, warmup: 1, duration: Number(secondsArg), clients, payload: 64 };
  const out = await new Deno.Command(`${BIN}/bun`, {
    args: ["bench/loadgen.ts", JSON.stringify(opts)],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  console.log(new TextDecoder().decode(out.stdout).trim());
  child.kill("SIGTERM");
  await child.status;
  console.log(summarize(`${OUT}/${name}`));
}
