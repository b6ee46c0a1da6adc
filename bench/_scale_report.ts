/**
 * The report of the scale benchmark (`bench/scale.ts`): its section of `RESULTS.md` (between two
 * markers; the rest of the file is kept), the raw figures as JSON, and the SVG charts.
 *
 * @module
 */

import { lineChart, type Series } from "./_svg_chart.ts";
import type { FdInfo } from "./_scale_procs.ts";
import { SCALE_BEGIN, SCALE_END, withScaleSection } from "./_results_section.ts";

/** One step of one server: the figures measured with `connections` open. */
export interface StepResult {
  goal: number;
  connections: number;
  connect: {
    added: number;
    opened: number;
    failed: number;
    seconds: number;
    rate: number;
    cpuUsPerConnect: number;
    others: number;
    firstError?: string;
  };
  emit: {
    count: number;
    latencies: number[];
    p50: number;
    p99: number;
    missed: number;
    duplicates: number;
    cpuUsPerDelivery: number;
    others: number;
  };
  memory: { rss: number; bytesPerConnection: number };
  fdOpen: number;
  idle: { seconds: number; cpuMs: number; cores: number; pings: number; usPerPing: number; others: number };
  lost: number;
  failed: number;
  closeCodes: Record<string, number>;
  /** The server's own count of disconnections by reason, so far. */
  serverDisconnects: Record<string, number>;
}

/** One server of the one-process part. */
export interface ServerRun {
  id: string;
  label: string;
  runtime: string;
  fd: FdInfo;
  max: number;
  rss0: number;
  steps: StepResult[];
}

/** One cluster. */
export interface ClusterRun {
  kind: string;
  label: string;
  processes: string[];
  goal: number;
  connections: number;
  perServer: number[];
  lost: number;
  lostPerServer: number[];
  failed: number;
  closeCodes: Record<string, number>;
  /** Each server's own count of disconnections by reason, before the connections were closed. */
  serverDisconnects: Array<Record<string, number>>;
  waves: Array<
    { opened: number; failed: number; seconds: number; rate: number; cpuUsPerConnect: number; others: number }
  >;
  connectSeconds: number;
  memory: { rss: number; rss0: number; bytesPerConnection: number };
  emit: StepResult["emit"];
  idle?: StepResult["idle"];
}

/** Everything a run measured. */
export interface ScaleResults {
  command: string;
  startedAt: string;
  quick: boolean;
  config: Record<string, unknown>;
  limits: { orchestrator: FdInfo; loadgen: FdInfo; perLoadgen: number };
  loadAverageAtStart: string;
  single: ServerRun[];
  clusters: ClusterRun[];
  minutes: number;
}

const OURS = ["ours-deno", "ours-bun", "ours-node"];
const BASELINE = "sio-node";
const COLORS: Record<string, string> = {
  "ours-deno": "#1f77b4",
  "ours-bun": "#ff7f0e",
  "ours-node": "#2ca02c",
  "sio-node": "#d62728",
  "sio-bun": "#9467bd",
};

function fmt(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return "–";
  if (digits === 0) return Math.round(x).toLocaleString("en-US");
  return x.toFixed(digits);
}
const n0 = (x: number) => fmt(x, 0);

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
  ];
}

async function sh(cmd: string, ...args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "?";
  }
}

function mergeCounts(list: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of list) for (const [k, n] of Object.entries(counts)) out[k] = (out[k] ?? 0) + n;
  return out;
}

