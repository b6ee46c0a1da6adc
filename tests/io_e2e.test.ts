/**
 * End-to-end tests of the io layer: a real server on 127.0.0.1 driven with raw Socket.IO frames over
 * a WebSocket (and one polling session), asserting what goes over the wire and what the server sees.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server, type ServerOptions } from "../src/io/server.ts";
import type { Socket } from "../src/io/socket.ts";
import { encodePacket, JsonDecoder, type Packet, PacketType } from "../src/parser/socket_io.ts";
import { type Running, startServer } from "./_server.ts";
import { deadline as within, once, sleep, until } from "./_helpers.ts";

// ---------------------------------------------------------------------------------------------
// helpers

/** A Socket.IO client speaking raw frames over one WebSocket; answers pings by itself. */
class RawClient {
  readonly ws: WebSocket;
  sid = "";
  /** Every Socket.IO text frame received (without the Engine.IO `4`). */
  readonly texts: string[] = [];
  #packets: Packet[] = [];
  #waiters: Array<(p: Packet) => void> = [];
  #decoder = new JsonDecoder();
  #closed: Promise<void>;
  isClosed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.#decoder.ondecoded = (packet) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(packet);
      else this.#packets.push(packet);
    };
    this.#closed = new Promise((resolve) => {
      this.ws.addEventListener("close", () => {
        this.isClosed = true;
        resolve();
      });
    });
    this.ws.addEventListener("message", (event: MessageEvent) => {
      const data = event.data;
      if (typeof data !== "string") {
        this.#decoder.add(new Uint8Array(data as ArrayBuffer));
        return;
      }
      if (data === "2") this.ws.send("3");
      else if (data[0] === "0") this.sid = JSON.parse(data.slice(1)).sid;
      else if (data[0] === "4") {
        this.texts.push(data.slice(1));
        this.#decoder.add(data.slice(1));
      }
    });
  }

  /** Opens an Engine.IO session (no namespace yet). */
  static async open(base: Running, query = ""): Promise<RawClient> {
    const client = new RawClient(`${base.wsUrl}/socket.io/?EIO=4&transport=websocket${query}`);
    await within(
      new Promise<void>((resolve, reject) => {
        client.ws.addEventListener("message", () => resolve(), { once: true });
        client.ws.addEventListener("error", () => reject(new Error("websocket error")), { once: true });
      }),
      2000,
      "open packet",
    );
    return client;
  }

  /** Opens a session and connects to `nsp`; returns the client and the CONNECT reply. */
  static async connect(
    base: Running,
    nsp = "/",
    auth?: Record<string, unknown>,
    query = "",
  ): Promise<RawClient> {
    const client = await RawClient.open(base, query);
    const reply = await client.connectTo(nsp, auth);
    assert.equal(reply.type, PacketType.CONNECT, `CONNECT refused: ${JSON.stringify(reply.data)}`);
    return client;
  }

  async connectTo(nsp = "/", auth?: Record<string, unknown>): Promise<Packet> {
    this.send({ type: PacketType.CONNECT, nsp, data: auth });
    return await this.next();
  }

  send(packet: Packet): void {
    for (const frame of encodePacket(packet)) {
      this.ws.send(typeof frame === "string" ? "4" + frame : frame);
    }
  }

  sendRaw(text: string): void {
    this.ws.send("4" + text);
  }

  emit(event: string, ...args: unknown[]): void {
    this.send({ type: PacketType.EVENT, nsp: "/", data: [event, ...args] });
  }

  next(ms = 2000): Promise<Packet> {
    const ready = this.#packets.shift();
    if (ready) return Promise.resolve(ready);
    return within(new Promise<Packet>((resolve) => this.#waiters.push(resolve)), ms, "a packet");
  }

  /** The next EVENT/BINARY_EVENT named `name` (other packets are skipped). */
  async nextEvent(name: string, ms = 2000): Promise<Packet> {
    const deadline = Date.now() + ms;
    while (true) {
      const p = await this.next(Math.max(1, deadline - Date.now()));
      if ((p.type === PacketType.EVENT || p.type === PacketType.BINARY_EVENT) && p.data[0] === name) return p;
    }
  }

  /** Asserts that no packet arrives for `ms`. */
  async expectNothing(ms = 150): Promise<void> {
    await sleep(ms);
    assert.equal(this.#packets.length, 0, `unexpected packet ${JSON.stringify(this.#packets[0])}`);
  }

  closed(ms = 2000): Promise<void> {
    return within(this.#closed, ms, "the connection to close");
  }

  close(): void {
    if (!this.isClosed) this.ws.close();
  }
}

let running: Running[] = [];
let clients: RawClient[] = [];

async function setup(
  options: ServerOptions = {},
  configure?: (io: Server) => void,
): Promise<{ io: Server; srv: Running }> {
  const io = new Server({ pingInterval: 1000, pingTimeout: 1000, ...options });
  configure?.(io);
  const srv = await startServer(io);
  running.push(srv);
  return { io, srv };
}

async function client(srv: Running, nsp = "/", auth?: Record<string, unknown>, query = ""): Promise<RawClient> {
  const c = await RawClient.connect(srv, nsp, auth, query);
  clients.push(c);
  return c;
}

async function rawClient(srv: Running, query = ""): Promise<RawClient> {
  const c = await RawClient.open(srv, query);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.closed().catch(() => {})));
  clients = [];
  for (const srv of running) await srv.close();
  running = [];
});

