// serve(io) on the runtime running the tests, and graceful shutdown: io.close() flushes what is
// buffered, closes every session (polling and WebSocket), stops the listener and resolves.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { io as connect } from "socket.io-client";
import { serve, Server } from "../server.ts";
import { once } from "./_helpers.ts";

const isNode = !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

describe(`serve() and io.close() on ${process.versions.bun ? "bun" : isNode ? "node" : "deno"}`, () => {
  it("serves, then closes sessions on both transports after flushing, and stops listening", async () => {
    const io = new Server({ pingInterval: 5000, pingTimeout: 5000 });
    io.on("connection", (socket) => socket.on("hello", (ack: (v: string) => void) => ack("hi")));
    const listening = await serve(io, { port: 0, hostname: "127.0.0.1" });
    const url = `http://127.0.0.1:${listening.port}`;
    const clients = [
      connect(url, { transports: ["polling"], reconnection: false }),
      connect(url, { transports: ["websocket"], reconnection: false }),
    ];
    for (const c of clients) {
      if (!c.connected) await once(c, "connect");
      assert.equal(await c.timeout(2000).emitWithAck("hello"), "hi");
    }
    const received = clients.map(async (c) => (await once(c, "bye"))[0]);
    const disconnected = clients.map(async (c) => (await once<[string]>(c, "disconnect"))[0]);
    io.emit("bye", "see you");
    const started = Date.now();
    await io.close();
    assert.ok(Date.now() - started < 3000, "close took too long");
    assert.deepEqual(await Promise.all(received), ["see you", "see you"]);
    assert.deepEqual(await Promise.all(disconnected), ["transport close", "transport close"]);
    assert.equal(io.engine.clientsCount, 0);
    await assert.rejects(fetch(`${url}/socket.io/?EIO=4&transport=polling`));
  });

  it("refuses new sessions while closing and passes other paths to the fallback", async () => {
    const io = new Server();
    const listening = await serve(io, {
      port: 0,
      hostname: "127.0.0.1",
      fallback: () => new Response("app"),
    });
    const url = `http://127.0.0.1:${listening.port}`;
    if (!isNode) assert.equal(await (await fetch(`${url}/other`)).text(), "app");
    await io.close();
    await assert.rejects(fetch(`${url}/socket.io/?EIO=4&transport=polling`));
  });
});
