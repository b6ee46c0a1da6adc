// Connection state recovery across the cluster: a client behind a round-robin proxy (WebSocket)
// drops, misses broadcasts, reconnects to ANOTHER of our servers and gets its id, rooms, data and
// every missed packet, in order.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type RedisServer, startRedis, until } from "./adapters/_redis.ts";
import {
  client,
  type ClientSocket,
  collect,
  connected,
  type LocalServer,
  next,
  OTHER_RUNTIME,
  RUNTIME,
  startChild,
  startLocal,
} from "./adapters/_cluster.ts";
import { type Proxy, startProxy } from "./adapters/_proxy.ts";
import type { ServerProcess } from "./client/_spawn.ts";

describe(`redis recovery: ours on ${RUNTIME} and on ${OTHER_RUNTIME} behind a round-robin proxy`, () => {
  let redis: RedisServer;
  let a: LocalServer;
  let b: ServerProcess;
  let proxy: Proxy;
  const sockets: ClientSocket[] = [];

  before(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([
      startLocal(redis.url, "a", { connectionStateRecovery: { maxDisconnectionDuration: 10000 } }),
      startChild(redis.url, "b", OTHER_RUNTIME, ["--recovery"]),
    ]);
    await until(async () => (await a.adapter.serverCount()) === 2, 5000, "2 servers");
    proxy = await startProxy([Number(new URL(a.url).port), b.port]);
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await proxy?.close();
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it("recovers id, rooms, data and every missed packet on another node", async () => {
    const socket = client(proxy.url, { room: "vip" }, {
      reconnectionDelay: 500,
      reconnectionDelayMax: 500,
      randomizationFactor: 0,
    });
    const other = client(b.url);
    sockets.push(socket, other);
    await Promise.all([connected(socket), connected(other)]);
    const before = await socket.timeout(2000).emitWithAck("whoami") as {
      id: string;
      name: string;
      recovered: boolean;
      rooms: string[];
    };
    assert.equal(before.name, "a");
    assert.equal(before.recovered, false);
    assert.equal(socket.recovered, false);

    const first = next(socket, "broadcast-back");
    await other.timeout(2000).emitWithAck("broadcast-acked", "first");
    const [text, offset] = await first;
    assert.equal(text, "first");
    assert.match(String(offset), /^\d+-\d+$/);

    const disconnected = next(socket, "disconnect");
    socket.emit("drop");
    await disconnected;
    const missed = collect(socket, "broadcast-back");
    const missedRoom = collect(socket, "room-back");
    await other.timeout(2000).emitWithAck("broadcast-acked", "missed-1");
    other.emit("to-room", "vip", "missed-room");
    other.emit("to-room", "elsewhere", "not-for-me");
    await other.timeout(2000).emitWithAck("broadcast-acked", "missed-2");

    await next(socket, "connect", 5000);
    assert.equal(socket.recovered, true);
    assert.equal(socket.id, before.id);
    // the missed packets follow the CONNECT (those not for this socket are checked not to come)
    await until(() => missed.items.length >= 2 && missedRoom.items.length >= 1, 3000, "the missed packets");
    missed.stop();
    missedRoom.stop();
    assert.deepEqual(missed.items.map((args) => args[0]), ["missed-1", "missed-2"]);
    assert.deepEqual(missedRoom.items.map((args) => args[0]), ["missed-room"]);
    const offsets = missed.items.map((args) => String(args[1]));
    assert.ok(offsets.every((o) => /^\d+-\d+$/.test(o)));

    const afterwards = await socket.timeout(2000).emitWithAck("whoami") as typeof before;
    assert.equal(afterwards.name, "b");
    assert.equal(afterwards.recovered, true);
    assert.equal(afterwards.id, before.id);
    assert.deepEqual(afterwards.rooms, before.rooms);
    assert.deepEqual(proxy.counts, [1, 1]);

    // live traffic keeps flowing to the recovered socket, which is now on b
    const live = next(socket, "broadcast-back");
    await other.timeout(2000).emitWithAck("broadcast-acked", "live");
    assert.equal((await live)[0], "live");
  });

  it("a session is restored only once and an unknown offset gives a fresh socket", async () => {
    const session = await a.adapter.restoreSession("nope", "1-0");
    assert.equal(session, null);
    assert.equal(await a.adapter.restoreSession("nope", "not-an-offset"), null);
  });
});
