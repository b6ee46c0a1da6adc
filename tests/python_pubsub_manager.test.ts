// The python-compatible pub/sub manager (src/python/pubsub_manager.ts) between two of our servers
// on an in-memory bus, in python-socketio 5.14's JSON format: broadcasts (binary too), rooms
// entered and left by sid on the other server, calls and callbacks, disconnect and close_room by
// sid, `except` as skip_sid, the socket.io API through the adapter, a write-only manager, refused
// messages, and unsubscribing. (The real thing, with python-socketio and Redis:
// python_cluster.test.ts.)
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AsyncServer, PubSubManager, type PubSubManagerOptions, tuple } from "../src/python/mod.ts";
import type { Socket } from "../client.ts";
import { type Running, startServer } from "./_server.ts";
import { closeAll, connect, connected, next, sleep } from "./client/_helpers.ts";
import { until } from "./_helpers.ts";

/** An in-memory channel: every message to every subscriber, asynchronously, in order. */
class Bus {
  readonly subscribers: Set<(payload: Uint8Array | string) => void> = new Set();
  readonly sent: Array<string | Uint8Array> = [];
  publish(payload: string | Uint8Array): void {
    this.sent.push(payload);
    for (const subscriber of [...this.subscribers]) setTimeout(() => subscriber(payload), 0);
  }
}

class LoopbackManager extends PubSubManager {
  readonly #bus: Bus;
  constructor(bus: Bus, options: PubSubManagerOptions = {}) {
    super(options);
    this.#bus = bus;
  }
  protected publish(payload: string | Uint8Array): Promise<unknown> {
    this.#bus.publish(payload);
    return Promise.resolve();
  }
  protected listen(onMessage: (payload: Uint8Array | string) => void): Promise<() => Promise<void>> {
    this.#bus.subscribers.add(onMessage);
    return Promise.resolve(() => {
      this.#bus.subscribers.delete(onMessage);
      return Promise.resolve();
    });
  }
}

describe("python pub/sub manager between two of our servers (JSON format)", () => {
  const bus = new Bus();
  const logs: string[] = [];
  let one: AsyncServer, two: AsyncServer;
  let running: Running[] = [];

  before(async () => {
    const options = { format: "json" as const, logger: (line: string) => logs.push(line) };
    one = new AsyncServer({ clientManager: new LoopbackManager(bus, options), pingInterval: 300, pingTimeout: 200 });
    two = new AsyncServer({ clientManager: new LoopbackManager(bus, options), pingInterval: 300, pingTimeout: 200 });
    for (const sio of [one, two]) {
      sio.on("broadcast", (_sid: string, ...args: unknown[]) => sio.emit("broadcast-back", tuple(...args)));
      sio.on("rooms", (sid: string) => sio.rooms(sid));
    }
    running = await Promise.all([startServer(one.io), startServer(two.io)]);
    await until(() => bus.subscribers.size === 2, 3000, "both servers listening");
  });
  afterEach(() => closeAll());
  after(async () => {
    await Promise.all(running.map((r) => r.close()));
  });

  async function clients(): Promise<[Socket, Socket]> {
    const a = connect(running[0].url);
    const b = connect(running[1].url);
    await Promise.all([connected(a), connected(b)]);
    return [a, b];
  }

  it("broadcasts reach the other server's clients, binary included, in the 5.14 JSON shape", async () => {
    const [a, b] = await clients();
    const got = [next(a, "broadcast-back"), next(b, "broadcast-back")];
    a.emit("broadcast", "hi", new Uint8Array([1, 2]));
    for (const [text, bytes] of await Promise.all(got)) {
      assert.equal(text, "hi");
      assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [1, 2]);
    }
    const sent = JSON.parse(String(bus.sent.findLast((p) => String(p).includes("broadcast-back"))));
    assert.deepEqual(sent.data, [["hi", { _placeholder: true, num: 0 }], "AQI="]);
    assert.deepEqual([sent.binary, sent.room, sent.skip_sid, sent.callback], [true, null, null, null]);
  });

  it("rooms entered and left by sid on the other server; except travels as skip_sid", async () => {
    const [a, b] = await clients();
    await one.enterRoom(b.id!, "r");
    await until(() => two.rooms(b.id!).includes("r"), 3000, "b in r");
    const got = next(b, "in-r");
    await one.emit("in-r", "for r", { to: "r" });
    assert.deepEqual(await got, ["for r"]);
    await one.leaveRoom(b.id!, "r");
    await until(() => !two.rooms(b.id!).includes("r"), 3000, "b out of r");
    // the socket.io API goes through the adapter: except(room) is skip_sid
    let bGot = false;
    b.on("news", () => (bGot = true));
    const aGot = next(a, "news");
    one.io.except(b.id!).emit("news", 1);
    two.io.except(b.id!).emit("news", 1); // b's own server skips it too
    await aGot;
    await sleep(30);
    assert.equal(bGot, false);
  });

  it("calls a client of the other server, and disconnects it by sid", async () => {
    const [, b] = await clients();
    b.on("question", (q: string, ack: (...args: unknown[]) => void) => ack(q.toUpperCase(), 2));
    assert.deepEqual(await one.call("question", "hi", { to: b.id, timeout: 2000 }), ["HI", 2]);
    const gone = next(b, "disconnect");
    await one.disconnect(b.id!);
    assert.equal((await gone)[0], "io server disconnect");
  });

  it("close_room empties the room on every server", async () => {
    const [a, b] = await clients();
    await one.enterRoom(a.id!, "c");
    await one.enterRoom(b.id!, "c");
    await until(() => two.rooms(b.id!).includes("c"), 3000, "b in c");
    await two.closeRoom("c");
    await until(() => !one.rooms(a.id!).includes("c") && !two.rooms(b.id!).includes("c"), 3000, "room c closed");
  });

  it("a write-only manager emits to every server's clients", async () => {
    const [a, b] = await clients();
    const writer = new LoopbackManager(bus, { writeOnly: true });
    const got = next(a, "external");
    let bGot = false;
    b.on("external", () => (bGot = true));
    await writer.emit("external", { x: 1 }, { skipSid: b.id });
    assert.deepEqual(await got, [{ x: 1 }]);
    await sleep(30);
    assert.equal(bGot, false);
    await assert.rejects(writer.emit("x", 1, { to: a.id, callback: () => {} }), /writeOnly/);
    const gone = next(b, "disconnect");
    await writer.disconnect(b.id!);
    await gone;
  });

  it("refuses bad messages with a log line and goes on", async () => {
    const [a] = await clients();
    const before = logs.length;
    bus.publish('{"method":"emit","event":"disconnect","data":[],"binary":false,"namespace":"/"}');
    bus.publish("{]");
    bus.publish(new Uint8Array([0x80, 4, 0x63, 0x2e]));
    await until(() => logs.length >= before + 6, 3000, "6 lines (3 on each server)");
    assert.ok(logs.slice(before).some((line) => /reserved event "disconnect"/.test(line)));
    assert.ok(logs.slice(before).some((line) => /not JSON/.test(line)));
    assert.ok(logs.slice(before).some((line) => /Refused opcode GLOBAL/.test(line)));
    const got = next(a, "broadcast-back");
    a.emit("broadcast", "still here");
    assert.deepEqual(await got, ["still here"]);
  });

  it("stops listening once closed", async () => {
    const lonely = new AsyncServer({ clientManager: new LoopbackManager(bus) });
    await until(() => bus.subscribers.size === 3, 3000, "a third listener");
    await lonely.close();
    await until(() => bus.subscribers.size === 2, 3000, "the third gone");
  });
});
