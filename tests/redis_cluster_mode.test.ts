// The Redis adapter on a Redis Cluster (three masters, started here): one of our servers on a
// node-redis cluster client (createCluster), one on an ioredis Cluster. Pub/sub reaches every
// node; PUBSUB NUMSUB counts only the subscribers of the node asked, so the server count is summed
// over the nodes; the recovery log and sessions live on the nodes that hold their keys.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient, createCluster } from "redis";
import { Cluster } from "ioredis";
import { Server } from "../server.ts";
import {
  createAdapter,
  createShardedAdapter,
  createStreamsAdapter,
  Emitter,
  type RedisAdapter,
} from "../src/adapters/redis/mod.ts";
import { type Running, startServer } from "./_server.ts";
import { closeClients, type RedisClusterServer, startRedisCluster, until } from "./adapters/_redis.ts";
import { client, type ClientSocket, connected, next } from "./adapters/_cluster.ts";
import { installScenarios } from "./adapters/_scenarios.ts";

const REQUEST_CHANNEL = "socket.io-request#/#";

describe("redis cluster mode: node-redis createCluster and ioredis Cluster on a 3-node Redis Cluster", () => {
  let cluster: RedisClusterServer;
  // deno-lint-ignore no-explicit-any
  let nrPub: any, nrSub: any;
  let ioPub: Cluster, ioSub: Cluster;
  let a: Server, b: Server;
  let runA: Running, runB: Running;
  const sockets: ClientSocket[] = [];

  before(async () => {
    cluster = await startRedisCluster(3);
    const rootNodes = [{ url: `redis://127.0.0.1:${cluster.ports[0]}` }];
    nrPub = createCluster({ rootNodes });
    nrSub = nrPub.duplicate();
    for (const c of [nrPub, nrSub]) c.on("error", () => {});
    await Promise.all([nrPub.connect(), nrSub.connect()]);
    ioPub = new Cluster([{ host: "127.0.0.1", port: cluster.ports[1] }]);
    ioSub = ioPub.duplicate();
    for (const c of [ioPub, ioSub]) c.on("error", () => {});
    await Promise.all([ioPub, ioSub].map((c) => new Promise((resolve) => c.once("ready", resolve))));
    const recovery = { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } };
    a = new Server({ adapter: createAdapter(nrPub, nrSub, { requestsTimeout: 2000 }), ...recovery });
    b = new Server({ adapter: createAdapter(ioPub, ioSub, { requestsTimeout: 2000 }), ...recovery });
    installScenarios(a, "a");
    installScenarios(b, "b");
    [runA, runB] = await Promise.all([startServer(a), startServer(b)]);
    for (const io of [a, b]) {
      const adapter = io.of("/").adapter as RedisAdapter;
      await until(async () => (await adapter.serverCount()) === 2, 10000, "both servers counted");
    }
  });

  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });

  after(async () => {
    await Promise.allSettled([runA?.close(), runB?.close()]);
    await Promise.allSettled([nrPub?.close?.() ?? nrPub?.disconnect(), nrSub?.close?.() ?? nrSub?.disconnect()]);
    ioPub?.disconnect();
    ioSub?.disconnect();
    await cluster?.stop();
  });

  it("counts the subscribers of every node, not only of the node asked", async () => {
    // Two more subscribers, each on its own node: no single node has all four.
    const pinned = await Promise.all(
      cluster.ports.slice(0, 2).map(async (port) => {
        const c = createClient({ url: `redis://127.0.0.1:${port}` });
        c.on("error", () => {});
        await c.connect();
        await c.subscribe(REQUEST_CHANNEL, () => {});
        return c;
      }),
    );
    try {
      for (const io of [a, b]) {
        const adapter = io.of("/").adapter as RedisAdapter;
        await until(async () => (await adapter.serverCount()) === 4, 5000, "four subscribers over the nodes");
      }
    } finally {
      await closeClients(...pinned);
    }
    assert.equal(await (a.of("/").adapter as RedisAdapter).serverCount(), 2);
  });

  it("broadcasts both ways, fetches sockets and emits server-side across the cluster", async () => {
    const ca = client(runA.url);
    const cb = client(runB.url);
    sockets.push(ca, cb);
    await Promise.all([connected(ca), connected(cb)]);
    let got = next(cb, "broadcast-back");
    ca.emit("broadcast", "from a", new Uint8Array([1, 2]));
    const [text, bytes] = await got;
    assert.equal(text, "from a");
    assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [1, 2]);
    got = next(ca, "broadcast-back");
    cb.emit("broadcast", "from b");
    assert.equal((await got)[0], "from b");
    const found = await ca.timeout(3000).emitWithAck("fetch") as Array<{ name: string }>;
    assert.deepEqual(found.map((s) => s.name), ["a", "b"]);
    assert.deepEqual(await cb.timeout(3000).emitWithAck("sse"), { err: null, responses: ["pong from a"] });
  });

  it("an Emitter on each kind of cluster client reaches the clients of both servers", async () => {
    const ca = client(runA.url);
    const cb = client(runB.url);
    sockets.push(ca, cb);
    await Promise.all([connected(ca), connected(cb)]);
    for (const [name, redis] of [["node-redis", nrPub], ["ioredis", ioPub]] as const) {
      const got = [next(ca, "from-emitter"), next(cb, "from-emitter")];
      new Emitter(redis).emit("from-emitter", name);
      assert.deepEqual(await Promise.all(got), [[name], [name]]);
    }
  });

  it("keeps the recovery log and sessions on the cluster: a session is restored with what it missed", async () => {
    const cb = client(runB.url);
    sockets.push(cb);
    await connected(cb);
    const first = next(cb, "broadcast-back");
    b.emit("broadcast-back", "logged");
    const [, offset] = await first;
    assert.equal(typeof offset, "string", "an offset from the stream");
    b.to("r1").emit("broadcast-back", "missed");
    const adapterA = a.of("/").adapter as RedisAdapter;
    // Written through one client, read through the other.
    await (b.of("/").adapter as RedisAdapter).persistSession({
      sid: "s1",
      pid: "p1",
      rooms: ["s1", "r1"],
      data: { n: 1 },
    });
    assert.equal(await adapterA.restoreSession("p-none", String(offset)), null);
    const session = await adapterA.restoreSession("p1", String(offset));
    assert.ok(session);
    assert.equal(session.sid, "s1");
    assert.deepEqual(session.data, { n: 1 });
    assert.deepEqual(session.missedPackets.map((p) => p[1]), ["missed"]);
  });

  it("the sharded and the Streams adapters (with either pub/sub) run on both kinds of cluster clients", async () => {
    // ioredis sends SSUBSCRIBE to the node of each channel only with shardedSubscribers
    const ioShardSub = new Cluster([{ host: "127.0.0.1", port: cluster.ports[2] }], { shardedSubscribers: true });
    ioShardSub.on("error", () => {});
    await new Promise((resolve) => ioShardSub.once("ready", resolve));
    try {
      const kinds = [
        ["sharded", createShardedAdapter(nrPub, nrSub), createShardedAdapter(ioPub, ioShardSub)],
        ["streams", createStreamsAdapter(nrPub), createStreamsAdapter(ioPub)],
        [
          "streams over sharded pub/sub",
          createStreamsAdapter(nrPub, { useShardedPubSub: true }),
          createStreamsAdapter(ioShardSub, { useShardedPubSub: true }),
        ],
      ] as const;
      for (const [kind, onA, onB] of kinds) {
        a.adapter(onA);
        b.adapter(onB);
        for (const io of [a, b]) {
          await until(async () => (await io.of("/").adapter.serverCount()) === 2, 10000, `both ${kind} servers`);
        }
        const ca = client(runA.url);
        const cb = client(runB.url);
        sockets.push(ca, cb);
        await Promise.all([connected(ca), connected(cb)]);
        for (const [from, name] of [[ca, "a"], [cb, "b"]] as const) {
          const got = [next(ca, "broadcast-back"), next(cb, "broadcast-back")];
          from.emit("broadcast", `${kind} from ${name}`, new Uint8Array([3]));
          for (const args of await Promise.all(got)) assert.equal(args[0], `${kind} from ${name}`);
        }
        const found = await ca.timeout(3000).emitWithAck("fetch") as Array<{ name: string }>;
        assert.deepEqual(found.map((s) => s.name), ["a", "b"], kind);
        assert.deepEqual(await cb.timeout(3000).emitWithAck("sse"), { err: null, responses: ["pong from a"] });
        ca.disconnect();
        cb.disconnect();
      }
    } finally {
      b.adapter(createAdapter(ioPub, ioSub)); // off ioShardSub before it goes
      ioShardSub.disconnect();
    }
  });
});
