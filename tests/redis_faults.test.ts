// Faults: Redis restarts mid-run (the adapters reconnect and resume, no crash, no listener leak);
// a node is killed (the others keep serving, the server count drops); a request to a node that
// never answers times out with a clear error.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeClients, redisClient, type RedisServer, startRedis, until } from "./adapters/_redis.ts";
import { client, type ClientSocket, connected, type LocalServer, next, OTHER_RUNTIME, startChild, startLocal } from "./adapters/_cluster.ts";

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

    await redis.start();
    await until(async () => {
      try {
        return (await a.adapter.serverCount()) === 2 && (await a2.adapter.serverCount()) === 2;
      } catch {
        return false;
      }
    }, 8000, "both adapters resubscribed");
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
