// A mixed cluster on a real redis-server: our server in this process, our server on another
// runtime in a child process, and a Node socket.io 4.8 server with @socket.io/redis-adapter, one
// socket.io-client on each. Every cluster-wide operation is tried from each server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Emitter as NodeEmitter } from "@socket.io/redis-emitter";
import { Emitter } from "../src/adapters/redis/mod.ts";
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
  collect,
  connected,
  type LocalServer,
  next,
  OTHER_RUNTIME,
  RUNTIME,
  sleep,
  startChild,
  startLocal,
  startNodeReference,
} from "./adapters/_cluster.ts";
import type { ServerProcess } from "./client/_spawn.ts";
import { mixedClusterScenarios, NAMES } from "./adapters/_mixed_cluster.ts";

describe(`redis cluster: ours on ${RUNTIME} + ours on ${OTHER_RUNTIME} + Node socket.io`, () => {
  let redis: RedisServer;
  let a: LocalServer;
  let b: ServerProcess;
  let n: ServerProcess;
  let emitterClient: NodeRedisClient;
  const clients: Record<string, ClientSocket> = {};

  before(async () => {
    redis = await startRedis();
    [a, b, n, emitterClient] = await Promise.all([
      startLocal(redis.url, "a"),
      startChild(redis.url, "b"),
      startNodeReference(redis.url, "n"),
      redisClient(redis.url),
    ]);
    const urls = { a: a.url, b: b.url, n: n.url };
    for (const name of NAMES) clients[name] = client(urls[name], { room: `room-${name}` });
    await Promise.all(NAMES.map((name) => connected(clients[name])));
    await until(async () => (await a.adapter.serverCount()) === 3, 5000, "3 servers");
    // each client answers broadcast questions with its server's name
    for (const name of NAMES) clients[name].on("question", (ack: (v: string) => void) => ack(name));
  });

  after(async () => {
    for (const c of Object.values(clients)) c.disconnect();
    await Promise.allSettled([a?.close(), b?.close(), n?.close(), closeClients(emitterClient)]);
    await redis?.stop();
  });

  mixedClusterScenarios(() => ({ io: a.io, clients }));

  it("@socket.io/redis-emitter reaches our clients, and our emitter reaches the Node server's", async () => {
    const theirs = new NodeEmitter(emitterClient);
    const ours = new Emitter(emitterClient);
    for (const emitter of [theirs, ours]) {
      const got = NAMES.map((name) => next(clients[name], "emitted"));
      emitter.emit("emitted", "everyone", new Uint8Array([9]));
      for (const args of await Promise.all(got)) assert.equal(args[0], "everyone");
      for (const target of NAMES) {
        const seen = NAMES.map((name) => collect(clients[name], "emitted"));
        const one = next(clients[target], "emitted");
        emitter.to(`room-${target}`).emit("emitted", target);
        assert.deepEqual(await one, [target]);
        await sleep(30);
        seen.forEach((s) => s.stop());
        assert.deepEqual(seen.map((s) => s.items.length), NAMES.map((name) => (name === target ? 1 : 0)));
      }
      emitter.in("room-n").socketsJoin("from-emitter");
      await sleep(50);
      const joined = next(clients.n, "emitted");
      emitter.to("from-emitter").emit("emitted", "joined");
      assert.deepEqual(await joined, ["joined"]);
      emitter.in("room-n").socketsLeave("from-emitter");
      const gone = next(clients.a, "disconnect");
      emitter.in("room-a").disconnectSockets();
      await gone;
      clients.a.connect();
      await connected(clients.a);
    }
  });
});