function assertNoRooms(io: Server, nsp = "/"): void {
  const adapter = io.of(nsp).adapter;
  assert.equal(adapter.rooms.size, 0, `rooms left: ${[...adapter.rooms.keys()]}`);
  assert.equal(adapter.sids.size, 0, `sids left: ${[...adapter.sids.keys()]}`);
  assert.equal(io.of(nsp).sockets.size, 0);
}

// ---------------------------------------------------------------------------------------------

describe("io: connection", () => {
  it("answers CONNECT with a fresh socket id and exposes the handshake", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await RawClient.open(srv, "&room=a&room=b&__proto__=x");
    clients.push(c);
    const reply = await c.connectTo("/", { token: "abc" });
    const [socket] = await connected;
    assert.equal(reply.type, PacketType.CONNECT);
    assert.equal(reply.data.sid, socket.id);
    assert.equal(c.texts[0], `0{"sid":"${socket.id}"}`);
    assert.match(socket.id, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(socket.id, c.sid, "the socket id must not be the engine sid");
    assert.equal(socket.conn.id, c.sid);
    assert.deepEqual(socket.handshake.auth, { token: "abc" });
    assert.deepEqual(socket.handshake.query.room, ["a", "b"]);
    assert.equal(socket.handshake.query.EIO, "4");
    assert.ok(Object.hasOwn(socket.handshake.query, "__proto__"));
    assert.equal(Object.getPrototypeOf(socket.handshake.query), Object.prototype);
    assert.equal(typeof socket.handshake.issued, "number");
    assert.ok(socket.handshake.url.startsWith("/socket.io/?EIO=4"));
    assert.equal(socket.handshake.secure, false);
    assert.equal(socket.handshake.address, "127.0.0.1");
    assert.equal(socket.handshake.headers.host, new URL(srv.url).host);
    assert.equal(socket.handshake.xdomain, false);
    assert.equal(socket.conn.request.url.searchParams.get("EIO"), "4");
    // socket.request as socket.io gives it: Node's IncomingMessage there, the HandshakeRequest elsewhere.
    const g = globalThis as { Deno?: unknown; Bun?: unknown };
    if (!g.Deno && !g.Bun) { // tests/_server.ts serves on node:http
      assert.ok(socket.request.url.startsWith("/socket.io/?EIO=4"));
      assert.equal(socket.request.headers.host, new URL(srv.url).host);
      assert.equal(socket.request.method, "GET");
      assert.equal(socket.request.socket.remoteAddress, "127.0.0.1");
      assert.equal(socket.request._query.EIO, "4");
      assert.equal(socket.request, socket.request, "made once");
    } else assert.equal(socket.request, socket.conn.request);
    assert.equal(socket.connected, true);
    assert.equal(socket.recovered, false);
    assert.deepEqual([...socket.rooms], [socket.id]);
    assert.equal(io.sockets.sockets.get(socket.id), socket);
  });

  it("refuses an unknown namespace with CONNECT_ERROR and keeps the connection", async () => {
    const { srv } = await setup();
    const c = await rawClient(srv);
    const reply = await c.connectTo("/nope");
    assert.equal(reply.type, PacketType.CONNECT_ERROR);
    assert.equal(c.texts[0], '4/nope,{"message":"Invalid namespace"}');
    const ok = await c.connectTo("/");
    assert.equal(ok.type, PacketType.CONNECT);
  });

  it("connects several namespaces over one connection", async () => {
    const { io, srv } = await setup({}, (io) => io.of("/chat"));
    const c = await client(srv);
    const reply = await c.connectTo("/chat");
    assert.equal(reply.type, PacketType.CONNECT);
    assert.equal(reply.nsp, "/chat");
    assert.equal(io.of("/chat").sockets.size, 1);
    assert.equal(io.sockets.sockets.size, 1);
  });

  it("closes a connection that joins no namespace within connectTimeout", async () => {
    const { srv } = await setup({ connectTimeout: 150 });
    const c = await rawClient(srv);
    await c.closed(1500);
  });

  it("keeps working over HTTP long-polling", async () => {
    const { io, srv } = await setup({}, (io) => {
      io.on("connection", (s) => s.on("ping", (n: number, ack: (n: number) => void) => ack(n + 1)));
    });
    const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    const sid = JSON.parse(open.slice(1)).sid;
    const post = async (body: string) => {
      const res = await fetch(`${base}&sid=${sid}`, { method: "POST", body });
      assert.equal(await res.text(), "ok");
    };
    await post("40");
    const connectReply = await (await fetch(`${base}&sid=${sid}`)).text();
    assert.match(connectReply, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
    await post('421["ping",41]');
    const ack = await (await fetch(`${base}&sid=${sid}`)).text();
    assert.equal(ack, "431[42]");
    await post("1");
    await until(() => io.engine.clientsCount === 0, 2000, "the session to close");
    assertNoRooms(io);
  });
});

describe("io: volatile", () => {
  it("drops a volatile packet when the transport cannot take it, keeps the others", async () => {
    const { io, srv } = await setup();
    const base = `${srv.url}/socket.io/?EIO=4&transport=polling`;
    const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
    const connection = once<[Socket]>(io, "connection");
    assert.equal(await (await fetch(`${base}&sid=${sid}`, { method: "POST", body: "40" })).text(), "ok");
    const [socket] = await connection;
    assert.match(await (await fetch(`${base}&sid=${sid}`)).text(), /^40/);
    // No GET is pending: the polling transport is not writable.
    assert.equal(socket.conn.writable, false);
    socket.volatile.emit("dropped");
    io.volatile.emit("dropped too");
    socket.emit("kept");
    assert.equal(await (await fetch(`${base}&sid=${sid}`)).text(), '42["kept"]');
    await (await fetch(`${base}&sid=${sid}`, { method: "POST", body: "1" })).text();
  });
});

describe("io: middlewares", () => {
  it("sends CONNECT_ERROR with the error's message and data", async () => {
    const { io, srv } = await setup({}, (io) => {
      io.use((socket, next) => {
        if (socket.handshake.auth.token === "good") return next();
        const err = new Error("not authorized") as Error & { data?: unknown };
        err.data = { reason: "bad token", retry: false };
        next(err);
      });
    });
    const bad = await rawClient(srv);
    const refused = await bad.connectTo("/", { token: "bad" });
    assert.equal(refused.type, PacketType.CONNECT_ERROR);
    assert.deepEqual(refused.data, { message: "not authorized", data: { reason: "bad token", retry: false } });
    assert.equal(bad.texts[0], '4{"message":"not authorized","data":{"reason":"bad token","retry":false}}');
    assertNoRooms(io);
    const good = await client(srv, "/", { token: "good" });
    assert.ok(good);
    assert.equal(io.sockets.sockets.size, 1);
  });

  it("runs middlewares in order, async, and lets them set data and join rooms", async () => {
    const order: string[] = [];
    const { io, srv } = await setup({}, (io) => {
      io.use((socket, next) => {
        order.push("a");
        socket.data.user = "ann";
        next();
      });
      io.use((socket, next) => {
        order.push("b");
        socket.join("early");
        setTimeout(next, 20);
      });
    });
    const connected = once<[Socket]>(io, "connection");
    await client(srv);
    const [socket] = await connected;
    assert.deepEqual(order, ["a", "b"]);
    assert.equal(socket.data.user, "ann");
    assert.ok(socket.rooms.has("early"));
  });

  it("turns a throwing middleware into CONNECT_ERROR", async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const { srv } = await setup({}, (io) => {
        io.use(() => {
          throw new Error("kaboom");
        });
      });
      const c = await rawClient(srv);
      const reply = await c.connectTo("/");
      assert.equal(reply.type, PacketType.CONNECT_ERROR);
      assert.equal(reply.data.message, "kaboom");
    } finally {
      console.error = original;
    }
  });

  it("drops an event refused by a socket middleware and emits error", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;
    const seen: unknown[] = [];
    socket.use(([event], next) => (event === "forbidden" ? next(new Error("nope")) : next()));
    socket.on("forbidden", () => seen.push("forbidden"));
    socket.on("allowed", (x: number) => seen.push(x));
    const error = once<[Error]>(socket, "error");
    const allowed = once<[number]>(socket, "allowed");
    c.emit("forbidden");
    c.emit("allowed", 1);
    const [err] = await error;
    assert.equal(err.message, "nope");
    await allowed;
    assert.deepEqual(seen, [1]);
  });
});

