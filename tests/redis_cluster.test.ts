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

const NAMES = ["a", "b", "n"] as const;

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

  it("broadcasts from every server reach the clients of all three", async () => {
    for (const from of NAMES) {
      const got = NAMES.map((name) => next(clients[name], "broadcast-back"));
      clients[from].emit("broadcast", `from ${from}`, { nested: [1, 2] }, new Uint8Array([1, 2, 3]));
      for (const args of await Promise.all(got)) {
        assert.equal(args[0], `from ${from}`);
        assert.deepEqual(args[1], { nested: [1, 2] });
        assert.deepEqual([...new Uint8Array(args[2] as ArrayBuffer)], [1, 2, 3]);
      }
    }
  });

  it("rooms and except select receivers across servers", async () => {
    for (const from of NAMES) {
      for (const target of NAMES) {
        const seen = NAMES.map((name) => collect(clients[name], "room-back"));
        const got = next(clients[target], "room-back");
        clients[from].emit("to-room", `room-${target}`, from);
        assert.deepEqual(await got, [from]);
        await sleep(30);
        seen.forEach((s) => s.stop());
        for (const name of NAMES) assert.equal(seen[NAMES.indexOf(name)].items.length, name === target ? 1 : 0);
      }
    }
    const seen = NAMES.map((name) => collect(clients[name], "except-back"));
    const got = [next(clients.a, "except-back"), next(clients.n, "except-back")];
    clients.n.emit("except-room", "room-b", "x");
    await Promise.all(got);
    await sleep(50);
    seen.forEach((s) => s.stop());
    assert.deepEqual(seen.map((s) => s.items.length), [1, 0, 1]);
  });

  it("allSockets of a room counts the members on every server, the Node one included", async () => {
    // @socket.io/redis-adapter reads a SOCKETS request's rooms at its top; sent only inside
    // `opts`, the Node server answered with every socket it has.
    for (const target of NAMES) {
      const ids = await a.io.in(`room-${target}`).allSockets();
      assert.deepEqual([...ids], [clients[target].id], `room-${target}`);
    }
    assert.equal((await a.io.allSockets()).size, 3);
  });

  it("fetchSockets sees every socket, from every server", async () => {
    for (const from of NAMES) {
      const sockets = await clients[from].timeout(3000).emitWithAck("fetch") as Array<
        { id: string; name: string; rooms: string[] }
      >;
      assert.deepEqual(sockets.map((s) => s.name), ["a", "b", "n"]);
      for (const s of sockets) {
        assert.equal(s.id, clients[s.name].id);
        assert.ok(s.rooms.includes(`room-${s.name}`));
      }
    }
  });

  it("serverSideEmit with acks gets an answer from every other server", async () => {
    for (const from of NAMES) {
      const result = await clients[from].timeout(3000).emitWithAck("sse");
      const others = NAMES.filter((name) => name !== from).map((name) => `pong from ${name}`);
      assert.deepEqual(result, { err: null, responses: others });
    }
  });

  it("broadcasts with acks collect every client's answer", async () => {
    for (const from of NAMES) {
      const result = await clients[from].timeout(4000).emitWithAck("ask-all");
      assert.deepEqual(result, { err: null, responses: ["a", "b", "n"] });
    }
  });

  it("socketsJoin and socketsLeave act on every server", async () => {
    for (const from of NAMES) {
      await clients[from].timeout(3000).emitWithAck("join-all", `all-${from}`);
      // the join reaches the other servers on another connection than the broadcast below
      const rooms = async () =>
        (await clients.b.timeout(3000).emitWithAck("fetch") as Array<{ rooms: string[] }>).map((s) => s.rooms);
      await until(async () => (await rooms()).every((r) => r.includes(`all-${from}`)), 3000, "every socket to join");
      const got = NAMES.map((name) => next(clients[name], "room-back"));
      clients.a.emit("to-room", `all-${from}`, "joined");
      await Promise.all(got);
      await clients[from].timeout(3000).emitWithAck("leave-all", `all-${from}`);
      await until(async () => (await rooms()).every((r) => !r.includes(`all-${from}`)), 3000, "every socket to leave");
    }
  });

  it("disconnectSockets reaches sockets on other servers", async () => {
    const pairs: Array<[string, string]> = [["a", "b"], ["b", "n"], ["n", "a"]];
    for (const [from, target] of pairs) {
      const gone = next(clients[target], "disconnect");
      await clients[from].timeout(3000).emitWithAck("disconnect-room", `room-${target}`);
      assert.deepEqual(await gone, ["io server disconnect", undefined]);
      clients[target].connect();
      await connected(clients[target]);
    }
  });

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
