/**
 * Interop with the real `socket.io-client` 4.8 from npm against the fixture: polling only,
 * WebSocket only, upgrade; events, acks, binary, namespaces over one Manager, an unknown
 * namespace's connect_error, rooms, broadcast, count, and reconnection after the server drops
 * the transport (a malformed packet, and a full server restart on the same port).
 *
 * Runs against ours by default; `FIXTURE=reference` runs it against the real npm socket.io.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io, Manager, type Socket } from "socket.io-client";
import { type Fixture, FIXTURE_KIND, startFixture } from "../_fixture_process.ts";
import { once } from "../_helpers.ts";

function bytesOf(value: unknown): Uint8Array {
  assert.ok(
    value instanceof Uint8Array || value instanceof ArrayBuffer,
    `not binary: ${Object.prototype.toString.call(value)}`,
  );
  return value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

let fixture: Fixture;
const sockets: Socket[] = [];

/** A client socket that is closed after the test; reconnection off unless asked. */
function client(options: Parameters<typeof io>[1] = {}, nsp = ""): Socket {
  const socket = io(fixture.url + nsp, { forceNew: true, reconnection: false, timeout: 2000, ...options });
  sockets.push(socket);
  return socket;
}

async function connected(socket: Socket): Promise<Socket> {
  if (!socket.connected) {
    const [err] = await Promise.race([
      once(socket, "connect").then(() => [undefined]),
      once(socket, "connect_error"),
    ]);
    if (err) throw new Error(`connect_error: ${err.message}`);
  }
  return socket;
}

