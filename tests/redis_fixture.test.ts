// The protocol fixture's --redis and --recovery flags: two fixtures (Deno and Node) on one Redis
// form a cluster; with --recovery, broadcasts carry an offset.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type RedisServer, startRedis } from "./adapters/_redis.ts";
import { client, type ClientSocket, connected, next } from "./adapters/_cluster.ts";
import { bin, type ServerProcess, spawnServer } from "./client/_spawn.ts";

describe("fixture --redis --recovery", () => {
  let redis: RedisServer;
  const servers: ServerProcess[] = [];
  const sockets: ClientSocket[] = [];

  before(async () => {
    redis = await startRedis();
    for (const runtime of ["deno", "node"]) {
      servers.push(
        await spawnServer(bin("deno"), (port) => [
          "run",
          "-A",
          "tests/fixture/launch.ts",
          runtime,
          String(port),
          "--redis",
          redis.url,
          "--recovery",
        ]),
      );
    }
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.allSettled(servers.map((s) => s.close()));
    await redis?.stop();
  });

  it("broadcasts across the two fixtures, with recovery offsets", async () => {
    for (const s of servers) sockets.push(client(s.url));
    await Promise.all(sockets.map((s) => connected(s)));
    const deadline = Date.now() + 5000;
    // the adapters subscribe asynchronously: retry until the other side hears it
    while (true) {
      const got = next(sockets[1], "broadcast-back", 300);
      sockets[0].emit("broadcast", "hi");
      try {
        const [text, offset] = await got;
        assert.equal(text, "hi");
        assert.match(String(offset), /^\d+-\d+$/);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
  });
});
