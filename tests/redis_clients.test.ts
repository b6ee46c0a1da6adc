// The Redis adapter accepts ioredis clients as well as node-redis ones: one server on each, in
// this process, talking through one Redis; recovery's session store works through ioredis too.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { Server } from "../server.ts";
import { createAdapter, type RedisAdapter } from "../src/adapters/redis/mod.ts";
import { type Running, startServer } from "./_server.ts";
import { type RedisServer, startRedis, until } from "./adapters/_redis.ts";
import { client, type ClientSocket, connected, type LocalServer, next, startLocal } from "./adapters/_cluster.ts";

describe("redis clients: ioredis next to node-redis", () => {
  let redis: RedisServer;
  let ours: LocalServer;
  let io: Server;
  let running: Running;
  let pub: Redis;
  let sub: Redis;
  const sockets: ClientSocket[] = [];

  before(async () => {
    redis = await startRedis();
    ours = await startLocal(redis.url, "node-redis");
    pub = new Redis(redis.port, "127.0.0.1", { lazyConnect: true });
    sub = pub.duplicate();
    pub.on("error", () => {});
    sub.on("error", () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    io = new Server({ adapter: createAdapter(pub, sub), connectionStateRecovery: { maxDisconnectionDuration: 5000 } });
    io.on("connection", (socket) => socket.on("broadcast", (...args: unknown[]) => io.emit("broadcast-back", ...args)));
    running = await startServer(io);
    await until(async () => (await (io.of("/").adapter as RedisAdapter).serverCount()) === 2, 5000, "2 servers");
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await running?.close();
    await ours?.close();
    pub?.disconnect();
    sub?.disconnect();
    await redis?.stop();
  });

  it("broadcasts both ways and fetches sockets", async () => {
    const a = client(ours.url);
    const b = client(running.url);
    sockets.push(a, b);
    await Promise.all([connected(a), connected(b)]);
    let got = next(b, "broadcast-back");
    a.emit("broadcast", "from node-redis", new Uint8Array([1]));
    assert.equal((await got)[0], "from node-redis");
    got = next(a, "broadcast-back");
    b.emit("broadcast", "from ioredis");
    assert.equal((await got)[0], "from ioredis"); // the node-redis server has no recovery: no offset
    assert.equal((await io.fetchSockets()).length, 2);
    assert.deepEqual(await io.serverSideEmitWithAck("ping", "x"), ["pong from node-redis"]);
  });

  it("stores and restores sessions through ioredis", async () => {
    const adapter = io.of("/").adapter as RedisAdapter;
    const first = next(sockets[1], "broadcast-back");
    io.emit("broadcast-back", "logged");
    const [, offset] = await first;
    io.to("r1").emit("broadcast-back", "missed");
    await new Promise((r) => setTimeout(r, 50));
    await adapter.persistSession({ sid: "s1", pid: "p1", rooms: ["s1", "r1"], data: { x: new Uint8Array([5]) } });
    const session = await adapter.restoreSession("p1", String(offset));
    assert.ok(session);
    assert.equal(session.sid, "s1");
    assert.deepEqual([...(session.data as { x: Uint8Array }).x], [5]);
    assert.deepEqual(session.missedPackets.map((p) => p[1]), ["missed"]);
    assert.equal(await adapter.restoreSession("p1", String(offset)), null, "a session is taken once");
  });

  it("a new adapter on the same ioredis clients keeps hearing the channels the old one leaves", async () => {
    // io.adapter() replaces the adapters and closes the old ones. Both use the same channels on the
    // same clients: the old one's UNSUBSCRIBE used to drop the new one's subscription (ioredis
    // counts no subscribers), and this server no longer heard the cluster.
    const adapter = io.of("/").adapter;
    io.adapter(createAdapter(pub, sub));
    assert.notEqual(io.of("/").adapter, adapter);
    const fresh = io.of("/").adapter as RedisAdapter;
    await until(async () => (await fresh.serverCount()) === 2, 5000, "2 servers after the swap");
    // Let the old adapter's unsubscriptions through before listening. (A new adapter starts with
    // no rooms, as in socket.io: a client of this server connects after the swap.)
    await new Promise((r) => setTimeout(r, 100));
    const a = sockets[0];
    const b = client(running.url);
    sockets.push(b);
    await connected(b);
    const got = next(b, "broadcast-back");
    a.emit("broadcast", "after the swap");
    assert.deepEqual(await got, ["after the swap"]);
    assert.equal(await fresh.serverCount(), 2);
  });

  it("with Redis down, a recoverable broadcast through ioredis goes out at once, without an offset", async () => {
    // (Last: it stops Redis.) The XADD for its offset would wait in ioredis' offline queue.
    const b = sockets.at(-1)!;
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      await redis.stop(true);
      await until(() => pub.status !== "ready", 3000, "ioredis to notice");
      const got = next(b, "broadcast-back");
      const started = Date.now();
      io.emit("broadcast-back", "during");
      assert.deepEqual(await got, ["during"]);
      assert.ok(Date.now() - started < 800, `delivered after ${Date.now() - started} ms`);
      assert.ok(
        logged.some((args) => String(args[1]).includes("Redis is not connected")),
        JSON.stringify(logged.map(String)),
      );
    } finally {
      console.error = original;
    }
  });
});
