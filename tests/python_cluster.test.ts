// A mixed python-socketio cluster over a real redis-server (channel `socketio`): a python-socketio
// AsyncServer (Debian's 5.7.2, aiohttp, AsyncRedisManager), our AsyncServer in this process with
// AsyncRedisManager, and our protocol fixture on another runtime with --python-redis. Clients of
// each node (socket.io-client) receive broadcasts and room messages sent from any node, from a
// Python write-only manager and from ours; callbacks travel between nodes; close_room and a
// disconnect by sid issued on the Python side reach our clients; hostile queue messages are
// refused with a log line while every node keeps serving.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { AsyncServer, tuple } from "../src/python/mod.ts";
import { AsyncRedisManager } from "../src/python/redis_manager.ts";
import { type Running, startServer } from "./_server.ts";
import { bin, ROOT, type ServerProcess, spawnServer } from "./client/_spawn.ts";
import { client, type ClientSocket, connected, next, OTHER_RUNTIME } from "./adapters/_cluster.ts";
import {
  closeClients,
  HAS_REDIS,
  type NodeRedisClient,
  redisClient,
  type RedisServer,
  startRedis,
  until,
} from "./adapters/_redis.ts";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
// Debian's python-socketio (5.7.2) publishes pickles: our nodes publish that format. With PYTHONPATH
// pointing at python-socketio 5.14 or later, set PYTHON_SOCKETIO_FORMAT=json.
const FORMAT = process.env.PYTHON_SOCKETIO_FORMAT === "json" ? "json" : "legacy";
const HAS_PYTHON_REDIS = spawnSync(PYTHON, ["-c", "import socketio, redis, aiohttp"], { stdio: "ignore" }).status === 0;

/** Bytes as socket.io-client hands them over (Buffer or ArrayBuffer), as a plain array. */
function bytesOf(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  throw new Error(`not binary: ${JSON.stringify(value)}`);
}

function ack(socket: ClientSocket, event: string, ...args: unknown[]): Promise<unknown[]> {
  return socket.timeout(5000).emitWithAck(event, ...args).then((value: unknown) => [value]);
}

/** Every `event` that `socket` receives, from now on. */
function record(socket: ClientSocket, event: string): unknown[][] {
  const items: unknown[][] = [];
  socket.on(event, (...args: unknown[]) => items.push(args));
  return items;
}

