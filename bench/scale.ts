/**
 * The cost curve up to 100,000 connections (issue 15, point 5): `npx deno task bench:scale`.
 *
 * One process: ours on Deno, Bun and Node, socket.io 4.8 on Node and socket.io +
 * `@socket.io/bun-engine` on Bun, side by side (each its own process and port), with socket.io's
 * default heartbeat (25 s / 20 s). At 1k, 5k, 10k connections and at as many as the server's
 * file-descriptor limit allows, for each server in turn: the connect rate, the time for one
 * `io.emit` to reach every client (p50/p99 of the last delivery over several emits), memory per
 * connection (RSS after full collections, over the RSS before the first connection), then one
 * shared window of one ping interval during which every server is idle (heartbeats alone): each
 * server's CPU over it. Connections lost (closed without being asked to) and failed connects are
 * counted all along.
 *
 * A cluster: ours in 6 processes (2 Deno, 2 Bun, 2 Node) behind our Redis adapter, then 6 Node
 * socket.io processes behind `@socket.io/redis-adapter`, each with a redis-server of its own on a
 * free port: 100,000 connections in all, connected in waves; one `io.emit` from one process must
 * reach every one of them (time to the last delivery), and nothing may be lost.
 *
 * The clients are raw-protocol WebSocket clients in load-generator processes
 * (`bench/scale_client.ts` on Bun; 10 of them, each holding at most 10,000 connections).
 * Writes its section of `bench/RESULTS.md` (the rest of the file is kept), `bench/scale_results.json`
 * and the charts `bench/charts/scale_*.svg`; about 8 minutes on 2 cores.
 *
 *   npx deno task bench:scale
 *   npx deno task bench:scale --quick          a smoke run (small steps, short idle window), into .tmp/scale/
 *
 * Flags: --servers=ours-deno,ours-bun,ours-node,sio-node,sio-bun  --steps=1000,5000,10000,max
 *        --cluster=100000 (0: none)  --clusters=ours,sio  --emits=N  --idle=SECONDS  --no-single
 *        --out=DIR/ (where RESULTS.md, the JSON and charts/ go)
 *
 * @module
 */

import { systemBusy, treeCpu, treeRss } from "./_proc.ts";
import {
  BIN,
  collectGarbage,
  fdInfo,
  type Loadgen,
  type Reply,
  type ServerProc,
  startLoadgen,
  startRedis,
  startServer,
  stop,
} from "./_scale_procs.ts";
import {
  type ClusterRun,
  type ScaleResults,
  type ServerRun,
  type StepResult,
  writeScaleReport,
} from "./_scale_report.ts";

const ROOT = new URL("../", import.meta.url).pathname;

// ---------- configuration ----------

const args = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args.set(m[1], m[2] ?? "true");
}
const quick = args.has("quick");

/** socket.io's default heartbeat, which every server here keeps. */
const PING_INTERVAL_MS = 25_000;

const config = {
  steps: (args.get("steps") ?? (quick ? "300,1000,max" : "1000,5000,10000,max")).split(","),
  /** Caps "max" (the quick run does not go to the descriptor limit). */
  maxCap: quick ? 2000 : Infinity,
  /** Timed emits per step (after one warm-up emit). */
  emits: Number(args.get("emits") ?? (quick ? 3 : 10)),
  /** The idle window: one ping interval, so that every connection is pinged once in it. */
  idleSeconds: Number(args.get("idle") ?? (quick ? 3 : PING_INTERVAL_MS / 1000)),
  cluster: Number(args.get("cluster") ?? (quick ? 3000 : 100_000)),
  clusters: (args.get("clusters") ?? "ours,sio").split(","),
  clusterWaves: quick ? 2 : 5,
  clusterEmits: Number(args.get("emits") ?? (quick ? 3 : 5)),
  clusterIdle: !quick,
  loadgensPerServer: 2,
  /** Connections one load generator holds at most (its descriptor limit is the servers'). */
  perLoadgen: 10_000,
  /** Handshakes in flight per load generator. */
  concurrency: 100,
  /** Descriptors a server keeps free below its limit (files, DNS, a late accept). */
  fdMargin: 50,
  warmClients: quick ? 50 : 200,
  pad: "x".repeat(64),
};

interface ServerDef {
  id: string;
  label: string;
  runtime: "deno" | "bun" | "node";
  cmd: string[];
}

