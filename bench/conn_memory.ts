/**
 * Where the memory of an idle connection goes: runs our server (default options, the benchmark's
 * app) on this runtime, opens N idle Socket.IO connections to it from a child process, and prints
 * the heap used per connection and, from two heap snapshots (before / after), the bytes and
 * objects per connection by constructor.
 *
 *   deno run -A --v8-flags=--expose-gc bench/conn_memory.ts [N=2000] [--raw] [--top=30]
 *   node --expose-gc bench/conn_memory.ts [N=2000] [--raw]
 *
 *   deno run -A bench/conn_memory.ts --report [N=2000]
 *     ours and the bare server on Deno, Node and Bun (six processes, one after the other), heap kept
 *     and RSS per connection side by side, and ours' biggest retainers on Deno and Node; writes the
 *     table into bench/RESULTS.md (its own marked section, which `bench` keeps).
 *
 * `--settle=MS` waits that long (default 500) after the connections open before the reading.
 * `--reduce` (Deno, Node) makes every collection before a reading a memory-reducing one (V8's
 * last-resort flavour, as under memory pressure), which also shrinks the young generation: the RSS
 * then counts what stays resident, not the semi-spaces V8 grew while connections opened.
 * `--retainers` names objects after one retainer ("Parent.field"), closures also by source line.
 * `--no-snapshot` skips the snapshots (RSS figures are steadier without them). `--no-app` leaves out
 * the benchmark's app (its six event handlers per socket), for what the library alone keeps.
 * `--raw` runs the runtime's bare WebSocket server instead (Deno.serve + upgradeWebSocket; on Node
 * the `ws` package), for the baseline. On Bun the snapshot is JavaScriptCore's
 * (`Bun.generateHeapSnapshot()`): bytes and objects by class, without V8's names of closures.
 *
 * @module
 */

