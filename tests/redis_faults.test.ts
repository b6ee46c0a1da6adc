// Faults: Redis restarts mid-run (the adapters reconnect and resume, no crash, no listener leak);
// a node is killed (the others keep serving, the server count drops); a request to a node that
// never answers times out with a clear error.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeClients, redisClient, type RedisServer, startRedis, until } from "./adapters/_redis.ts";
import {
  client,
  type ClientSocket,
  connected,
  type LocalServer,
  next,
  OTHER_RUNTIME,
  startChild,
  startLocal,
} from "./adapters/_cluster.ts";
import { RequestType } from "../src/adapters/cluster.ts";
import { encodeMsgpack } from "../src/adapters/redis/_msgpack.ts";
import { Buffer } from "node:buffer";

describe("redis faults", () => {
  let redis: RedisServer;
  let a: LocalServer;
  let a2: LocalServer;
  const sockets: ClientSocket[] = [];

  before(async () => {
    redis = await startRedis();
    [a, a2] = await Promise.all([startLocal(redis.url, "a"), startLocal(redis.url, "a2")]);
    await until(async () => (await a.adapter.serverCount()) === 2, 5000, "2 servers");
  });

  /** Starts Redis again and waits until both servers' adapters are subscribed again. */
  async function restartRedis(): Promise<void> {
    await redis.start();
    await until(
      async () => {
        try {
          return (await a.adapter.serverCount()) === 2 && (await a2.adapter.serverCount()) === 2;
        } catch {
          return false;
        }
      },
      8000,
      "both adapters resubscribed",
    );
  }

  /**
   * Runs `test` with a server that has connection state recovery and a client connected to it;
   * what the server logs meanwhile is collected in `logged` instead of printed.
   */
  async function withRecovering(
    name: string,
    test: (r: LocalServer, c: ClientSocket, logged: unknown[][]) => Promise<void>,
  ): Promise<void> {
    const r = await startLocal(redis.url, name, { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } });
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const c = client(r.url);
      sockets.push(c);
      await connected(c);
      await test(r, c, logged);
    } finally {
      console.error = original;
      await r.close();
    }
  }

  after(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.allSettled([a?.close(), a2?.close()]);
    await redis?.stop();
  });

  it("resumes after Redis restarts, without crashing or leaking listeners", async () => {
    const ca = client(a.url);
    const ca2 = client(a2.url);
    sockets.push(ca, ca2);
    await Promise.all([connected(ca), connected(ca2)]);
    const listeners = [a.pub.listenerCount("error"), a.sub.listenerCount("error")];
    let got = next(ca2, "broadcast-back");
    ca.emit("broadcast", "before");
    assert.deepEqual(await got, ["before"]);

    await redis.stop(true);
    // while Redis is down: local delivery still works and nothing throws
    got = next(ca, "broadcast-back");
    ca.emit("broadcast", "during");
    assert.deepEqual(await got, ["during"]);

    await restartRedis();
    // The Redis client may queue the publish made while Redis was down and send it on reconnect:
    // "during" can then reach the other node late, but before "after", never after it.
    const seen: unknown[] = [];
    const arrived = new Promise<void>((resolve) => {
      const onBack = (value: unknown) => {
        seen.push(value);
        if (value === "after") {
          ca2.off("broadcast-back", onBack);
          resolve();
        }
      };
      ca2.on("broadcast-back", onBack);
    });
    ca.emit("broadcast", "after");
    await arrived;
    assert.ok(["during,after", "after"].includes(seen.join(",")), seen.join(","));
    const sockets2 = await ca.timeout(3000).emitWithAck("fetch") as unknown[];
    assert.equal(sockets2.length, 2);
    assert.deepEqual([a.pub.listenerCount("error"), a.sub.listenerCount("error")], listeners);
  });

  it("keeps serving when a node is killed; the server count drops", async () => {
    const b = await startChild(redis.url, "b", OTHER_RUNTIME);
    const cb = client(b.url);
    sockets.push(cb);
    await connected(cb);
    await until(async () => (await a.adapter.serverCount()) === 3, 5000, "3 servers");
    const ca = sockets[0];
    const got = next(cb, "broadcast-back");
    ca.emit("broadcast", "to b");
    assert.deepEqual(await got, ["to b"]);

    await b.close("SIGKILL");
    await until(async () => (await a.adapter.serverCount()) === 2, 5000, "count back to 2");
    const found = await ca.timeout(3000).emitWithAck("fetch") as Array<{ name: string }>;
    assert.deepEqual(found.map((s) => s.name), ["a", "a2"]);
    const result = await ca.timeout(3000).emitWithAck("sse");
    assert.deepEqual(result, { err: null, responses: ["pong from a2"] });
  });

  it("with Redis down, requests fail within requestsTimeout and a server still closes", async () => {
    // The server count (PUBSUB NUMSUB) waited in the client's offline queue for the whole outage,
    // and so did close() for its UNSUBSCRIBEs, keeping io.close() from closing the sessions.
    const extra = await startLocal(redis.url, "extra");
    let closed = false;
    try {
      await until(async () => (await extra.adapter.serverCount()) === 3, 5000, "extra subscribed");
      await redis.stop(true);
      let started = Date.now();
      // "timeout reached", or the connection's own error when the client fails the command at once
      await assert.rejects(extra.io.fetchSockets());
      await assert.rejects(extra.io.serverSideEmitWithAck("ping", "x"));
      assert.ok(Date.now() - started < 4000, `${Date.now() - started} ms`);
      started = Date.now();
      await extra.close();
      closed = true;
      assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
    } finally {
      if (!closed) await extra.close();
      await restartRedis();
    }
  });

  it("drops malformed and hostile messages from the bus, and keeps serving", async () => {
    // Each of these used to throw inside the subscription callback (node-redis then reset its
    // decoder and the subscription went deaf; ioredis would end the process), or reached clients.
    const ca = client(a.url);
    sockets.push(ca);
    await connected(ca);
    const got: Array<{ event: string; args: unknown[] }> = [];
    ca.onAny((event: string, ...args: unknown[]) => got.push({ event, args }));
    let forged = 0;
    a.io.on("connection", (socket) => {
      if (typeof socket !== "object") forged++;
    });
    const publisher = await redisClient(redis.url);
    try {
      const broadcast = (packet: unknown, opts: unknown) =>
        publisher.publish(a.adapter.channel, Buffer.from(encodeMsgpack(["x", packet, opts])));
      const request = (body: Record<string, unknown>) =>
        publisher.publish(a.adapter.requestChannel, JSON.stringify({ uid: "x", ...body }));
      await broadcast({ type: 2, nsp: "/", data: ["rooms-not-a-list"] }, { rooms: 5, except: [] });
      await broadcast({ type: 2, nsp: "/", data: ["except-not-strings"] }, { rooms: [], except: [{}] });
      await broadcast({ type: 1, nsp: "/" }, { rooms: [], except: [] }); // a DISCONNECT for everyone
      await broadcast({ type: 2, nsp: "/", data: "not-a-list" }, { rooms: [], except: [] });
      await broadcast("not a packet", null);
      await publisher.publish(a.adapter.channel, Buffer.from([0xc1, 0xff, 0x00]));
      await broadcast({ type: 2, nsp: "/", data: ["with-an-ack-id"], id: 7 }, { rooms: [], except: [] });
      await request({ type: RequestType.REMOTE_FETCH, requestId: "r1", opts: { rooms: 5 } });
      await request({ type: RequestType.REMOTE_JOIN, opts: { rooms: [] }, rooms: 7 });
      await request({ type: RequestType.REMOTE_JOIN, sid: 1, room: {} });
      await request({ type: RequestType.SERVER_SIDE_EMIT, data: ["connection", "forged"] });
      await request({
        type: RequestType.BROADCAST,
        requestId: "r2",
        packet: { type: 1, nsp: "/" },
        opts: { rooms: [] },
      });
      await publisher.publish(a.adapter.requestChannel, "{not json");
      // Redis delivers in order: once this arrives, everything above was handled.
      await broadcast({ type: 2, nsp: "/", data: ["sentinel"] }, { rooms: [], except: [] });
      await until(() => got.some((g) => g.event === "sentinel"), 5000, "the sentinel broadcast");
      const fromBus = got.filter((g) => g.event !== "hello"); // the scenario's greeting may come late
      assert.deepEqual(fromBus.map((g) => g.event), ["with-an-ack-id", "sentinel"]);
      assert.deepEqual(fromBus[0].args, [], "a broadcast from the bus carries no ack id");
      assert.equal(forged, 0);
      assert.ok(ca.connected);
      const back = next(ca, "broadcast-back");
      ca.emit("broadcast", "still serving");
      assert.deepEqual(await back, ["still serving"]);
    } finally {
      await closeClients(publisher);
    }
  });

  it("with connection state recovery, a broadcast that cannot be encoded does not stop the ones after it", async () => {
    // Recoverable broadcasts wait in a queue for their log append; one that failed there used to
    // leave the queue rejected (every later broadcast dropped) and the rejection unhandled.
    await withRecovering("recovering", async (r, c, logged) => {
      const got: string[] = [];
      c.onAny((event: string) => got.push(event));
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      let deep: unknown = "bottom";
      for (let i = 0; i < 200; i++) deep = [deep];
      r.io.emit("first", 1);
      for (const bad of [circular, deep]) {
        try {
          r.io.emit("bad", bad);
        } catch {
          // refusing it at once is as good
        }
      }
      r.io.emit("good", 2);
      await until(() => got.includes("good"), 5000, "the broadcast after the bad ones");
      // The circular one cannot be sent; the deep one goes without an offset (its log append failed).
      assert.deepEqual(got.filter((event) => event !== "hello"), ["first", "bad", "good"]);
      assert.ok(logged.length >= 1, "the failures are logged");
    });
  });

  it("with connection state recovery and Redis down, local broadcasts still go out at once", async () => {
    // A recoverable broadcast waits for its offset (XADD). With Redis down that command sat in the
    // client's offline queue for the whole outage, and every broadcast queued behind it.
    await withRecovering("recovering-down", async (r, c, logged) => {
      const got: Array<[string, unknown[]]> = [];
      c.onAny((event: string, ...args: unknown[]) => got.push([event, args]));
      r.io.emit("before", 1);
      await until(() => got.some(([e]) => e === "before"), 5000, "the broadcast before the outage");
      const [, beforeArgs] = got.find(([e]) => e === "before")!;
      assert.equal(beforeArgs.length, 2, "an offset comes with the broadcast while Redis is up");
      await redis.stop(true);
      const started = Date.now();
      r.io.emit("during", 2);
      r.io.emit("during", 3);
      await until(() => got.filter(([e]) => e === "during").length === 2, 5000, "the broadcasts during the outage");
      const waited = Date.now() - started;
      assert.deepEqual(
        got.filter(([e]) => e === "during").map(([, args]) => args),
        [[2], [3]],
        "no offset without the log",
      );
      assert.ok(waited < 800, `delivered after ${waited} ms`);
      assert.ok(logged.length >= 1, "the failed appends are logged");
      // A client that reconnects now (with its pid and offset) gets a fresh socket at once, as
      // when its session is unknown: its restore no longer waits for Redis either.
      const oldId = c.id;
      const reconnected = new Promise<void>((resolve) => c.io.once("reconnect", () => resolve()));
      const restarted = Date.now();
      c.io.engine.close();
      await reconnected;
      await until(() => c.connected, 3000, "the socket connected again");
      assert.equal(c.recovered, false);
      assert.notEqual(c.id, oldId);
      assert.ok(Date.now() - restarted < 1000, `reconnected after ${Date.now() - restarted} ms`);
    }).finally(restartRedis);
  });

  it("a request to a server that never answers times out with a clear error", async () => {
    // a subscriber on the request channel counts as a server but never responds
    const silent = await redisClient(redis.url);
    try {
      await silent.subscribe(a.adapter.requestChannel, () => {});
      await until(async () => (await a.adapter.serverCount()) === 3, 5000, "3 subscribers");
      const started = Date.now();
      await assert.rejects(a.io.fetchSockets(), /timeout reached: only 1 responses received out of 2/);
      assert.ok(Date.now() - started < 3000);
      await assert.rejects(a.io.serverSideEmitWithAck("ping", "x"), /timeout reached/);
    } finally {
      await closeClients(silent);
    }
  });
});
