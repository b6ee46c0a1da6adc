/**
 * Volatile packets as socket.io sends them: dropped while the transport cannot take them at once
 * (no poll waiting, packets already waiting, another volatile packet in the same turn of the event
 * loop on WebSocket), regular packets never; for one socket and for broadcasts.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { io as connect } from "../client.ts";
import { type Running, startServer } from "./_server.ts";
import { request } from "./conformance/_helpers.ts";
import { once, sleep, until } from "./_helpers.ts";

const running: Running[] = [];
const clients: Array<{ disconnect(): unknown }> = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of running.splice(0)) await server.close();
});

async function start(io: Server): Promise<Running> {
  const server = await startServer(io);
  running.push(server);
  return server;
}

describe("volatile", () => {
  it("WebSocket: one volatile packet per turn goes out, the next turn's too; regular ones always", async () => {
    const io = new Server();
    const received: string[] = [];
    io.on("connection", (socket) => {
      socket.on("go", async () => {
        socket.volatile.emit("v", 1);
        socket.volatile.emit("v", 2); // same turn: dropped
        socket.emit("r", 3); // regular: sent
        await sleep(20);
        socket.volatile.emit("v", 4); // a later turn: sent
        socket.emit("done");
      });
    });
    const server = await start(io);
    const client = connect(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    clients.push(client);
    client.on("v", (n: number) => received.push(`v${n}`));
    client.on("r", (n: number) => received.push(`r${n}`));
    await once(client, "connect");
    const done = once(client, "done");
    client.emit("go");
    await done;
    assert.deepEqual(received, ["v1", "r3", "v4"]);
  });

  it("polling: dropped while no poll waits and while packets wait; a waiting poll takes one", async () => {
    const io = new Server();
    let socketId = "";
    io.on("connection", (socket) => socketId = socket.id);
    const server = await start(io);
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    const open = await request(base);
    const sid = JSON.parse(open.text.slice(1)).sid;
    const url = `${base}&sid=${sid}`;
    assert.equal((await request(url, { method: "POST", body: "40" })).status, 200);
    assert.match((await request(url)).text, /^40/, "the CONNECT answer");
    await until(() => socketId !== "", 3000, "the connection");
    const socket = io.sockets.sockets.get(socketId)!;

    socket.volatile.emit("lost", 1); // no poll waiting: dropped
    socket.emit("kept", 2);
    socket.volatile.emit("lost", 3); // a packet waits to be flushed: dropped
    assert.equal((await request(url)).text, '42["kept",2]');

    const poll = request(url); // a poll waits now
    await until(() => socket.conn.writable, 3000, "the held poll");
    socket.volatile.emit("taken", 4);
    socket.volatile.emit("lost", 5);
    assert.equal((await poll).text, '42["taken",4]');
    await request(url, { method: "POST", body: "1" });
  });

  it("broadcasts: each socket takes one volatile packet per turn", async () => {
    const io = new Server();
    const server = await start(io);
    const counts = [0, 0];
    for (const i of [0, 1]) {
      const client = connect(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
      clients.push(client);
      client.on("news", () => counts[i]++);
      await once(client, "connect");
    }
    io.volatile.emit("news");
    io.volatile.emit("news");
    await sleep(20);
    io.volatile.emit("news");
    await until(() => counts[0] === 2 && counts[1] === 2, 3000, "two volatile packets each");
    await sleep(50);
    assert.deepEqual(counts, [2, 2]);
  });
});