const DENO = [
  `${BIN}/deno`,
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-sys",
  "--unstable-no-legacy-abort",
  "--v8-flags=--expose-gc",
];
const NODE = [`${BIN}/node`, "--expose-gc"];
const BUN = [`${BIN}/bun`];
const OURS = "bench/servers/scale_ours.ts";
const SIO = "bench/servers/scale_socketio.ts";

const SERVERS: ServerDef[] = [
  { id: "ours-deno", label: "ours (Deno)", runtime: "deno", cmd: [...DENO, OURS] },
  { id: "ours-bun", label: "ours (Bun)", runtime: "bun", cmd: [...BUN, OURS] },
  { id: "ours-node", label: "ours (Node)", runtime: "node", cmd: [...NODE, OURS] },
  { id: "sio-node", label: "socket.io (Node)", runtime: "node", cmd: [...NODE, SIO] },
  { id: "sio-bun", label: "socket.io + bun-engine (Bun)", runtime: "bun", cmd: [...BUN, SIO] },
];
/**
 * Where load generator `j` reaches a server: its own loopback address. The kernel's choice of a
 * source port for `connect()` gets slow once one destination (address, port) holds more than about
 * 14,000 connections (it scans the even ports of 32768-60999 first), so every destination here
 * takes at most one load generator's 10,000: the servers listen on 0.0.0.0 and each load generator
 * connects to 127.0.0.(2 + j). The traffic stays on the loopback interface.
 */
const wsUrl = (j: number, port: number) => `ws://127.0.0.${2 + j}:${port}/socket.io/?EIO=4&transport=websocket`;
const LISTEN = ["--host", "0.0.0.0"];

const servers = args.has("servers") ? SERVERS.filter((s) => args.get("servers")!.split(",").includes(s.id)) : SERVERS;
const single = !args.has("no-single") && servers.length > 0;

// ---------- helpers ----------