describe("socket.io-client 4.8 interop", () => {
  before(async () => {
    fixture = await startFixture();
  });
  after(async () => {
    for (const s of sockets.splice(0)) s.io.engine?.close(), s.disconnect();
    await fixture?.close();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });

  for (const transports of [["polling"], ["websocket"]] as const) {
    describe(`${transports[0]} only`, () => {
      it("connects with auth and receives it back", async () => {
        const socket = client({ transports: [...transports], auth: { token: "t-1", n: 2 } });
        const [auth] = await once(socket, "auth");
        assert.deepEqual(auth, { token: "t-1", n: 2 });
        assert.ok(socket.connected);
        assert.equal(socket.io.engine.transport.name, transports[0]);
        assert.equal(typeof socket.id, "string");
        assert.notEqual(socket.id, socket.io.engine.id);
      });

      it("sends events and receives them back", async () => {
        const socket = await connected(client({ transports: [...transports] }));
        const back = once(socket, "message-back");
        socket.emit("message", 1, "2", { 3: [true] }, null);
        assert.deepEqual(await back, [1, "2", { 3: [true] }, null]);
      });

      it("gets acks with every argument", async () => {
        const socket = await connected(client({ transports: [...transports] }));
        const args = await new Promise<unknown[]>((resolve, reject) => {
          socket.timeout(2000).emit(
            "message-with-ack",
            1,
            "2",
            { 3: [false] },
            (err: Error | null, ...rest: unknown[]) => {
              if (err) reject(err);
              else resolve(rest);
            },
          );
        });
        assert.deepEqual(args, [1, "2", { 3: [false] }]);
        assert.equal(await socket.timeout(2000).emitWithAck("message-with-ack", "only"), "only");
      });

      it("round-trips binary (Buffer, Uint8Array, nested) in events and acks", async () => {
        const socket = await connected(client({ transports: [...transports] }));
        const back = once(socket, "message-back");
        socket.emit("message", Buffer.from([1, 2, 3]), { nested: [new Uint8Array([4, 5, 255])] }, "text");
        const [a, b, c] = await back;
        assert.deepEqual(bytesOf(a), new Uint8Array([1, 2, 3]));
        assert.deepEqual(bytesOf(b.nested[0]), new Uint8Array([4, 5, 255]));
        assert.equal(c, "text");
        const acked = await socket.timeout(2000).emitWithAck("message-with-ack", new Uint8Array([9, 8, 7]));
        assert.deepEqual(bytesOf(acked), new Uint8Array([9, 8, 7]));
      });
    });
  }

  describe("upgrade", () => {
    it("starts on polling, upgrades to WebSocket, and keeps working", async () => {
      const socket = client({ transports: ["polling", "websocket"] });
      await connected(socket);
      if (socket.io.engine.transport.name !== "websocket") {
        const [transport] = await once(socket.io.engine, "upgrade");
        assert.equal(transport.name, "websocket");
      }
      assert.equal(socket.io.engine.transport.name, "websocket");
      const back = once(socket, "message-back");
      socket.emit("message", "after upgrade", new Uint8Array([1]));
      const [text, bin] = await back;
      assert.equal(text, "after upgrade");
      assert.deepEqual(bytesOf(bin), new Uint8Array([1]));
    });
  });

  describe("namespaces", () => {
    it("multiplexes / and /custom over one Manager", async () => {
      const manager = new Manager(fixture.url, { reconnection: false, timeout: 2000 });
      const main = manager.socket("/", { auth: { who: "main" } });
      const custom = manager.socket("/custom", { auth: { who: "custom" } });
      sockets.push(main, custom);
      const [mainAuth, customAuth] = await Promise.all([once(main, "auth"), once(custom, "auth")]);
      assert.deepEqual(mainAuth, [{ who: "main" }]);
      assert.deepEqual(customAuth, [{ who: "custom" }]);
      assert.equal(main.io, custom.io);
      assert.notEqual(main.id, custom.id);
      const back = once(main, "message-back");
      main.emit("message", "on main");
      assert.deepEqual(await back, ["on main"]);
    });

    it("gets connect_error Invalid namespace for an unknown namespace, others unaffected", async () => {
      const manager = new Manager(fixture.url, { reconnection: false, timeout: 2000 });
      const main = manager.socket("/");
      const nope = manager.socket("/nope");
      sockets.push(main, nope);
      const [err] = await once(nope, "connect_error");
      assert.equal(err.message, "Invalid namespace");
      assert.equal(nope.connected, false);
      await connected(main);
      const back = once(main, "message-back");
      main.emit("message", "still fine");
      assert.deepEqual(await back, ["still fine"]);
    });
  });

  describe("rooms and broadcast", () => {
    it("join acks true and to-room reaches members only", async () => {
      const a = await connected(client());
      const b = await connected(client({ transports: ["websocket"] }));
      assert.equal(await a.timeout(2000).emitWithAck("join", "room-x"), true);
      let bGotRoom = false;
      b.on("room-back", () => (bGotRoom = true));
      const roomBack = once(a, "room-back");
      b.emit("to-room", "room-x", "hello", Buffer.from([7]));
      const [text, bin] = await roomBack;
      assert.equal(text, "hello");
      assert.deepEqual(bytesOf(bin), new Uint8Array([7]));
      // a round trip on b after the room emit: a room-back for b would have arrived before it
      await b.timeout(2000).emitWithAck("message-with-ack", "sync");
      assert.equal(bGotRoom, false);
    });

    it("broadcast reaches every client of /", async () => {
      const a = await connected(client());
      const b = await connected(client({ transports: ["websocket"] }));
      const both = Promise.all([once(a, "broadcast-back"), once(b, "broadcast-back")]);
      a.emit("broadcast", "to all", 3);
      assert.deepEqual(await both, [["to all", 3], ["to all", 3]]);
    });
  });

  describe("count (fresh fixture)", () => {
    let own: Fixture;
    let saved: Fixture;
    before(async () => {
      saved = fixture;
      own = await startFixture();
      fixture = own;
    });
    after(async () => {
      for (const s of sockets.splice(0)) s.disconnect();
      fixture = saved;
      await own?.close();
    });

    it("counts the sockets of / (not /custom)", async () => {
      const a = await connected(client());
      assert.equal(await a.timeout(2000).emitWithAck("count"), 1);
      const b = await connected(client({ transports: ["websocket"] }));
      const c = await connected(client({}, "/custom"));
      assert.ok(c.connected);
      assert.equal(await b.timeout(2000).emitWithAck("count"), 2);
    });
  });

  // The fixture over 4 Durable Objects: clients land on several, and the fixture's broadcasts,
  // rooms and count span them.
  if (FIXTURE_KIND === "workerd-shards") {
    describe("across shards (FIXTURE=workerd-shards)", () => {
      it("answers shard(ack) with the object's name; broadcast, rooms and count span the shards", async () => {
        const byShard = new Map<string, Socket>();
        for (let i = 0; i < 20 && byShard.size < 2; i++) {
          const socket = await connected(client({ transports: i % 2 ? ["websocket"] : ["polling"] }));
          const name = await socket.timeout(2000).emitWithAck("shard");
          assert.match(name, /^fixture(:[1-3])?$/);
          byShard.set(name, socket);
        }
        assert.equal(byShard.size, 2, "20 clients all landed on one shard");
        const [a, b] = [...byShard.values()];
        assert.equal(await b.timeout(2000).emitWithAck("count"), sockets.length);
        const both = Promise.all([once(a, "broadcast-back"), once(b, "broadcast-back")]);
        a.emit("broadcast", "across", new Uint8Array([5]));
        for (const [text, bin] of await both) {
          assert.equal(text, "across");
          assert.deepEqual(bytesOf(bin), new Uint8Array([5]));
        }
        assert.equal(await b.timeout(2000).emitWithAck("join", "room-shards"), true);
        const roomBack = once(b, "room-back");
        a.emit("to-room", "room-shards", "to the other shard");
        assert.deepEqual(await roomBack, ["to the other shard"]);
      });
    });
  }

  describe("reconnection", () => {
    it("reconnects after the server drops the transport on a malformed packet", async () => {
      const socket = client({
        transports: ["websocket"],
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
        randomizationFactor: 0,
      });
      await connected(socket);
      const firstId = socket.id;
      const disconnect = once(socket, "disconnect");
      const reconnect = once(socket.io, "reconnect");
      // not a valid Socket.IO packet: the server must close the connection
      socket.io.engine.write("garbage");
      const [reason] = await disconnect;
      assert.equal(reason, "transport close");
      await reconnect;
      await connected(socket);
      assert.notEqual(socket.id, firstId);
      const back = once(socket, "message-back");
      socket.emit("message", "again");
      assert.deepEqual(await back, ["again"]);
    });

    it("reconnects after the server restarts on the same port", async () => {
      let server = await startFixture();
      try {
        // WebSocket only, so the transport the server drops is known: a polling client whose
        // request fails reports "transport error" instead, depending on timing
        const socket = io(server.url, {
          forceNew: true,
          transports: ["websocket"],
          reconnectionDelay: 100,
          reconnectionDelayMax: 200,
          randomizationFactor: 0,
          timeout: 2000,
        });
        sockets.push(socket);
        await connected(socket);
        const firstId = socket.id;
        const disconnect = once(socket, "disconnect");
        await server.close();
        const [reason] = await disconnect;
        assert.equal(reason, "transport close");
        const reconnect = once(socket.io, "reconnect", 8000);
        server = await startFixture({ port: server.port });
        await reconnect;
        await connected(socket);
        assert.notEqual(socket.id, firstId);
        assert.equal(await socket.timeout(2000).emitWithAck("message-with-ack", "after restart"), "after restart");
        socket.disconnect();
      } finally {
        await server.close();
      }
    });
  });
});
