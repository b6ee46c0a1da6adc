// Broadcasts of every shape, the same result on every runtime whether frames go out one write per
// socket or through the runtime's native topics (Bun, where the sender's own WebSocket publishes
// and is skipped): rooms (members only, leaving stops delivery, namespaces isolated), the whole
// namespace and everyone but the sender; every intended client exactly once, in order with direct
// emits around them, polling and WebSocket clients mixed, binary included. Several rooms and
// except(room) too: on Bun one publish per room, the members already reached (or excluded) out of
// the topic for it and back right after, or one write per socket where that costs more.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server, type Socket } from "../server.ts";
import { closeAllWebSockets, createWebSocket, Polling, type TestSocket } from "./conformance/_helpers.ts";
import { type Running, startServer } from "./_server.ts";
import { until } from "./_helpers.ts";

const running: Running[] = [];
afterEach(async () => {
  closeAllWebSockets();
  for (const s of running.splice(0)) await s.close();
});

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** A server whose engine counts its native publishes (with or without an excluded session). */
async function setup() {
  const io = new Server({ pingInterval: 5000, pingTimeout: 5000 });
  const sockets: Socket[] = [];
  io.on("connection", (socket) => void sockets.push(socket));
  io.of("/other").on("connection", (socket) => void sockets.push(socket));
  const publishes = { all: 0, butOne: 0 };
  // Each publish: its topic's room (the namespace: "*") and how many sessions it leaves out.
  const log: Array<[string, number]> = [];
  const engine = io.engine;
  const publish = engine.publish.bind(engine);
  engine.publish = (topic, messages, options) => {
    if (options?.except) publishes.butOne++;
    else publishes.all++;
    const except = options?.except;
    const left = except === undefined ? 0 : "length" in except ? except.length : 1;
    log.push([topic.includes("\u0000") ? topic.slice(topic.indexOf("\u0000") + 1) : "*", left]);
    publish(topic, messages, options);
  };
  const server = await startServer(io);
  running.push(server);
  return { io, server, sockets, publishes, log };
}

async function wsClient(wsUrl: string, nsps: string[] = ["/"]): Promise<TestSocket> {
  const ws = createWebSocket(`${wsUrl}/socket.io/?EIO=4&transport=websocket`);
  await ws.waitFor("message");
  for (const nsp of nsps) {
    ws.send(nsp === "/" ? "40" : `40${nsp},`);
    await ws.next();
  }
  return ws;
}

