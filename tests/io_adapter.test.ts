/**
 * Unit tests of the in-memory adapter and the broadcast operator, with fake sockets (no network).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Adapter, createAdapter, InMemoryAdapter } from "../src/io/adapter.ts";
import { BroadcastOperator } from "../src/io/broadcast.ts";
import { Server } from "../src/io/server.ts";
import { PacketType } from "../src/parser/socket_io.ts";

interface Written {
  id: string;
  frames: Array<string | Uint8Array>;
  opts: { volatile?: boolean; compress?: boolean };
}

/** A namespace whose `sockets` map holds fakes that record what the adapter writes to them. */
function fixture(ids: string[]) {
  const io = new Server();
  const nsp = io.of("/test");
  const adapter = nsp.adapter;
  const written: Written[] = [];
  const acks = new Map<string, Map<number, (...args: unknown[]) => void>>();
  const outgoing: unknown[] = [];
  for (const id of ids) {
    acks.set(id, new Map());
    const fake = {
      id,
      client: {
        _writeFrames: (frames: Array<string | Uint8Array>, opts: Written["opts"]) => written.push({ id, frames, opts }),
      },
      _notifyOutgoing: (data: unknown) => outgoing.push(data),
      _setAck: (ackId: number, fn: (...args: unknown[]) => void) => acks.get(id)!.set(ackId, fn),
      _deleteAck: (ackId: number) => acks.get(id)!.delete(ackId),
      join: (rooms: string | string[]) => adapter.addAll(id, new Set(Array.isArray(rooms) ? rooms : [rooms])),
      leave: (room: string) => adapter.del(id, room),
      disconnect: () => adapter.delAll(id),
    };
    (nsp.sockets as Map<string, unknown>).set(id, fake);
    adapter.addAll(id, new Set([id]));
  }
  return { io, nsp, adapter, written, acks, outgoing };
}

