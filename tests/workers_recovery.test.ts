/**
 * Connection state recovery across a restart of a Durable Object (`ctx.abort()`, as a deploy or an
 * exception would: every WebSocket drops), in real workerd (Miniflare): a single object and 4
 * shards (`tests/workers/recovery_worker.ts`, `maxDisconnectionDuration` 3 s). A client in a
 * room, with data, that comes back with its pid and offset gets `recovered`, its id, rooms, data
 * and the packets broadcast while it was away, once; after `maxDisconnectionDuration` a new
 * session; a corrupt or forged stored record is refused with a log line.
 *
 * One workerd for the whole file.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io as sioClient, type Socket as SioSocket } from "socket.io-client";
import { io as ourClient } from "../client.ts";
import { connected, once, ROOT, startWorkerd, type WorkerdServer } from "./workers/_helpers.ts";
import { sleep, until } from "./_helpers.ts";

let server: WorkerdServer;
// deno-lint-ignore no-explicit-any
type AnySocket = any;
const sockets: AnySocket[] = [];

before(async () => {
  server = await startWorkerd(
    `${ROOT}tests/workers/recovery_worker.ts`,
    {
      SINGLE: "RecoverObject",
      SHARDS: "RecoverShard",
    },
    0,
    { verbose: true },
  );
});

after(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await server?.close();
});

interface Options {
  kind?: "single" | "shards";
  shard?: number;
  room: string;
  name: string;
  ours?: boolean;
}

/** A client (socket.io-client 4.8, or ours) that reconnects only when told to (`socket.connect()`). */
function client(options: Options): Promise<AnySocket> {
  const query: Record<string, string> = { do: options.kind ?? "single" };
  if (options.shard !== undefined) query.shard = String(options.shard);
  const make = options.ours ? ourClient : sioClient;
  const socket = make(server.url, {
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    transports: ["websocket"],
    query,
    auth: { room: options.room, name: options.name },
  }) as SioSocket;
  sockets.push(socket);
  return connected(socket);
}

