/**
 * The sharded mode on Workers in real workerd (Miniflare): one app over 4 Durable Objects
 * (`tests/workers/shards_worker.ts`), clients placed on chosen shards. The cluster scenarios of
 * the Redis tests across shards, sessions routed by their id (polling, WebSocket, the upgrade),
 * bad session ids answered by the Worker without reaching an object, a shard restarted, and one
 * shard hibernated while the others broadcast to it (about 12 s: workerd's eviction delay).
 *
 * One workerd for the whole file.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io, type Socket } from "socket.io-client";
import { connected, delay, once, startWorkerd, type WorkerdServer } from "./workers/_helpers.ts";
import { ROOT } from "./workers/_helpers.ts";
import { until } from "./_helpers.ts";

let server: WorkerdServer;
const sockets: Socket[] = [];

before(async () => {
  server = await startWorkerd(`${ROOT}tests/workers/shards_worker.ts`, { FAST: "FastShard", SLOW: "SlowShard" }, 0, {
    verbose: true,
  });
});

after(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await server?.close();
});

interface Options {
  shard?: number | string;
  room?: string;
  transports?: string[];
  kind?: "fast" | "slow";
  signed?: boolean;
}

/** A socket.io-client 4.8 client on `shard` of the app, in `room`. */
function client(options: Options = {}): Promise<Socket> {
  const query: Record<string, string> = { do: options.kind ?? "fast" };
  if (options.shard !== undefined) query.shard = String(options.shard);
  if (options.signed) query.signed = "";
  const socket = io(server.url, {
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    transports: options.transports ?? ["websocket"],
    query,
    auth: options.room ? { room: options.room } : {},
  });
  sockets.push(socket);
  return connected(socket);
}

/** One client on each of the 4 shards, in `room`. */
function onEveryShard(room: string, options: Options = {}): Promise<Socket[]> {
  return Promise.all([0, 1, 2, 3].map((shard) => client({ ...options, shard, room })));
}

