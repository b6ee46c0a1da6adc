/**
 * One fuzz run: starts the target server (in this process unless told otherwise), starts the control clients, runs
 * `workers` concurrent fuzz loops until `inputs` inputs were sent or `durationMs` passed, probes new
 * handshakes all along, then stops everything and reads the server's counters once the fuzz
 * sessions are gone. Returns the figures; the caller asserts (the test) or prints them (the task).
 *
 * @module
 */

import { Control, type ControlStats } from "./_control.ts";
import type { GuardReport } from "./_guard.ts";
import { Rng } from "./_rng.ts";
import { type FuzzContext, scenario } from "./_scenarios.ts";
import { type Counts, startTarget, type Target, type TargetFactory } from "./_target.ts";
import { FuzzSocket, http, sleep, within } from "./_wire.ts";

export { runtimeName } from "./_target.ts";

/** Options of a run. */
export interface FuzzOptions {
  seed: number;
  /** Stop after this many inputs... */
  inputs: number;
  /** ...or after this long, whichever comes first. */
  durationMs: number;
  /** Concurrent fuzz loops (default 6). */
  workers?: number;
  /** Prints progress every few seconds. */
  progress?: (line: string) => void;
  /** Keeps the server's console.error lines off the terminal (they are counted). */
  quiet?: boolean;
  /**
   * The server to attack (default: ours in this process, watched by a guard). The target reports
   * what its side saw (error logs, unhandled rejections, uncaught exceptions) when it closes.
   */
  target?: TargetFactory;
}

