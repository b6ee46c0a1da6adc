/**
 * How late pings go out under load (issue 19), on every runtime: the load of
 * `tests/_heartbeat_load.ts` (50 socket.io-client 4.8 clients connect at once over polling,
 * upgrade, emit 20 `message` events each and stay through a heartbeat) against the protocol fixture
 * (pingInterval 300 ms, pingTimeout 200 ms) on Deno, Bun, Node, in workerd with and without
 * hibernation, and the reference socket.io for comparison, `--runs` times each (default 20).
 *
 * A ping's delay past its schedule is measured where it matters, at the client: the time since
 * the client's previous ping (for the first one, since its handshake) minus pingInterval, 0 when
 * it came early. It includes the pong's trip to the server (the engine schedules the next ping
 * pingInterval after the pong) and any delay of the client's own event loop, which shares the
 * machine with the server. A client gives up at pingInterval + pingTimeout, a delay of 200 ms.
 *
 *   deno run -A bench/heartbeat_lateness.ts [--runs 20] [--servers deno,bun,node,workerd,workerd-memory,reference] [--write]
 *
 * `--write` puts the table in its own section of bench/RESULTS.md (replacing the previous one).
 *
 * @module
 */

import process from "node:process";
import { cpus, loadavg } from "node:os";
import { writeMarkedSection } from "./_results_section.ts";
import { fileURLToPath } from "node:url";
import { heartbeatLoadRun, quantile } from "../tests/_heartbeat_load.ts";
import { startFixture } from "../tests/_fixture_process.ts";
import { startWorkerd } from "../tests/workers/_helpers.ts";
import { systemBusy, treeCpu } from "./_proc.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SERVERS = ["deno", "bun", "node", "workerd", "workerd-memory", "reference"];
const LABELS: Record<string, string> = {
  deno: "ours (Deno)",
  bun: "ours (Bun)",
  node: "ours (Node)",
  workerd: "ours (workerd, hibernation)",
  "workerd-memory": "ours (workerd, in memory)",
  reference: "socket.io (Node)",
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const runs = Number(arg("runs", "20"));
const servers = arg("servers", SERVERS.join(",")).split(",");
for (const name of servers) {
  if (!SERVERS.includes(name)) throw new Error(`Unknown server ${name}: use ${SERVERS.join(", ")}`);
}

interface Row {
  server: string;
  pings: number;
  p50: number;
  p99: number;
  max: number;
  pingTimeouts: number;
  otherDrops: number;
  lostEchoes: number;
  runMs: number;
  others: number;
}

/** Starts `name`; returns its URL and a stop function. */
async function start(name: string): Promise<{ url: string; close(): Promise<void> }> {
  if (name === "workerd" || name === "workerd-memory") {
    const server = await startWorkerd(`${ROOT}tests/fixture/workers_fixture.ts`, {
      FIXTURE: name === "workerd" ? "FixtureObject" : "FixturePlainObject",
    });
    return { url: server.url, close: () => server.close() };
  }
  const fixture = await startFixture({ kind: name });
  return { url: fixture.url, close: () => fixture.close() };
}

const rows: Row[] = [];
const started = Date.now();
const loadBefore = loadavg()[0];
for (const name of servers) {
  const server = await start(name);
  try {
    await heartbeatLoadRun(server.url, { holdMs: 0 }); // warm-up, not counted
    const lateness: number[] = [];
    const row: Row = {
      server: LABELS[name],
      pings: 0,
      p50: 0,
      p99: 0,
      max: 0,
      pingTimeouts: 0,
      otherDrops: 0,
      lostEchoes: 0,
      runMs: 0,
      others: 0,
    };
    const busy0 = systemBusy();
    const own0 = treeCpu(process.pid);
    const t0 = performance.now();
    for (let run = 0; run < runs; run++) {
      const r = await heartbeatLoadRun(server.url);
      lateness.push(...r.lateness);
      row.pings += r.pings;
      row.runMs += r.ms / runs;
      row.lostEchoes += 50 * 20 - r.echoed;
      for (const [reason, n] of Object.entries(r.disconnects)) {
        if (reason === "ping timeout") row.pingTimeouts += n;
        else row.otherDrops += n;
      }
      row.otherDrops += r.connectErrors;
    }
    // Cores used by other processes of the machine meanwhile (this process tree holds the clients
    // and the server, workerd included).
    const seconds = (performance.now() - t0) / 1000;
    const own = treeCpu(process.pid) - own0;
    row.others = Math.max(0, (systemBusy() - busy0 - own) / seconds);
    row.p50 = quantile(lateness, 0.5);
    row.p99 = quantile(lateness, 0.99);
    row.max = quantile(lateness, 1);
    rows.push(row);
    console.error(
      `${row.server}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, ` +
        `max ${row.max.toFixed(1)} ms, ${row.pingTimeouts} ping timeouts`,
    );
  } finally {
    await server.close();
  }
}

const fmt = (n: number) => n.toFixed(1);
const command = `deno run -A bench/heartbeat_lateness.ts ${process.argv.slice(2).join(" ")}`.trim();
const lines = [
  "<!-- heartbeat_lateness -->",
  "## Heartbeat lateness under load (issue 19)",
  "",
  `Produced by \`${command}\` on ${new Date(started).toISOString().slice(0, 16).replace("T", " ")} UTC in ` +
  `${((Date.now() - started) / 60000).toFixed(1)} min; ${cpus().length} cores, load average ${
    loadBefore.toFixed(2)
  } before the run. Column \`others\`: cores used by other processes of the machine meanwhile.`,
  "",
  `${runs} runs per server, after one warm-up run: 50 socket.io-client 4.8 clients connect at once (polling, then ` +
  "the upgrade), emit 20 `message` events each and stay through a heartbeat of the fixture (pingInterval 300 ms, " +
  "pingTimeout 200 ms). A ping's delay past its schedule is measured at the client: the time since its previous ping " +
  "(the first: since its handshake) minus pingInterval, 0 when early; it includes the pong's trip (the engine pings " +
  "pingInterval after the pong) and the delays of the clients' own event loop. A client gives up at 200 ms.",
  "",
  "| Server | pings | p50 ms | p99 ms | max ms | ping timeouts | other drops | lost echoes | ms/run | others |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map((r) =>
    `| ${r.server} | ${r.pings} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${
      fmt(r.max)
    } | ${r.pingTimeouts} | ${r.otherDrops} | ` +
    `${r.lostEchoes} | ${r.runMs.toFixed(0)} | ${r.others.toFixed(2)} |`
  ),
  "<!-- /heartbeat_lateness -->",
];
const section = lines.join("\n");
console.log(section);

if (process.argv.includes("--write")) {
  const path = `${ROOT}bench/RESULTS.md`;
  writeMarkedSection(path, "heartbeat_lateness", section);
  console.error(`wrote ${path}`);
}
process.exit(0);
