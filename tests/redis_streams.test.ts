// The Redis Streams adapter in a mixed cluster on a real redis-server: ours in this process
// (node-redis), ours on another runtime (ioredis), and Node socket.io 4.8 with
// @socket.io/redis-streams-adapter, all with connection state recovery, one socket.io-client on
// each. Every cluster-wide operation is tried from each server; then clients behind round-robin
// proxies drop and recover on another server: from ours to Node's, and from Node's to ours.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { RedisStreamsAdapter } from "../src/adapters/redis/mod.ts";
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
  startChild,
  startLocal,
  startNodeReference,
} from "./adapters/_cluster.ts";
import { mixedClusterScenarios, NAMES } from "./adapters/_mixed_cluster.ts";
import { type Proxy, startProxy } from "./adapters/_proxy.ts";
import type { ServerProcess } from "./client/_spawn.ts";

const RECOVERY = { connectionStateRecovery: { maxDisconnectionDuration: 10000 } };
const OFFSET = /^\d+-\d+$/;

type Whoami = { id: string; name: string; recovered: boolean; rooms: string[] };

describe(`redis streams adapter: ours on ${RUNTIME} + ours on ${OTHER_RUNTIME} (ioredis) + Node socket.io`, () => {
  let redis: RedisServer;
  let a: LocalServer<RedisStreamsAdapter>;
  let b: ServerProcess;
  let n: ServerProcess;
  let probe: NodeRedisClient;
  const proxies: Proxy[] = [];
  const clients: Record<string, ClientSocket> = {};
  const others: ClientSocket[] = [];

  before(async () => {
    redis = await startRedis();
    [a, b, n, probe] = await Promise.all([
      startLocal<RedisStreamsAdapter>(redis.url, "a", RECOVERY, "streams"),
      startChild(redis.url, "b", OTHER_RUNTIME, ["--adapter=streams", "--ioredis", "--recovery"]),
      startNodeReference(redis.url, "n", ["--adapter=streams", "--recovery"]),
      redisClient(redis.url),
    ]);
    const urls = { a: a.url, b: b.url, n: n.url };
    for (const name of NAMES) clients[name] = client(urls[name], { room: `room-${name}` });
    await Promise.all(NAMES.map((name) => connected(clients[name])));
    await until(async () => (await a.adapter.serverCount()) === 3, 5000, "3 servers");
    for (const name of NAMES) clients[name].on("question", (ack: (v: string) => void) => ack(name));
  });

  after(async () => {
    for (const c of [...Object.values(clients), ...others]) c.disconnect();
    await Promise.allSettled(proxies.map((p) => p.close()));
    await Promise.allSettled([a?.close(), b?.close(), n?.close(), closeClients(probe)]);
    await redis?.stop();
  });

  it("broadcasts are entries of the stream socket.io, in @socket.io/redis-streams-adapter's fields", async () => {
    const got = NAMES.map((name) => next(clients[name], "broadcast-back"));
    clients.a.emit("broadcast", "logged", new Uint8Array([7]));
    const [, [, , offset]] = await Promise.all(got);
    assert.match(String(offset), OFFSET);
    const [[id, fields]] = await probe.sendCommand(["XRANGE", "socket.io", String(offset), String(offset)]) as [
      string,
      string[],
    ][];
    assert.equal(id, offset);
    assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ["uid", "nsp", "type", "data"]);
    assert.equal(fields[3], "/");
    assert.equal(fields[5], "3");
    assert.doesNotMatch(fields[7], /^\{/, "binary data goes as base64 msgpack");
  });

  mixedClusterScenarios(() => ({ io: a.io, clients, offsets: true }));

  /**
   * A client behind a proxy that sends its first connection to `first` and the next to `second`
   * drops after one broadcast and misses three (one to its room, one elsewhere): it must come back
   * on `second` with its id, rooms, data and exactly the missed packets, in order.
   */
  async function recoverAcross(first: { name: string; port: number }, second: { name: string; port: number }) {
    const proxy = await startProxy([first.port, second.port]);
    proxies.push(proxy);
    const socket = client(proxy.url, { room: "vip" }, {
      reconnectionDelay: 300,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
    });
    const sender = clients.a;
    others.push(socket);
    await connected(socket);
    const before = await socket.timeout(2000).emitWithAck("whoami") as Whoami;
    assert.equal(before.name, first.name);
    assert.equal(before.recovered, false);

    const firstPacket = next(socket, "broadcast-back");
    await sender.timeout(2000).emitWithAck("broadcast-acked", "first");
    const [text, offset] = await firstPacket;
    assert.equal(text, "first");
    assert.match(String(offset), OFFSET);

    const disconnected = next(socket, "disconnect");
    socket.emit("drop");
    await disconnected;
    const missed = collect(socket, "broadcast-back");
    const missedRoom = collect(socket, "room-back");
    await sender.timeout(2000).emitWithAck("broadcast-acked", "missed-1");
    sender.emit("to-room", "vip", "missed-room");
    sender.emit("to-room", "elsewhere", "not-for-me");
    await sender.timeout(2000).emitWithAck("broadcast-acked", "missed-2");

    await next(socket, "connect", 5000);
    assert.equal(socket.recovered, true, `recovered on ${second.name}`);
    assert.equal(socket.id, before.id);
    await until(() => missed.items.length >= 2 && missedRoom.items.length >= 1, 3000, "the missed packets");
    // a broadcast that follows proves nothing else was queued before it
    const live = next(socket, "broadcast-back");
    await sender.timeout(2000).emitWithAck("broadcast-acked", "live");
    assert.equal((await live)[0], "live");
    missed.stop();
    missedRoom.stop();
    assert.deepEqual(missed.items.map((args) => args[0]), ["missed-1", "missed-2", "live"]);
    assert.deepEqual(missedRoom.items.map((args) => args[0]), ["missed-room"]);
    for (const args of [...missed.items, ...missedRoom.items]) assert.match(String(args[1]), OFFSET);

    const afterwards = await socket.timeout(2000).emitWithAck("whoami") as Whoami;
    assert.equal(afterwards.name, second.name);
    assert.equal(afterwards.recovered, true);
    assert.equal(afterwards.id, before.id);
    assert.deepEqual(afterwards.rooms, before.rooms);
    assert.deepEqual(proxy.counts, [1, 1]);
    socket.disconnect();
  }

  it("a client of ours recovers on the Node server (our session and offsets, read by Node)", async () => {
    await recoverAcross({ name: "a", port: Number(new URL(a.url).port) }, { name: "n", port: n.port });
  });

  it("a client of the Node server recovers on ours on the other runtime (Node's session, read by us)", async () => {
    await recoverAcross({ name: "n", port: n.port }, { name: "b", port: b.port });
  });

  it("reader connections that drop miss nothing: what was added meanwhile is read when they are back", async () => {
    const readers = async () =>
      String(await probe.sendCommand(["CLIENT", "LIST"])).split("\n").filter((line) => / cmd=xread/.test(line))
        .map((line) => /\bid=(\d+)/.exec(line)![1]);
    // one blocked reader per server (ours on two runtimes, Node's)
    await until(async () => (await readers()).length === 3, 3000, "three blocked readers");
    for (const id of await readers()) await probe.sendCommand(["CLIENT", "KILL", "ID", id]);
    const got = NAMES.map((name) => next(clients[name], "broadcast-back", 5000));
    clients.n.emit("broadcast", "while the readers were away");
    for (const args of await Promise.all(got)) assert.equal(args[0], "while the readers were away");
    await until(async () => (await readers()).length === 3, 3000, "the readers to be back");
  });

  it("a session is taken once; an unknown pid or offset gives a fresh socket", async () => {
    assert.equal(await a.adapter.restoreSession("nope", "1-0"), null);
    assert.equal(await a.adapter.restoreSession("nope", "not-an-offset"), null);
    await a.adapter.persistSession({ sid: "s1", pid: "p1", rooms: ["s1"], data: { x: 1 } });
    const [[last]] = await probe.sendCommand(["XREVRANGE", "socket.io", "+", "-", "COUNT", "1"]) as [string][];
    const session = await a.adapter.restoreSession("p1", last);
    assert.deepEqual(session, { sid: "s1", pid: "p1", rooms: ["s1"], data: { x: 1 }, missedPackets: [] });
    assert.equal(await a.adapter.restoreSession("p1", last), null);
  });

  // Last: @socket.io/redis-streams-adapter 0.3 reads again, forever, an entry its handler throws on
  // (its offset moves only after the handler returns), so the Node server is left out from here.
  it("malformed entries and messages are skipped by ours, which go on serving", async () => {
    const junk: string[][] = [
      ["nsp", "/", "type", "3", "data", "{not json"],
      ["nsp", "/", "type", "3", "data", "%%%"],
      ["nsp", "/", "type", "3", "data", JSON.stringify({ packet: null, opts: null })],
      ["nsp", "/", "type", "3", "data", JSON.stringify({ packet: { type: 1, nsp: "/" }, opts: { rooms: [] } })],
      ["nsp", "/", "type", "4", "data", JSON.stringify({ opts: { rooms: 5 }, rooms: [{}] })],
      ["nsp", "/", "type", "x"],
      ["uid", "y"],
    ];
    for (const fields of junk) {
      await probe.sendCommand(["XADD", "socket.io", "*", "uid", "junk", ...fields]);
    }
    await probe.sendCommand(["PUBLISH", "socket.io#/#", "not msgpack"]);
    await probe.sendCommand(["PUBLISH", a.adapter.privateChannel, "\x93"]);
    const got = [next(clients.a, "broadcast-back"), next(clients.b, "broadcast-back")];
    clients.b.emit("broadcast", "after junk");
    for (const args of await Promise.all(got)) assert.equal(args[0], "after junk");
    // recovery replays around them
    const [[last]] = await probe.sendCommand(["XREVRANGE", "socket.io", "+", "-", "COUNT", "1"]) as [string][];
    await a.adapter.persistSession({ sid: "s2", pid: "p2", rooms: ["s2"], data: null });
    await probe.sendCommand(["XADD", "socket.io", "*", "uid", "junk", ...junk[0]]);
    a.io.emit("broadcast-back", "replayed");
    await until(
      async () => {
        const tail = await probe.sendCommand(["XREVRANGE", "socket.io", "+", "-", "COUNT", "1"]) as [
          string,
          string[],
        ][];
        return tail[0][1].includes(a.adapter.uid);
      },
      2000,
      "the broadcast to be appended",
    );
    const session = await a.adapter.restoreSession("p2", last);
    assert.deepEqual(session?.missedPackets.map((p) => p[0]), ["broadcast-back"]);
    assert.deepEqual(session?.missedPackets[0][1], "replayed");
  });
});
