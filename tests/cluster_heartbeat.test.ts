// The heartbeat flavour of socket.io-adapter's cluster message protocol (ClusterAdapterWithHeartbeat:
// servers count each other from their messages, not from the bus), for buses that cannot count
// subscribers. A mixed cluster over a small Redis pub/sub test bus (tests/adapters/_heartbeat_bus.ts):
// ours in this process, ours on another runtime, and Node socket.io 4.8 with socket.io-adapter's own
// ClusterAdapterWithHeartbeat on the same bus. Every cluster-wide operation is tried from each
// server; then a server that closes says so, and one that dies is forgotten after heartbeatTimeout.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeMsgpack } from "../src/adapters/redis/_msgpack.ts";
import { MessageType } from "../src/adapters/cluster_message.ts";
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
  OTHER_RUNTIME,
  RUNTIME,
  startChild,
  startLocal,
  startNodeReference,
} from "./adapters/_cluster.ts";
import type { HeartbeatBusAdapter } from "./adapters/_heartbeat_bus.ts";
import { mixedClusterScenarios, NAMES } from "./adapters/_mixed_cluster.ts";
import type { ServerProcess } from "./client/_spawn.ts";

describe(`cluster messages with heartbeats: ours on ${RUNTIME} + ours on ${OTHER_RUNTIME} + Node socket.io`, () => {
  let redis: RedisServer;
  let a: LocalServer<HeartbeatBusAdapter>;
  let b: ServerProcess;
  let n: ServerProcess;
  let probe: NodeRedisClient;
  const clients: Record<string, ClientSocket> = {};

  before(async () => {
    redis = await startRedis();
    [a, b, n, probe] = await Promise.all([
      startLocal<HeartbeatBusAdapter>(redis.url, "a", {}, "heartbeat"),
      startChild(redis.url, "b", OTHER_RUNTIME, ["--adapter=heartbeat"]),
      startNodeReference(redis.url, "n", ["--adapter=heartbeat"]),
      redisClient(redis.url),
    ]);
    const urls = { a: a.url, b: b.url, n: n.url };
    for (const name of NAMES) clients[name] = client(urls[name], { room: `room-${name}` });
    await Promise.all(NAMES.map((name) => connected(clients[name])));
    // counted from heartbeats: the Node server must have heard from both of ours too
    await until(async () => (await a.adapter.serverCount()) === 3, 5000, "3 servers");
    for (const name of NAMES) clients[name].on("question", (ack: (v: string) => void) => ack(name));
  });

  after(async () => {
    for (const c of Object.values(clients)) c.disconnect();
    await Promise.allSettled([a?.close(), b?.close(), n?.close(), closeClients(probe)]);
    await redis?.stop();
  });

  it("every server is counted from its heartbeats, the bus has no subscriber count in it", async () => {
    const heard = new Set<number>();
    const listener = (message: Uint8Array) => heard.add((decodeMsgpack(message) as { type: number }).type);
    await probe.subscribe("hb#/#", listener, true);
    await until(() => heard.has(MessageType.HEARTBEAT), 2000, "a HEARTBEAT on the bus");
    await probe.unsubscribe("hb#/#", listener, true);
    assert.equal(await a.adapter.serverCount(), 3);
  });

  mixedClusterScenarios(() => ({ io: a.io, clients }));

  it("a server that closes says so (ADAPTER_CLOSE); one that dies is forgotten after heartbeatTimeout", async () => {
    const sub = probe.duplicate();
    sub.on("error", () => {});
    await sub.connect();
    const closes: string[] = [];
    await sub.subscribe("hb#/#", (message: Uint8Array) => {
      const decoded = decodeMsgpack(message) as { type: number; uid: string };
      if (decoded.type === MessageType.ADAPTER_CLOSE) closes.push(decoded.uid);
    }, true);
    try {
      await b.close();
      await until(() => closes.length === 1, 3000, "an ADAPTER_CLOSE from b");
      await until(async () => (await a.adapter.serverCount()) === 2, 3000, "b forgotten");
      await n.close("SIGKILL"); // no goodbye: only its silence tells
      await until(async () => (await a.adapter.serverCount()) === 1, 4000, "n forgotten after its timeout");
      assert.deepEqual(closes.length, 1);
      // alone now: requests answer at once, with no one to wait for
      assert.deepEqual((await a.io.fetchSockets()).map((s) => s.id), [clients.a.id]);
    } finally {
      await closeClients(sub);
    }
  });
});
