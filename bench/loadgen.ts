/**
 * The load generator: its own process, speaking the Engine.IO v4 / Socket.IO v5 wire protocol
 * directly over standard `WebSocket` and `fetch` (no client library), so what it costs is the same
 * against every server. It answers pings (`2` -> `3`), never parses more than it must, and stops by
 * itself. Runs on Bun by default (its native WebSocket client is the cheapest here), also on Deno.
 *
 *   bun bench/loadgen.ts '{"scenario":"echo","port":3000,"pid":1234,...}'
 *
 * Prints one JSON line with the results. Server CPU (user+system of the server's process tree) and
 * RSS are read from /proc at the edges of the measured window.
 *
 * @module
 */

import process from "node:process";
import { systemBusy, treeCpu, treeRss } from "./_proc.ts";
import type { Scenario } from "./_scenarios.ts";

interface Options {
  scenario: Scenario;
  port: number;
  /** Server process id, for CPU and RSS. */
  pid: number;
  /** Path of the Engine.IO endpoint, `/socket.io/`. */
  path?: string;
  clients?: number;
  /** Seconds of warm-up before the measured window. */
  warmup?: number;
  /** Seconds measured. */
  duration?: number;
  /** Messages in flight per client (echo, ack, polling) or broadcasts in flight (broadcast). */
  window?: number;
  /** Handshakes in flight while connecting. */
  concurrency?: number;
  /** Bytes of padding in each message. */
  payload?: number;
  /** Idle: connections opened and closed before the baseline. */
  warmClients?: number;
  /** Idle: full collections asked of the server before each RSS reading. */
  gcRounds?: number;
}

const opts: Options = JSON.parse(process.argv[2] ?? "{}");
const path = opts.path ?? "/socket.io/";
const wsBase = `ws://127.0.0.1:${opts.port}${path}?EIO=4&transport=websocket`;
const httpBase = `http://127.0.0.1:${opts.port}${path}?EIO=4&transport=polling`;
const PAD = "x".repeat(opts.payload ?? 64);
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fail(message: string): never {
  console.log(JSON.stringify({ error: message }));
  process.exit(1);
}

/** A WebSocket client past the Engine.IO open packet and the Socket.IO CONNECT reply. */
interface Conn {
  ws: WebSocket;
  /** Called with every message frame after the handshake, except pings. */
  onFrame: (data: string) => void;
}

function connect(url: string, onFrame: (data: string) => void, timeoutMs = 20000): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const conn: Conn = { ws, onFrame };
    let state = 0;
    const timer = setTimeout(() => {
      reject(new Error("handshake timeout"));
      ws.close();
    }, timeoutMs);
    ws.onmessage = (e) => {
      const data = e.data as string;
      if (state === 2) {
        if (data === "2") ws.send("3");
        else conn.onFrame(data);
        return;
      }
      if (state === 0 && data.charCodeAt(0) === 48 /* 0 */) {
        state = 1;
        ws.send("40");
      } else if (state === 1 && data.startsWith("40")) {
        state = 2;
        clearTimeout(timer);
        resolve(conn);
      } else if (data === "2") ws.send("3");
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error("websocket error"));
    };
    ws.onclose = () => {
      clearTimeout(timer);
      if (state !== 2) reject(new Error("closed during handshake"));
    };
  });
}

async function connectMany(
  n: number,
  concurrency: number,
  url: (i: number) => string,
  onFrame: (i: number) => (data: string) => void,
): Promise<Conn[]> {
  const conns: Conn[] = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      conns[i] = await connect(url(i), onFrame(i));
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return conns;
}