describe("io: dynamic namespaces", () => {
  it("creates children from a RegExp with the parent's middlewares and listeners", async () => {
    const created: string[] = [];
    const { io, srv } = await setup({}, (io) => {
      io.on("new_namespace", (nsp) => created.push(nsp.name));
      const parent = io.of(/^\/team-\d+$/);
      parent.use((socket, next) => {
        socket.data.viaParent = true;
        next();
      });
      parent.on("connection", (socket) => socket.emit("welcome", socket.nsp.name));
    });
    const c = await rawClient(srv);
    const reply = await c.connectTo("/team-7");
    assert.equal(reply.type, PacketType.CONNECT);
    const welcome = await c.nextEvent("welcome");
    assert.deepEqual(welcome.data, ["welcome", "/team-7"]);
    assert.deepEqual(created, ["/team-7"]);
    const [socket] = io.of("/team-7").sockets.values();
    assert.equal(socket.data.viaParent, true);
    const refused = await c.connectTo("/team-x");
    assert.equal(refused.type, PacketType.CONNECT_ERROR);
  });

  it("accepts names through a function and broadcasts from the parent to every child", async () => {
    let parent!: ReturnType<Server["of"]>;
    const { srv } = await setup({}, (io) => {
      parent = io.of((name, auth, next) => next(null, name.startsWith("/room-") && auth.ok === true));
    });
    const a = await client(srv, "/room-a", { ok: true });
    const b = await client(srv, "/room-b", { ok: true });
    const refused = await (await rawClient(srv)).connectTo("/room-c", { ok: false });
    assert.equal(refused.type, PacketType.CONNECT_ERROR);
    parent.emit("hello", 1);
    assert.deepEqual((await a.nextEvent("hello")).data, ["hello", 1]);
    assert.deepEqual((await b.nextEvent("hello")).data, ["hello", 1]);
    assert.equal(await a.nextEvent("hello").catch(() => null), null);
  });

  it("removes empty children when cleanupEmptyChildNamespaces is on", async () => {
    const { io, srv } = await setup({ cleanupEmptyChildNamespaces: true }, (io) => io.of(/^\/tmp-/));
    const c = await client(srv, "/tmp-1");
    assert.ok(io._nsps.has("/tmp-1"));
    c.send({ type: PacketType.DISCONNECT, nsp: "/tmp-1" });
    await until(() => !io._nsps.has("/tmp-1"), 3000, "the empty child namespace to go");
  });
});