async function pollingClient(url: string): Promise<Polling> {
  const polling = new Polling(url, "/socket.io/");
  await polling.open();
  await polling.post("40");
  assert.match((await polling.packets(1))[0], /^40\{"sid"/);
  return polling;
}

const BIN = '451-["bin",{"_placeholder":true,"num":0}]';

/** The next frames of `ws`: text as is, binary as bytes. */
async function frames(ws: TestSocket, count: number): Promise<Array<string | number[]>> {
  const got = await ws.waitForPackets(count);
  return got.map((f) => typeof f === "string" ? f : [...new Uint8Array(f)]);
}

describe(`namespace-wide and but-sender broadcasts${isBun ? " (Bun native topics)" : ""}`, () => {
  it("io.emit reaches every client once, in order with direct emits, polling and WebSocket mixed", async () => {
    const { io, server, sockets, publishes } = await setup();
    const a = await wsClient(server.wsUrl);
    const b = await wsClient(server.wsUrl);
    const p = await pollingClient(server.url);
    await until(() => sockets.length === 3);
    const [sa, sb, sp] = sockets;
    for (let round = 0; round < 2; round++) {
      sa.emit("before", round); // buffered in this tick: must arrive before the broadcast
      io.emit("all", round);
      io.emit("bin", new Uint8Array([round, 2]));
      sb.emit("after", round);
      sp.emit("after", round);
      sa.emit("after", round);
      assert.deepEqual(await frames(a, 5), [
        `42["before",${round}]`,
        `42["all",${round}]`,
        BIN,
        [round, 2],
        `42["after",${round}]`,
      ]);
      assert.deepEqual(await frames(b, 4), [`42["all",${round}]`, BIN, [round, 2], `42["after",${round}]`]);
      assert.deepEqual(await p.packets(4), [
        `42["all",${round}]`,
        BIN,
        "b" + btoa(String.fromCharCode(round, 2)),
        `42["after",${round}]`,
      ]);
    }
    // Native on Bun: one publish per broadcast, whatever the number of WebSocket clients.
    if (isBun) assert.equal(publishes.all, 4);
    else assert.equal(publishes.all, 0);
  });

  it("socket.broadcast.emit and socket.to(room).emit skip the sender only", async () => {
    const { io: _io, server, sockets, publishes } = await setup();
    const a = await wsClient(server.wsUrl);
    const b = await wsClient(server.wsUrl);
    const p = await pollingClient(server.url);
    await until(() => sockets.length === 3);
    const [sa, sb, sp] = sockets;
    for (const s of sockets) s.join("r");
    sb.emit("before");
    sa.broadcast.emit("others", new Uint8Array([7]));
    sa.to("r").emit("room-others");
    sb.broadcast.emit("from-b"); // a WebSocket client is the sender, the other is a receiver
    sp.broadcast.emit("from-p"); // the polling client is the sender
    for (const s of sockets) s.emit("end");
    const OTHERS = '451-["others",{"_placeholder":true,"num":0}]';
    assert.deepEqual(await frames(a, 3), ['42["from-b"]', '42["from-p"]', '42["end"]']);
    assert.deepEqual(await frames(b, 6), [
      '42["before"]',
      OTHERS,
      [7],
      '42["room-others"]',
      '42["from-p"]',
      '42["end"]',
    ]);
    assert.deepEqual(await p.packets(5), [OTHERS, "bBw==", '42["room-others"]', '42["from-b"]', '42["end"]']);
    if (isBun) assert.equal(publishes.butOne, 4, "every but-sender broadcast went through the sender's publish");
    else assert.equal(publishes.butOne, 0);
  });

  it("a socket that left the namespace on an open connection gets no more namespace broadcasts", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl, ["/", "/other"]);
    const b = await wsClient(server.wsUrl, ["/other"]);
    await until(() => sockets.length === 3);
    io.of("/other").emit("before");
    assert.equal(await a.next(), '42/other,["before"]');
    assert.equal(await b.next(), '42/other,["before"]');
    a.send("41/other,");
    await until(() => io.of("/other").sockets.size === 1);
    io.of("/other").emit("after-leave");
    io.emit("main");
    assert.equal(await a.next(), '42["main"]');
    assert.equal(await b.next(), '42/other,["after-leave"]');
  });

  it("a session someone watches (packetCreate listener, wrapped write) sees every broadcast packet", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl);
    const b = await wsClient(server.wsUrl);
    await until(() => sockets.length === 2);
    const [sa, sb] = sockets;
    const created: unknown[] = [];
    sa.conn.on("packetCreate", (packet) => created.push(packet.data));
    const written: unknown[] = [];
    const write = sb.conn.write;
    sb.conn.write = function (data, options) {
      written.push(data);
      return write.call(this, data, options);
    };
    io.emit("all", 1);
    sa.join("r");
    sb.join("r");
    io.to("r").emit("room", 2);
    assert.deepEqual(await frames(a, 2), ['42["all",1]', '42["room",2]']);
    assert.deepEqual(await frames(b, 2), ['42["all",1]', '42["room",2]']);
    assert.deepEqual(created, ['2["all",1]', '2["room",2]']);
    assert.deepEqual(written, ['2["all",1]', '2["room",2]']);
  });
});

