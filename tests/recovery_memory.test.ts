// Connection state recovery in one process (the in-memory SessionAwareAdapter): a client drops,
// misses events, reconnects and gets its id, rooms, data and the missed events in order.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server, type ServerOptions } from "../server.ts";
import { startServer } from "./_server.ts";
import { until } from "./conformance/_helpers.ts";
import { client, type ClientSocket, collect, connected, next, sleep } from "./adapters/_cluster.ts";

async function setup(options: ServerOptions) {
  const io = new Server({ pingInterval: 300, pingTimeout: 200, ...options });
  let middlewareCalls = 0;
  io.use((_socket, nextFn) => {
    middlewareCalls++;
    nextFn();
  });
  io.on("connection", (socket) => {
    if (!socket.recovered) {
      socket.join("room1");
      socket.data = { visits: 1 };
    }
    socket.on("drop", () => socket.conn.close());
    socket.on(
      "whoami",
      (ack: (v: unknown) => void) =>
        ack({ id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms].sort(), data: socket.data }),
    );
  });
  const running = await startServer(io);
  return { io, running, middlewareCalls: () => middlewareCalls };
}

describe("connection state recovery in memory", () => {
  const cleanup: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  async function dropAndMiss(io: Server, socket: ClientSocket, delayed = false) {
    const gone = next(socket, "disconnect");
    socket.emit("drop");
    await gone;
    io.emit("news", "missed-1");
    io.to("room1").emit("news", "missed-room");
    io.to("room2").emit("news", "not-for-me");
    io.except("room1").emit("news", "excluded");
    io.volatile.emit("news", "volatile");
    io.emit("news", "missed-2");
    if (delayed) await sleep(10);
  }

  it("restores id, rooms, data and missed packets; CONNECT carries a pid", async () => {
    const { io, running, middlewareCalls } = await setup({
      connectionStateRecovery: { maxDisconnectionDuration: 5000 },
    });
    const socket = client(running.url, {}, { reconnectionDelay: 200, randomizationFactor: 0 });
    cleanup.push(() => socket.disconnect(), () => running.close());
    await connected(socket);
    const before = await socket.timeout(2000).emitWithAck("whoami") as { id: string; rooms: string[] };
    const first = next(socket, "news");
    io.emit("news", "first");
    const [, offset] = await first;
    assert.equal(typeof offset, "string");
    // a socket.emit also carries an offset
    const direct = next(socket, "direct");
    io.sockets.sockets.get(before.id)!.emit("direct", 1);
    assert.equal((await direct).length, 2);

    const news = collect(socket, "news");
    await dropAndMiss(io, socket);
    await next(socket, "connect", 3000);
    await until(() => news.items.length >= 3, 3000, "the missed packets");
    news.stop();
    assert.equal(socket.recovered, true);
    assert.equal(socket.id, before.id);
    assert.deepEqual(news.items.map((a) => a[0]), ["missed-1", "missed-room", "missed-2"]);
    const after = await socket.timeout(2000).emitWithAck("whoami");
    assert.deepEqual(after, { id: before.id, recovered: true, rooms: before.rooms, data: { visits: 1 } });
    assert.equal(middlewareCalls(), 1, "middlewares skipped by default");
  });

  it("runs middlewares again with skipMiddlewares: false", async () => {
    const { io, running, middlewareCalls } = await setup({
      connectionStateRecovery: { maxDisconnectionDuration: 5000, skipMiddlewares: false },
    });
    const socket = client(running.url, {}, { reconnectionDelay: 100, randomizationFactor: 0 });
    cleanup.push(() => socket.disconnect(), () => running.close());
    await connected(socket);
    const first = next(socket, "news");
    io.emit("news", "first");
    await first;
    await dropAndMiss(io, socket);
    await next(socket, "connect", 3000);
    assert.equal(socket.recovered, true);
    assert.equal(middlewareCalls(), 2);
  });

  it("gives a fresh socket once the session expired", async () => {
    const { io, running } = await setup({ connectionStateRecovery: { maxDisconnectionDuration: 50 } });
    const socket = client(running.url, {}, { reconnectionDelay: 300, randomizationFactor: 0 });
    cleanup.push(() => socket.disconnect(), () => running.close());
    await connected(socket);
    const id = socket.id;
    const first = next(socket, "news");
    io.emit("news", "first");
    await first;
    await dropAndMiss(io, socket);
    await next(socket, "connect", 3000);
    assert.equal(socket.recovered, false);
    assert.notEqual(socket.id, id);
  });

  it("a parent namespace's broadcast gives each child's clients their own offset only", async () => {
    // The children used to share the packet's data array: the second appended its offset after
    // the first's, and its clients got the first offset as an extra argument.
    const { io, running } = await setup({ connectionStateRecovery: {} });
    const parent = io.of(/^\/dyn-\d+$/);
    const one = client(`${running.url}/dyn-1`);
    const two = client(`${running.url}/dyn-2`);
    cleanup.push(() => one.disconnect(), () => two.disconnect(), () => running.close());
    await Promise.all([connected(one), connected(two)]);
    const got = [next(one, "via-parent"), next(two, "via-parent")];
    parent.except("nobody").emit("via-parent", 1); // through the parent's broadcast operator
    // socket.io-client hands the offset to listeners as the last argument
    for (const args of await Promise.all(got)) {
      assert.equal(args.length, 2, JSON.stringify(args));
      assert.equal(args[0], 1);
      assert.equal(typeof args[1], "string");
    }
  });

  it("without the option, nothing is appended and no pid is sent", async () => {
    const { io, running } = await setup({});
    const socket = client(running.url);
    cleanup.push(() => socket.disconnect(), () => running.close());
    await connected(socket);
    const got = next(socket, "news");
    io.emit("news", "plain");
    assert.deepEqual(await got, ["plain"]);
    assert.equal(io.sockets.sockets.get(socket.id!)!.pid, undefined);
  });
});