// deno-lint-ignore no-explicit-any
function call(socket: Socket, event: string, ...args: unknown[]): Promise<any> {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

/** Collects `event` on `socket`. */
function collect(socket: Socket, event: string): unknown[][] {
  const got: unknown[][] = [];
  socket.on(event, (...args: unknown[]) => got.push(args));
  return got;
}

function closeAll(list: Socket[]): void {
  for (const socket of list) socket.disconnect();
}

async function stats(shard: number, kind = "fast"): Promise<{ name: string; instance: string; refused: number }> {
  return await (await fetch(`${server.url}/stats?do=${kind}&shard=${shard}`)).json();
}

describe("workerd, sharded mode (4 Durable Objects)", () => {
  it("routes every request of a session to the shard its id names: polling, WebSocket, the upgrade", async () => {
    const room = "routing";
    const clients = await Promise.all([
      client({ shard: 0, room, transports: ["polling"] }),
      client({ shard: 1, room, transports: ["polling", "websocket"] }),
      client({ shard: 2, room, transports: ["websocket"] }),
      client({ shard: 3, room, transports: ["polling", "websocket"] }),
    ]);
    const [, b, , d] = clients;
    await Promise.all(
      [b, d].map((s) => s.io.engine.transport.name === "websocket" ? null : once(s.io.engine, "upgrade")),
    );
    for (const [i, socket] of clients.entries()) {
      const sid = socket.io.engine.id;
      assert.match(sid, new RegExp(`^${i}\\.[A-Za-z0-9_-]{20}$`));
      const me = await call(socket, "whoami");
      assert.equal(me.shard, i === 0 ? "fast" : `fast:${i}`);
      assert.equal(me.id, socket.id);
      // several round trips over the session's transport, each to the same object
      for (let n = 0; n < 3; n++) assert.equal(await call(socket, "echo", n), n);
    }
    // A picker that throws or returns no shard: a random one, and the client connects.
    const thrown = await client({ shard: "throw" });
    const junk = await client({ shard: "junk" });
    assert.match(thrown.io.engine.id, /^[0-3]\./);
    assert.match(junk.io.engine.id, /^[0-3]\./);
    closeAll([...clients, thrown, junk]);
  });

  it("broadcasts reach every shard: io.emit, a room spanning shards, except, local", async () => {
    const room = "bcast";
    const clients = await onEveryShard(room);
    const outsider = await client({ shard: 2, room: "bcast-other" });
    const everyone = clients.map((s) => once(s, "everyone-back"));
    const outsiderGot = once(outsider, "everyone-back");
    clients[0].emit("everyone", "hi", new Uint8Array([1, 2, 3]));
    for (const got of await Promise.all(everyone)) {
      assert.equal(got[0], "hi");
      assert.deepEqual([...new Uint8Array(got[1] as ArrayBuffer)], [1, 2, 3]);
    }
    assert.equal((await outsiderGot)[0], "hi");

    // a room spanning the 4 shards, from each shard in turn, in order
    const roomGot = clients.map((s) => collect(s, "room-back"));
    const outsiderRoom = collect(outsider, "room-back");
    for (const [i, s] of clients.entries()) s.emit("to-room", room, `from ${i}`);
    await until(() => roomGot.every((g) => g.length === 4), 5000);
    for (const got of roomGot) {
      // each sender's messages arrive; from one sender in the order sent
      assert.deepEqual(got.map((args) => args[0]).sort(), ["from 0", "from 1", "from 2", "from 3"]);
    }

    // except: shard 3's client joins `bcast-skip` (through socketsJoin from shard 0), then is left out
    assert.equal(await call(clients[0], "join-all", `${room}-3`, "unused"), true); // nothing there
    assert.equal(await call(clients[3], "join-all", clients[3].id, "bcast-skip"), true);
    const exceptGot = clients.map((s) => collect(s, "except-back"));
    clients[1].emit("except-room", room, "bcast-skip", "not you");
    await until(() => exceptGot.slice(0, 3).every((g) => g.length === 1), 5000);

    // local: only the sender's shard
    const localGot = clients.map((s) => collect(s, "local-back"));
    clients[2].emit("local", room, "here only");
    await until(() => localGot[2].length === 1, 5000);

    // a round trip through every shard after both, so anything late would have come
    await call(clients[0], "fetch", room);
    assert.deepEqual(exceptGot.map((g) => g.length), [1, 1, 1, 0]);
    assert.deepEqual(localGot.map((g) => g.length), [0, 0, 1, 0]);
    assert.equal(outsiderRoom.length, 0);
    closeAll([...clients, outsider]);
  });

  it("fetchSockets and RemoteSocket across shards; socketsJoin, socketsLeave, disconnectSockets", async () => {
    const room = "fetch";
    const clients = await onEveryShard(room);
    const expected = clients.map((s, i) => ({
      id: s.id!,
      shard: i === 0 ? "fast" : `fast:${i}`,
      rooms: [room, s.id!].sort(),
    }));
    const byId = (list: { id: string }[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    for (const s of clients) assert.deepEqual(byId(await call(s, "fetch", room)), byId(expected));

    // RemoteSocket: emit and join on the 3 other shards' sockets
    const hellos = clients.slice(1).map((s) => once(s, "remote-hello"));
    assert.equal(await call(clients[0], "remote", room), 3);
    for (const got of await Promise.all(hellos)) assert.deepEqual(got, ["fast"]);
    await until(async () => (await call(clients[1], "fetch", `${room}-remote`)).length === 3, 5000);

    // socketsJoin / socketsLeave from shard 2, seen from shard 1
    assert.equal(await call(clients[2], "join-all", room, "joined"), true);
    await until(async () => (await call(clients[1], "fetch", "joined")).length === 4, 5000);
    assert.deepEqual(
      (await call(clients[3], "whoami")).rooms,
      [room, `${room}-remote`, clients[3].id, "joined"].sort(),
    );
    assert.equal(await call(clients[2], "leave-all", room, "joined"), true);
    await until(async () => (await call(clients[1], "fetch", "joined")).length === 0, 5000);

    // disconnectSockets from shard 3 (a client outside the room): the room, on every shard
    const outsider = await client({ shard: 3, room: `${room}-outside` });
    const gone = clients.map((s) => once(s, "disconnect"));
    assert.equal(await call(outsider, "disconnect-room", room), true);
    for (const [reason] of await Promise.all(gone)) assert.equal(reason, "io server disconnect");
    assert.equal(outsider.connected, true);
    outsider.disconnect();
  });

  it("broadcast acks count every shard's clients; serverSideEmit acks from every shard", async () => {
    const room = "acks";
    const clients = await onEveryShard(room);
    const extra = await client({ shard: 1, room });
    for (const [i, s] of [...clients, extra].entries()) s.on("question", (ack: Ack) => ack(`answer ${i}`));
    const { err, responses } = await call(clients[0], "ask-room", room);
    assert.equal(err, null);
    assert.deepEqual(responses, ["answer 0", "answer 1", "answer 2", "answer 3", "answer 4"]);

    // one client that does not answer: a timeout, with the 4 answers that came
    const silent = await client({ shard: 3, room });
    const late = await call(clients[2], "ask-room", room);
    assert.equal(late.err, "operation has timed out");
    assert.equal(late.responses.length, 5);

    for (const [i, s] of clients.entries()) {
      const sse = await call(s, "sse");
      assert.equal(sse.err, null);
      const others = [0, 1, 2, 3].filter((j) => j !== i).map((j) => `pong from ${j === 0 ? "fast" : `fast:${j}`}`);
      assert.deepEqual([...sse.responses].sort(), others.sort());
    }
    closeAll([...clients, extra, silent]);
  });

  it("bad session ids: the Worker answers the protocol's error, no object sees them, nothing throws", async () => {
    const before = await Promise.all([0, 1, 2, 3].map((i) => stats(i)));
    const get = async (query: string, init?: RequestInit) => {
      const response = await fetch(`${server.url}/socket.io/?EIO=4&${query}`, init);
      return { status: response.status, body: await response.text() };
    };
    const unknownSid = { status: 400, body: JSON.stringify({ code: 1, message: "Session ID unknown" }) };
    const valid = await (await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&do=fast&shard=1`)).text();
    const sid = JSON.parse(valid.slice(1)).sid as string;
    const random = sid.slice(2);
    const bad = [
      `9.${random}`, // no such shard
      `4.${random}`,
      `-1.${random}`,
      `01.${random}`,
      `1.${random}x`,
      `1.${random}.AAAAAAAAAAAA`, // a signature where none is issued
      random, // no shard at all
      "../../fast:1",
      "1." + "A".repeat(5000),
      "%00",
    ];
    for (const forged of bad) {
      assert.deepEqual(await get(`transport=polling&sid=${encodeURIComponent(forged)}`), unknownSid, forged);
      assert.deepEqual(
        await get(`transport=polling&sid=${encodeURIComponent(forged)}`, { method: "POST", body: "4hello" }),
        unknownSid,
      );
      assert.deepEqual(await get(`transport=websocket&sid=${encodeURIComponent(forged)}`), unknownSid);
    }
    assert.deepEqual(await get(`transport=carrier-pigeon&sid=9.x`), {
      status: 400,
      body: JSON.stringify({ code: 0, message: "Transport unknown" }),
    });
    // headers only the Worker may set are not taken from clients
    const spoofed = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&do=fast&shard=0`, {
      headers: { "x-socket-io-sid": "2.AAAAAAAAAAAAAAAAAAAA", "x-socket-io-bus": "1" },
    });
    assert.match(JSON.parse((await spoofed.text()).slice(1)).sid, /^0\./);
    assert.equal(
      (await fetch(`${server.url}/.socket.io-bus`, { method: "POST", headers: { "x-socket-io-bus": "1" } })).status,
      404,
    );
    let after = await Promise.all([0, 1, 2, 3].map((i) => stats(i)));
    assert.deepEqual(after.map((s) => s.refused), before.map((s) => s.refused));

    // An id re-prefixed to another existing shard reaches that shard, which does not know it...
    assert.deepEqual(await get(`transport=polling&sid=2.${random}`), unknownSid);
    after = await Promise.all([0, 1, 2, 3].map((i) => stats(i)));
    assert.equal(after[2].refused, before[2].refused + 1);
    // ...unless the ids are signed: then the Worker refuses it, and the right one is served.
    const signed = await client({ shard: 1, signed: true, transports: ["polling"] });
    const signedSid = signed.io.engine.id;
    assert.match(signedSid, /^1\.[A-Za-z0-9_-]{20}\.[A-Za-z0-9_-]{12}$/);
    for (const other of ["0", "2", "3"]) {
      const forged = `${other}${signedSid.slice(1)}`;
      assert.deepEqual(await get(`transport=polling&signed&sid=${forged}`), unknownSid);
    }
    assert.deepEqual(await get(`transport=polling&signed&sid=${signedSid.slice(0, -1)}B`), unknownSid);
    assert.deepEqual(
      await get(`transport=polling&signed&sid=${signedSid.split(".").slice(0, 2).join(".")}`),
      unknownSid,
    );
    assert.equal(await call(signed, "echo", "still here"), "still here");
    const last = await Promise.all([0, 1, 2, 3].map((i) => stats(i)));
    assert.deepEqual(last.map((s) => s.refused), after.map((s) => s.refused));
    signed.disconnect();
    assert.equal(server.log().uncaughtCount, 0, server.log().uncaught.join("\n"));
  });

  it("a restarted shard: its clients reconnect, the others keep their sessions and broadcasts go on", async () => {
    const room = "restart";
    const clients = await onEveryShard(room);
    const victim = clients[2];
    const lost = once(victim, "disconnect");
    const before = await stats(2);
    await fetch(`${server.url}/restart?do=fast&shard=2`);
    await lost;
    assert.notEqual((await stats(2)).instance, before.instance);
    // the other shards' clients are still there, and still reach each other and the new shard 2
    const back = await client({ shard: 2, room });
    const got = [clients[0], clients[1], clients[3], back].map((s) => once(s, "room-back"));
    clients[3].emit("to-room", room, "after the restart");
    for (const args of await Promise.all(got)) assert.deepEqual(args, ["after the restart"]);
    assert.equal((await call(clients[0], "fetch", room)).length, 4);
    closeAll([...clients, back]);
  });

  it("a hibernated shard is woken by a broadcast from another one, its sessions intact", async () => {
    const room = "hibernate";
    const clients = await onEveryShard(room, { kind: "slow" });
    await call(clients[3], "join-all", clients[3].id, "sleepers");
    const before = await call(clients[3], "whoami");
    assert.equal(before.recovered, false);
    let gone = false;
    clients[3].on("disconnect", () => (gone = true));
    // shards 0-2 stay busy; shard 3 hears nothing for > 10 s, and workerd evicts it
    const deadline = Date.now() + 11500;
    while (Date.now() < deadline) {
      await Promise.all(clients.slice(0, 3).map((s) => call(s, "echo", 1)));
      await delay(1000);
    }
    const everyone = clients.map((s) => once(s, "room-back"));
    const sleepers = once(clients[3], "everyone-back");
    clients[0].emit("to-room", room, "wake up");
    for (const args of await Promise.all(everyone)) assert.deepEqual(args, ["wake up"]);
    clients[1].emit("everyone", "still there");
    assert.deepEqual(await sleepers, ["still there"]);
    const after = await call(clients[3], "whoami");
    assert.notEqual(after.instance, before.instance, "shard 3 did not hibernate");
    assert.equal(after.recovered, true);
    assert.equal(after.id, before.id);
    assert.deepEqual(after.rooms, before.rooms);
    assert.deepEqual(after.data, { shard: "slow:3" });
    // the busy shards did not hibernate
    assert.equal((await call(clients[1], "whoami")).recovered, false);
    assert.equal(gone, false);
    closeAll(clients);
  });
});

type Ack = (value: unknown) => void;
