// The BroadcastChannel adapter (built on the generic cluster adapter): two servers in this
// process, one socket.io-client each.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { createBroadcastChannelAdapter } from "../src/adapters/broadcast_channel.ts";
import { type Running, startServer } from "./_server.ts";
import { client, type ClientSocket, connected, next, sleep } from "./adapters/_cluster.ts";
import { until } from "./adapters/_redis.ts";

describe("BroadcastChannel adapter", () => {
  const channel = `test-${Math.random().toString(36).slice(2)}`;
  const servers: Array<{ io: Server; running: Running }> = [];
  const clients: ClientSocket[] = [];

  before(async () => {
    for (const name of ["one", "two"]) {
      const io = new Server({
        adapter: createBroadcastChannelAdapter({
          channel,
          heartbeatInterval: 100,
          heartbeatTimeout: 5000,
          requestsTimeout: 2000,
        }),
      });
      io.on("connection", (socket) => {
        socket.data = { name };
        socket.join(`room-${name}`);
      });
      io.on("ping", (cb: (v: string) => void) => cb(`pong from ${name}`));
      servers.push({ io, running: await startServer(io) });
    }
    for (const { running } of servers) clients.push(client(running.url));
    await Promise.all(clients.map((c) => connected(c)));
    await until(async () => (await servers[0].io.of("/").adapter.serverCount()) === 2, 3000, "2 servers");
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    for (const { running } of servers) await running.close();
  });

  it("broadcasts, targets rooms and fetches sockets across servers", async () => {
    const got = clients.map((c) => next(c, "hello"));
    servers[0].io.emit("hello", "all", new Uint8Array([7]));
    for (const args of await Promise.all(got)) assert.equal(args[0], "all");
    const one = next(clients[1], "room");
    servers[0].io.to("room-two").emit("room", "two only");
    assert.deepEqual(await one, ["two only"]);
    const sockets = await servers[1].io.fetchSockets();
    assert.deepEqual(sockets.map((s) => s.data.name).sort(), ["one", "two"]);
    servers[0].io.in("room-two").socketsJoin("joined");
    await until(async () => (await servers[1].io.in("joined").fetchSockets()).length === 1, 2000, "remote join");
  });

  it("serverSideEmit with acks and broadcasts with acks", async () => {
    assert.deepEqual(await servers[0].io.serverSideEmitWithAck("ping"), ["pong from two"]);
    clients.forEach((c, i) => c.on("q", (ack: (v: number) => void) => ack(i)));
    const answers = await servers[1].io.timeout(1000).emitWithAck("q");
    assert.deepEqual([...answers].sort(), [0, 1]);
    // local: this server's clients only, so one server's count is awaited, not the cluster's
    // (it used to wait for the other server's and always time out)
    assert.deepEqual(await servers[0].io.local.timeout(1000).emitWithAck("q"), [0]);
  });

  it("ignores what is not its own on the channel, and keeps serving", async () => {
    // A broadcast without its message used to throw in onmessage (Deno exits); a message without
    // a uid counted as a server for heartbeatTimeout.
    const intruder = new BroadcastChannel(`${channel}#/`);
    try {
      for (
        const message of [
          { kind: "broadcast", uid: "z" },
          {
            kind: "broadcast",
            uid: "z",
            message: { uid: "z", packet: { type: 2, nsp: "/", data: ["x"] }, opts: { rooms: 5 } },
          },
          {},
          { kind: "hello" },
          { uid: 5, kind: "hello" },
          "text",
          null,
        ]
      ) {
        intruder.postMessage(message);
      }
      const got = clients.map((c) => next(c, "hello"));
      intruder.postMessage({
        kind: "broadcast",
        uid: "z",
        message: {
          uid: "z",
          packet: { type: 2, nsp: "/", data: ["hello", "from the bus"] },
          opts: { rooms: [], except: [] },
        },
      });
      for (const args of await Promise.all(got)) assert.deepEqual(args, ["from the bus"]);
      // "z" did say a valid broadcast: it counts as a server now, but the malformed ones added none
      assert.equal(await servers[0].io.of("/").adapter.serverCount(), 3);
      intruder.postMessage({ kind: "bye", uid: "z" });
      await until(async () => (await servers[0].io.of("/").adapter.serverCount()) === 2, 2000, "z gone");
    } finally {
      intruder.close();
    }
  });

  it("forgets the acks of a remote broadcast once the requester stopped waiting", async () => {
    // They stayed with the client's socket (closing over the request) until it answered or left.
    const late: Array<() => void> = [];
    clients[1].on("late", (ack: () => void) => late.push(ack));
    const spy = new BroadcastChannel(`${channel}#/`);
    const acksPosted: unknown[] = [];
    spy.onmessage = (event: MessageEvent) => {
      if (event.data?.kind === "response" && event.data.response?.type === 9) acksPosted.push(event.data.response);
    };
    try {
      await assert.rejects(servers[0].io.timeout(200).emitWithAck("late"), /timed out/);
      await until(() => late.length === 1, 2000, "the client got the event");
      await sleep(800); // well past the 200 ms the other server waits too
      late[0](); // the client answers, late
      await sleep(200);
      assert.deepEqual(acksPosted, []);
    } finally {
      spy.close();
    }
  });

  it("io.adapter(...) replaces the adapters, and the old ones leave the cluster", async () => {
    // The old adapter stayed subscribed: it kept counting as a server and answered requests.
    servers[1].io.adapter(
      createBroadcastChannelAdapter({ channel, heartbeatInterval: 100, heartbeatTimeout: 5000, requestsTimeout: 2000 }),
    );
    await sleep(300); // the new adapter's hello and heartbeats have been heard
    assert.equal(await servers[0].io.of("/").adapter.serverCount(), 2);
    assert.deepEqual(await servers[0].io.serverSideEmitWithAck("ping"), ["pong from two"]);
  });

  // heartbeatTimeout is 5 s: within 2 s only its goodbye can count it out
  it("counts a server out once it closes", async () => {
    await servers[1].io.of("/").adapter.close();
    await until(async () => (await servers[0].io.of("/").adapter.serverCount()) === 1, 2000, "count 1");
    // Closed, it sends nothing more: a request fails at once instead of going out and timing out.
    await assert.rejects(servers[1].io.serverSideEmitWithAck("ping"), /adapter closed/);
  });
});
