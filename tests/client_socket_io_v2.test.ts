/**
 * Our client with `protocol: 4` (Socket.IO v4 over Engine.IO v3) against the real npm socket.io
 * 2.5.1 on Node (tests/client/node_server_v2.mjs): events, acks both ways and binary over polling,
 * WebSocket and the upgrade; namespaces (auth as the namespace's query), middleware and unknown
 * namespace errors, rooms, the heartbeat (the client pings), reconnection after the server drops
 * the connection or restarts, and joining `/` again after leaving it.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClientOptions, Socket } from "../client.ts";
import { Manager } from "../client.ts";
import { bin, type ServerProcess, spawnServer } from "./client/_spawn.ts";
import { closeAll, connect, connected, deadline, FAST, next, track } from "./client/_helpers.ts";

const V4: ClientOptions = { protocol: 4 };

const MODES: Array<{ name: string; opts: ClientOptions; transport: string }> = [
  { name: "polling", opts: { transports: ["polling"] }, transport: "polling" },
  { name: "websocket", opts: { transports: ["websocket"] }, transport: "websocket" },
  { name: "polling + upgrade", opts: {}, transport: "websocket" },
];

function numbers(value: unknown): number[] {
  assert.ok(value instanceof Uint8Array, `binary expected, got ${value}`);
  return [...value];
}

describe("client with protocol 4 against socket.io 2.5.1 (Node)", () => {
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer(bin("node"), (port) => ["tests/client/node_server_v2.mjs", String(port)]);
  });
  after(async () => {
    closeAll();
    await server?.close();
  });
  afterEach(() => closeAll());

  for (const mode of MODES) {
    describe(mode.name, () => {
      it("connects to / implicitly, with the Engine.IO id, and echoes events with binary", async () => {
        const socket = connect(server.url, { ...V4, ...mode.opts });
        const [hello] = await next(socket, "hello");
        assert.ok(socket.connected);
        assert.equal(socket.id, socket.io.engine!.id);
        assert.deepEqual(hello, { id: socket.id, token: null });
        const back = next(socket, "message-back");
        socket.emit("message", "hi", 42, { nested: { file: new Uint8Array([1, 2, 3]) } }, [new Uint8Array([4]), "x"]);
        const [text, n, nested, list] = await back;
        assert.deepEqual([text, n], ["hi", 42]);
        assert.deepEqual(numbers(nested.nested.file), [1, 2, 3]);
        assert.deepEqual([numbers(list[0]), list[1]], [[4], "x"]);
        if (mode.transport === "websocket" && !mode.opts.transports) {
          if (socket.io.engine!.transport!.name !== "websocket") await next(socket.io.engine!, "upgrade");
        }
        const who = await socket.timeout(2000).emitWithAck("whoami");
        assert.deepEqual(who, { id: socket.id, transport: mode.transport, rooms: [socket.id] });
      });

      it("acks both ways, with binary", async () => {
        const socket = connect(server.url, { ...V4, ...mode.opts });
        await connected(socket);
        const [err, a, bytes] = await new Promise<unknown[]>((resolve) =>
          socket.timeout(2000).emit(
            "message-with-ack",
            "a",
            new Uint8Array([7, 8]),
            (...args: unknown[]) => resolve(args),
          )
        );
        assert.equal(err, null);
        assert.equal(a, "a");
        assert.deepEqual(numbers(bytes), [7, 8]);
        socket.once("question", (q: string, ack: (answer: unknown) => void) => ack({ q, file: new Uint8Array([9]) }));
        const answer = next(socket, "answer");
        socket.emit("ask", "why?");
        const [reply] = await answer;
        assert.equal(reply.q, "why?");
        assert.deepEqual(numbers(reply.file), [9]);
      });
    });
  }

  it("joins other namespaces over one connection, the auth as their query", async () => {
    const root = connect(server.url, V4);
    const custom = track(root.io.socket("/custom", { auth: { token: "ctok" } }));
    const [[hello]] = await Promise.all([next(custom, "hello"), connected(root)]);
    assert.equal(custom.io, root.io);
    assert.equal(custom.id, "/custom#" + root.io.engine!.id);
    assert.deepEqual(hello, { id: custom.id, token: "ctok" });
    const echo = await custom.timeout(2000).emitWithAck("message-with-ack", "in custom");
    assert.equal(echo, "in custom");
  });

  it("reports the middleware's error (its message, or its data) and connects with a good token", async () => {
    const manager = new Manager(server.url, { ...FAST, ...V4 });
    const bad = track(manager.socket("/private", { auth: { token: "bad" } }));
    const [err] = await next(bad, "connect_error");
    assert.equal(err.message, "not authorized");
    const withData = track(manager.socket("/private", { auth: { token: "data" } }));
    assert.equal(withData, bad, "one socket per namespace");
    withData.auth = { token: "data" };
    withData.connect();
    const [err2] = await next(withData, "connect_error");
    assert.deepEqual(err2.data, { reason: "bad token" });
    withData.auth = { token: "ok" };
    withData.connect();
    const [hello] = await next(withData, "hello");
    assert.deepEqual(hello, { id: withData.id, token: "ok" });
  });

  it("reports connect_error for an unknown namespace", async () => {
    const socket = connect(server.url + "/nope", V4);
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(socket.connected, false);
  });

  it("receives room broadcasts with binary", async () => {
    const a = connect(server.url, { ...V4, transports: ["polling"] });
    const b = connect(server.url, { ...V4, transports: ["websocket"] });
    await Promise.all([connected(a), connected(b)]);
    assert.equal(await a.timeout(2000).emitWithAck("join", "r"), true);
    assert.equal(await b.timeout(2000).emitWithAck("join", "r"), true);
    const got = Promise.all([next(a, "room-back"), next(b, "room-back")]);
    a.emit("to-room", "r", "hello room", new Uint8Array([5]));
    for (const [text, bytes] of await got) {
      assert.equal(text, "hello room");
      assert.deepEqual(numbers(bytes), [5]);
    }
  });

  it("pings the server and stays connected over several ping intervals", async () => {
    const socket = connect(server.url, { ...V4, transports: ["websocket"] });
    await connected(socket);
    // pingInterval 300, pingTimeout 200: three answered pings outlive a session nobody pings
    const first = socket.id;
    await deadline(
      new Promise<void>((resolve) => {
        let beats = 0;
        socket.io.on("ping", () => ++beats === 3 && resolve());
      }),
      3000,
      "three answered pings",
    );
    assert.ok(socket.connected);
    assert.equal(socket.id, first);
    assert.deepEqual(await socket.timeout(2000).emitWithAck("message-with-ack", "still"), "still");
  });

  it("reconnects after the server drops the connection, and sends what was buffered", async () => {
    const socket = connect(server.url, V4);
    await connected(socket);
    const first = socket.id;
    const reconnected = next(socket, "connect");
    socket.emit("drop");
    const [reason] = await next(socket, "disconnect");
    assert.equal(reason, "transport close");
    const back = next(socket, "message-back");
    socket.emit("message", "buffered");
    await reconnected;
    assert.notEqual(socket.id, first);
    assert.deepEqual(await back, ["buffered"]);
  });

  it("joins / again after leaving it, while another namespace keeps the connection", async () => {
    const socket = connect(server.url, V4);
    const custom = track(socket.io.socket("/custom"));
    await Promise.all([connected(socket), connected(custom)]);
    const engine = socket.io.engine;
    socket.emit("server-disconnect");
    const [reason] = await next(socket, "disconnect");
    assert.equal(reason, "io server disconnect");
    socket.connect();
    await connected(socket);
    assert.equal(socket.io.engine, engine, "the same connection");
    assert.equal(await socket.timeout(2000).emitWithAck("message-with-ack", "again"), "again");
    socket.disconnect();
    socket.connect();
    await connected(socket);
    assert.equal(await socket.timeout(2000).emitWithAck("message-with-ack", "and again"), "and again");
  });

  it("connects a socket for / made after the server joined the connection to it", async () => {
    const manager = new Manager(server.url, { ...FAST, ...V4 });
    const custom = track(manager.socket("/custom"));
    await connected(custom);
    const root = track(manager.socket("/"));
    await connected(root);
    assert.equal(root.id, manager.engine!.id);
  });

  it("reconnects after the server restarts", async () => {
    const socket: Socket = connect(server.url, V4);
    await connected(socket);
    const reconnected = next(socket, "connect", 10000);
    await server.restart();
    await reconnected;
    assert.equal(await socket.timeout(2000).emitWithAck("message-with-ack", "back"), "back");
  });
});
