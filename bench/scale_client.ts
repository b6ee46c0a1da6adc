/**
 * A load-generator process of the scale benchmark (`bench/scale.ts` starts several): it holds many
 * idle WebSocket clients speaking the raw Engine.IO v4 / Socket.IO v5 wire protocol (no client
 * library), answers their pings, and obeys JSON commands, one per line on stdin, answering each
 * with one JSON line on stdout that carries the command's `id`:
 *
 * - `{op:"connect", batches:[{target, url, count}], concurrency}`: opens the connections (batches
 *   interleaved, `concurrency` handshakes in flight), through the Socket.IO CONNECT reply; answers
 *   `{opened, failed, firstError, seconds}`. A failed handshake is counted, never retried.
 * - `{op:"arm", targets, seq}`: starts counting the deliveries of broadcast `seq` (before it is
 *   triggered, so that none is missed).
 * - `{op:"expect", targets, seq, timeoutMs}`: waits until every open connection of `targets` got
 *   the broadcast `42["all",seq,...]`; answers `{expected, missed, got, duplicates, lastAt}` (`lastAt`:
 *   the last delivery, in ms since the epoch with sub-millisecond precision).
 * - `{op:"trigger", target, seq, pad}`: sends `42["emit-all",seq,pad]` on one connection of
 *   `target`; answers `{at}`, the time it was sent (same clock).
 * - `{op:"cpu", target}`: asks the server for its CPU time (an ack); answers `{micros}`.
 * - `{op:"stats"}`: answers `{targets: {name: {open, failed, lost, pings, closeCodes}}}`: `lost`
 *   counts connections that closed without being asked to, `pings` every ping answered.
 * - `{op:"close", target}`: closes that target's connections and waits for them (`"*"`: all).
 *
 *   bun bench/scale_client.ts
 *
 * @module
 */

import process from "node:process";

/** Milliseconds since the epoch, with sub-millisecond precision (comparable across processes). */
const clock = () => performance.timeOrigin + performance.now();

interface Target {
  name: string;
  conns: Set<Conn>;
  failed: number;
  lost: number;
  pings: number;
  closeCodes: Record<string, number>;
  /** The broadcast awaited (-1: none), how many connections got it, and when the last one did. */
  seq: number;
  got: number;
  duplicates: number;
  lastAt: number;
  /** Called when a delivery or a loss may have completed the broadcast awaited. */
  check?: () => void;
  /** Acks awaited on this target's connections. */
  acks: Map<number, (text: string) => void>;
}

interface Conn {
  ws: WebSocket;
  target: Target;
  /** The last broadcast sequence number this connection got. */
  lastSeq: number;
  /** Set when the orchestrator asked for the close: not a loss. */
  closing: boolean;
}

const targets = new Map<string, Target>();

function targetOf(name: string): Target {
  let t = targets.get(name);
  if (!t) {
    t = {
      name,
      conns: new Set(),
      failed: 0,
      lost: 0,
      pings: 0,
      closeCodes: {},
      seq: -1,
      got: 0,
      duplicates: 0,
      lastAt: 0,
      acks: new Map(),
    };
    targets.set(name, t);
  }
  return t;
}

const ALL_PREFIX = '42["all",';

/** The integer after `42["all",`. */
function seqOf(data: string): number {
  let v = 0;
  let i = ALL_PREFIX.length;
  for (let c = data.charCodeAt(i); c >= 48 && c <= 57; c = data.charCodeAt(++i)) v = v * 10 + c - 48;
  return v;
}

function onFrame(conn: Conn, data: string): void {
  const t = conn.target;
  if (data === "2") {
    conn.ws.send("3");
    t.pings++;
  } else if (data.startsWith(ALL_PREFIX)) {
    const seq = seqOf(data);
    if (seq !== t.seq) return;
    if (conn.lastSeq === seq) {
      t.duplicates++;
      return;
    }
    conn.lastSeq = seq;
    t.got++;
    t.lastAt = clock();
    if (t.got >= t.conns.size) t.check?.();
  } else if (data.startsWith("43")) {
    let i = 2;
    let id = 0;
    for (let c = data.charCodeAt(i); c >= 48 && c <= 57; c = data.charCodeAt(++i)) id = id * 10 + c - 48;
    const resolve = t.acks.get(id);
    if (resolve) {
      t.acks.delete(id);
      resolve(data.slice(i));
    }
  }
}

/** Opens one client through the CONNECT reply; resolves false (counted as failed) on any error. */
function connect(url: string, t: Target, errors: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const conn: Conn = { ws, target: t, lastSeq: -1, closing: false };
    let state = 0;
    const fail = (why: string) => {
      if (state === 3) return;
      state = 3;
      clearTimeout(timer);
      t.failed++;
      if (errors.length < 3) errors.push(why);
      try {
        ws.close();
      } catch { /* closed */ }
      resolve(false);
    };
    const timer = setTimeout(() => fail("handshake timeout"), 30_000);
    ws.onmessage = (e) => {
      const data = e.data as string;
      if (state === 2) return onFrame(conn, data);
      if (data === "2") return ws.send("3");
      if (state === 0 && data.charCodeAt(0) === 48 /* 0 */) {
        state = 1;
        ws.send("40");
      } else if (state === 1 && data.startsWith("40")) {
        state = 2;
        clearTimeout(timer);
        t.conns.add(conn);
        resolve(true);
      } else if (state === 1 && data.startsWith("44")) fail(`connect error ${data.slice(0, 100)}`);
    };
    ws.onerror = () => fail("websocket error");
    ws.onclose = (e) => {
      if (state !== 2) return fail(`closed during the handshake (${e.code})`);
      t.conns.delete(conn);
      if (!conn.closing) {
        t.lost++;
        t.closeCodes[e.code] = (t.closeCodes[e.code] ?? 0) + 1;
        t.check?.();
      }
    };
  });
}