const started = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Cores used by processes that are not ours (other sessions on the machine) over a window. */
class Others {
  #busy = systemBusy();
  #ours = treeCpu(Deno.pid);
  #t = performance.now();
  cores(): number {
    const seconds = (performance.now() - this.#t) / 1000;
    return Math.max(0, systemBusy() - this.#busy - (treeCpu(Deno.pid) - this.#ours)) / seconds;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

/** The counts of `now` above those of `before`, the zeros left out. */
function since(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(now)) if (n > (before[k] ?? 0)) out[k] = n - (before[k] ?? 0);
  return out;
}

/** Splits `n` into `parts` near-equal counts. */
function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

/** Opens connections through several load generators at once; counts and wall time. */
async function connectThrough(
  lgs: Loadgen[],
  batches: Array<Array<{ target: string; url: string; count: number }>>,
  concurrency: number,
): Promise<{ opened: number; failed: number; seconds: number; firstError?: string }> {
  const t0 = performance.now();
  const replies = await Promise.all(
    lgs.map((lg, i) =>
      batches[i].some((b) => b.count > 0)
        ? lg.call({ op: "connect", batches: batches[i], concurrency })
        : Promise.resolve({ opened: 0, failed: 0 } as Reply)
    ),
  );
  return {
    opened: sum(replies.map((r) => r.opened)),
    failed: sum(replies.map((r) => r.failed)),
    seconds: (performance.now() - t0) / 1000,
    firstError: replies.find((r) => r.firstError)?.firstError,
  };
}

/** The counts of a target summed over load generators. */
async function targetStats(
  lgs: Loadgen[],
  target: string,
): Promise<{ open: number; failed: number; lost: number; pings: number; closeCodes: Record<string, number> }> {
  const replies = await Promise.all(lgs.map((lg) => lg.call({ op: "stats" })));
  const out = { open: 0, failed: 0, lost: 0, pings: 0, closeCodes: {} as Record<string, number> };
  for (const r of replies) {
    const t = r.targets[target];
    if (!t) continue;
    out.open += t.open;
    out.failed += t.failed;
    out.lost += t.lost;
    out.pings += t.pings;
    for (const [code, n] of Object.entries(t.closeCodes as Record<string, number>)) {
      out.closeCodes[code] = (out.closeCodes[code] ?? 0) + n;
    }
  }
  return out;
}

/** A server's own CPU time in µs (the `cpu` ack of servers/_scale_app.ts); NaN if it does not answer. */
async function serverCpu(lg: Loadgen, target: string): Promise<number> {
  try {
    return (await lg.call({ op: "cpu", target })).micros;
  } catch (err) {
    log(`${target}: no CPU reading (${(err as Error).message})`);
    return NaN;
  }
}

let seqCounter = 0;

/**
 * One `io.emit` through the server of `triggerTarget`, awaited on every connection of `targets`:
 * milliseconds from the trigger to the last delivery, and how many were missed or duplicated.
 */
async function emitOnce(
  lgs: Loadgen[],
  targets: string[],
  trigger: Loadgen,
  triggerTarget: string,
  timeoutMs: number,
): Promise<{ ms: number; expected: number; missed: number; got: number; duplicates: number }> {
  const seq = ++seqCounter;
  await Promise.all(lgs.map((lg) => lg.call({ op: "arm", targets, seq })));
  const { at } = await trigger.call({ op: "trigger", target: triggerTarget, seq, pad: config.pad });
  const replies = await Promise.all(lgs.map((lg) => lg.call({ op: "expect", targets, seq, timeoutMs })));
  return {
    ms: Math.max(...replies.map((r) => r.lastAt)) - at,
    expected: sum(replies.map((r) => r.expected)),
    missed: sum(replies.map((r) => r.missed)),
    got: sum(replies.map((r) => r.got)),
    duplicates: sum(replies.map((r) => r.duplicates)),
  };
}

/** Several emits (after a warm-up one): latencies, misses, and the servers' CPU per delivery. */
async function emits(
  lgs: Loadgen[],
  targets: string[],
  cpuOf: Array<[Loadgen, string]>,
  count: number,
  connections: number,
): Promise<StepResult["emit"]> {
  const timeoutMs = 10_000 + connections / 10;
  const trigger = lgs[0];
  await emitOnce(lgs, targets, trigger, targets[0], timeoutMs);
  const others = new Others();
  const cpu0 = await Promise.all(cpuOf.map(([lg, t]) => serverCpu(lg, t)));
  const latencies: number[] = [];
  let missed = 0, duplicates = 0, deliveries = 0;
  for (let i = 0; i < count; i++) {
    await sleep(50);
    const r = await emitOnce(lgs, targets, trigger, targets[0], timeoutMs);
    latencies.push(r.ms);
    missed += r.missed;
    duplicates += r.duplicates;
    deliveries += r.got;
  }
  const cpu1 = await Promise.all(cpuOf.map(([lg, t]) => serverCpu(lg, t)));
  return {
    count,
    latencies,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    missed,
    duplicates,
    cpuUsPerDelivery: (sum(cpu1) - sum(cpu0)) / deliveries,
    others: others.cores(),
  };
}

// ---------- the run ----------

const ownLimits = fdInfo(Deno.pid);
log(
  `file descriptors: this process starts with soft ${ownLimits.soft}, hard ${ownLimits.hard}; ` +
    `every server and load generator is started with its soft limit raised to the hard one`,
);
const loadgenCount = Math.max(
  single ? servers.length * config.loadgensPerServer : 0,
  Math.ceil(config.cluster / config.perLoadgen),
);
const lgs: Loadgen[] = [];
for (let i = 0; i < loadgenCount; i++) lgs.push(await startLoadgen());
const lgLimits = fdInfo(lgs[0].pid);
const perLoadgen = Math.min(config.perLoadgen, lgLimits.hard - lgLimits.open - config.fdMargin);
log(`${lgs.length} load generators (Bun), fd soft ${lgLimits.soft} hard ${lgLimits.hard}, at most ${perLoadgen} each`);

const results: ScaleResults = {
  command: `npx deno task bench:scale${Deno.args.map((a) => " " + a).join("")}`,
  startedAt: new Date().toISOString(),
  quick,
  config: { ...config, maxCap: String(config.maxCap), pingIntervalMs: PING_INTERVAL_MS },
  limits: { orchestrator: ownLimits, loadgen: lgLimits, perLoadgen },
  loadAverageAtStart: Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  single: [],
  clusters: [],
  minutes: 0,
};

if (single) await runSingle();
for (const kind of config.cluster > 0 ? config.clusters : []) {
  if (kind === "ours" || kind === "sio") results.clusters.push(await runCluster(kind));
}
for (const lg of lgs) await stop(lg.child);
results.minutes = (Date.now() - started) / 60_000;
await writeScaleReport(results, args.get("out") ?? (quick ? `${ROOT}.tmp/scale/` : `${ROOT}bench/`));
log(`done in ${results.minutes.toFixed(1)} min`);
Deno.exit(0);

// ---------- one process per server, side by side ----------

async function runSingle(): Promise<void> {
  const procs: ServerProc[] = [];
  const runs: ServerRun[] = [];
  for (const def of servers) {
    procs.push(await startServer([...def.cmd, ...LISTEN], def.id));
  }
  const mine = (i: number) => lgs.slice(i * config.loadgensPerServer, (i + 1) * config.loadgensPerServer);
  /** The addresses of server `i` for its load generators, in order. */
  const urls = (i: number) =>
    Array.from({ length: config.loadgensPerServer }, (_, k) => wsUrl(i * config.loadgensPerServer + k, procs[i].port));

  // Warm each server's connection path (JIT, pools), then take its baseline: memory and descriptors.
  for (const [i, def] of servers.entries()) {
    const target = `${def.id}-warm`;
    const batches = split(config.warmClients, config.loadgensPerServer).map((count, k) => [
      { target, url: urls(i)[k], count },
    ]);
    await connectThrough(mine(i), batches, 50);
    await Promise.all(mine(i).map((lg) => lg.call({ op: "close", target })));
  }
  await sleep(1000);
  await collectGarbage(procs.map((p) => p.pid));
  // The warm-up's disconnections (printed by now: at most a second late) are not losses.
  const warmDisconnects = procs.map((p) => ({ ...p.disconnects }));
  for (const [i, def] of servers.entries()) {
    const fd = fdInfo(procs[i].pid);
    const max = Math.min(fd.hard - fd.open - config.fdMargin, perLoadgen * config.loadgensPerServer, config.maxCap);
    runs.push({ id: def.id, label: def.label, runtime: def.runtime, fd, max, rss0: treeRss(procs[i].pid), steps: [] });
    log(
      `${def.id}: fd soft ${fd.soft} hard ${fd.hard}, ${fd.open} open before connecting: max ${max} connections; ` +
        `RSS ${(runs[i].rss0 / 2 ** 20).toFixed(0)} MB`,
    );
  }

  const stepTargets = (run: ServerRun) =>
    config.steps.map((s) => (s === "max" ? run.max : Math.min(Number(s), run.max)))
      .filter((n, i, all) => all.indexOf(n) === i);
  const stepCount = Math.max(...runs.map((r) => stepTargets(r).length));

  for (let step = 0; step < stepCount; step++) {
    // Connect, server after server (the order turns every step: the machine's speed drifts).
    const order = servers.map((_, i) => (i + step) % servers.length);
    const steps = new Map<number, StepResult>();
    for (const i of order) {
      const run = runs[i];
      const goal = stepTargets(run)[step];
      if (goal === undefined) continue;
      const before = await targetStats(mine(i), run.id);
      const need = Math.max(0, goal - before.open);
      const batches = split(need, config.loadgensPerServer).map((count, k) => [
        { target: run.id, url: urls(i)[k], count },
      ]);
      const others = new Others();
      const cpu0 = treeCpu(procs[i].pid);
      const r = await connectThrough(mine(i), batches, config.concurrency);
      const cpu = treeCpu(procs[i].pid) - cpu0;
      steps.set(i, {
        goal,
        connections: 0,
        connect: {
          added: need,
          opened: r.opened,
          failed: r.failed,
          seconds: r.seconds,
          rate: r.opened / r.seconds,
          cpuUsPerConnect: (cpu * 1e6) / r.opened,
          others: others.cores(),
          firstError: r.firstError,
        },
      } as StepResult);
      log(
        `${run.id.padEnd(9)} ${String(goal).padStart(6)}: +${r.opened} in ${r.seconds.toFixed(1)} s ` +
          `(${(r.opened / r.seconds).toFixed(0)}/s, ${((cpu * 1e6) / r.opened).toFixed(0)} µs CPU each)` +
          (r.failed ? `, ${r.failed} FAILED (${r.firstError})` : ""),
      );
    }
    await sleep(1000);

    // One io.emit to every client, several times, server after server.
    for (const i of order) {
      const s = steps.get(i);
      if (!s) continue;
      const open = (await targetStats(mine(i), runs[i].id)).open;
      s.emit = await emits(mine(i), [runs[i].id], [[mine(i)[0], runs[i].id]], config.emits, open);
      log(
        `${runs[i].id.padEnd(9)} ${String(s.goal).padStart(6)}: io.emit to ${open}: p50 ${s.emit.p50.toFixed(1)} ms, ` +
          `p99 ${s.emit.p99.toFixed(1)} ms, ${s.emit.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery` +
          (s.emit.missed ? `, ${s.emit.missed} MISSED` : ""),
      );
    }

    // Memory, after full collections.
    await collectGarbage(procs.map((p) => p.pid));
    for (const [i, s] of steps) {
      const open = (await targetStats(mine(i), runs[i].id)).open;
      const rss = treeRss(procs[i].pid);
      s.memory = { rss, bytesPerConnection: (rss - runs[i].rss0) / open };
      s.fdOpen = fdInfo(procs[i].pid).open;
    }

    // Idle: one ping interval with every server idle; each server's CPU over it.
    const active = [...steps.keys()];
    const others = new Others();
    const t0 = performance.now();
    const cpu0 = await Promise.all(active.map((i) => serverCpu(mine(i)[0], runs[i].id)));
    const pings0 = await Promise.all(active.map(async (i) => (await targetStats(mine(i), runs[i].id)).pings));
    await sleep(config.idleSeconds * 1000);
    const cpu1 = await Promise.all(active.map((i) => serverCpu(mine(i)[0], runs[i].id)));
    const seconds = (performance.now() - t0) / 1000;
    const otherCores = others.cores();
    for (const [k, i] of active.entries()) {
      const s = steps.get(i)!;
      const stats = await targetStats(mine(i), runs[i].id);
      const cpuUs = cpu1[k] - cpu0[k];
      s.connections = stats.open;
      s.lost = stats.lost;
      s.failed = stats.failed;
      s.closeCodes = stats.closeCodes;
      s.serverDisconnects = since(procs[i].disconnects, warmDisconnects[i]);
      s.idle = {
        seconds,
        cpuMs: cpuUs / 1000,
        cores: cpuUs / 1e6 / seconds,
        pings: stats.pings - pings0[k],
        usPerPing: cpuUs / Math.max(1, stats.pings - pings0[k]),
        others: otherCores,
      };
      runs[i].steps.push(s);
      log(
        `${runs[i].id.padEnd(9)} ${String(s.goal).padStart(6)}: ${stats.open} open, ` +
          `${(s.memory.bytesPerConnection / 1024).toFixed(1)} KB/conn, idle ${(s.idle.cores * 100).toFixed(2)}% ` +
          `of a core (${s.idle.pings} pings), lost ${stats.lost}, failed ${stats.failed}`,
      );
    }
    log(`step ${step + 1}: other processes used ${otherCores.toFixed(2)} cores during the idle window`);
  }

  await Promise.all(lgs.map((lg) => lg.call({ op: "close", target: "*" })));
  for (const p of procs) await stop(p.child);
  results.single = runs;
}

// ---------- a cluster behind Redis ----------

async function runCluster(kind: "ours" | "sio"): Promise<ClusterRun> {
  const redis = await startRedis();
  const defs: ServerDef[] = kind === "ours"
    ? [SERVERS[0], SERVERS[0], SERVERS[1], SERVERS[1], SERVERS[2], SERVERS[2]]
    : Array.from({ length: 6 }, () => SERVERS[3]);
  const label = kind === "ours"
    ? "ours: 2 Deno + 2 Bun + 2 Node, our Redis adapter"
    : "socket.io (Node) ×6, @socket.io/redis-adapter";
  const ids = defs.map((d, i) => `${kind}-${i}-${d.runtime}`);
  log(`cluster ${label}: Redis at ${redis.url}`);
  const procs = await Promise.all(defs.map((d, i) => startServer([...d.cmd, ...LISTEN, "--redis", redis.url], ids[i])));
  await sleep(500);
  await collectGarbage(procs.map((p) => p.pid));
  const rss0 = procs.map((p) => treeRss(p.pid));

  // Connect in waves, each spread over every server and load generator.
  const perServer = split(config.cluster, procs.length);
  const waves: ClusterRun["waves"] = [];
  for (let w = 0; w < config.clusterWaves; w++) {
    const batches = lgs.map(() => [] as Array<{ target: string; url: string; count: number }>);
    for (const [s, p] of procs.entries()) {
      const inWave = split(perServer[s], config.clusterWaves)[w];
      split(inWave, lgs.length).forEach((count, j) =>
        batches[j].push({ target: ids[s], url: wsUrl(j, p.port), count })
      );
    }
    const others = new Others();
    const cpu0 = sum(procs.map((p) => treeCpu(p.pid)));
    const r = await connectThrough(lgs, batches, Math.ceil((config.concurrency * 4) / lgs.length));
    const cpu = sum(procs.map((p) => treeCpu(p.pid))) - cpu0;
    waves.push({ ...r, rate: r.opened / r.seconds, cpuUsPerConnect: (cpu * 1e6) / r.opened, others: others.cores() });
    log(
      `cluster ${kind}: wave ${w + 1}: +${r.opened} in ${r.seconds.toFixed(1)} s (${
        (r.opened / r.seconds).toFixed(0)
      }/s)` +
        (r.failed ? `, ${r.failed} FAILED (${r.firstError})` : ""),
    );
    await sleep(1000);
  }
  await sleep(2000);
  const stats = async () => {
    const all = await Promise.all(ids.map((id) => targetStats(lgs, id)));
    return {
      open: sum(all.map((s) => s.open)),
      lost: sum(all.map((s) => s.lost)),
      failed: sum(all.map((s) => s.failed)),
      pings: sum(all.map((s) => s.pings)),
      perServer: all.map((s) => s.open),
      lostPerServer: all.map((s) => s.lost),
      closeCodes: all.reduce((acc, s) => {
        for (const [c, n] of Object.entries(s.closeCodes)) acc[c] = (acc[c] ?? 0) + n;
        return acc;
      }, {} as Record<string, number>),
    };
  };
  const open = (await stats()).open;

  await collectGarbage(procs.map((p) => p.pid));
  const rss = procs.map((p) => treeRss(p.pid));
  const memory = {
    rss: sum(rss),
    rss0: sum(rss0),
    bytesPerConnection: (sum(rss) - sum(rss0)) / open,
  };
  log(`cluster ${kind}: ${open} open, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MB in all`);

  // Which load generator holds a connection to the first server, to trigger from it.
  const cpuOf = await Promise.all(ids.map(async (id) => {
    for (const lg of lgs) {
      const s = (await lg.call({ op: "stats" })).targets[id];
      if (s?.open > 0) return [lg, id] as [Loadgen, string];
    }
    throw new Error(`no connection to ${id}`);
  }));
  const ordered = [cpuOf[0][0], ...lgs.filter((lg) => lg !== cpuOf[0][0])];
  const emit = await emits(ordered, ids, cpuOf, config.clusterEmits, open);
  log(
    `cluster ${kind}: io.emit to ${open}: p50 ${emit.p50.toFixed(0)} ms, p99 ${emit.p99.toFixed(0)} ms` +
      (emit.missed ? `, ${emit.missed} MISSED` : ""),
  );

  let idle: ClusterRun["idle"];
  if (config.clusterIdle) {
    const others = new Others();
    const t0 = performance.now();
    const cpu0 = await Promise.all(cpuOf.map(([lg, id]) => serverCpu(lg, id)));
    const pings0 = (await stats()).pings;
    await sleep(config.idleSeconds * 1000);
    const cpu1 = await Promise.all(cpuOf.map(([lg, id]) => serverCpu(lg, id)));
    const seconds = (performance.now() - t0) / 1000;
    const cpuUs = sum(cpu1) - sum(cpu0);
    const pings = (await stats()).pings - pings0;
    idle = {
      seconds,
      cpuMs: cpuUs / 1000,
      cores: cpuUs / 1e6 / seconds,
      pings,
      usPerPing: cpuUs / pings,
      others: others.cores(),
    };
    log(`cluster ${kind}: idle ${(idle.cores * 100).toFixed(1)}% of a core in all (${pings} pings)`);
  }

  const end = await stats();
  await sleep(1100); // the servers print their disconnections at most once a second
  const serverDisconnects = procs.map((p) => ({ ...p.disconnects }));
  await Promise.all(lgs.map((lg) => lg.call({ op: "close", target: "*" })));
  for (const p of procs) await stop(p.child);
  await stop(redis.child);
  return {
    kind,
    label,
    processes: defs.map((d) => d.id),
    goal: config.cluster,
    connections: end.open,
    perServer: end.perServer,
    lost: end.lost,
    failed: end.failed,
    closeCodes: end.closeCodes,
    lostPerServer: end.lostPerServer,
    serverDisconnects,
    waves,
    connectSeconds: sum(waves.map((w) => w.seconds)),
    memory,
    emit,
    idle,
  };
}
