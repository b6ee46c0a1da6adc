/**
 * The scenarios of a mixed cluster of three servers (`a` ours here, `b` ours on another runtime,
 * `n` Node socket.io), one socket.io-client on each in room `room-NAME` answering `question` with
 * its server's name: every cluster-wide operation tried from each server. The Redis cluster tests
 * of each adapter register them inside their `describe`.
 *
 * @module
 */
import { before, it } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "../../server.ts";
import { until } from "./_redis.ts";
import { type ClientSocket, collect, connected, next, sleep } from "./_cluster.ts";

/** The names of the three servers (and of their clients). */
export const NAMES = ["a", "b", "n"] as const;

/** What the scenarios need once the cluster runs. */
export interface MixedCluster {
  /** Our server in this process. */
  io: Server;
  /** One client per server, by name. */
  clients: Record<string, ClientSocket>;
  /**
   * Whether the servers recover connection state through a shared log: every broadcast then
   * ends with its offset (an entry id of a Redis Stream), checked and set aside here.
   */
  offsets?: boolean;
}

/** Registers the scenarios, after the caller's `before` hook that starts the cluster. */
export function mixedClusterScenarios(cluster: () => MixedCluster): void {
  let clients: Record<string, ClientSocket>;
  let a: { io: Server };
  let offsets = false;
  before(() => {
    const running = cluster();
    clients = running.clients;
    a = { io: running.io };
    offsets = running.offsets === true;
  });
  /** The event's arguments without the offset (checked) that recovery appends. */
  const payload = (args: unknown[]): unknown[] => {
    if (!offsets) return args;
    assert.match(String(args[args.length - 1]), /^\d+-\d+$/, "the last argument is an offset");
    return args.slice(0, -1);
  };

  it("broadcasts from every server reach the clients of all three", async () => {
    for (const from of NAMES) {
      const got = NAMES.map((name) => next(clients[name], "broadcast-back"));
      clients[from].emit("broadcast", `from ${from}`, { nested: [1, 2] }, new Uint8Array([1, 2, 3]));
      for (const received of await Promise.all(got)) {
        const args = payload(received);
        assert.equal(args.length, 3);
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
        assert.deepEqual(payload(await got), [from]);
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
}