function call(socket: AnySocket, event: string, ...args: unknown[]): Promise<AnySocket> {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

function collect(socket: AnySocket, event: string): unknown[][] {
  const got: unknown[][] = [];
  socket.on(event, (...args: unknown[]) => got.push(args));
  return got;
}

async function get(path: string): Promise<string> {
  const response = await fetch(`${server.url}${path}`);
  return await response.text();
}

/** Restarts the object (shard) and waits until every one of `victims` saw its WebSocket drop. */
async function restart(kind: string, shard: number, victims: AnySocket[]): Promise<void> {
  const gone = victims.map((s) => once(s, "disconnect", 5000));
  await get(`/restart?do=${kind}&shard=${shard}`);
  await Promise.all(gone);
}

/** Reconnects a socket that dropped (with its pid and offset, as a reconnection does). */
async function reconnect(socket: AnySocket, shard?: number): Promise<void> {
  if (shard !== undefined) socket.io.opts.query.shard = String(shard);
  socket.connect();
  await connected(socket);
}

/** No uncaught exception but `ctx.abort()`'s own (the restarts the tests make). */
function assertNoUncaught(): void {
  const log = server.log();
  const others = log.uncaught.filter((line) => !line.includes("Error: restarted by the test"));
  assert.equal(others.length, 0, others.join("\n"));
}

describe("connection state recovery in Durable Object storage", () => {
  for (const ours of [false, true]) {
    const who = ours ? "our client" : "socket.io-client 4.8";
    it(`single object restarted: ${who} gets its id, rooms, data and the missed packet once`, async () => {
      const room = `single-${ours}`;
      const socket = await client({ room, name: "ann", ours });
      const news = collect(socket, "news");
      await call(socket, "set-data", "score", 7);
      await get(`/emit?do=single&room=${room}&msg=before`);
      await until(() => news.length === 1, 3000, "the first packet");
      const before = await call(socket, "whoami");
      assert.deepEqual(before.rooms, [socket.id, room].sort());
      await restart("single", 0, [socket]);
      await get(`/emit?do=single&room=${room}&msg=while-away`); // right after the restart
      await get(`/emit?do=single&room=other-room&msg=not-for-me`);
      await reconnect(socket);
      assert.equal(socket.recovered, true);
      assert.equal(socket.id, before.id);
      const after = await call(socket, "whoami");
      assert.notEqual(after.instance, before.instance, "the object did not restart");
      assert.equal(after.recovered, true);
      assert.deepEqual(after.rooms, before.rooms);
      assert.deepEqual(after.data, { name: "ann", score: 7 });
      await get(`/emit?do=single&room=${room}&msg=after`);
      await until(() => news.length === 3, 3000, "the packet after");
      assert.deepEqual(news.map((args) => args[0]), ["before", "while-away", "after"]);
      socket.disconnect();
    });
  }

  it("past maxDisconnectionDuration: a new session", async () => {
    const room = "expiry";
    const socket = await client({ room, name: "bob" });
    const news = collect(socket, "news");
    await get(`/emit?do=single&room=${room}&msg=before`);
    await until(() => news.length === 1, 3000, "the first packet");
    const id = socket.id;
    await restart("single", 0, [socket]);
    await sleep(3300); // maxDisconnectionDuration (3 s) passes
    await get(`/emit?do=single&room=${room}&msg=too-late`);
    await reconnect(socket);
    assert.equal(socket.recovered, false);
    assert.notEqual(socket.id, id);
    const after = await call(socket, "whoami");
    assert.equal(after.recovered, false);
    await sleep(100);
    assert.deepEqual(news.map((args) => args[0]), ["before"]);
    socket.disconnect();
  });

  it("a corrupt or forged stored session is refused with a log line: a new session", async () => {
    for (const kind of ["bytes", "forged"]) {
      const room = `corrupt-${kind}`;
      const socket = await client({ room, name: "eve" });
      const news = collect(socket, "news");
      await get(`/emit?do=single&room=${room}&msg=before`);
      await until(() => news.length === 1, 3000, "the first packet");
      const id = socket.id;
      const pid = socket._pid as string;
      assert.equal(typeof pid, "string");
      const lost = once(socket, "disconnect", 5000);
      socket.io.engine.close(); // a transport close: the session is kept...
      await lost;
      await sleep(50);
      await get(`/corrupt?do=single&pid=${encodeURIComponent(pid)}&kind=${kind}`); // ...and spoilt
      await reconnect(socket);
      assert.equal(socket.recovered, false, kind);
      assert.notEqual(socket.id, id);
      const reason = kind === "bytes" ? "not a record" : "it names another session";
      await until(
        () => server.output().includes(`refused a stored recovery session (${reason})`),
        3000,
        "the log line",
      );
      socket.disconnect();
    }
    assertNoUncaught();
  });

  it("4 shards: a restarted shard's clients recover, on their shard and on another one", async () => {
    const room = "shards";
    const stay = await client({ kind: "shards", shard: 2, room, name: "stay" });
    const move = await client({ kind: "shards", shard: 2, room, name: "move" });
    const other = await client({ kind: "shards", shard: 0, room, name: "other" });
    const got = [stay, move, other].map((s) => collect(s, "news"));
    other.emit("to-room", room, "before");
    await until(() => got.every((g) => g.length === 1), 3000, "the first packet");
    const before = await Promise.all([stay, move].map((s) => call(s, "whoami")));
    await restart("shards", 2, [stay, move]);
    other.emit("to-room", room, "while-away"); // from another shard, while they are away
    await until(() => got[2].length === 2, 3000, "the packet on shard 0");
    await reconnect(stay, 2);
    await reconnect(move, 1); // the Worker sends its new handshake to shard 1
    for (const [i, socket] of [stay, move].entries()) {
      assert.equal(socket.recovered, true, `client ${i}`);
      assert.equal(socket.id, before[i].id);
      const after = await call(socket, "whoami");
      assert.equal(after.recovered, true);
      assert.equal(after.shard, i === 0 ? "rec:2" : "rec:1");
      assert.deepEqual(after.rooms, before[i].rooms);
      assert.deepEqual(after.data, before[i].data);
    }
    other.emit("to-room", room, "after");
    await until(() => got.every((g) => g.length === 3), 3000, "the packet after");
    for (const g of got) assert.deepEqual(g.map((args) => args[0]), ["before", "while-away", "after"]);
    // The moved one can recover again (its pid names shard 2, which knows where it went).
    const lost = once(move, "disconnect", 5000);
    move.io.engine.close();
    await lost;
    other.emit("to-room", room, "away again");
    await until(() => got[2].length === 4, 3000, "the packet on shard 0");
    await reconnect(move, 3);
    assert.equal(move.recovered, true);
    assert.equal((await call(move, "whoami")).shard, "rec:3");
    await until(() => got[1].length === 4, 3000, "the missed packet");
    assert.deepEqual(got[1].map((args) => args[0]), ["before", "while-away", "after", "away again"]);
    for (const s of [stay, move, other]) s.disconnect();
    assertNoUncaught();
  });
});
