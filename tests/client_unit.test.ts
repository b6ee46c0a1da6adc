// Unit tests of the client's pieces that need no server: back-off, cookie jar, io() caching and
// multiplexing, buffering rules, typed events.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "../src/client/backoff.ts";
import { CookieJar } from "../src/client/cookie_jar.ts";
import { io, Manager, Socket } from "../client.ts";

const OFF = { autoConnect: false } as const;

describe("Backoff", () => {
  it("grows exponentially up to max", () => {
    const backoff = new Backoff({ min: 100, max: 1000 });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => backoff.duration()), [100, 200, 400, 800, 1000]);
    assert.equal(backoff.attempts, 5);
    backoff.reset();
    assert.equal(backoff.duration(), 100);
  });

  it("randomizes within the jitter", () => {
    const backoff = new Backoff({ min: 1000, max: 100000, jitter: 0.5 });
    for (let i = 0; i < 50; i++) {
      backoff.reset();
      const first = backoff.duration();
      assert.ok(first >= 500 && first <= 1500, String(first));
      const second = backoff.duration();
      assert.ok(second >= 1000 && second <= 3000, String(second));
    }
  });

  it("never overflows, and stays at max after thousands of attempts, with jitter too", () => {
    const backoff = new Backoff({ min: 1000, max: 5000 });
    for (let i = 0; i < 2000; i++) assert.ok(backoff.duration() <= 5000);
    // min * factor^attempts is Infinity past ~1,015 attempts: with jitter it used to give NaN | 0 = 0
    const jittered = new Backoff({ min: 1000, max: 5000, jitter: 0.5 });
    const late: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const ms = jittered.duration();
      if (i >= 1000) late.push(ms);
    }
    assert.deepEqual([...new Set(late)], [5000]);
  });
});

describe("CookieJar", () => {
  it("keeps name=value pairs and drops expired cookies", () => {
    const jar = new CookieJar();
    jar.parse(["io=abc; Path=/; HttpOnly; SameSite=Lax", 'lb="node-2"; Max-Age=60', "gone=1; Max-Age=0"]);
    assert.equal(jar.header(), "io=abc; lb=node-2");
    jar.parse(["io=def", "old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "=nameless", "novalue"]);
    assert.equal(jar.header(), "io=def; lb=node-2");
  });
});

describe("io()", () => {
  it("shares one Manager between namespaces of a server", () => {
    const a = io("http://cache.test:1234", OFF);
    const b = io("http://cache.test:1234/admin", OFF);
    assert.equal(a.io, b.io);
    assert.equal(b.nsp, "/admin");
    // The same namespace again gets a new connection, as do forceNew and multiplex: false.
    assert.notEqual(io("http://cache.test:1234", OFF).io, a.io);
    assert.notEqual(io("http://cache.test:1234/x", { ...OFF, forceNew: true }).io, a.io);
    assert.notEqual(io("http://cache.test:1234/y", { ...OFF, multiplex: false }).io, a.io);
    // Default ports and ws:// URLs resolve to the same server.
    assert.equal(io("ws://cache.test:1234/z", OFF).io, a.io);
    const c = io("http://cache.test", OFF);
    assert.equal(io("http://cache.test:80/other", OFF).io, c.io);
  });

  it("accepts options alone, and protocol-less URLs", () => {
    assert.throws(() => io({ ...OFF, forceNew: true }), /needs a URL, or the hostname option/);
    const socket = io("http://path.test", { ...OFF, path: "/custom-path" });
    assert.equal(socket.io.opts.path, "/custom-path");
    assert.equal(io("example.test/chat", OFF).nsp, "/chat");
  });

  it("exposes connect as an alias and the Manager/Socket classes", async () => {
    const mod = await import("../client.ts");
    assert.equal(mod.connect, mod.io);
    const manager = new Manager("http://m.test", OFF);
    const socket = manager.socket("/");
    assert.ok(socket instanceof Socket);
    assert.equal(manager.socket("/"), socket);
  });
});

describe("Socket (not connected)", () => {
  it("buffers emits, drops volatile ones, and forbids reserved names", () => {
    const socket = io("http://buffer.test", { ...OFF, forceNew: true });
    socket.emit("a", 1);
    socket.volatile.emit("b", 2);
    socket.compress(false).emit("c", 3, () => {});
    assert.deepEqual(socket.sendBuffer.map((p) => p.data), [["a", 1], ["c", 3]]);
    assert.equal(socket.sendBuffer[1].id, 0);
    for (const name of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      assert.throws(() => socket.emit(name), /reserved event name/);
    }
    assert.equal(socket.connected, false);
    assert.equal(socket.disconnected, true);
    assert.equal(socket.active, false);
  });

  it("drops a buffered event whose ack timed out", async () => {
    const socket = io("http://buffer.test", { ...OFF, forceNew: true });
    await assert.rejects(socket.timeout(10).emitWithAck("x"), /operation has timed out/);
    assert.equal(socket.sendBuffer.length, 0);
  });

  it("manages catch-all listeners", () => {
    const socket = io("http://buffer.test", { ...OFF, forceNew: true });
    const a = () => {};
    const b = () => {};
    socket.onAny(a).prependAny(b);
    assert.deepEqual(socket.listenersAny(), [b, a]);
    socket.offAny(b);
    assert.deepEqual(socket.listenersAny(), [a]);
    socket.onAnyOutgoing(a).prependAnyOutgoing(b);
    assert.deepEqual(socket.listenersAnyOutgoing(), [b, a]);
    socket.offAnyOutgoing();
    assert.deepEqual(socket.listenersAnyOutgoing(), []);
  });

  it("types events from the server's event maps", () => {
    interface ServerToClient {
      news: (text: string, at: number) => void;
    }
    interface ClientToServer {
      hello: (name: string, ack: (reply: string) => void) => void;
      ping: () => void;
    }
    const socket = io<ServerToClient, ClientToServer>("http://typed.test", { ...OFF, forceNew: true });
    socket.on("news", (text, at) => {
      const t: string = text;
      const n: number = at;
      void t, n;
    });
    socket.on("connect_error", (err) => void err.message);
    socket.on("disconnect", (reason) => void reason.toUpperCase());
    socket.emit("ping");
    socket.emit("hello", "ann", (reply) => void reply.toUpperCase());
    // @ts-expect-error: wrong argument type
    socket.emit("hello", 42, () => {});
    // @ts-expect-error: unknown event
    socket.emit("nope");
    socket.timeout(10).emit("hello", "ann", (err, reply) => void [err, reply]);
    const promise: Promise<string> = socket.timeout(10).emitWithAck("hello", "ann");
    promise.catch(() => {});
  });
});