async function closeAll(conns: Conn[]): Promise<void> {
  await Promise.all(conns.map((c) =>
    new Promise<void>((resolve) => {
      if (c.ws.readyState === WebSocket.CLOSED) return resolve();
      const t = setTimeout(resolve, 2000);
      c.ws.onclose = () => {
        clearTimeout(t);
        resolve();
      };
      c.ws.close();
    })
  ));
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Latencies recorded in the measured window, in ms. */
class Latencies {
  #buf = new Float64Array(1 << 16);
  #n = 0;
  add(ms: number) {
    if (this.#n === this.#buf.length) {
      const bigger = new Float64Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    this.#buf[this.#n++] = ms;
  }
  summary() {
    const sorted = this.#buf.slice(0, this.#n).sort();
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  }
}

/** Runs warm-up then the measured window; returns elapsed seconds and the server CPU used. */
async function measure(
  warmup: number,
  duration: number,
  onStart: () => void,
): Promise<{ seconds: number; cpu: number }> {
  await sleep(warmup * 1000);
  onStart();
  const w = startWindow();
  await sleep(duration * 1000);
  return endWindow(w);
}

/** The load generator's own CPU seconds in the last measured window. */
let genCpuSeconds = 0;
/** Cores used by other processes (neither the server nor this generator) in that window. */
let otherCores = 0;
/** The server's user-mode CPU seconds in that window (of its `cpuSeconds`). */
let cpuUserSeconds = 0;

function startWindow() {
  return {
    cpu0: treeCpu(opts.pid),
    user0: treeCpu(opts.pid, true),
    self0: process.cpuUsage(),
    sys0: systemBusy(),
    t0: now(),
  };
}

function endWindow(w: ReturnType<typeof startWindow>): { seconds: number; cpu: number } {
  const seconds = (now() - w.t0) / 1000;
  const cpu = treeCpu(opts.pid) - w.cpu0;
  cpuUserSeconds = treeCpu(opts.pid, true) - w.user0;
  const self = process.cpuUsage(w.self0);
  genCpuSeconds = (self.user + self.system) / 1e6;
  otherCores = Math.max(0, systemBusy() - w.sys0 - cpu - genCpuSeconds) / seconds;
  return { seconds, cpu };
}

/** Asks the server for a full GC (see bench/servers/_app.ts) and waits for it to settle. */
async function collectGarbage(): Promise<void> {
  // Several collections, spaced: freed pages are returned to the OS by background threads.
  for (let i = 0; i < (opts.gcRounds ?? 3); i++) {
    try {
      process.kill(opts.pid, "SIGUSR2");
    } catch { /* not ours to signal */ }
    await sleep(400);
  }
}

/** Echo or ack round trips: each client keeps `window` messages in flight. */
async function roundTrips(ack: boolean) {
  const n = opts.clients ?? 100;
  const window = opts.window ?? 1;
  let running = true;
  let measuring = false;
  let count = 0;
  const lat = new Latencies();
  const sentAt: number[][] = Array.from({ length: n }, () => []);
  const ids = new Uint32Array(n);
  const echoMessage = `42["echo",{"pad":"${PAD}"}]`;
  const ackBody = `["ack",{"pad":"${PAD}"}]`;
  const conns = await connectMany(n, opts.concurrency ?? 50, () => wsBase, (i) => (data: string) => {
    // Any message packet is a reply: `42["echo",...]` / `43N[...]` from Socket.IO servers, the
    // frame itself from the raw echo server.
    if (data.charCodeAt(0) !== 52 /* 4 */) return;
    const t = sentAt[i].shift();
    if (t === undefined) return;
    if (measuring) {
      count++;
      lat.add(now() - t);
    }
    if (running) send(i);
  });
  function send(i: number) {
    sentAt[i].push(now());
    conns[i].ws.send(ack ? `42${ids[i]++}${ackBody}` : echoMessage);
  }
  for (let i = 0; i < n; i++) for (let w = 0; w < window; w++) send(i);
  const { seconds, cpu } = await measure(opts.warmup ?? 1, opts.duration ?? 5, () => (measuring = true));
  measuring = false;
  const measured = count;
  running = false;
  // Let the messages in flight come back, then close.
  const deadline = now() + 2000;
  while (sentAt.some((q) => q.length > 0) && now() < deadline) await sleep(10);
  const lost = sentAt.reduce((a, q) => a + q.length, 0);
  await closeAll(conns);
  return {
    clients: n,
    messages: measured,
    seconds,
    rate: measured / seconds,
    cpuSeconds: cpu,
    cpuUsPerMessage: (cpu * 1e6) / measured,
    ...lat.summary(),
    lost,
  };
}

/** Parses the integer after the first `,` of a frame (the broadcast sequence number). */
function seqOf(data: string): number {
  let i = data.indexOf(",") + 1;
  let v = 0;
  for (let c = data.charCodeAt(i); c >= 48 && c <= 57; c = data.charCodeAt(++i)) v = v * 10 + c - 48;
  return v;
}

/**
 * Broadcasts to `clients` sockets; client 0 asks for them (`event`: `bcast` to the room every
 * client joined, `bcast-all` to the namespace, `bcast-others` to everyone but client 0, which then
 * gets none, `bcast-rooms` to the rooms `a` (the first 60% of the clients) and `b` (the last 60%),
 * each client once), `window` in flight.
 */
async function broadcast(event = "bcast") {
  const n = opts.clients ?? 1000;
  const others = event === "bcast-others";
  /** Receivers of each broadcast. */
  const expected = others ? n - 1 : n;
  const window = opts.window ?? 4;
  const RING = 4096;
  const got = new Int32Array(RING);
  const sentAt = new Float64Array(RING);
  const perClient = new Int32Array(n);
  let seq = 0;
  let running = true;
  let measuring = false;
  let deliveries = 0; // in the measured window
  let totalDeliveries = 0;
  let completed = 0;
  let inFlight = 0;
  const lat = new Latencies();
  const conns = await connectMany(
    n,
    opts.concurrency ?? 50,
    event === "bcast-rooms"
      ? (i) => wsBase + "&room=1&rooms=" + (i < 0.4 * n ? "a" : i < 0.6 * n ? "ab" : "b")
      : () => wsBase + "&room=1",
    (i) => (data: string) => {
      if (data.charCodeAt(0) !== 52) return;
      const s = seqOf(data) % RING;
      perClient[i]++;
      totalDeliveries++;
      if (measuring) deliveries++;
      if (++got[s] === expected) {
        got[s] = 0;
        completed++;
        inFlight--;
        if (measuring) lat.add(now() - sentAt[s]);
        if (running) sendOne();
      }
    },
  );
  const controller = conns[0].ws;
  function sendOne() {
    const s = seq++;
    sentAt[s % RING] = now();
    inFlight++;
    controller.send(`42["${event}",${s},"${PAD}"]`);
  }
  for (let w = 0; w < window; w++) sendOne();
  const { seconds, cpu } = await measure(opts.warmup ?? 1, opts.duration ?? 5, () => (measuring = true));
  measuring = false;
  const measured = deliveries;
  running = false;
  const deadline = now() + 5000;
  while (inFlight > 0 && now() < deadline) await sleep(10);
  let missed = seq * expected - totalDeliveries;
  for (let i = 0; i < n; i++) if (perClient[i] !== (others && i === 0 ? 0 : seq)) missed = Math.max(missed, 1);
  await closeAll(conns);
  return {
    clients: n,
    broadcasts: seq,
    deliveries: measured,
    seconds,
    rate: measured / seconds,
    cpuSeconds: cpu,
    cpuUsPerDelivery: (cpu * 1e6) / measured,
    ...lat.summary(),
    missed,
  };
}

/** Opens `clients` idle connections: connect rate, then RSS per connection. */
async function idle() {
  const n = opts.clients ?? 5000;
  // Warm the server's connection path first (JIT, pools), then take the baseline.
  const warm = await connectMany(Math.min(opts.warmClients ?? 200, n), 50, () => wsBase, () => () => {});
  await closeAll(warm);
  await sleep(500);
  await collectGarbage();
  const rss0 = treeRss(opts.pid);
  const w = startWindow();
  const conns = await connectMany(n, opts.concurrency ?? 100, () => wsBase, () => () => {});
  const { seconds, cpu } = endWindow(w);
  await sleep((opts.duration ?? 3) * 1000);
  await collectGarbage();
  const rss1 = treeRss(opts.pid);
  await closeAll(conns);
  return {
    clients: n,
    connectSeconds: seconds,
    rate: n / seconds,
    cpuSeconds: cpu,
    cpuUsPerConnect: (cpu * 1e6) / n,
    rssBefore: rss0,
    rssAfter: rss1,
    bytesPerConnection: (rss1 - rss0) / n,
  };
}

/** HTTP long-polling: each client keeps one GET pending and POSTs one echo at a time. */
async function polling() {
  const n = opts.clients ?? 50;
  let running = true;
  let measuring = false;
  let count = 0;
  let errors = 0;
  const lat = new Latencies();
  const message = `42["echo",{"pad":"${PAD}"}]`;

  async function handshake(): Promise<string> {
    const res = await fetch(httpBase);
    const text = await res.text();
    if (text.charCodeAt(0) !== 48) throw new Error(`bad handshake: ${text.slice(0, 80)}`);
    const sid = JSON.parse(text.slice(1)).sid as string;
    const url = `${httpBase}&sid=${encodeURIComponent(sid)}`;
    const ok = await fetch(url, { method: "POST", body: "40" });
    await ok.text();
    // The CONNECT reply.
    for (;;) {
      const got = await (await fetch(url)).text();
      if (got.split("\x1e").some((p) => p.startsWith("40"))) break;
    }
    return url;
  }

  async function client(url: string) {
    let sentAt = 0;
    let waiting = false;
    async function post(body: string) {
      const res = await fetch(url, { method: "POST", body });
      await res.text();
      if (!res.ok) errors++;
    }
    function sendEcho() {
      sentAt = now();
      waiting = true;
      post(message).catch(() => errors++);
    }
    sendEcho();
    while (running || waiting) {
      let text: string;
      try {
        const res = await fetch(url);
        text = await res.text();
        if (!res.ok) {
          errors++;
          return;
        }
      } catch {
        errors++;
        return;
      }
      for (const packet of text.split("\x1e")) {
        const c = packet.charCodeAt(0);
        if (c === 50 /* 2 */) post("3").catch(() => errors++);
        else if (c === 52 && waiting) {
          waiting = false;
          if (measuring) {
            count++;
            lat.add(now() - sentAt);
          }
          if (running) sendEcho();
        } else if (c === 49 /* 1 */) return;
      }
    }
  }

  const urls: string[] = [];
  for (let i = 0; i < n; i += 10) {
    urls.push(...await Promise.all(Array.from({ length: Math.min(10, n - i) }, handshake)));
  }
  const done = Promise.all(urls.map(client));
  const { seconds, cpu } = await measure(opts.warmup ?? 1, opts.duration ?? 5, () => (measuring = true));
  measuring = false;
  running = false;
  await Promise.race([done, sleep(3000)]);
  // Close the sessions (a `1` packet), so the server does not keep them until the ping timeout.
  await Promise.all(urls.map((u) => fetch(u, { method: "POST", body: "1" }).then((r) => r.text(), () => {})));
  return {
    clients: n,
    messages: count,
    seconds,
    rate: count / seconds,
    cpuSeconds: cpu,
    cpuUsPerMessage: (cpu * 1e6) / count,
    ...lat.summary(),
    errors,
  };
}

const timeout = setTimeout(() => fail("load generator timed out"), 120_000);
try {
  const run = {
    echo: () => roundTrips(false),
    ack: () => roundTrips(true),
    broadcast: () => broadcast(),
    "broadcast-all": () => broadcast("bcast-all"),
    "broadcast-others": () => broadcast("bcast-others"),
    "broadcast-rooms": () => broadcast("bcast-rooms"),
    idle,
    polling,
  }[opts.scenario];
  if (!run) fail(`unknown scenario ${opts.scenario}`);
  const result = await run();
  console.log(JSON.stringify({ ...result, cpuUserSeconds, genCpuSeconds, otherCores }));
  clearTimeout(timeout);
  process.exit(0);
} catch (err) {
  fail(String((err as Error)?.stack ?? err));
}