describe(`room broadcasts${isBun ? " (Bun native topics)" : ""}`, () => {
  it("reaches members only, stops after leave, keeps order with earlier writes", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl);
    const b = await wsClient(server.wsUrl);
    await until(() => sockets.length === 2);
    const [sa, sb] = sockets;
    if (isBun) assert.ok(sa.conn.webSocket?.publisher && io.engine.hasFanOut, "Bun sockets offer native fan-out");
    sa.join("r");
    sb.join("r");
    sa.emit("direct", 1); // buffered in this tick: must arrive before the broadcast
    io.to("r").emit("room", "first");
    assert.deepEqual([await a.next(), await a.next()], ['42["direct",1]', '42["room","first"]']);
    assert.equal(await b.next(), '42["room","first"]');
    sb.leave("r");
    io.to("r").emit("room", "second");
    sb.emit("direct", 2);
    assert.equal(await a.next(), '42["room","second"]');
    assert.equal(await b.next(), '42["direct",2]', "b left the room: only its direct message");
  });

  it("keeps namespaces apart on one connection and mixes polling and WebSocket members", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl, ["/", "/other"]);
    const polling = new Polling(server.url, "/socket.io/");
    await polling.open();
    await polling.post("40");
    assert.match((await polling.packets(1))[0], /^40\{"sid"/);
    await until(() => sockets.length === 3);
    for (const socket of sockets) socket.join("r");
    io.of("/other").to("r").emit("only-other", new Uint8Array([1, 2, 3]));
    io.to("r").emit("main", "x");
    const frames = [await a.next(), await a.next(), await a.next()];
    assert.equal(frames[0], '451-/other,["only-other",{"_placeholder":true,"num":0}]');
    assert.deepEqual(new Uint8Array(frames[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
    assert.equal(frames[2], '42["main","x"]');
    assert.deepEqual(await polling.packets(1), ['42["main","x"]'], "the polling member is not in /other");
  });

  it("stops delivering to a socket that left the namespace on a connection still open", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl, ["/", "/other"]);
    await until(() => sockets.length === 2);
    for (const socket of sockets) socket.join("r");
    io.of("/other").to("r").emit("before");
    assert.equal(await a.next(), '42/other,["before"]');
    a.send("41/other,");
    await until(() => io.of("/other").sockets.size === 0);
    io.of("/other").to("r").emit("after-leave");
    io.to("r").emit("main");
    assert.equal(await a.next(), '42["main"]');
  });
});