describe("io: events and acks", () => {
  it("delivers client events with arguments and binary, and emits binary back", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;
    const got = once<[string, { bytes: Uint8Array }]>(socket, "upload");
    c.emit("upload", "file.bin", { bytes: new Uint8Array([1, 2, 3]) });
    const [name, payload] = await got;
    assert.equal(name, "file.bin");
    assert.ok(payload.bytes instanceof Uint8Array);
    assert.deepEqual([...payload.bytes], [1, 2, 3]);
    socket.emit("download", { data: new Uint8Array([9, 8]), n: 1 });
    const p = await c.nextEvent("download");
    assert.equal(p.type, PacketType.BINARY_EVENT);
    assert.deepEqual([...p.data[1].data], [9, 8]);
    assert.equal(p.data[1].n, 1);
  });

  it("calls listeners with the socket as `this`, once-listeners too, as socket.io does", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;
    const seen: unknown[] = [];
    socket.on("a", function (this: unknown) {
      seen.push(this);
    });
    socket.once("b", function (this: unknown) {
      seen.push(this);
    });
    const done = once(socket, "c");
    c.emit("a");
    c.emit("b");
    c.emit("b");
    c.emit("c");
    await done;
    assert.equal(seen.length, 2);
    assert.ok(seen.every((self) => self === socket), "a listener's `this` is not the socket");
  });

  it("gives listeners an ack function for events with an id (binary acks too)", async () => {
    const { srv } = await setup({}, (io) => {
      io.on("connection", (socket) => {
        socket.on("sum", (a: number, b: number, ack: (n: number) => void) => {
          ack(a + b);
          ack(0); // ignored: one ack per id
        });
        socket.on("bytes", (ack: (b: Uint8Array) => void) => ack(new Uint8Array([7])));
      });
    });
    const c = await client(srv);
    c.send({ type: PacketType.EVENT, nsp: "/", data: ["sum", 2, 3], id: 12 });
    const ack = await c.next();
    assert.equal(ack.type, PacketType.ACK);
    assert.equal(ack.id, 12);
    assert.deepEqual(ack.data, [5]);
    assert.equal(c.texts.at(-1), "312[5]");
    c.send({ type: PacketType.EVENT, nsp: "/", data: ["bytes"], id: 13 });
    const bin = await c.next();
    assert.equal(bin.type, PacketType.BINARY_ACK);
    assert.deepEqual([...bin.data[0]], [7]);
    await c.expectNothing(50);
  });

  it("calls server-side ack callbacks, emitWithAck, call and timeouts", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;

    const viaCallback = new Promise<unknown[]>((resolve) =>
      socket.emit("q1", 1, (...args: unknown[]) => resolve(args))
    );
    const q1 = await c.nextEvent("q1");
    assert.equal(typeof q1.id, "number");
    c.send({ type: PacketType.ACK, nsp: "/", id: q1.id, data: ["a", 2] });
    assert.deepEqual(await viaCallback, ["a", 2]);

    const viaPromise = socket.emitWithAck("q2");
    const q2 = await c.nextEvent("q2");
    c.send({ type: PacketType.ACK, nsp: "/", id: q2.id, data: [{ ok: true }] });
    assert.deepEqual(await viaPromise, { ok: true });

    const viaCall = socket.timeout(1000).call("q3");
    const q3 = await c.nextEvent("q3");
    c.send({ type: PacketType.ACK, nsp: "/", id: q3.id, data: [1, 2] });
    assert.deepEqual(await viaCall, [1, 2]);

    const timedOut = new Promise<unknown[]>((resolve) =>
      socket.timeout(50).emit("q4", (...args: unknown[]) => resolve(args))
    );
    const [err] = await timedOut;
    assert.ok(err instanceof Error);
    assert.equal(err.message, "operation has timed out");
    await assert.rejects(socket.timeout(50).emitWithAck("q5"), /operation has timed out/);
    await assert.rejects(socket.timeout(50).call("q6"), /operation has timed out/);

    const ok = new Promise<unknown[]>((resolve) =>
      socket.timeout(1000).emit("q7", (...args: unknown[]) => resolve(args))
    );
    const q7 = await c.nextEvent("q7");
    c.send({ type: PacketType.ACK, nsp: "/", id: q7.id, data: ["fine"] });
    assert.deepEqual(await ok, [null, "fine"]);
  });

  it("throws on reserved event names", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    await client(srv);
    const [socket] = await connected;
    for (const name of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      assert.throws(() => socket.emit(name), /reserved event name/);
      assert.throws(() => io.emit(name), /reserved event name/);
    }
    assert.throws(() => io.serverSideEmit("connection"), /reserved event name/);
  });

  it("supports onAny, onAnyOutgoing and the python-style '*' catch-all", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;
    const any: unknown[][] = [];
    const outgoing: unknown[][] = [];
    const star: unknown[][] = [];
    const specific: unknown[] = [];
    socket.onAny((...args) => any.push(args));
    socket.onAnyOutgoing((...args) => outgoing.push(args));
    socket.on("*", (event, ...args) => star.push([event, ...args]));
    socket.on("known", (x: number) => specific.push(x));
    c.emit("known", 1);
    c.emit("unknown", 2, 3);
    socket.emit("out", "x");
    io.emit("bcast", "y");
    await c.nextEvent("bcast");
    // The client's two events travel the other way: wait until the server has read them.
    await until(() => any.length >= 2, 2000, "both events");
    assert.deepEqual(any, [["known", 1], ["unknown", 2, 3]]);
    assert.deepEqual(star, [["unknown", 2, 3]]);
    assert.deepEqual(specific, [1]);
    assert.deepEqual(outgoing, [["out", "x"], ["bcast", "y"]]);
    socket.offAny();
    socket.offAnyOutgoing();
    assert.equal(socket.listenersAny().length, 0);
    assert.equal(socket.listenersAnyOutgoing().length, 0);
  });

  it("calls every catch-all listener of an event even when one removes itself or adds another", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;
    const calls: string[] = [];
    const late = (event: string) => calls.push(`late:${event}`);
    const first = (event: string) => {
      calls.push(`first:${event}`);
      socket.offAny(first);
      socket.onAny(late);
    };
    socket.onAny(first);
    socket.onAny((event: string) => calls.push(`second:${event}`));
    c.emit("a");
    c.emit("b");
    await until(() => calls.length >= 4, 2000, "four calls");
    // "a": both listeners registered when it arrived (late is only added during it); "b": second, late.
    assert.deepEqual(calls, ["first:a", "second:a", "second:b", "late:b"]);
    assert.equal(socket.listenersAny().length, 2);
  });

  it("keeps prototype-looking event names away from Object.prototype", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connected;
    const star: string[] = [];
    socket.on("*", (event) => star.push(event));
    for (const name of ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"]) {
      c.emit(name, { polluted: true });
    }
    c.send({ type: PacketType.EVENT, nsp: "/", data: ["__proto__"], id: 99 });
    await until(() => star.length >= 6, 3000, "six events");
    assert.deepEqual(star, ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf", "__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(typeof Object.prototype.hasOwnProperty, "function");
    assert.equal(c.isClosed, false);
  });

  it("logs errors thrown by listeners and keeps serving", async () => {
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const { srv } = await setup({}, (io) => {
        io.on("connection", (socket) => {
          socket.on("sync", () => {
            throw new Error("sync boom");
          });
          socket.on("async", async () => {
            await sleep(1);
            throw new Error("async boom");
          });
          socket.on("echo", (x: number, ack: (x: number) => void) => ack(x));
          throw new Error("connection boom");
        });
      });
      const c = await client(srv);
      c.emit("sync");
      c.emit("async");
      c.send({ type: PacketType.EVENT, nsp: "/", data: ["echo", 5], id: 1 });
      const ack = await c.next();
      assert.deepEqual(ack.data, [5]);
      const text = () => logged.map((l) => String((l as unknown[])[1])).join("\n");
      await until(() => /async boom/.test(text()), 2000, "the async error logged");
      assert.match(text(), /connection boom/);
      assert.match(text(), /sync boom/);
    } finally {
      console.error = original;
    }
  });

  it("offers python-style session helpers over socket.data", async () => {
    const { io, srv } = await setup();
    const connected = once<[Socket]>(io, "connection");
    await client(srv);
    const [socket] = await connected;
    await socket.saveSession({ user: "ann" });
    assert.deepEqual(await socket.getSession(), { user: "ann" });
    await socket.session((s) => {
      s.visits = 1;
    });
    assert.deepEqual(socket.data, { user: "ann", visits: 1 });
    const all = await io.fetchSockets();
    assert.deepEqual(all[0].data, { user: "ann", visits: 1 });
  });
});