import process from "node:process";
import { readFileSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "./_stats.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split("=")[1] ??
    (args.includes(`--${name}`) ? "" : undefined);

/** `--reduce`: V8's memory-reducing collections, which also give back the young generation. */
const reducing = flag("reduce") !== undefined;

/** Runs of the RSS reading per server: it moves by several KB per connection from run to run. */
const REPORT_RUNS = 3;

if (flag("client") !== undefined) await runClients();
else if (flag("report") !== undefined) await report();
else await runServer();

/** The child: opens N WebSockets (Engine.IO v4 + Socket.IO CONNECT), 100 at a time, and holds them. */
async function runClients(): Promise<void> {
  const port = Number(flag("port"));
  const n = Number(flag("n"));
  const raw = flag("raw") !== undefined;
  const url = `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
  const held: WebSocket[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url);
      held.push(ws);
      ws.onerror = () => reject(new Error("websocket error"));
      if (raw) {
        ws.onopen = () => resolve();
        return;
      }
      ws.onmessage = (e) => {
        const d = String(e.data);
        if (d.startsWith("0")) ws.send("40");
        else if (d.startsWith("40")) resolve();
        else if (d === "2") ws.send("3");
      };
    });
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, one));
  }
  console.log("connected");
  // Keep answering pings; exit when the parent closes stdin.
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => process.exit(0));
}

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    if (g.Bun) g.Bun.gc(true);
    else if (typeof g.gc === "function") {
      // The last-resort flavour is what V8 runs under memory pressure: besides the full collection,
      // it shrinks the young generation's semi-spaces back to their least.
      if (reducing) g.gc({ type: "major", execution: "sync", flavor: "last-resort" });
      else g.gc();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

type Tally = Map<string, { count: number; size: number }>;

/** Writes a heap snapshot and tallies its nodes' self sizes by "type:name". */
async function tally(): Promise<Tally | null> {
  if (flag("no-snapshot") !== undefined) return null;
  if (g.Bun) {
    // Bun: JavaScriptCore's heap snapshot, nodes of [id, size, class, flags]
    const snap = g.Bun.generateHeapSnapshot();
    const nodes: number[] = snap.nodes;
    const out: Tally = new Map();
    for (let i = 0; i < nodes.length; i += 4) {
      const key: string = snap.nodeClassNames[nodes[i + 2]];
      const t = out.get(key) ?? { count: 0, size: 0 };
      t.count++;
      t.size += nodes[i + 1];
      out.set(key, t);
    }
    return out;
  }
  const v8 = await import("node:v8");
  const file = v8.writeHeapSnapshot(`/tmp/conn_memory_${process.pid}_${Date.now()}.heapsnapshot`);
  const snap = JSON.parse(readFileSync(file, "utf8"));
  rmSync(file);
  const fields: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const iType = fields.indexOf("type"), iName = fields.indexOf("name"), iSize = fields.indexOf("self_size");
  const nodes: number[] = snap.nodes;
  const strings: string[] = snap.strings;
  const out: Tally = new Map();
  // With --retainers, objects, arrays, strings and closures are named after one retainer
  // ("Parent.edge"), closures also by their source line: which field or scope holds them.
  const retainerOf = new Map<number, string>();
  const lineOf = new Map<number, number>();
  if (flag("retainers") !== undefined) {
    const edgeFields: string[] = snap.snapshot.meta.edge_fields;
    const edgeTypes: string[] = snap.snapshot.meta.edge_types[0];
    const eType = edgeFields.indexOf("type"), eName = edgeFields.indexOf("name_or_index");
    const eTo = edgeFields.indexOf("to_node"), iEdges = fields.indexOf("edge_count");
    const edges: number[] = snap.edges;
    let e = 0;
    for (let i = 0; i < nodes.length; i += fields.length) {
      const parent = strings[nodes[i + iName]];
      for (let k = 0; k < nodes[i + iEdges]; k++, e += edgeFields.length) {
        const et = edgeTypes[edges[e + eType]];
        if (et === "weak" || et === "shortcut") continue;
        const to = edges[e + eTo];
        if (retainerOf.has(to)) continue;
        const en = et === "element" || et === "hidden" ? "[]" : strings[edges[e + eName]];
        retainerOf.set(to, `${types[nodes[i + iType]] === "closure" ? "closure " : ""}${parent.slice(0, 30)}.${en}`);
      }
    }
    const locs: number[] = snap.locations ?? [];
    for (let i = 0; i < locs.length; i += 4) lineOf.set(locs[i], locs[i + 2] + 1);
  }
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + iType]];
    let name = type === "string" || type === "concatenated string" || type === "sliced string"
      ? "(string)"
      : strings[nodes[i + iName]];
    if (type === "closure") name = `closure ${name}`;
    else if (type === "array" || type === "hidden" || type === "code") name = `${type} ${name}`;
    if (retainerOf.size > 0 && (type === "object" || type === "array" || type === "closure" || name === "(string)")) {
      name = `${name} <- ${retainerOf.get(i) ?? "?"}${lineOf.has(i) ? ` @${lineOf.get(i)}` : ""}`;
    }
    const key = name.length > 90 ? name.slice(0, 90) : name;
    const t = out.get(key) ?? { count: 0, size: 0 };
    t.count++;
    t.size += nodes[i + iSize];
    out.set(key, t);
  }
  return out;
}

async function startServer(raw: boolean): Promise<{ port: number; connected: () => number }> {
  let count = 0;
  if (raw) {
    if (g.Deno) {
      const ready = Promise.withResolvers<number>();
      g.Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen: (a: { port: number }) => ready.resolve(a.port) },
        (req: Request) => {
          // as bench/servers/raw.ts and ours: no idle timer of Deno's own (Engine.IO pings instead)
          const { socket, response } = g.Deno.upgradeWebSocket(req, { idleTimeout: 0 });
          socket.onopen = () => count++;
          socket.onclose = () => count--;
          return response;
        },
      );
      return { port: await ready.promise, connected: () => count };
    }
    if (g.Bun) {
      const server = g.Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        fetch: (req: Request, srv: { upgrade(req: Request): boolean }) =>
          srv.upgrade(req) ? undefined : new Response("upgrade expected", { status: 400 }),
        websocket: { open: () => void count++, close: () => void count--, message: () => {} },
      });
      return { port: server.port, connected: () => count };
    }
    const { WebSocketServer } = await import("ws");
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((r) => wss.once("listening", r));
    // deno-lint-ignore no-explicit-any
    wss.on("connection", (ws: any) => {
      count++;
      ws.on("close", () => count--);
    });
    return { port: (wss.address() as { port: number }).port, connected: () => count };
  }
  const { Server } = await import("../server.ts");
  const { setupApp } = await import("./servers/_app.ts");
  const io = new Server();
  if (flag("no-app") === undefined) setupApp(io);
  io.on("connection", (socket) => {
    count++;
    socket.on("disconnect", () => count--);
  });
  if (g.Deno) {
    const ready = Promise.withResolvers<number>();
    g.Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: (a: { port: number }) => ready.resolve(a.port) },
      io.handler(),
    );
    return { port: await ready.promise, connected: () => count };
  }
  if (g.Bun) {
    const { bunServeOptions } = await import("../server.ts");
    const engine = io.engine;
    const server = g.Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      ...bunServeOptions((request, options) => engine.handle(request, options)),
    });
    return { port: server.port, connected: () => count };
  }
  const { createServer } = await import("node:http");
  const server = createServer();
  io.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, connected: () => count };
}

async function openClients(port: number, n: number, raw: boolean, connected: () => number) {
  const self = fileURLToPath(import.meta.url);
  const argv = [self, "--client", `--port=${port}`, `--n=${n}`, ...(raw ? ["--raw"] : [])];
  const cmd = g.Deno ? ["run", "-A", ...argv] : argv;
  const child = spawn(process.execPath, cmd, { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Uint8Array) => String(d).includes("connected") && resolve());
    child.on("exit", (code) => reject(new Error(`client exited with ${code}`)));
  });
  while (connected() < n) await new Promise((r) => setTimeout(r, 20));
  return {
    close: async () => {
      const gone = new Promise((r) => child.on("exit", r));
      child.stdin!.end();
      await gone;
      while (connected() > 0) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

async function runServer(): Promise<void> {
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
  const raw = flag("raw") !== undefined;
  const top = Number(flag("top") ?? 30);
  const { port, connected } = await startServer(raw);
  // Warm up the connection path (JIT, pools), then the baseline.
  const warm = await openClients(port, 50, raw, connected);
  await warm.close();
  await new Promise((r) => setTimeout(r, 300));
  await collect();
  const before = await tally();
  await collect();
  const used0 = heapUsed();
  const v8 = await import("node:v8");
  const spaces0 = g.Bun ? [] : v8.getHeapSpaceStatistics();
  const m0 = process.memoryUsage();
  const rss0 = m0.rss;
  const conns = await openClients(port, n, raw, connected);
  await new Promise((r) => setTimeout(r, Number(flag("settle") ?? 500)));
  await collect();
  const used1 = heapUsed();
  const m1 = process.memoryUsage();
  const spaces1 = g.Bun ? [] : v8.getHeapSpaceStatistics();
  const rss1 = m1.rss;
  const after = await tally();
  const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";
  console.log(
    `${runtime} ${raw ? "raw" : "ours"} ${n} idle connections: heap ${((used1 - used0) / n).toFixed(0)} B/conn, ` +
      `heap committed ${((m1.heapTotal - m0.heapTotal) / n).toFixed(0)} B/conn, ` +
      `external ${((m1.external - m0.external) / n).toFixed(0)} B/conn, rss ${((rss1 - rss0) / n).toFixed(0)} B/conn`,
  );
  for (const s1 of spaces1) {
    const s0 = spaces0.find((s) => s.space_name === s1.space_name)!;
    const size = (s1.space_size - s0.space_size) / n, used = (s1.space_used_size - s0.space_used_size) / n;
    if (Math.abs(size) >= 64 || Math.abs(used) >= 64) {
      console.log(
        `  ${s1.space_name.padEnd(24)} committed ${size.toFixed(0).padStart(6)} used ${
          used.toFixed(0).padStart(6)
        } B/conn`,
      );
    }
  }
  if (before && after) {
    const rows: [string, number, number][] = [];
    let total = 0;
    for (const [k, a] of after) {
      const b = before.get(k) ?? { count: 0, size: 0 };
      const size = (a.size - b.size) / n, count = (a.count - b.count) / n;
      total += a.size - b.size;
      if (Math.abs(size) >= 4) rows.push([k, size, count]);
    }
    rows.sort((x, y) => y[1] - x[1] || y[2] - x[2]);
    console.log(`snapshot diff: ${(total / n).toFixed(0)} B/conn`);
    console.log("bytes/conn  objects/conn  constructor");
    for (const [k, size, count] of rows.slice(0, top)) {
      console.log(`${size.toFixed(0).padStart(10)}  ${count.toFixed(2).padStart(12)}  ${k}`);
    }
  }
  await conns.close();
  process.exit(0);
}

/** One measuring run in a child process: its summary line's figures, and the breakdown it printed. */
async function measureIn(runtime: string, raw: boolean, n: number, snapshot: boolean, app = true, reduce = false) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const flags = [
    String(n),
    ...(raw ? ["--raw"] : []),
    ...(app ? [] : ["--no-app"]),
    ...(snapshot ? ["--top=12"] : ["--no-snapshot"]),
    ...(reduce ? ["--reduce"] : []),
  ];
  const cmd = runtime === "deno"
    ? [`${root}node_modules/.bin/deno`, "run", "-A", "--v8-flags=--expose-gc", self, ...flags]
    : runtime === "node"
    ? [`${root}node_modules/.bin/node`, "--expose-gc", self, ...flags]
    : [`${root}node_modules/.bin/bun`, self, ...flags];
  const child = spawn(cmd[0], cmd.slice(1), { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => out += String(d));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  const m = /heap (-?\d+) B\/conn.*rss (-?\d+) B\/conn/.exec(out);
  if (code !== 0 || !m) throw new Error(`${runtime} ${raw ? "raw" : "ours"} failed (${code}):\n${out}`);
  // V8's young generation: the semi-spaces it grew while the connections opened (committed, in RSS)
  const young = /new_space\s+committed\s+(-?\d+)/.exec(out);
  const top = out.split("\n").filter((line) => /^\s+-?\d+\s+-?[\d.]+\s+\S/.test(line)).slice(0, 12);
  return { heap: Number(m[1]), rss: Number(m[2]), young: young ? Number(young[1]) : undefined, top };
}

/** `--report`: ours and the bare server on each runtime, side by side, into bench/RESULTS.md. */
async function report(): Promise<void> {
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const rows: string[] = [];
  const breakdowns: string[] = [];
  for (const runtime of ["deno", "node", "bun"]) {
    const ours: Awaited<ReturnType<typeof measureIn>>[] = [];
    const bare: Awaited<ReturnType<typeof measureIn>>[] = [];
    for (let i = 0; i < REPORT_RUNS; i++) {
      ours.push(await measureIn(runtime, false, n, false));
      bare.push(await measureIn(runtime, true, n, false));
    }
    // V8: the same readings after memory-reducing collections (the young generation given back).
    const reduced = { ours: [] as number[], bare: [] as number[] };
    if (runtime !== "bun") {
      for (let i = 0; i < REPORT_RUNS; i++) {
        reduced.ours.push((await measureIn(runtime, false, n, false, true, true)).rss);
        reduced.bare.push((await measureIn(runtime, true, n, false, true, true)).rss);
      }
    }
    const alone = await measureIn(runtime, false, n, false, false);
    const pick = (runs: typeof ours, key: "heap" | "rss") => median(runs.map((r) => r[key]));
    const oursHeap = pick(ours, "heap"), bareHeap = pick(bare, "heap");
    const oursRss = pick(ours, "rss"), bareRss = pick(bare, "rss");
    const gap = oursHeap - bareHeap;
    const youngGap = ours[0].young === undefined
      ? "–"
      : kb(median(ours.map((r) => r.young!)) - median(bare.map((r) => r.young!)));
    console.log(`${runtime}: heap ${oursHeap} vs ${bareHeap} B/conn, rss ${oursRss} vs ${bareRss} B/conn`);
    rows.push(
      `| ${runtime} | ${kb(oursHeap)} (${kb(alone.heap)}) | ${kb(bareHeap)} | ${kb(gap)} ${
        gap <= 4096 ? "✅" : "❌"
      } | ` +
        `${kb(oursRss)} | ${kb(bareRss)} | ${kb(oursRss - bareRss)} | ${youngGap} | ${
          runtime === "bun"
            ? "–"
            : `${kb(median(reduced.ours) - median(reduced.bare))} (${reduced.ours.map(kb).join(" / ")}; ${
              reduced.bare.map(kb).join(" / ")
            })`
        } | ` +
        `${ours.map((r) => kb(r.rss)).join(" / ")}; ${bare.map((r) => kb(r.rss)).join(" / ")} |`,
    );
    const { top } = await measureIn(runtime, false, n, true);
    breakdowns.push(
      `${runtime}, ours (bytes/conn, objects/conn, ${runtime === "bun" ? "JavaScriptCore class" : "what"}):`,
      "",
      "```",
      ...top,
      "```",
      "",
    );
  }
  const bare = { deno: "Deno.serve + upgradeWebSocket", node: "`ws`", bun: "Bun.serve's WebSocket" };
  const section = [
    "<!-- conn_memory -->",
    `## Memory per idle connection: kept heap and RSS, ours and the bare server (issue 15, point 4)`,
    "",
    `Produced by \`deno run -A bench/conn_memory.ts --report ${n}\` on ${
      new Date().toISOString().slice(0, 16).replace("T", " ")
    } UTC: ${n} idle Socket.IO connections (WebSocket, CONNECT answered) held by a client process, each server in ` +
    `its own process (the bare servers: ${bare.deno} on Deno, ${bare.node} on Node, ${bare.bun} on Bun). Heap: ` +
    "used heap after three full collections, after minus before the connections, over the connections (what the " +
    "connections keep alive). RSS: the same difference in resident memory, which also counts the runtime's " +
    "young generation (V8 grows it with the allocation rate while connections open, and keeps it) and " +
    "allocator slack. Against the target of at most 4 KB over the bare server: the last column ✅ when " +
    "the heap the connections keep is within it; the RSS gap, which the bench's idle scenario judges (5,000 " +
    "connections, bench/RESULTS.md above), is shown beside it and is most of what remains: memory that no " +
    "object of a connection holds (the heap shows those), and that waiting 10 s for V8 to shrink its young " +
    "generation barely lowers (`--settle=10000`). Each figure is the median of " + REPORT_RUNS + " runs (the " +
    "RSS of every run in the last column); in brackets, ours without the benchmark's app (its six event " +
    "handlers on every socket): what the library alone keeps. Young generation: the semi-space V8 committed " +
    "while the connections opened, ours minus the bare server's, per connection (part of the RSS gap; " +
    "JavaScriptCore has none of this kind). After reducing collections: the RSS gap again, in runs whose " +
    "collections before each reading are V8's memory-reducing ones (`--reduce`, the last-resort flavour V8 " +
    "runs under memory pressure, which shrinks the young generation back), with each run's RSS of ours and " +
    "of the bare server.",
    "",
    "| Runtime | ours heap KB/conn (no app) | bare heap KB/conn | ours − bare | ours RSS KB/conn | bare RSS KB/conn | ours − bare | of which young generation | RSS ours − bare after reducing collections (runs: ours; bare) | RSS per run: ours; bare |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    "Where ours' heap goes (a heap snapshot before and after, the difference by constructor; on Bun by JavaScriptCore's class, where `Cell Butterfly` is the tables of Maps and Sets: the socket's own set, 224 bytes, and its share of the server's maps of sessions, sockets and rooms):",
    "",
    ...breakdowns,
    "<!-- /conn_memory -->",
  ].join("\n");
  const { writeMarkedSection } = await import("./_results_section.ts");
  writeMarkedSection(fileURLToPath(new URL("./RESULTS.md", import.meta.url)), "conn_memory", section);
  console.log(section);
  process.exit(0);
}