describe(`several rooms and except(room)${isBun ? " (Bun native topics)" : ""}`, () => {
  /** `ws` WebSocket clients then `polls` polling clients, their server-side sockets in that order. */
  async function clients(ws: number, polls: number) {
    const env = await setup();
    const w: TestSocket[] = [];
    for (let i = 0; i < ws; i++) w.push(await wsClient(env.server.wsUrl));
    const p: Polling[] = [];
    for (let i = 0; i < polls; i++) {
      await until(() => env.sockets.length === ws + i);
      p.push(await pollingClient(env.server.url));
    }
    await until(() => env.sockets.length === ws + polls);
    return { ...env, w, p };
  }

  /** Binary event `name` with `n` as WebSocket frames and as polling packets. */
  const bin = (name: string, n: number) => ({
    ws: [`451-["${name}",{"_placeholder":true,"num":0}]`, [n]] as Array<string | number[]>,
    polling: [`451-["${name}",{"_placeholder":true,"num":0}]`, "b" + btoa(String.fromCharCode(n))],
  });

  it("to([a, b, c]) reaches each member once, through the first room it is in", async () => {
    const { io, sockets, w, p, log } = await clients(9, 1);
    const rooms: Record<string, number[]> = { r1: [0, 1, 2, 9], r2: [0, 1, 3, 4, 5, 6, 9], r3: [0, 1, 2, 7] };
    for (const [room, members] of Object.entries(rooms)) for (const i of members) sockets[i].join(room);
    // Every member subscribed to its rooms' topics: the later rooms have members to take out.
    for (const room of Object.keys(rooms)) io.to(room).emit("warm");
    const warm = (i: number) => Object.values(rooms).filter((m) => m.includes(i)).map(() => '42["warm"]');
    for (let i = 0; i < 9; i++) assert.deepEqual(await frames(w[i], warm(i).length), warm(i), `client ${i}`);
    assert.deepEqual(await p[0].packets(2), warm(9));
    log.length = 0;
    for (let round = 0; round < 2; round++) {
      for (const s of sockets) s.emit("before", round);
      io.to(["r1", "r2", "r3"]).emit("multi", new Uint8Array([round]));
      for (const s of sockets) s.emit("after", round);
      const multi = bin("multi", round);
      for (let i = 0; i < 9; i++) {
        const inRoom = i !== 8; // client 8 is in no room
        assert.deepEqual(
          await frames(w[i], inRoom ? 4 : 2),
          [`42["before",${round}]`, ...(inRoom ? multi.ws : []), `42["after",${round}]`],
          `client ${i}, round ${round}`,
        );
      }
      assert.deepEqual(await p[0].packets(4), [`42["before",${round}]`, ...multi.polling, `42["after",${round}]`]);
    }
    // r1 to its members; r2 without clients 0 and 1 (reached through r1, put back after, out again
    // in round 2); r3 would take 3 out for 1 native receiver: written socket by socket.
    if (isBun) assert.deepEqual(log, [["r1", 0], ["r2", 2], ["r1", 0], ["r2", 2]]);
    else assert.deepEqual(log, []);
  });

  it("except(room) of several sockets: io.except, socket.broadcast.except, to(room).except", async () => {
    const { io, sockets, w, p, log } = await clients(8, 2);
    const ex = [0, 1, 8]; // two WebSocket clients and a polling one
    const r = [0, 1, 2, 3, 4, 5, 8, 9];
    for (const i of ex) sockets[i].join("ex");
    for (const i of r) sockets[i].join("r");
    const sender = sockets[9]; // a polling client, in r, not excluded
    io.emit("warm");
    io.to("r").emit("warm");
    for (let i = 0; i < 8; i++) {
      const n = r.includes(i) ? 2 : 1;
      assert.deepEqual(await frames(w[i], n), Array(n).fill('42["warm"]'));
    }
    assert.deepEqual(await p[0].packets(2), ['42["warm"]', '42["warm"]']);
    assert.deepEqual(await p[1].packets(2), ['42["warm"]', '42["warm"]']);
    log.length = 0;
    for (let round = 0; round < 2; round++) {
      for (const s of sockets) s.emit("before", round);
      io.except("ex").emit("x1", new Uint8Array([round]));
      sender.broadcast.except("ex").emit("x2", round);
      io.to("r").except("ex").emit("x3", round);
      for (const s of sockets) s.emit("after", round);
      const x1 = bin("x1", round);
      const [x2, x3] = [`42["x2",${round}]`, `42["x3",${round}]`];
      const expected = (i: number, polling: boolean): Array<string | number[]> => {
        if (ex.includes(i)) return [];
        const got: Array<string | number[]> = [...(polling ? x1.polling : x1.ws)];
        if (sockets[i] !== sender) got.push(x2);
        if (r.includes(i)) got.push(x3);
        return got;
      };
      for (let i = 0; i < 8; i++) {
        const want = [`42["before",${round}]`, ...expected(i, false), `42["after",${round}]`];
        assert.deepEqual(await frames(w[i], want.length), want, `client ${i}, round ${round}`);
      }
      for (const i of [8, 9]) {
        const want = [`42["before",${round}]`, ...expected(i, true), `42["after",${round}]`];
        assert.deepEqual(await p[i - 8].packets(want.length), want, `client ${i}, round ${round}`);
      }
    }
    // Each broadcast published once without the two excluded WebSocket clients, who were put back
    // (round 2 takes them out again); the polling clients were never in a topic.
    const once: Array<[string, number]> = [["*", 2], ["*", 2], ["r", 2]];
    if (isBun) assert.deepEqual(log, [...once, ...once]);
    else assert.deepEqual(log, []);
  });
});