describe("io: rooms and broadcasts", () => {
  async function three(io: Server, srv: Running) {
    const sockets: Socket[] = [];
    io.on("connection", (s) => sockets.push(s));
    const a = await client(srv);
    const b = await client(srv);
    const c = await client(srv);
    return { a, b, c, sa: sockets[0], sb: sockets[1], sc: sockets[2] };
  }

  it("targets rooms, excludes rooms and the sender", async () => {
    const { io, srv } = await setup();
    const { a, b, c, sa, sb, sc } = await three(io, srv);
    sa.join(["red", "blue"]);
    sb.join("red");
    sc.join("green");
    io.to("red").emit("m1", 1);
    assert.deepEqual((await a.nextEvent("m1")).data, ["m1", 1]);
    assert.deepEqual((await b.nextEvent("m1")).data, ["m1", 1]);
    io.to("red").to("green").except("blue").emit("m2");
    await b.nextEvent("m2");
    await c.nextEvent("m2");
    sa.broadcast.emit("m3");
    await b.nextEvent("m3");
    await c.nextEvent("m3");
    sa.to("red").emit("m4");
    await b.nextEvent("m4");
    io.except("red").emit("m5");
    await c.nextEvent("m5");
    io.of("/").in(["red", "blue"]).emit("m6");
    await a.nextEvent("m6");
    await b.nextEvent("m6");
    io.volatile.compress(false).emit("m7");
    await a.nextEvent("m7");
    io.local.emit("m8");
    await a.nextEvent("m8");
    sa.leave("red");
    io.to("red").emit("m9");
    await b.nextEvent("m9");
    await a.expectNothing(50);
    await c.nextEvent("m7");
    await c.nextEvent("m8");
    await c.expectNothing(0);
    assert.deepEqual(await io.in("red").allSockets(), new Set([sb.id]));
  });

  it("collects acknowledgements of a broadcast, with a timeout", async () => {
    const { io, srv } = await setup();
    const { a, b, c, sa } = await three(io, srv);
    const all = io.timeout(5000).emitWithAck("poll");
    for (const [client, answer] of [[a, "A"], [b, "B"], [c, "C"]] as const) {
      const p = await client.nextEvent("poll");
      client.send({ type: PacketType.ACK, nsp: "/", id: p.id, data: [answer] });
    }
    assert.deepEqual((await all).sort(), ["A", "B", "C"]);

    const partial = new Promise<unknown[]>((resolve) =>
      sa.broadcast.timeout(1500).emit("poll2", (err: Error | null, responses: unknown[]) => resolve([err, responses]))
    );
    const p = await b.nextEvent("poll2");
    b.send({ type: PacketType.ACK, nsp: "/", id: p.id, data: ["only b"] });
    const [err, responses] = await partial;
    assert.ok(err instanceof Error);
    assert.equal((err as Error).message, "operation has timed out");
    assert.deepEqual(responses, ["only b"]);

    const none = await io.to("nobody").timeout(100).emitWithAck("poll3");
    assert.deepEqual(none, []);
  });

  it("encodes a broadcast once and writes the same frames to every receiver", async () => {
    const { io, srv } = await setup();
    const { a, b } = await three(io, srv);
    let encodes = 0;
    const encode = io.encoder.encode;
    io.encoder.encode = (packet) => {
      encodes++;
      return encode(packet);
    };
    io.emit("bin", new Uint8Array([1, 2]));
    const pa = await a.nextEvent("bin");
    const pb = await b.nextEvent("bin");
    assert.equal(encodes, 1);
    assert.deepEqual([...pa.data[1]], [1, 2]);
    assert.deepEqual([...pb.data[1]], [1, 2]);
  });

  it("fetches sockets and acts on them: emit, join, leave, disconnect", async () => {
    const { io, srv } = await setup();
    const { a, b, sa, sb } = await three(io, srv);
    sa.data = { name: "a" };
    sa.join("x");
    sb.join("x");
    const found = await io.in("x").fetchSockets();
    assert.deepEqual(found.map((s) => s.id).sort(), [sa.id, sb.id].sort());
    const fa = found.find((s) => s.id === sa.id)!;
    assert.deepEqual(fa.data, { name: "a" });
    // data never set reads as {}; set to null, it stays null
    assert.deepEqual(found.find((s) => s.id === sb.id)!.data, {});
    sb.data = null as unknown as typeof sb.data;
    assert.equal(sb.data, null);
    assert.equal((await io.in(sb.id).fetchSockets())[0].data, null);
    assert.ok(fa.rooms.has("x"));
    assert.equal(typeof fa.handshake.time, "string");
    fa.emit("direct", 1);
    assert.deepEqual((await a.nextEvent("direct")).data, ["direct", 1]);
    fa.join("y");
    assert.ok(sa.rooms.has("y"));
    fa.leave("y");
    assert.ok(!sa.rooms.has("y"));
    io.in("x").socketsJoin(["j1", "j2"]);
    assert.ok(sb.rooms.has("j1") && sb.rooms.has("j2"));
    io.socketsLeave("j1");
    assert.ok(!sa.rooms.has("j1") && !sb.rooms.has("j1"));
    const reason = once<[string]>(sb, "disconnect");
    io.in(sb.id).disconnectSockets();
    assert.equal((await reason)[0], "server namespace disconnect");
    const p = await b.next();
    assert.equal(p.type, PacketType.DISCONNECT);
    assert.equal(b.isClosed, false);
    assert.deepEqual((await io.fetchSockets()).length, 2);
  });

  it("serverSideEmitWithAck resolves with no responses on a single server", async () => {
    const { io } = await setup();
    assert.deepEqual(await io.serverSideEmitWithAck("hello"), []);
    assert.equal(await io.of("/x").adapter.serverCount(), 1);
  });
});