/** Figures of a run. */
export interface FuzzResult {
  seed: number;
  /** Where the server ran (the target's name). */
  runtime: string;
  inputs: number;
  inputsByKind: Record<string, number>;
  statuses: Record<string, number>;
  sessionsOpened: Record<string, number>;
  elapsedMs: number;
  inputsPerSecond: number;
  controls: ControlStats[];
  /** Control round trips, ms. */
  controlLatency: { p50: number; p99: number; max: number };
  handshakes: { ok: number; failed: number; failures: string[] };
  /** What the server side saw (the target's report once closed). */
  guard: GuardReport;
  /** Counters once the fuzz sessions were gone (controls still connected). */
  countsAfterFuzz: Counts;
  /** Counters once the controls left too. */
  countsAfterAll: Counts;
  /** How long the server took to drop every fuzz session. */
  settleMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A fresh handshake over WebSocket and over polling, each with CONNECT and one ack. */
async function probeHandshake(target: Target, n: number): Promise<string | null> {
  const ws = new FuzzSocket(`${target.wsBase}?EIO=4&transport=websocket`);
  try {
    if (!(await within(ws.opened, 5000, "probe open"))) return "probe WebSocket did not open";
    const open = await ws.firstText(5000);
    if (!open?.startsWith("0{")) return `probe open packet: ${open}`;
    const got = new Promise<string>((resolve) => {
      ws.ws.addEventListener("message", (e: MessageEvent) => {
        if (typeof e.data === "string" && e.data.startsWith("43")) resolve(e.data);
      });
    });
    ws.send("40");
    ws.send(`42${n}["message-with-ack","probe"]`);
    const ack = await within(got, 5000, "probe ack").catch((err) => String(err));
    if (ack !== `43${n}["probe"]`) return `probe ack: ${ack}`;
  } finally {
    await ws.close(undefined, 1000);
  }
  const hs = await http(`${target.httpBase}?EIO=4&transport=polling`, {}, 5000);
  if (hs.status !== 200 || !hs.text.startsWith("0{")) return `probe polling handshake: ${hs.status} ${hs.text}`;
  const sid = JSON.parse(hs.text.slice(1)).sid;
  const url = `${target.httpBase}?EIO=4&transport=polling&sid=${sid}`;
  const post = await http(url, { method: "POST", body: `40\x1e42${n}["message-with-ack","probe"]` }, 5000);
  if (post.status !== 200) return `probe polling POST: ${post.status} ${post.text}`;
  let text = "";
  for (let i = 0; i < 5 && !text.includes(`43${n}`); i++) {
    const get = await http(url, {}, 5000);
    if (get.status !== 200) return `probe polling GET: ${get.status} ${get.text}`;
    text += get.text;
  }
  await http(url, { method: "POST", body: "1" }, 2000);
  if (!text.includes(`43${n}["probe"]`)) return `probe polling ack missing: ${text.slice(0, 200)}`;
  return null;
}

async function baselineCounts(target: Target): Promise<boolean> {
  const c = await target.counts();
  return c.sessions === 0 && Object.keys(c.sockets).length === 0 && Object.keys(c.rooms).length === 0 &&
    c.namespaces === target.namespaces.length && !c.webSockets;
}

/** Control clients whose session runs over a WebSocket once set up. */
function webSocketControls(controls: Control[]): number {
  return controls.filter((c) => c.kind !== "polling").length;
}

/** Only the control clients' sessions and sockets are left (and their WebSockets, where counted). */
function onlyControls(c: Counts, controls: number, webSockets: number): boolean {
  return c.sessions === controls && (c.sockets["/"] ?? 0) === controls && Object.keys(c.sockets).length === 1 &&
    (c.webSockets === undefined || c.webSockets === webSockets);
}

/** Runs the fuzzer. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const rng = new Rng(options.seed);
  const target = await (options.target ?? (() => startTarget({}, { guard: true, quiet: options.quiet })))();
  const ctx: FuzzContext = {
    httpBase: target.httpBase,
    wsBase: target.wsBase,
    port: target.port,
    maxPayload: target.engine.maxHttpBufferSize,
    inputs: {},
    statuses: {},
    sessions: {},
    sids: [],
    stopping: false,
  };
  const total = () => Object.values(ctx.inputs).reduce((a, b) => a + b, 0);
  const controls = [
    new Control("websocket", target.httpBase, target.wsBase),
    new Control("polling", target.httpBase, target.wsBase),
    new Control("upgrade", target.httpBase, target.wsBase),
  ];
  let countsAfterFuzz: Counts | undefined;
  let countsAfterAll: Counts | undefined;
  let settleMs = -1;
  let guard: GuardReport | undefined;
  const handshakes = { ok: 0, failed: 0, failures: [] as string[] };
  const start = performance.now();
  try {
    await Promise.all(controls.map((c) => c.start()));
    options.progress?.("controls connected");
    const deadline = start + options.durationMs;
    const running = () => !ctx.stopping && total() < options.inputs && performance.now() < deadline;

    const ticker = (async () => {
      while (running()) {
        for (const c of controls) c.tick();
        await sleep(50);
      }
    })();
    const prober = (async () => {
      let n = 0;
      while (running()) {
        const failure = await probeHandshake(target, ++n);
        if (failure === null) handshakes.ok++;
        else {
          handshakes.failed++;
          if (handshakes.failures.length < 10) handshakes.failures.push(failure);
        }
        await sleep(200);
      }
    })();
    const progress = options.progress && (async () => {
      let last = performance.now();
      while (running()) {
        await sleep(250);
        if (performance.now() - last < 5000) continue;
        last = performance.now();
        const secs = (last - start) / 1000;
        const sessions = (await target.counts()).sessions;
        options.progress!(
          `${secs.toFixed(0)} s: ${total()} inputs (${(total() / secs).toFixed(0)}/s), sessions ${sessions}, ` +
            `control answers ${controls.reduce((a, c) => a + c.stats.received, 0)}, handshakes ok ${handshakes.ok}`,
        );
      }
    })();
    const workers = Array.from({ length: options.workers ?? 6 }, async () => {
      const local = rng.fork();
      while (running()) await scenario(local)(ctx, local);
    });
    await Promise.all(workers);
    ctx.stopping = true;
    options.progress?.(`fuzz stopped after ${total()} inputs; waiting for the fuzz sessions to go`);
    await Promise.all([ticker, prober, progress]);
    options.progress?.("loops stopped");

    // The fuzz sessions must all go away (closed, timed out, or abandoned to the heartbeat).
    const settleStart = performance.now();
    const o = target.engine;
    const settleLimit = o.pingInterval + o.pingTimeout + o.upgradeTimeout + 3000;
    const wsControls = webSocketControls(controls);
    while (performance.now() - settleStart < settleLimit) {
      if (onlyControls(await target.counts(), controls.length, wsControls)) break;
      await sleep(50);
    }
    settleMs = performance.now() - settleStart;
    countsAfterFuzz = await target.counts();
    options.progress?.(`settled in ${settleMs.toFixed(0)} ms: ${JSON.stringify(countsAfterFuzz)}`);
    for (const c of controls) await c.stop();
    const end = performance.now() + 3000;
    while (!(await baselineCounts(target)) && performance.now() < end) await sleep(20);
    countsAfterAll = await target.counts();
    options.progress?.(`controls closed: ${JSON.stringify(countsAfterAll)}`);
  } finally {
    ctx.stopping = true;
    guard = await target.close();
  }
  const elapsedMs = performance.now() - start;
  const latencies = controls.flatMap((c) => c.stats.latencies).sort((a, b) => a - b);
  const inputs = total();
  return {
    seed: options.seed,
    runtime: target.name,
    inputs,
    inputsByKind: ctx.inputs,
    statuses: ctx.statuses,
    sessionsOpened: ctx.sessions,
    elapsedMs,
    inputsPerSecond: inputs / (elapsedMs / 1000),
    controls: controls.map((c) => ({ ...c.stats, latencies: [] })),
    controlLatency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
    handshakes,
    guard: guard!,
    countsAfterFuzz: countsAfterFuzz!,
    countsAfterAll: countsAfterAll!,
    settleMs,
  };
}

/** Every way the run went wrong, as readable lines (empty: it passed). */
export function problems(r: FuzzResult): string[] {
  const out: string[] = [];
  for (const c of r.controls) {
    if (c.failure) out.push(`control ${c.kind} failed: ${c.failure}`);
    if (c.lost > 0) out.push(`control ${c.kind} lost ${c.lost} of ${c.sent}`);
    if (c.wrong > 0) out.push(`control ${c.kind} got ${c.wrong} wrong or out-of-order answers`);
    if (c.received === 0) out.push(`control ${c.kind} exchanged nothing`);
  }
  if (r.handshakes.failed > 0) {
    out.push(`new handshakes failed ${r.handshakes.failed} times: ${r.handshakes.failures.join("; ")}`);
  }
  if (r.handshakes.ok === 0) out.push("no new handshake completed");
  for (const u of r.guard.unhandledRejections) out.push(`unhandled rejection: ${u}`);
  for (const u of r.guard.uncaughtExceptions) out.push(`uncaught exception: ${u}`);
  for (const line of r.guard.errorLogs) out.push(`server logged: ${line}`);
  const a = r.countsAfterFuzz;
  const wsControls = r.controls.filter((c) => c.kind !== "polling").length;
  if (!onlyControls(a, r.controls.length, wsControls)) {
    out.push(`fuzz sessions left behind: ${JSON.stringify(a)}`);
  }
  const b = r.countsAfterAll;
  if (b.sessions !== 0 || Object.keys(b.sockets).length || Object.keys(b.rooms).length || b.webSockets) {
    out.push(`left after everyone closed: ${JSON.stringify(b)}`);
  }
  return out;
}

/** A short human summary. */
export function summary(r: FuzzResult): string {
  const top = Object.entries(r.inputsByKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(" ");
  return [
    `fuzz seed=${r.seed} on ${r.runtime}: ${r.inputs} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s (${
      r.inputsPerSecond.toFixed(0)
    }/s)`,
    `  sessions opened: ${JSON.stringify(r.sessionsOpened)}; statuses: ${JSON.stringify(r.statuses)}`,
    `  controls: ${
      r.controls.map((c) => `${c.kind} ${c.received}/${c.sent}${c.failure ? " FAILED" : ""}`).join(", ")
    }; ` +
    `round trip p50 ${r.controlLatency.p50.toFixed(1)} ms, p99 ${r.controlLatency.p99.toFixed(1)} ms, max ${
      r.controlLatency.max.toFixed(1)
    } ms`,
    `  new handshakes: ${r.handshakes.ok} ok, ${r.handshakes.failed} failed; settle ${r.settleMs.toFixed(0)} ms; ` +
    `unhandled rejections ${r.guard.unhandledRejections.length}, uncaught ${r.guard.uncaughtExceptions.length}, server error logs ${r.guard.errorLogCount}`,
    ...(r.guard.notes ?? []).map((note) => `  server side: ${note}`),
    `  inputs: ${top}`,
  ].join("\n");
}
