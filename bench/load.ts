/**
 * Load benchmark (`deno task load`): N concurrent clients (default 2,000) against our server in a
 * child process, for a sustained, bounded run. Each client is a raw-protocol control client
 * (tests/fuzz/_control.ts): it sends `message-with-ack` and `message` every period and checks that
 * every ack and every `message-back` comes back, with the same payload, in order (WebSocket
 * clients also send a binary ack request every other period). Prints round-trip percentiles, and
 * exits non-zero on any error or lost message. A benchmark, not a timed test.
 *
 *   deno task load                                   2,000 clients, 30 s, server on Deno
 *   deno task load --clients 2000 --duration 60 --period 1000 --server bun
 *   deno task load --polling 0.1 --upgrade 0.1       10 % polling, 10 % upgrading, the rest WebSocket
 *
 * Options: --clients N, --duration S (measured window), --period MS (between one client's
 * rounds), --server deno|bun|node, --polling F, --upgrade F, --concurrency N (handshakes in flight).
 *
 * @module
 */

import process from "node:process";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Control } from "../tests/fuzz/_control.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

// ---------------------------------------------------------------------------------------------
// server mode: the target server (tests/fuzz/_target.ts) with production-like timers

if (process.argv.includes("--serve")) {
  const { startTarget } = await import("../tests/fuzz/_target.ts");
  const target = await startTarget({
    pingInterval: 25000,
    pingTimeout: 20000,
    connectTimeout: 45000,
    upgradeTimeout: 10000,
  });
  console.log(`listening on http://127.0.0.1:${target.server.port}`);
  const report = setInterval(() => {
    console.log(`clients ${target.io.engine.clientsCount}`);
  }, 5000);
  process.on("SIGTERM", async () => {
    clearInterval(report);
    await target.close();
    process.exit(0);
  });
} else {
  await main();
}

function bin(name: string): string {
  return `${ROOT}node_modules/.bin/${name}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const clients = Number(arg("clients", "2000"));
  const duration = Number(arg("duration", "30"));
  const period = Number(arg("period", "1000"));
  const runtime = arg("server", "deno");
  const pollingShare = Number(arg("polling", "0.05"));
  const upgradeShare = Number(arg("upgrade", "0.05"));
  const concurrency = Number(arg("concurrency", "100"));

  const [cmd, args] = runtime === "bun"
    ? [bin("bun"), ["run", `${ROOT}bench/load.ts`, "--serve"]]
    : runtime === "node"
    ? [bin("node"), [`${ROOT}bench/load.ts`, "--serve"]]
    : [bin("deno"), ["run", "-A", `${ROOT}bench/load.ts`, "--serve"]];
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 15000);
    child.stdout!.on("data", (chunk) => {
      out += String(chunk);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  const httpBase = `http://127.0.0.1:${port}/socket.io/`;
  const wsBase = `ws://127.0.0.1:${port}/socket.io/`;
  console.log(
    `load: ${clients} clients (${Math.round(pollingShare * 100)} % polling, ${
      Math.round(upgradeShare * 100)
    } % upgrade), ` +
      `one round every ${period} ms each, ${duration} s, server on ${runtime} (pid ${child.pid}, port ${port})`,
  );

  const all: Control[] = [];
  for (let i = 0; i < clients; i++) {
    const r = i / clients;
    const kind = r < pollingShare ? "polling" : r < pollingShare + upgradeShare ? "upgrade" : "websocket";
    all.push(new Control(kind, httpBase, wsBase));
  }
  const errors: string[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < all.length) {
      const c = all[next++];
      try {
        await c.start();
      } catch (err) {
        errors.push(`connect ${c.kind}: ${err}`);
      }
    }
  }));
  const connectMs = performance.now() - t0;
  console.log(
    `connected ${clients - errors.length}/${clients} in ${(connectMs / 1000).toFixed(1)} s; server rss ${
      (rssOf(child.pid!) / 1e6).toFixed(0)
    } MB`,
  );

  // Each client ticks once per period, phases spread evenly.
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const starts: Array<ReturnType<typeof setTimeout>> = [];
  all.forEach((c, i) => {
    starts.push(setTimeout(() => {
      c.tick();
      timers.push(setInterval(() => c.tick(), period));
    }, (i / clients) * period));
  });
  const runStart = performance.now();
  let maxWait = 0;
  while (performance.now() - runStart < duration * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of all) maxWait = Math.max(maxWait, c.oldestWait());
    const failed = all.filter((c) => c.stats.failure).length;
    const received = all.reduce((a, c) => a + c.stats.received, 0);
    const secs = (performance.now() - runStart) / 1000;
    if (Math.round(secs) % 5 === 0) {
      console.log(
        `${secs.toFixed(0)} s: ${received} answers (${
          (received / secs).toFixed(0)
        }/s), failed clients ${failed}, oldest unanswered ${maxWait.toFixed(0)} ms`,
      );
    }
  }
  for (const t of starts) clearTimeout(t);
  for (const t of timers) clearInterval(t);
  const elapsed = (performance.now() - runStart) / 1000;
  const rss = rssOf(child.pid!);
  const stats = await Promise.all(all.map((c) => c.stop(10000)));
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));

  const latencies = stats.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const sent = stats.reduce((a, s) => a + s.sent, 0);
  const received = stats.reduce((a, s) => a + s.received, 0);
  const lost = stats.reduce((a, s) => a + s.lost, 0);
  const wrong = stats.reduce((a, s) => a + s.wrong, 0);
  for (const s of stats) if (s.failure && errors.length < 20) errors.push(`${s.kind}: ${s.failure}`);
  const failedClients = stats.filter((s) => s.failure).length;
  const f = (n: number) => n.toFixed(1);
  console.log("");
  console.log(
    `| clients | server | duration | messages sent | answered | lost | wrong | failed clients | msg/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | server RSS |`,
  );
  console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
  console.log(
    `| ${clients} | ${runtime} | ${
      elapsed.toFixed(0)
    } s | ${sent} | ${received} | ${lost} | ${wrong} | ${failedClients} | ` +
      `${(received / elapsed).toFixed(0)} | ${f(percentile(latencies, 50))} | ${f(percentile(latencies, 90))} | ` +
      `${f(percentile(latencies, 99))} | ${f(percentile(latencies, 99.9))} | ${f(latencies.at(-1) ?? 0)} | ${
        (rss / 1e6).toFixed(0)
      } MB |`,
  );
  if (errors.length || lost || wrong || failedClients) {
    console.log(`\nproblems:\n- ${errors.join("\n- ")}`);
    process.exit(1);
  }
  console.log("\nno errors, no lost messages");
  process.exit(0);
}