// deno-lint-ignore no-explicit-any
type Command = Record<string, any>;

async function connectBatches(cmd: Command): Promise<Record<string, unknown>> {
  // Interleave the batches, so that every target gets its share all along.
  const queue: Array<{ url: string; t: Target }> = [];
  const batches = (cmd.batches as Array<{ target: string; url: string; count: number }>).map((b) => ({
    ...b,
    left: b.count,
  }));
  for (let more = true; more;) {
    more = false;
    for (const b of batches) {
      if (b.left-- > 0) {
        queue.push({ url: b.url, t: targetOf(b.target) });
        more = true;
      }
    }
  }
  const errors: string[] = [];
  let opened = 0;
  let next = 0;
  const t0 = clock();
  async function worker() {
    while (next < queue.length) {
      const { url, t } = queue[next++];
      if (await connect(url, t, errors)) opened++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(cmd.concurrency ?? 100, queue.length) }, worker));
  return { opened, failed: queue.length - opened, firstError: errors[0], seconds: (clock() - t0) / 1000 };
}

async function expect(cmd: Command): Promise<Record<string, unknown>> {
  const list = (cmd.targets as string[]).map(targetOf);
  const seq = cmd.seq as number;
  for (const t of list) if (t.seq !== seq) armTarget(t, seq);
  const done = Promise.all(list.map((t) =>
    new Promise<void>((resolve) => {
      t.check = () => {
        if (t.got >= t.conns.size) resolve();
      };
      t.check();
    })
  ));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, cmd.timeoutMs ?? 30_000)))]);
  clearTimeout(timer);
  // Missed: connections still open that never got it (a connection lost meanwhile counts as lost).
  let missed = 0;
  for (const t of list) for (const c of t.conns) if (c.lastSeq !== seq) missed++;
  const result = {
    expected: list.reduce((a, t) => a + t.conns.size, 0),
    missed,
    got: list.reduce((a, t) => a + t.got, 0),
    duplicates: list.reduce((a, t) => a + t.duplicates, 0),
    lastAt: Math.max(...list.map((t) => t.lastAt)),
  };
  for (const t of list) t.check = undefined;
  return result;
}

function armTarget(t: Target, seq: number): void {
  t.seq = seq;
  t.got = 0;
  t.duplicates = 0;
  t.lastAt = 0;
  for (const c of t.conns) if (c.lastSeq === seq) t.got++; // already there
}

/** Prepares for broadcast `seq` before it is triggered (`{op:"arm", targets, seq}`): none is missed. */
function arm(cmd: Command): Record<string, unknown> {
  for (const name of cmd.targets as string[]) armTarget(targetOf(name), cmd.seq);
  return {};
}

function anyConn(name: string): Conn {
  const t = targets.get(name);
  const first = t?.conns.values().next().value;
  if (!first) throw new Error(`No open connection to ${name}`);
  return first;
}

let ackIds = 0;

async function cpu(cmd: Command): Promise<Record<string, unknown>> {
  const conn = anyConn(cmd.target);
  const id = ackIds++;
  const text = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no cpu ack")), 10_000);
    conn.target.acks.set(id, (t) => {
      clearTimeout(timer);
      resolve(t);
    });
    conn.ws.send(`42${id}["cpu"]`);
  });
  return { micros: JSON.parse(text)[0] };
}

async function closeTarget(cmd: Command): Promise<Record<string, unknown>> {
  const list = cmd.target === "*" ? [...targets.values()] : [targets.get(cmd.target)].filter((t) => t !== undefined);
  const closing: Promise<void>[] = [];
  for (const t of list) {
    for (const c of t.conns) {
      c.closing = true;
      closing.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          c.ws.addEventListener("close", () => {
            clearTimeout(timer);
            resolve();
          });
          c.ws.close();
        }),
      );
    }
  }
  await Promise.all(closing);
  for (const t of list) targets.delete(t.name);
  return { closed: closing.length };
}

function stats(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of targets.values()) {
    out[t.name] = { open: t.conns.size, failed: t.failed, lost: t.lost, pings: t.pings, closeCodes: t.closeCodes };
  }
  return { targets: out };
}

async function run(cmd: Command): Promise<Record<string, unknown>> {
  switch (cmd.op) {
    case "connect":
      return await connectBatches(cmd);
    case "arm":
      return arm(cmd);
    case "expect":
      return await expect(cmd);
    case "trigger": {
      const conn = anyConn(cmd.target);
      const at = clock();
      conn.ws.send(`42["emit-all",${cmd.seq},"${cmd.pad ?? ""}"]`);
      return { at };
    }
    case "cpu":
      return await cpu(cmd);
    case "stats":
      return stats();
    case "close":
      return await closeTarget(cmd);
    case "exit":
      process.exit(0);
  }
  throw new Error(`Unknown command ${JSON.stringify(cmd.op)}`);
}

// Commands arrive one per line; each is answered as soon as it is done (several may overlap).
let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  buffered += chunk;
  for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (line.trim() === "") continue;
    const cmd = JSON.parse(line) as Command;
    run(cmd).then(
      (result) => process.stdout.write(JSON.stringify({ id: cmd.id, ...result }) + "\n"),
      (err) => process.stdout.write(JSON.stringify({ id: cmd.id, error: String(err?.message ?? err) }) + "\n"),
    );
  }
});
process.stdin.on("end", () => process.exit(0));
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + "\n");
