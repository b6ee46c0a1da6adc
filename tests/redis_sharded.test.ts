// The sharded adapter (Redis 7 SPUBLISH/SSUBSCRIBE) in a mixed cluster on a real redis-server:
// ours in this process (node-redis), ours on another runtime (ioredis), and Node socket.io 4.8 with
// @socket.io/redis-adapter's createShardedAdapter, one socket.io-client on each; every
// cluster-wide operation is tried from each server, with the default "dynamic" subscription mode.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import type { ShardedRedisAdapter } from "../src/adapters/redis/mod.ts";
import {
  closeClients,
  type NodeRedisClient,
  redisClient,
  type RedisServer,
  startRedis,
  until,
} from "./adapters/_redis.ts";
import {
  client,
  type ClientSocket,
  connected,
  type LocalServer,
  next,
  OTHER_RUNTIME,
  RUNTIME,
  startChild,
  startLocal,
  startNodeReference,
} from "./adapters/_cluster.ts";
import { mixedClusterScenarios, NAMES } from "./adapters/_mixed_cluster.ts";
import type { ServerProcess } from "./client/_spawn.ts";

describe(`redis sharded adapter: ours on ${RUNTIME} + ours on ${OTHER_RUNTIME} (ioredis) + Node socket.io`, () => {
  let redis: RedisServer;
  let a: LocalServer<ShardedRedisAdapter>;
  let b: ServerProcess;
  let n: ServerProcess;
  let probe: NodeRedisClient;
  const clients: Record<string, ClientSocket> = {};

  before(async () => {
    redis = await startRedis();
    [a, b, n, probe] = await Promise.all([
      startLocal<ShardedRedisAdapter>(redis.url, "a", {}, "sharded"),
      startChild(redis.url, "b", OTHER_RUNTIME, ["--adapter=sharded", "--ioredis"]),
      startNodeReference(redis.url, "n", ["--adapter=sharded"]),
      redisClient(redis.url),
    ]);
    const urls = { a: a.url, b: b.url, n: n.url };
    for (const name of NAMES) clients[name] = client(urls[name], { room: `room-${name}` });
    await Promise.all(NAMES.map((name) => connected(clients[name])));
    await until(async () => (await a.adapter.serverCount()) === 3, 5000, "3 servers");
    for (const name of NAMES) clients[name].on("question", (ack: (v: string) => void) => ack(name));
  });

  after(async () => {
    for (const c of Object.values(clients)) c.disconnect();
    await Promise.allSettled([a?.close(), b?.close(), n?.close(), closeClients(probe)]);
    await redis?.stop();
  });

  it("every server holds the namespace's and its own shard channel, and one per public room", async () => {
    // A server subscribes to a room's channel as the room is made, after the CONNECT reply went
    // out (socket.io's own adapter too): wait until every room's channel is there.
    const list = async () => (await probe.sendCommand(["PUBSUB", "SHARDCHANNELS", "socket.io#/#*"]) as string[]).sort();
    let channels: string[] = [];
    await until(
      async () => {
        channels = await list();
        return NAMES.every((name) => channels.includes(`socket.io#/#room-${name}#`));
      },
      3000,
      "a channel for every room",
    ).catch(() => {/* the assertions below say which is missing */});
    assert.equal(a.adapter.channel, "socket.io#/#");
    assert.ok(channels.includes("socket.io#/#"));
    assert.ok(channels.includes(a.adapter.responseChannel));
    // the room each client joined has a channel (subscribed by its server only); socket rooms none
    for (const name of NAMES) {
      assert.ok(channels.includes(`socket.io#/#room-${name}#`), `room-${name}`);
      assert.ok(!channels.includes(`socket.io#/#${clients[name].id}#`), `socket room of ${name}`);
    }
    const count = await probe.sendCommand(["PUBSUB", "SHARDNUMSUB", "socket.io#/#room-a#"]) as [string, number];
    assert.equal(Number(count[1]), 1);
  });

  mixedClusterScenarios(() => ({ io: a.io, clients }));

  it("a room's channel goes when its last member here leaves", async () => {
    const roomCount = async () =>
      Number((await probe.sendCommand(["PUBSUB", "SHARDNUMSUB", "socket.io#/#room-a#"]) as [string, number])[1]);
    // Earlier scenarios disconnect and reconnect clients: a's room channel may be on its way back.
    await until(async () => (await roomCount()) === 1, 3000, "the room channel to be subscribed");
    const gone = next(clients.a, "disconnect");
    clients.a.disconnect();
    await gone;
    await until(async () => (await roomCount()) === 0, 3000, "the room channel to be unsubscribed");
    clients.a.connect();
    await connected(clients.a);
    await until(async () => (await roomCount()) === 1, 3000, "the room channel to be subscribed again");
  });

  it("a message that is neither JSON nor msgpack of a message is ignored", async () => {
    const publisher = createClient({ url: redis.url });
    await publisher.connect();
    try {
      for (const junk of ["{not json", "\xc1", JSON.stringify({ uid: "x", nsp: "/", type: 3, data: null })]) {
        await publisher.sPublish("socket.io#/#", junk);
      }
      await publisher.sPublish(a.adapter.responseChannel, JSON.stringify({ type: 8, data: { requestId: 7 } }));
      // still serving
      const got = NAMES.map((name) => next(clients[name], "broadcast-back"));
      clients.n.emit("broadcast", "after junk");
      for (const args of await Promise.all(got)) assert.equal(args[0], "after junk");
    } finally {
      await closeClients(publisher);
    }
  });
});