describe("io adapter: rooms", () => {
  it("tracks rooms both ways and emits room events", () => {
    const { adapter } = fixture([]);
    const events: string[] = [];
    adapter.on("create-room", (room) => events.push(`create ${room}`));
    adapter.on("join-room", (room, id) => events.push(`join ${room} ${id}`));
    adapter.on("leave-room", (room, id) => events.push(`leave ${room} ${id}`));
    adapter.on("delete-room", (room) => events.push(`delete ${room}`));
    adapter.addAll("s1", new Set(["a", "b"]));
    adapter.addAll("s2", new Set(["a"]));
    adapter.addAll("s2", new Set(["a"])); // no duplicate events
    assert.deepEqual([...adapter.rooms.get("a")!], ["s1", "s2"]);
    assert.deepEqual([...adapter.socketRooms("s1")!], ["a", "b"]);
    adapter.del("s1", "b");
    adapter.del("s1", "missing");
    adapter.delAll("s2");
    adapter.delAll("nobody");
    assert.deepEqual([...adapter.rooms.keys()], ["a"]);
    assert.equal(adapter.sids.has("s2"), false);
    adapter.delAll("s1");
    assert.equal(adapter.rooms.size, 0);
    assert.equal(adapter.sids.size, 0);
    assert.deepEqual(events, [
      "create a",
      "join a s1",
      "create b",
      "join b s1",
      "join a s2",
      "leave b s1",
      "delete b",
      "leave a s2",
      "leave a s1",
      "delete a",
    ]);
  });

  it("keeps a socket's own room right through every change while one set serves both maps", () => {
    const { adapter } = fixture([]);
    const events: string[] = [];
    adapter.on("create-room", (room) => events.push(`create ${room}`));
    adapter.on("join-room", (room, id) => events.push(`join ${room} ${id}`));
    adapter.on("leave-room", (room, id) => events.push(`leave ${room} ${id} sids:${adapter.sids.has(id)}`));
    adapter.on("delete-room", (room) => events.push(`delete ${room}`));
    const contents = () => ({
      rooms: Object.fromEntries([...adapter.rooms].map(([room, ids]) => [room, [...ids].sort()])),
      sids: Object.fromEntries([...adapter.sids].map(([id, rooms]) => [id, [...rooms].sort()])),
    });
    // Connected: each in its own room (as every socket joins it), one set for both maps.
    adapter.addAll("x", new Set(["x"]));
    adapter.addAll("y", new Set(["y"]));
    assert.equal(adapter.rooms.get("x"), adapter.sids.get("x"));
    const ownX = adapter.socketRooms("x")!;
    // x joins a room: its own set grows (the same object, as `socket.rooms` is live), room x does not.
    adapter.addAll("x", new Set(["a"]));
    assert.equal(adapter.socketRooms("x"), ownX);
    assert.deepEqual(contents(), {
      rooms: { x: ["x"], y: ["y"], a: ["x"] },
      sids: { x: ["a", "x"], y: ["y"] },
    });
    // x joins the room named after y: room y grows, y's own rooms do not.
    adapter.addAll("x", new Set(["y"]));
    assert.deepEqual(contents(), {
      rooms: { x: ["x"], y: ["x", "y"], a: ["x"] },
      sids: { x: ["a", "x", "y"], y: ["y"] },
    });
    // Rejoining rooms one is in changes nothing.
    adapter.addAll("y", new Set(["y"]));
    adapter.addAll("x", new Set(["x", "a"]));
    // y leaves its own room (socket.leave(socket.id)), then joins it again.
    adapter.del("y", "y");
    assert.deepEqual(contents(), {
      rooms: { x: ["x"], y: ["x"], a: ["x"] },
      sids: { x: ["a", "x", "y"], y: [] },
    });
    adapter.addAll("y", new Set(["y"]));
    // z connects and leaves its own room while it still shares the set.
    adapter.addAll("z", new Set(["z"]));
    adapter.del("z", "z");
    assert.deepEqual(contents(), {
      rooms: { x: ["x"], y: ["x", "y"], a: ["x"] },
      sids: { x: ["a", "x", "y"], y: ["y"], z: [] },
    });
    // Disconnections: each socket leaves every room, its own last seen with the socket still in sids.
    adapter.delAll("z");
    adapter.delAll("x");
    assert.deepEqual(contents(), { rooms: { y: ["y"] }, sids: { y: ["y"] } });
    adapter.delAll("y");
    assert.deepEqual(contents(), { rooms: {}, sids: {} });
    assert.deepEqual(events, [
      "create x",
      "join x x",
      "create y",
      "join y y",
      "create a",
      "join a x",
      "join y x",
      "leave y y sids:true",
      "join y y",
      "create z",
      "join z z",
      "leave z z sids:true",
      "delete z",
      "leave x x sids:true",
      "delete x",
      "leave a x sids:true",
      "delete a",
      "leave y x sids:true",
      "leave y y sids:true",
      "delete y",
    ]);
  });

  it("keeps going when a room listener throws", () => {
    const { adapter } = fixture([]);
    const original = console.error;
    console.error = () => {};
    try {
      adapter.on("join-room", () => {
        throw new Error("listener bug");
      });
      adapter.addAll("s1", new Set(["a"]));
      assert.ok(adapter.rooms.get("a")!.has("s1"));
    } finally {
      console.error = original;
    }
  });

  it("treats prototype names as ordinary rooms", () => {
    const { adapter } = fixture([]);
    adapter.addAll("s1", new Set(["__proto__", "constructor"]));
    assert.deepEqual([...adapter.rooms.keys()], ["__proto__", "constructor"]);
    adapter.delAll("s1");
    assert.equal(adapter.rooms.size, 0);
  });
});