describe("python-socketio cluster over Redis", { skip: !HAS_REDIS || !HAS_PYTHON_REDIS }, () => {
  let redis: RedisServer;
  let python: ServerProcess;
  let fixture: ServerProcess;
  let sio: AsyncServer;
  let ours: Running;
  let pub: NodeRedisClient;
  let sub: NodeRedisClient;
  let raw: NodeRedisClient;
  const logs: string[] = [];
  const sockets: ClientSocket[] = [];
  // a: a client of the Python server, b: of ours here, c and d: of our fixture on the other runtime
  let a: ClientSocket, b: ClientSocket, c: ClientSocket, d: ClientSocket;

  /** Sends a broadcast from `from` and resolves once each of `to` received it (channel order is kept). */
  async function sentinel(from: ClientSocket, to: ClientSocket[]): Promise<void> {
    const text = `sentinel ${Math.random()}`;
    const missing = new Set(to);
    const got = to.map((s) =>
      new Promise<void>((resolve) => {
        const fn = (value: unknown) => {
          if (value !== text) return;
          s.off("broadcast-back", fn);
          missing.delete(s);
          resolve();
        };
        s.on("broadcast-back", fn);
      })
    );
    from.emit("broadcast", text);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(got),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          const names = [...missing].map((s) => ["a", "b", "c", "d"][[a, b, c, d].indexOf(s)]);
          reject(new Error(`the sentinel did not reach ${names.join(", ")}`));
        }, 5000);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  before(async () => {
    redis = await startRedis();
    python = await spawnServer(PYTHON, (port) => [`${ROOT}tests/python/cluster_server.py`, String(port), redis.url]);
    fixture = await spawnServer(bin("deno"), (port) => [
      "run",
      "-A",
      "tests/fixture/launch.ts",
      OTHER_RUNTIME,
      String(port),
      "--python-redis",
      redis.url,
      "--python-format",
      FORMAT,
    ]);
    [pub, sub, raw] = await Promise.all([redisClient(redis.url), redisClient(redis.url), redisClient(redis.url)]);
    const manager = new AsyncRedisManager(pub, sub, {
      format: FORMAT,
      maxMessageBytes: 64 * 1024,
      logger: (line) => logs.push(line),
    });
    sio = new AsyncServer({ clientManager: manager, pingInterval: 300, pingTimeout: 200 });
    sio.on("join", async (sid: string, room: string) => {
      await sio.enterRoom(sid, room);
      return true;
    });
    sio.on("broadcast", (_sid: string, ...args: unknown[]) => sio.emit("broadcast-back", tuple(...args)));
    sio.on(
      "to-room",
      (_sid: string, room: string, ...args: unknown[]) => sio.emit("room-back", tuple(...args), { to: room }),
    );
    sio.on("skip-me", (sid: string, text: string) => sio.emit("skipped", text, { skipSid: sid }));
    sio.on(
      "ask",
      (_sid: string, target: string, question: string) => sio.call("question", question, { to: target, timeout: 5000 }),
    );
    ours = await startServer(sio.io);
    // every node subscribed to the channel: Python, the fixture, ours
    await until(async () => (await raw.sendCommand(["PUBSUB", "NUMSUB", "socketio"]))[1] === 3, 10000, "3 subscribers");
    a = client(python.url);
    b = client(ours.url);
    c = client(fixture.url);
    d = client(fixture.url);
    sockets.push(a, b, c, d);
    await Promise.all(sockets.map((s) => connected(s)));
    for (const s of sockets) s.on("question", (q: string, answer: (v: string) => void) => answer(`${q}!`));
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await ours?.close();
    await Promise.allSettled([python?.close(), fixture?.close()]);
    await closeClients(pub, sub, raw);
    await redis?.stop();
  });

  it("broadcasts from every node reach the clients of every node, binary included", async () => {
    for (const [name, from] of [["python", a], ["ours", b], ["fixture", c]] as const) {
      const got = [a, b, c].map((s) => next(s, "broadcast-back"));
      from.emit("broadcast", `from ${name}`, new Uint8Array([1, 2]));
      for (const [text, bytes] of await Promise.all(got)) {
        assert.equal(text, `from ${name}`);
        assert.deepEqual(bytesOf(bytes), [1, 2]);
      }
    }
  });

  it("room messages and skip_sid across nodes", async () => {
    for (const s of [a, b, c]) assert.deepEqual(await ack(s, "join", "r"), [true]);
    const outside = record(d, "room-back");
    for (const [name, from] of [["python", a], ["ours", b], ["fixture", c]] as const) {
      const got = [a, b, c].map((s) => next(s, "room-back"));
      from.emit("to-room", "r", `to r from ${name}`, 1);
      for (const args of await Promise.all(got)) assert.deepEqual(args, [`to r from ${name}`, 1]);
    }
    for (const from of [a, b]) {
      const skipped = record(from, "skipped");
      const got = [a, b, c, d].filter((s) => s !== from).map((s) => next(s, "skipped"));
      from.emit("skip-me", "not you");
      for (const args of await Promise.all(got)) assert.deepEqual(args, ["not you"]);
      await sentinel(b, [a, b, c, d]);
      assert.deepEqual(skipped, []);
    }
    await sentinel(a, [d]);
    assert.deepEqual(outside, []);
  });

  it("a Python write-only manager and ours as one reach the clients of every node", async () => {
    const everyone = [a, b, c, d].map((s) => next(s, "external"));
    const inRoom = [a, b, c].map((s) => next(s, "external-room"));
    const outside = record(d, "external-room");
    await new Promise<void>((resolve, reject) =>
      execFile(
        PYTHON,
        [`${ROOT}tests/python/write_only.py`, redis.url, "r"],
        { timeout: 20000 },
        (err, _out, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
      )
    );
    for (const args of await Promise.all(everyone)) assert.deepEqual(args, [{ from: "python" }]);
    for (const [text, bytes, list] of await Promise.all(inRoom)) {
      assert.deepEqual([text, bytesOf(bytes), list], ["several", [1, 2], [3]]);
    }

    const writer = await redisClient(redis.url);
    try {
      const external = new AsyncRedisManager(writer, undefined, { writeOnly: true, format: FORMAT });
      const everyone2 = [a, b, c, d].map((s) => next(s, "external"));
      const inRoom2 = [a, b, c].map((s) => next(s, "external-room"));
      await external.emit("external", { from: "ours" });
      await external.emit("external-room", tuple("several", new Uint8Array([3]), [4]), { to: "r" });
      for (const args of await Promise.all(everyone2)) assert.deepEqual(args, [{ from: "ours" }]);
      for (const [text, bytes, list] of await Promise.all(inRoom2)) {
        assert.deepEqual([text, bytesOf(bytes), list], ["several", [3], [4]]);
      }
    } finally {
      await closeClients(writer);
    }
    await sentinel(b, [d]);
    assert.deepEqual(outside, []);
  });

  it("callbacks across nodes: Python calls our client, we call Python's", async () => {
    assert.deepEqual(await ack(a, "ask", b.id, "from python"), ["from python!"]);
    assert.deepEqual(await ack(b, "ask", a.id, "from ours"), ["from ours!"]);
  });

  it("close_room from the Python side empties the room on every node", async () => {
    assert.deepEqual(await ack(a, "close", "r"), [true]);
    // The Python node published close_room; a broadcast it publishes next reaches every node after
    // it (one channel, in order): once that arrived everywhere, every node has closed the room.
    await sentinel(a, [a, b, c, d]);
    const got = [a, b, c, d].map((s) => record(s, "room-back"));
    b.emit("to-room", "r", "after close");
    await sentinel(b, [a, b, c, d]);
    assert.deepEqual(got, [[], [], [], []]);
  });

  it("hostile queue messages are refused with a log line; every node keeps serving", async () => {
    const publish = (payload: string | Uint8Array) =>
      raw.publish("socketio", typeof payload === "string" ? payload : Buffer.from(payload));
    const text = (s: string) => [...new TextEncoder().encode(s)];
    // GLOBAL collections.OrderedDict, then REDUCE: harmless to Python, refused here
    await publish(new Uint8Array([0x80, 4, 0x63, ...text("collections\nOrderedDict\n"), 0x29, 0x52, 0x2e]));
    // STACK_GLOBAL builtins.dict, then REDUCE (Python builds an empty dict and ignores it)
    await publish(
      new Uint8Array([0x80, 4, 0x8c, 8, ...text("builtins"), 0x8c, 4, ...text("dict"), 0x93, 0x29, 0x52, 0x2e]),
    );
    await publish('{"method":"emit","event":"evil","data":"x","namespace":"/","room":[{"a":1}]}');
    await publish(new Uint8Array([0x80, 4, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x28, 0x8c, 6]));
    // over this node's limit (64 KiB here; 4 MiB by default)
    await publish(JSON.stringify({ method: "emit", event: "big", data: "x".repeat(200 * 1024), room: "nobody" }));
    await until(() => logs.length >= 5, 5000, "5 log lines");
    assert.match(logs[0], /refused a message: pickle refused: Refused opcode GLOBAL/);
    assert.match(logs[1], /Refused opcode STACK_GLOBAL/);
    assert.match(logs[2], /not a room name/);
    assert.match(logs[3], /Truncated/);
    assert.match(logs[4], /over the 65536 limit/);
    await sentinel(a, [a, b, c, d]);
    await sentinel(b, [a, b, c, d]);
    await sentinel(c, [a, b, c, d]);
  });

  it("a disconnect by sid issued on the Python side reaches our clients", async () => {
    const goneB = next(b, "disconnect");
    assert.deepEqual(await ack(a, "kick", b.id), [true]);
    assert.equal((await goneB)[0], "io server disconnect");
    const goneC = next(c, "disconnect");
    assert.deepEqual(await ack(a, "kick", c.id), [true]);
    assert.equal((await goneC)[0], "io server disconnect");
  });
});
