/**
 * The sharded mode on Workers, in workerd (Miniflare) on this machine: the benchmark app
 * (`bench/servers/workers_shards.ts`) over 1, 4 and 8 Durable Objects, driven by the load
 * generator (`bench/loadgen.ts`, on Bun):
 * - broadcast: 1,000 WebSocket clients spread over the objects at random, one of them asks for
 *   broadcasts to the room all joined, 4 in flight: deliveries per second, workerd's CPU per
 *   delivery, the latency until every client has one;
 * - echo: N clients each with one echo in flight, N doubling from 100 until p99 passes 100 ms
 *   (or a client fails), on 1 and 4 objects.
 *
 *   deno run -A bench/shards.ts [--quick] [--write]
 *
 * `--write` puts the tables in their own section of bench/RESULTS.md (replacing the previous one;
 * `deno task bench` keeps it).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { writeMarkedSection } from "./_results_section.ts";
import process from "node:process";
import { ROOT, startWorkerd } from "../tests/workers/_helpers.ts";

const quick = process.argv.includes("--quick");
const duration = quick ? 2 : 5;

interface Result {
  error?: string;
  [key: string]: unknown;
}

function loadgen(options: Record<string, unknown>): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(`${ROOT}node_modules/.bin/bun`, [`${ROOT}bench/loadgen.ts`, JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.once("exit", () => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ error: `no result: ${out.slice(0, 200)}` });
      }
    });
  });
}

async function withShards<T>(count: number, fn: (port: number, pid: number) => Promise<T>): Promise<T> {
  // startWorkerd passes "--var=SHARDS=N": a text binding (see tests/workers/_start.mjs).
  const server = await startWorkerd(`${ROOT}bench/servers/workers_shards.ts`, {
    BENCH: "BenchShard",
    "--var": `SHARDS=${count}`,
  });
  try {
    const pid = server.workerdPid();
    if (pid === undefined) throw new Error("workerd's process not found");
    return await fn(Number(new URL(server.url).port), pid);
  } finally {
    await server.close();
  }
}

const fmt = (n: unknown, digits = 1) => typeof n === "number" && Number.isFinite(n) ? n.toFixed(digits) : "–";
const int = (n: unknown) => typeof n === "number" ? Math.round(n).toLocaleString("en-US") : "–";

const broadcastRows: string[] = [];
for (const count of [1, 4, 8]) {
  const r = await withShards(
    count,
    (port, pid) =>
      loadgen({ scenario: "broadcast", port, pid, clients: 1000, window: 4, warmup: 1, duration, concurrency: 50 }),
  );
  console.error(`broadcast over ${count}:`, JSON.stringify(r));
  broadcastRows.push(
    `| ${count} | ${int(r.rate)} | ${fmt(r.cpuUsPerDelivery, 2)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${
      r.error ?? r.missed ?? "–"
    } |`,
  );
}

const echoRows: string[] = [];
for (const count of [1, 4]) {
  let last = "";
  for (let clients = 100; clients <= (quick ? 400 : 3200); clients *= 2) {
    const r = await withShards(
      count,
      (port, pid) => loadgen({ scenario: "echo", port, pid, clients, window: 1, warmup: 1, duration, concurrency: 50 }),
    );
    console.error(`echo over ${count}, ${clients} clients:`, JSON.stringify(r));
    echoRows.push(
      `| ${count} | ${clients} | ${int(r.rate)} | ${fmt(r.cpuUsPerMessage, 1)} | ${fmt(r.p50, 1)} | ${
        fmt(r.p99, 1)
      } | ${r.error ?? r.errors ?? 0} |`,
    );
    last = String(r.p99);
    if (r.error || !(typeof r.p99 === "number" && r.p99 <= 100)) break;
  }
  console.error(`echo over ${count}: stopped at p99 ${last}`);
}

const lines = [
  "<!-- shards -->",
  "## Workers, sharded mode (workerd)",
  "",
  `\`deno run -A bench/shards.ts${quick ? " --quick" : ""} --write\` — ${new Date().toISOString().slice(0, 10)}, ` +
  `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(2)} before the run. ` +
  "The benchmark app (`bench/servers/workers_shards.ts`) in workerd (Miniflare), new sessions on random shards; the " +
  "load generator on Bun. CPU is workerd's process (every object, the Worker and the bus between them). " +
  "Locally, workerd runs all the objects of one Worker on one thread: more objects add the bus's cost here " +
  "without the parallelism they get on Cloudflare, where each object has its own thread — these figures " +
  "show the cost of the sharding, not its gain.",
  "",
  `Broadcast to 1,000 clients (${duration} s, 4 broadcasts in flight):`,
  "",
  "| Objects | deliveries/s | CPU µs/delivery | p50 ms (all 1,000) | p99 ms | missed |",
  "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ...broadcastRows,
  "",
  `Echo, one message in flight per client, clients doubling until p99 passes 100 ms (${duration} s each):`,
  "",
  "| Objects | clients | msg/s | CPU µs/msg | p50 ms | p99 ms | errors |",
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...echoRows,
  "<!-- /shards -->",
];
const section = lines.join("\n");
console.log(section);

if (process.argv.includes("--write")) {
  const path = `${ROOT}bench/RESULTS.md`;
  writeMarkedSection(path, "shards", section);
  console.error(`wrote ${path}`);
}
process.exit(0);