describe("io adapter: broadcast", () => {
  it("encodes once and hands the same frames to every receiver", () => {
    const { adapter, written, outgoing } = fixture(["s1", "s2", "s3"]);
    adapter.broadcast({ type: PacketType.EVENT, nsp: "/", data: ["hi", new Uint8Array([1])] }, {
      rooms: new Set(),
      flags: { volatile: true },
    });
    assert.deepEqual(written.map((w) => w.id), ["s1", "s2", "s3"]);
    assert.equal(written[0].frames, written[1].frames);
    assert.equal(written[1].frames, written[2].frames);
    assert.equal(written[0].frames[0], '51-/test,["hi",{"_placeholder":true,"num":0}]');
    assert.equal(written[0].opts.volatile, true);
    assert.equal(outgoing.length, 3);
  });

  it("selects rooms (union, each socket once) minus except rooms", () => {
    const { adapter, written } = fixture(["s1", "s2", "s3", "s4"]);
    adapter.addAll("s1", new Set(["a", "b"]));
    adapter.addAll("s2", new Set(["a"]));
    adapter.addAll("s3", new Set(["b", "x"]));
    adapter.addAll("s4", new Set(["x"]));
    adapter.broadcast({ type: PacketType.EVENT, nsp: "/", data: ["m"] }, {
      rooms: new Set(["a", "b"]),
      except: new Set(["x"]),
    });
    assert.deepEqual(written.map((w) => w.id), ["s1", "s2"]);
    written.length = 0;
    adapter.broadcast({ type: PacketType.EVENT, nsp: "/", data: ["m"] }, {
      rooms: new Set(),
      except: new Set(["a", "missing"]),
    });
    assert.deepEqual(written.map((w) => w.id), ["s3", "s4"]);
  });

  it("skips room members that are not connected sockets", async () => {
    const { adapter, written } = fixture(["s1"]);
    adapter.addAll("ghost", new Set(["a"]));
    adapter.addAll("s1", new Set(["a"]));
    adapter.broadcast({ type: PacketType.EVENT, nsp: "/", data: ["m"] }, { rooms: new Set(["a"]) });
    assert.deepEqual(written.map((w) => w.id), ["s1"]);
    assert.deepEqual(await adapter.sockets(new Set(["a"])), new Set(["s1"]));
    assert.deepEqual((await adapter.fetchSockets({ rooms: new Set() })).map((s) => s.id), ["s1"]);
  });

  it("broadcastWithAck registers one id on every receiver and reports the count", () => {
    const { adapter, written, acks } = fixture(["s1", "s2"]);
    const counts: number[] = [];
    const responses: unknown[] = [];
    adapter.broadcastWithAck(
      { type: PacketType.EVENT, nsp: "/", data: ["q"] },
      { rooms: new Set() },
      (n) => counts.push(n),
      (r) => responses.push(r),
    );
    assert.deepEqual(counts, [2]);
    assert.match(written[0].frames[0] as string, /^2\/test,\d+\["q"\]$/);
    const [id] = acks.get("s1")!.keys();
    assert.ok(acks.get("s2")!.has(id));
    acks.get("s1")!.get(id)!("r1");
    assert.deepEqual(responses, ["r1"]);
  });

  it("joins, leaves and disconnects the selected sockets", () => {
    const { adapter } = fixture(["s1", "s2"]);
    adapter.addAll("s1", new Set(["a"]));
    adapter.addSockets({ rooms: new Set(["a"]) }, ["j"]);
    assert.deepEqual([...adapter.rooms.get("j")!], ["s1"]);
    adapter.delSockets({ rooms: new Set() }, ["j", "a"]);
    assert.equal(adapter.rooms.has("j"), false);
    assert.equal(adapter.rooms.has("a"), false);
    adapter.disconnectSockets({ rooms: new Set(["s2"]) }, false);
    assert.equal(adapter.sids.has("s2"), false);
    assert.equal(adapter.sids.has("s1"), true);
  });

  it("answers serverSideEmit acks with no responses on one server", async () => {
    const { adapter } = fixture([]);
    const result = await new Promise((resolve) =>
      adapter.serverSideEmit(["x", (err: unknown, r: unknown) => resolve([err, r])])
    );
    assert.deepEqual(result, [null, []]);
    assert.equal(await adapter.serverCount(), 1);
    assert.equal(await adapter.restoreSession("pid", "offset"), null);
  });
});