/** Why connections were lost: the clients' close codes and the servers' disconnect reasons. */
function lossDetail(closeCodes: Record<string, number>, reasons: Record<string, number> | undefined): string {
  const parts: string[] = [];
  if (Object.keys(closeCodes).length > 0) {
    parts.push(`close codes ${Object.entries(closeCodes).map(([c, n]) => `${c} ×${n}`).join(", ")}`);
  }
  if (reasons && Object.keys(reasons).length > 0) {
    parts.push(`server: ${Object.entries(reasons).map(([r, n]) => `${r} ×${n}`).join(", ")}`);
  }
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

/** The metrics drawn and tabulated, per step: how to read each, and which way is better. */
interface Metric {
  key: string;
  /** A few words, for the targets table. */
  short: string;
  title: string;
  unit: string;
  value: (s: StepResult) => number;
  /** The per-connection cost used for the growth check (undefined: not a cost). */
  perConnection?: (s: StepResult) => number;
  lowerIsBetter: boolean;
  digits: number;
}

const METRICS: Metric[] = [
  {
    key: "memory",
    short: "memory",
    title: "Memory per connection",
    unit: "KB",
    value: (s) => s.memory.bytesPerConnection / 1024,
    perConnection: (s) => s.memory.bytesPerConnection,
    lowerIsBetter: true,
    digits: 1,
  },
  {
    key: "idle_cpu",
    short: "idle CPU",
    title: "Idle CPU (heartbeats alone)",
    unit: "% of one core",
    value: (s) => s.idle.cores * 100,
    perConnection: (s) => s.idle.cores / s.connections,
    lowerIsBetter: true,
    digits: 2,
  },
  {
    key: "emit_p99",
    short: "emit p99",
    title: "io.emit to every client: last delivery, p99",
    unit: "ms",
    value: (s) => s.emit.p99,
    // The cost of an emit is the server's CPU per delivery (the latency includes the clients).
    perConnection: (s) => s.emit.cpuUsPerDelivery,
    lowerIsBetter: true,
    digits: 1,
  },
  {
    key: "connect_rate",
    short: "connect rate",
    title: "Connect rate",
    unit: "connections/s",
    value: (s) => s.connect.rate,
    lowerIsBetter: false,
    digits: 0,
  },
];

/** Per-connection cost at the last step ÷ the lowest at an earlier step (≤ 1.25 counts as linear). */
function growth(run: ServerRun, m: Metric): number | undefined {
  if (!m.perConnection || run.steps.length < 2) return undefined;
  const per = run.steps.map(m.perConnection);
  return per[per.length - 1] / Math.min(...per.slice(0, -1));
}
const LINEAR = 1.25;

/** Writes the RESULTS.md section, the JSON and the charts into `dir` (`bench/`, or `.tmp/scale/` for --quick). */
export async function writeScaleReport(r: ScaleResults, dir: string): Promise<void> {
  Deno.mkdirSync(`${dir}charts`, { recursive: true });
  const byId = new Map(r.single.map((s) => [s.id, s]));
  const base = byId.get(BASELINE);
  const stepCount = Math.max(0, ...r.single.map((s) => s.steps.length));
  const stepNames = Array.from({ length: stepCount }, (_, i) => {
    const goals = [...new Set(r.single.map((s) => s.steps[i]?.goal).filter((g) => g !== undefined))];
    const isMax = r.single.every((s) => s.steps.length - 1 === i);
    return isMax ? "max" : goals.length === 1 ? n0(goals[0]!) : goals.map(n0).join("/");
  });

  const lines: string[] = [];
  const p = (...more: string[]) => lines.push(...(more.length > 0 ? more : [""]));
  const cpuModel = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  const memTotal = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1] ?? 0) / 2 ** 20;
  const rev = await sh("git", "rev-parse", "--short", "HEAD");
  const dirty = (await sh("git", "status", "--porcelain", "--", "src", "server.ts")) !== "";
  const bin = new URL("../node_modules/.bin/", import.meta.url).pathname;

  p(SCALE_BEGIN);
  p("## Scale: the cost curve up to 100,000 connections (issue 15, point 5)");
  p();
  p(
    `Produced by \`${r.command}\` on ${r.startedAt.slice(0, 16).replace("T", " ")} UTC in ${
      r.minutes.toFixed(1)
    } min ` +
      `(ours at ${rev}${dirty ? " + uncommitted changes in src/" : ""}; Deno ${Deno.version.deno}, Bun ${await sh(
        `${bin}bun`,
        "--version",
      )}, Node ${await sh(
        `${bin}node`,
        "--version",
      )}). Machine: ${cpuModel}, ${navigator.hardwareConcurrency} cores, ` +
      `${
        memTotal.toFixed(0)
      } GiB RAM; load average at the start ${r.loadAverageAtStart}. Rerun it to refresh this section ` +
      `(\`npx deno task bench\` keeps it).`,
  );
  p();
  p(
    `- Heartbeat: socket.io's defaults on every server, pingInterval 25 s and pingTimeout 20 s. Clients: raw ` +
      `Engine.IO v4 / Socket.IO v5 WebSocket clients (\`bench/scale_client.ts\`, on Bun) in ${r.config.loadgensPerServer} load-generator processes per server ` +
      `(at most ${n0(r.limits.perLoadgen)} connections each), answering every ping; loopback only.`,
  );
  p(
    `- File descriptors: this machine gives every process a soft limit of ${r.limits.orchestrator.soft} and a hard ` +
      `limit of ${r.limits.orchestrator.hard} open files (the hard one cannot be raised here); every server and load ` +
      `generator is started with its soft limit raised to the hard one (\`ulimit -Sn $(ulimit -Hn)\`, the same for ` +
      `every runtime). A server's maximum is its hard limit minus the descriptors it holds before the first ` +
      `connection minus a margin of ${r.config.fdMargin}.`,
  );
  p(
    `- Addresses: the ephemeral ports are 32768-60999, and Linux's choice of a source port for \`connect()\` slows ` +
      `down to a few hundred per second once one destination (address, port) holds more than about 14,000 connections ` +
      `(it scans the even half of the range first; measured here with plain sockets). So each load generator reaches ` +
      `the servers through its own address, 127.0.0.2, 127.0.0.3..., and no destination takes more than ` +
      `${n0(r.limits.perLoadgen)}: the servers listen on 0.0.0.0 for this, and all traffic stays on loopback.`,
  );
  p(
    `- One process: the five servers run side by side (one process each, each on its own port), so that the idle window ` +
      `is shared. At each step, for each server in turn (the order turns every step): connect up to the step's count ` +
      `(${r.config.concurrency} handshakes in flight per load generator), then ${r.config.emits} \`io.emit\`s to every ` +
      `client (after one warm-up emit; latency is from the client's request to the last client's delivery, so p99 of ` +
      `${r.config.emits} is the slowest), then memory (RSS after full garbage collections, minus the RSS before the first ` +
      `connection, over the connections), then one window of ${r.config.idleSeconds} s (one ping interval: every ` +
      `connection is pinged once in it) during which all servers are idle: each server's own CPU time over it ` +
      `(\`process.cpuUsage()\` asked through a socket event, finer than /proc's 10 ms ticks). While a server is measured ` +
      `the others hold their connections and heartbeats (a few % of a core at most, shown in the idle table).`,
  );
  p(
    `- \`others\`: cores used by processes that are not the benchmark's (other sessions on this shared machine) during ` +
      `a window; above ~0.2 the figure is disturbed and deserves a quiet re-run.`,
  );
  p();

  // Targets
  if (r.single.length > 0 || r.clusters.length > 0) {
    p("### Where we stand against the targets");
    p();
    const ours = OURS.filter((id) => byId.has(id));
    const rows: string[][] = [];
    rows.push([
      "holds the per-process maximum, nothing lost",
      ...ours.map((id) => {
        const run = byId.get(id)!;
        const last = run.steps.at(-1);
        const missed = run.steps.reduce((a, s) => a + (s.emit?.missed ?? 0), 0);
        const ok = last !== undefined && last.connections >= run.max && last.lost === 0 && last.failed === 0 &&
          missed === 0;
        return last
          ? `${n0(last.connections)} of ${n0(run.max)}, lost ${last.lost}, failed ${last.failed} ${ok ? "✅" : "❌"}`
          : "–";
      }),
    ]);
    rows.push([
      `costs grow no faster than linearly (per-connection cost at max ÷ lowest before ≤ ${LINEAR}; emit: server CPU per delivery)`,
      ...ours.map((id) => {
        const run = byId.get(id)!;
        const g = METRICS.filter((m) => m.perConnection).map((m) => [m, growth(run, m)] as const);
        const ok = g.every(([, v]) => v === undefined || v <= LINEAR);
        return g.map(([m, v]) => `${m.short} ${fmt(v, 2)}×`).join(", ") + (ok ? " ✅" : " ❌");
      }),
    ]);
    for (const m of METRICS) {
      rows.push([
        `ahead of socket.io (Node) at every step: ${m.short}`,
        ...ours.map((id) => {
          const run = byId.get(id)!;
          if (!base) return "–";
          let wins = 0;
          const ratios: string[] = [];
          run.steps.forEach((s, i) => {
            const b = base.steps[i];
            if (!b) return;
            const ratio = m.value(s) / m.value(b);
            ratios.push(`${ratio.toFixed(2)}×`);
            if (m.lowerIsBetter ? ratio < 1 : ratio > 1) wins++;
          });
          return `${ratios.join(" ")} ${wins === ratios.length && ratios.length > 0 ? "✅" : "❌"}`;
        }),
      ]);
    }
    p(...table(["Target", ...ours.map((id) => byId.get(id)!.label)], rows));
    p(
      "Ratios are ours ÷ socket.io (Node) at each step in order (for the connect rate, higher is better; for the " +
        "others lower is). Against socket.io + bun-engine, on Bun: " +
        (byId.has("ours-bun") && byId.has("sio-bun")
          ? METRICS.map((m) =>
            `${m.short} ${
              byId.get("ours-bun")!.steps.map((s, i) => {
                const b = byId.get("sio-bun")!.steps[i];
                return b ? `${(m.value(s) / m.value(b)).toFixed(2)}×` : "–";
              }).join(" ")
            }`
          ).join("; ")
          : "not measured") +
        ".",
    );
    p();
    const oc = r.clusters.find((c) => c.kind === "ours"), sc = r.clusters.find((c) => c.kind === "sio");
    if (oc) {
      const ok = oc.connections >= oc.goal && oc.lost === 0 && oc.failed === 0 && oc.emit.missed === 0;
      p(
        `Cluster: ${n0(oc.goal)} connections over 6 processes, one io.emit reaching every one, nothing lost: ` +
          `${n0(oc.connections)} open, lost ${oc.lost}, failed ${oc.failed}, missed ${oc.emit.missed} ${
            ok ? "✅" : "❌"
          }` +
          (sc
            ? `; against socket.io's cluster: last delivery p50 ${fmt(oc.emit.p50, 0)} vs ${fmt(sc.emit.p50, 0)} ms ` +
              `${oc.emit.p50 < sc.emit.p50 ? "✅" : "❌"}, memory ${fmt(oc.memory.bytesPerConnection / 1024)} vs ` +
              `${fmt(sc.memory.bytesPerConnection / 1024)} KB/connection ` +
              `${oc.memory.bytesPerConnection < sc.memory.bytesPerConnection ? "✅" : "❌"}, connect rate ` +
              `${n0(oc.connections / oc.connectSeconds)} vs ${n0(sc.connections / sc.connectSeconds)}/s ` +
              `${oc.connections / oc.connectSeconds > sc.connections / sc.connectSeconds ? "✅" : "❌"}`
            : "") +
          ".",
      );
      p();
    }
  }

  if (r.single.length > 0) {
    p("### One process: limits and losses");
    p();
    p(...table(
      [
        "Server",
        "fd soft / hard",
        "fds before",
        "max",
        "reached",
        "fds at max",
        "lost",
        "failed connects",
        "missed / duplicate deliveries",
      ],
      r.single.map((run) => {
        const last = run.steps.at(-1);
        const missed = run.steps.reduce((a, s) => a + (s.emit?.missed ?? 0), 0);
        const dup = run.steps.reduce((a, s) => a + (s.emit?.duplicates ?? 0), 0);
        return [
          run.label,
          `${run.fd.soft} / ${run.fd.hard}`,
          String(run.fd.open),
          n0(run.max),
          last ? n0(last.connections) : "–",
          last ? n0(last.fdOpen) : "–",
          String(last?.lost ?? "–") + (last ? lossDetail(last.closeCodes, last.serverDisconnects) : ""),
          String(last?.failed ?? "–") +
          (run.steps.find((s) => s.connect.firstError)?.connect.firstError
            ? ` (${run.steps.find((s) => s.connect.firstError)!.connect.firstError})`
            : ""),
          `${missed} / ${dup}`,
        ];
      }),
    ));

    const stepHead = (name: string) => ["Server", ...stepNames, name];
    const metricRows = (m: Metric, extra: (run: ServerRun) => string) =>
      r.single.map((run) => [
        run.label,
        ...Array.from({ length: stepCount }, (_, i) => (run.steps[i] ? fmt(m.value(run.steps[i]), m.digits) : "–")),
        extra(run),
      ]);
    const othersRange = (pick: (s: StepResult) => number) => {
      const all = r.single.flatMap((run) => run.steps.map(pick)).filter(Number.isFinite);
      return all.length ? `${fmt(Math.min(...all), 2)}–${fmt(Math.max(...all), 2)}` : "–";
    };

    p(`### Memory per connection (KB)`);
    p();
    p(
      "RSS after full collections minus RSS before the first connection, over the connections open. Last column: " +
        "RSS at the maximum.",
    );
    p();
    p(...table(
      stepHead("RSS at max (MB)"),
      metricRows(METRICS[0], (run) => fmt((run.steps.at(-1)?.memory.rss ?? NaN) / 2 ** 20, 0)),
    ));
    p("![Memory per connection](charts/scale_memory.svg)");
    p();

    p(`### Idle CPU: heartbeats alone (% of one core, over one ping interval)`);
    p();
    p(
      `Each server's CPU time over the shared idle window, as a share of one core; last column: CPU µs per heartbeat ` +
        `(ping sent, pong handled, timers) at the maximum. Other processes used ${othersRange((s) => s.idle.others)} ` +
        `cores during these windows.`,
    );
    p();
    p(...table(
      stepHead("µs per ping at max"),
      metricRows(METRICS[1], (run) => {
        const last = run.steps.at(-1);
        // Too few pings in a short window (--idle) to say what one costs.
        return last && last.idle.pings >= last.connections / 2 ? fmt(last.idle.usPerPing, 1) : "–";
      }),
    ));
    p(
      "Pings counted by the clients in each window (≈ one per connection): " +
        r.single.map((run) => `${run.label} ${run.steps.map((s) => n0(s.idle.pings)).join(" / ")}`).join("; ") + ".",
    );
    p();
    p("![Idle CPU](charts/scale_idle_cpu.svg)");
    p();

    p(`### One io.emit to every client: time to the last delivery (ms, p50 / p99 of ${r.config.emits})`);
    p();
    p(
      `From the client's \`emit-all\` request to the last of the server's clients receiving the broadcast; the ` +
        `load generators run on the same 2 cores, so this includes their reading. Last column: the server's CPU time ` +
        `over the timed emits per delivery, at each step. Other processes: ${othersRange((s) => s.emit.others)} cores.`,
    );
    p();
    p(...table(
      stepHead("server CPU µs/delivery, each step"),
      r.single.map((run) => [
        run.label,
        ...Array.from(
          { length: stepCount },
          (_, i) => (run.steps[i] ? `${fmt(run.steps[i].emit.p50)} / ${fmt(run.steps[i].emit.p99)}` : "–"),
        ),
        run.steps.map((s) => fmt(s.emit.cpuUsPerDelivery, 1)).join(" / "),
      ]),
    ));
    p("![io.emit p99](charts/scale_emit_p99.svg)");
    p();

    p(`### Connect rate (connections/s, through the CONNECT reply)`);
    p();
    p(
      `The connections added at each step over the time they took (${r.config.concurrency} handshakes in flight per ` +
        `load generator, ${r.config.loadgensPerServer} load generators; the clients share the 2 cores). Last column: ` +
        `server CPU µs per connection over the whole run. Other processes: ${
          othersRange((s) => s.connect.others)
        } cores.`,
    );
    p();
    p(...table(
      stepHead("server CPU µs/connect"),
      metricRows(METRICS[3], (run) => {
        const cpu = run.steps.reduce((a, s) => a + s.connect.cpuUsPerConnect * s.connect.opened, 0);
        const opened = run.steps.reduce((a, s) => a + s.connect.opened, 0);
        return fmt(cpu / opened, 0);
      }),
    ));
    p("![Connect rate](charts/scale_connect_rate.svg)");
    p();

    for (const m of METRICS) {
      const series: Series[] = r.single.map((run) => ({
        name: run.label,
        color: COLORS[run.id],
        dashed: run.id.startsWith("sio"),
        points: run.steps.map((s) => [s.connections, m.value(s)] as [number, number]),
      }));
      Deno.writeTextFileSync(
        `${dir}charts/scale_${m.key}.svg`,
        lineChart({ title: `${m.title} (one process)`, xLabel: "connections", yLabel: m.unit, series }),
      );
    }
  }

  if (r.clusters.length > 0) {
    p(`### A cluster of 6 processes behind Redis: ${n0(r.clusters[0].goal)} connections`);
    p();
    p(
      `Six server processes on this machine and one redis-server (started on a free port, no persistence), ` +
        `${r.clusters[0].waves.length} connection waves spread over every process and load generator, then settling; ` +
        `then ${r.config.clusterEmits} \`io.emit\`s (after a warm-up) from one process, each awaited on every ` +
        `connection of the cluster` +
        (r.clusters[0].idle ? `, then one idle window of ${r.config.idleSeconds} s` : "") + ".",
    );
    p();
    p(...table(
      [
        "Cluster",
        "connections",
        "connect time s (rate/s)",
        "RSS MB (KB/conn)",
        "io.emit last delivery p50 / p99 ms",
        "server CPU µs/delivery",
        "idle CPU % of a core",
        "lost",
        "failed",
        "missed",
        "others",
      ],
      r.clusters.map((c) => [
        c.label,
        `${n0(c.connections)} (${c.perServer.map(n0).join(", ")})`,
        `${fmt(c.connectSeconds)} (${n0(c.connections / c.connectSeconds)})`,
        `${n0(c.memory.rss / 2 ** 20)} (${fmt(c.memory.bytesPerConnection / 1024)})`,
        `${fmt(c.emit.p50, 0)} / ${fmt(c.emit.p99, 0)}`,
        fmt(c.emit.cpuUsPerDelivery, 2),
        c.idle ? fmt(c.idle.cores * 100, 1) : "–",
        String(c.lost) +
        (c.lost > 0 ? ` (per process ${c.lostPerServer.join(", ")})` : "") +
        lossDetail(c.closeCodes, mergeCounts(c.serverDisconnects)),
        String(c.failed),
        String(c.emit.missed),
        `${fmt(Math.max(...c.waves.map((w) => w.others), c.emit.others), 2)}`,
      ]),
    ));
    p(
      "`others`: the most cores other processes used during a connection wave or the emits. Per-wave connect rates: " +
        r.clusters.map((c) => `${c.kind} ${c.waves.map((w) => n0(w.rate)).join(" / ")}`).join("; ") + ".",
    );
    p();
  }
  p(`Every figure of this run is in \`bench/scale_results.json\`.`);
  p();
  p(SCALE_END);

  const section = lines.join("\n");
  const resultsPath = `${dir}RESULTS.md`;
  let existing = "";
  try {
    existing = Deno.readTextFileSync(resultsPath);
  } catch { /* a new file */ }
  Deno.writeTextFileSync(resultsPath, withScaleSection(existing, section));
  Deno.writeTextFileSync(`${dir}scale_results.json`, JSON.stringify(r, null, 1) + "\n");
  console.log("\n" + section);
  console.log(`\nwrote ${resultsPath}, ${dir}scale_results.json and ${dir}charts/scale_*.svg`);
}