describe("io: disconnection", () => {
  async function connected(options: ServerOptions = {}) {
    const { io, srv } = await setup(options);
    io.of("/other");
    const connection = once<[Socket]>(io, "connection");
    const c = await client(srv);
    const [socket] = await connection;
    socket.join("room");
    return { io, srv, c, socket };
  }

  function watch(socket: Socket): Promise<[string, string[]]> {
    let roomsWhileDisconnecting: string[] = [];
    socket.on("disconnecting", () => (roomsWhileDisconnecting = [...socket.rooms]));
    return once<[string]>(socket, "disconnect").then(([reason]) => [reason, roomsWhileDisconnecting]);
  }

  it("client namespace disconnect", async () => {
    const { io, c, socket } = await connected();
    const done = watch(socket);
    c.send({ type: PacketType.DISCONNECT, nsp: "/" });
    const [reason, rooms] = await done;
    assert.equal(reason, "client namespace disconnect");
    assert.deepEqual(rooms.sort(), ["room", socket.id].sort());
    assert.equal(socket.connected, false);
    assert.equal(socket.disconnected, true);
    assertNoRooms(io);
    socket.join("after");
    assertNoRooms(io);
  });

  it("transport close", async () => {
    const { io, c, socket } = await connected();
    const done = watch(socket);
    c.close();
    assert.equal((await done)[0], "transport close");
    assertNoRooms(io);
  });

  it("server namespace disconnect, keeping the connection", async () => {
    const { io, c, socket } = await connected();
    const done = watch(socket);
    socket.disconnect();
    assert.equal((await done)[0], "server namespace disconnect");
    assert.equal((await c.next()).type, PacketType.DISCONNECT);
    assertNoRooms(io);
    const again = await c.connectTo("/");
    assert.equal(again.type, PacketType.CONNECT);
  });

  it("disconnect(true) closes the whole connection", async () => {
    const { io, c, socket } = await connected();
    const other = await c.connectTo("/other");
    assert.equal(other.type, PacketType.CONNECT);
    const done = watch(socket);
    const [otherSocket] = io.of("/other").sockets.values();
    const otherDone = once<[string]>(otherSocket, "disconnect");
    socket.disconnect(true);
    assert.equal((await done)[0], "server namespace disconnect");
    assert.equal((await otherDone)[0], "server namespace disconnect");
    await c.closed();
    assertNoRooms(io);
    assertNoRooms(io, "/other");
  });

  it("server shutting down on io.close()", async () => {
    const { io, c, socket } = await connected();
    const done = watch(socket);
    await io.close();
    assert.equal((await done)[0], "server shutting down");
    await c.closed();
    assertNoRooms(io);
  });

  it("ping timeout", async () => {
    const { io, srv } = await setup({ pingInterval: 50, pingTimeout: 50 });
    const connection = once<[Socket]>(io, "connection");
    const c = new RawClient(`${srv.wsUrl}/socket.io/?EIO=4&transport=websocket`);
    clients.push(c);
    // Connect, then never answer a ping: the instance's `send` (used by the auto-pong) is muted
    // once the socket is connected (before, a slow CONNECT could meet the ping timeout).
    let muted = false;
    const send = c.ws.send.bind(c.ws);
    c.ws.send = (data) => {
      if (!muted) send(data);
    };
    c.ws.addEventListener("open", () => send("40"), { once: true });
    const [socket] = await connection;
    muted = true;
    const done = watch(socket);
    assert.equal((await done)[0], "ping timeout");
    assertNoRooms(io);
  });

  it("closes on a malformed packet (parse error) without affecting other clients", async () => {
    const { io, srv } = await setup();
    const sockets: Socket[] = [];
    io.on("connection", (s) => sockets.push(s));
    const bad = await client(srv);
    const good = await client(srv);
    sockets[0].join("room");
    sockets[1].join("room");
    const done = watch(sockets[0]);
    bad.sendRaw('2["unterminated');
    assert.equal((await done)[0], "parse error");
    await bad.closed();
    io.to("room").emit("still-here");
    assert.deepEqual((await good.nextEvent("still-here")).data, ["still-here"]);
    assert.equal(io.sockets.sockets.size, 1);
    assert.deepEqual([...io.sockets.adapter.rooms.get("room")!], [sockets[1].id]);
  });

  for (
    const [what, frame] of [
      ["a reserved event name", '2["disconnect"]'],
      ["an event that is not an array", '2{"a":1}'],
      ["an unknown packet type", "9"],
      ["binary data out of sequence", null],
    ] as const
  ) {
    it(`closes on ${what}`, async () => {
      const { io, srv } = await setup();
      const c = await client(srv);
      if (frame === null) c.ws.send(new Uint8Array([1, 2, 3]));
      else c.sendRaw(frame);
      await c.closed();
      await until(() => io.engine.clientsCount === 0, 2000, "the session to close");
      assertNoRooms(io);
    });
  }

  it("closes on a packet for a namespace that is not connected", async () => {
    const { io, srv } = await setup({}, (io) => io.of("/chat"));
    const c = await client(srv);
    c.sendRaw('2/chat,["hi"]');
    await c.closed();
    await until(() => io.engine.clientsCount === 0, 2000, "the session to close");
    assertNoRooms(io);
    assertNoRooms(io, "/chat");
  });

  it("cleans up a socket whose connection closes while its middleware is pending", async () => {
    let release!: () => void;
    const { io, srv } = await setup({}, (io) => {
      io.use((socket, next) => {
        socket.join("pending");
        release = next;
      });
    });
    const c = await rawClient(srv);
    c.send({ type: PacketType.CONNECT, nsp: "/" });
    await until(() => io.sockets.adapter.rooms.has("pending"), 3000, "the middleware to run");
    c.close();
    await c.closed();
    await until(() => io.engine.clientsCount === 0, 3000, "the server to see the close");
    release();
    assertNoRooms(io);
  });
});

describe("io: handler", () => {
  it("answers other paths with the fallback or 404", async () => {
    const io = new Server();
    const handler = io.handler({ fallback: (req) => new Response(`fallback ${new URL(req.url).pathname}`) });
    const res = await handler(new Request("http://localhost/hello"));
    assert.equal(await res.text(), "fallback /hello");
    const notFound = await io.handler()(new Request("http://localhost/hello"));
    assert.equal(notFound.status, 404);
    await notFound.text();
    const engineRes = await handler(new Request("http://localhost/socket.io/?EIO=4&transport=nope"));
    assert.equal(engineRes.status, 400);
    await engineRes.text();
    await io.close();
  });
});