describe("io adapter: construction", () => {
  it("accepts a class or a factory", () => {
    const io = new Server();
    const nsp = io.of("/");
    class Custom extends Adapter {}
    assert.ok(createAdapter(Custom, nsp) instanceof Custom);
    assert.ok(createAdapter(InMemoryAdapter, nsp) instanceof InMemoryAdapter);
    const made = new Adapter(nsp);
    assert.equal(createAdapter(() => made, nsp), made);
    io.adapter(Custom);
    assert.ok(io.of("/").adapter instanceof Custom);
    assert.ok(io.of("/late").adapter instanceof Custom);
    assert.equal(io.adapter(), Custom);
  });
});

describe("io broadcast operator", () => {
  it("is immutable: each modifier returns a new operator", () => {
    const { adapter } = fixture([]);
    const base = new BroadcastOperator(adapter);
    const a = base.to("r1");
    const b = a.to(["r2", "r3"]).except("x").volatile.compress(false).local.timeout(50);
    assert.deepEqual([...base.rooms], []);
    assert.deepEqual([...a.rooms], ["r1"]);
    assert.deepEqual([...b.rooms], ["r1", "r2", "r3"]);
    assert.deepEqual([...b.exceptRooms], ["x"]);
    assert.deepEqual(a.flags, {});
    assert.deepEqual(b.flags, { volatile: true, compress: false, local: true, timeout: 50 });
    assert.deepEqual([...base.in("q").rooms], ["q"]);
  });

  it("passes rooms, except and flags to the adapter", () => {
    const calls: unknown[] = [];
    const { adapter } = fixture([]);
    adapter.broadcast = (packet, opts) => calls.push([packet.data, opts]);
    new BroadcastOperator(adapter).to("a").except("b").volatile.emit("ev", 1);
    assert.deepEqual(calls, [[["ev", 1], {
      rooms: new Set(["a"]),
      except: new Set(["b"]),
      flags: { volatile: true },
    }]]);
  });

  it("rejects reserved event names", () => {
    const { adapter } = fixture([]);
    assert.throws(() => new BroadcastOperator(adapter).emit("disconnect"), /reserved event name/);
  });

  it("times out acknowledgements and forgets them on every socket", async () => {
    const { adapter, acks } = fixture(["s1", "s2"]);
    const op = new BroadcastOperator(adapter).timeout(30);
    const result = new Promise<[Error | null, unknown]>((resolve) =>
      (op.emit as (...a: unknown[]) => boolean)("q", (err: Error | null, r: unknown) => resolve([err, r]))
    );
    const [id] = acks.get("s1")!.keys();
    acks.get("s1")!.get(id)!("one");
    const [err, responses] = await result;
    assert.equal(err?.message, "operation has timed out");
    assert.deepEqual(responses, ["one"]);
    assert.equal(acks.get("s2")!.size, 0);
  });

  it("resolves emitWithAck once every receiver answered", async () => {
    const { adapter, acks } = fixture(["s1", "s2"]);
    const pending = new BroadcastOperator(adapter).timeout(1000).emitWithAck("q");
    for (const id of ["s1", "s2"]) {
      const [ackId] = acks.get(id)!.keys();
      acks.get(id)!.get(ackId)!(id.toUpperCase());
    }
    assert.deepEqual(await pending, ["S1", "S2"]);
  });

  it("rejects emitWithAck on timeout with the partial responses", async () => {
    const { adapter } = fixture(["s1"]);
    await assert.rejects(
      new BroadcastOperator(adapter).timeout(20).emitWithAck("q"),
      (err: Error & { responses?: unknown }) =>
        err.message === "operation has timed out" && Array.isArray(err.responses),
    );
  });
});
