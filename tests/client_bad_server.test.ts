// Bad input from a server: malformed packets, hang-ups mid-handshake, silence. Each must end in the
// documented error events (`connect_error`, Manager `error`, `disconnect` with a reason) followed by
// reconnection attempts, never an unhandled rejection or a hang.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { Server as NetServer, Socket as NetSocket } from "node:net";
import process from "node:process";
import { Engine, Manager } from "../client.ts";
import type { ClientOptions } from "../client.ts";
import { closeAll, connect, next, sleep } from "./client/_helpers.ts";
import { fakeFetch, fakeWebSocket, openPacket } from "./client/_fake.ts";
import { until } from "./conformance/_helpers.ts";
import type { FakeWebSocket } from "./client/_fake.ts";

const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

const URL_ = "http://fake.test";

function fetchOnly(fetch: ClientOptions["fetch"], extra: ClientOptions = {}): ClientOptions {
  return { fetch, transports: ["polling"], reconnectionDelay: 20, reconnectionDelayMax: 20, ...extra };
}

describe("client against a misbehaving server", () => {
  before(() => {
    process.on("unhandledRejection", onRejection);
  });
  after(() => {
    process.off("unhandledRejection", onRejection);
  });
  afterEach(async () => {
    closeAll();
    await sleep(30);
    assert.deepEqual(rejections, []);
  });

  it("reports a handshake that is not Engine.IO and retries", async () => {
    const fake = fakeFetch(() => "hello, I am not Engine.IO");
    const socket = connect(URL_, fetchOnly(fake.fetch));
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "parse error");
    await next(socket.io, "reconnect_attempt");
    await next(socket.io, "reconnect_error");
  });

  it("reports an open packet with bad JSON", async () => {
    const fake = fakeFetch(() => "0{not json");
    const socket = connect(URL_, fetchOnly(fake.fetch));
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "Invalid handshake");
  });

  it("reports a packet other than open before the handshake", async () => {
    const fake = fakeFetch(() => "4hello");
    const socket = connect(URL_, fetchOnly(fake.fetch));
    const [err] = await next(socket, "connect_error");
    assert.match(err.message, /before the handshake/);
  });

  it("reports HTTP errors with the status and body", async () => {
    const fake = fakeFetch(() => new Response('{"code":3,"message":"Bad request"}', { status: 400 }));
    const socket = connect(URL_, fetchOnly(fake.fetch));
    const managerError = next(socket.io, "error");
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "fetch read error");
    assert.equal(err.type, "TransportError");
    assert.equal(err.description, 400);
    assert.match(err.context.body, /Bad request/);
    assert.equal((await managerError)[0], err);
  });

  it("reports network failures", async () => {
    const fake = fakeFetch(() => Promise.reject(new TypeError("connection refused")));
    const socket = connect(URL_, fetchOnly(fake.fetch));
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "fetch read error");
    assert.match(String(err.description), /connection refused/);
  });

  it("gives up a handshake that never comes after `timeout` and aborts the request", async () => {
    const fake = fakeFetch(() => "hang");
    const socket = connect(URL_, fetchOnly(fake.fetch, { timeout: 100, reconnection: false }));
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "timeout");
    await sleep(10);
    assert.equal(fake.pending(), 0);
  });

  it("stops after reconnectionAttempts with reconnect_failed", async () => {
    const fake = fakeFetch(() => new Response("", { status: 503 }));
    const socket = connect(URL_, fetchOnly(fake.fetch, { reconnectionAttempts: 2 }));
    const attempts: number[] = [];
    socket.io.on("reconnect_attempt", (n) => attempts.push(n));
    await next(socket.io, "reconnect_failed");
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(fake.requests.length, 3);
  });

  it("closes with `parse error` on a malformed Socket.IO packet, then reconnects", async () => {
    let handshakes = 0;
    let served = false;
    const fake = fakeFetch((req) => {
      if (req.method === "POST") return "ok";
      if (!req.sid) return openPacket("s" + ++handshakes);
      if (!served) {
        served = true;
        return '40{"sid":"abc"}\x1e4x';
      }
      return "hang";
    });
    const socket = connect(URL_, fetchOnly(fake.fetch));
    const disconnected = next(socket, "disconnect");
    await next(socket, "connect");
    const [reason] = await disconnected;
    assert.equal(reason, "parse error");
    await next(socket.io, "reconnect_attempt");
    assert.ok(handshakes >= 1);
  });

  it("closes with `ping timeout` when the server goes silent, then reconnects", async () => {
    let handshakes = 0;
    const served = new Set<string>();
    const fake = fakeFetch((req) => {
      if (req.method === "POST") return "ok";
      if (!req.sid) return openPacket("s" + ++handshakes, 60, 40);
      if (served.has(req.sid)) return "hang";
      served.add(req.sid);
      return '40{"sid":"abc"}';
    });
    const socket = connect(URL_, fetchOnly(fake.fetch));
    await next(socket, "connect");
    const started = Date.now();
    const [reason] = await next(socket, "disconnect");
    assert.equal(reason, "ping timeout");
    assert.ok(Date.now() - started >= 60, "waited pingInterval + pingTimeout");
    await next(socket.io, "reconnect_attempt");
  });

  it("aborts every request on close: a GET whose body never ends, and an unanswered goodbye", async () => {
    // The goodbye POST was not in the list aborted after a second, and a GET whose headers had
    // come could no longer be aborted: either stayed open as long as the server wanted.
    let gets = 0;
    const fake = fakeFetch((req) => {
      if (req.method === "POST") return req.body === "1" ? "hang" : "ok";
      if (!req.sid) return openPacket("s1", 10000, 5000);
      if (++gets === 1) return '40{"sid":"abc"}';
      // Headers now, a body never (until the request is aborted).
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const stop = () => controller.error(new DOMException("The operation was aborted", "AbortError"));
          if (req.signal.aborted) stop();
          else req.signal.addEventListener("abort", stop);
        },
      });
      return new Response(body, { status: 200 });
    });
    const socket = connect(URL_, fetchOnly(fake.fetch, { reconnection: false }));
    await next(socket, "connect");
    await until(() => gets >= 2, 3000, "the GET whose body never ends");
    socket.disconnect();
    await until(() => fake.requests.some((r) => r.body === "1"), 3000, "the goodbye");
    const endless = fake.requests.filter((r) => r.method === "GET" && r.sid !== null)[1];
    const goodbye = fake.requests.find((r) => r.body === "1")!;
    await until(() => endless.signal.aborted && goodbye.signal.aborted, 3000, "both aborted");
  });

  it("closes once when closed during an upgrade whose paused poll then fails", async () => {
    // Closing cancelled the probe first, which resumed and flushed the closing transport and
    // closed the engine a second time ("forced close", then "transport error").
    let releaseGet: (answer: Response) => void = () => {};
    const fake = fakeFetch((req) => {
      if (req.method === "POST") return "ok";
      if (!req.sid) return openPacket("s1", 25000, 20000, ["websocket"]);
      return new Promise<Response>((resolve) => releaseGet = resolve);
    });
    const engine = new Engine(URL_, {
      fetch: fake.fetch,
      WebSocket: fakeWebSocket((ws) => {
        const send = ws.send.bind(ws);
        ws.send = (data) => {
          send(data);
          if (data === "2probe") queueMicrotask(() => ws.message("3probe"));
        };
        ws.open();
      }),
    });
    const closes: string[] = [];
    engine.on("close", (reason: string) => closes.push(reason));
    engine.on("error", () => {});
    const upgrading = new Promise<void>((resolve) => engine.on("upgrading", () => resolve()));
    engine.open();
    await upgrading;
    engine.close();
    releaseGet(new Response("boom", { status: 500 }));
    await until(() => closes.length > 0, 3000, "the close");
    await sleep(100); // a second close would follow at once
    // The close waited for the upgrade; the failed poll ends it, once.
    assert.deepEqual(closes, ["transport error"]);
    // ... and the pausing polling transport is closed too (it stayed "pausing" and writable, so a
    // volatile emit of the socket was buffered instead of dropped).
    assert.equal(engine.transport?.readyState, "closed");
    assert.equal(engine.transport?.writable, false);
  });

  it("keeps timer delays in range for a handshake with huge ping values, refuses non-numbers", async () => {
    // pingInterval + pingTimeout past 2^31 - 1 ms made runtimes fire the heartbeat check at once,
    // which re-armed itself every millisecond for ever.
    const original = globalThis.setTimeout;
    const outOfRange: number[] = [];
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      if (typeof ms === "number" && ms > 2 ** 31 - 1) outOfRange.push(ms);
      return original(fn, Math.min(ms ?? 0, 2 ** 31 - 1), ...args);
    }) as typeof setTimeout;
    try {
      let gets = 0;
      const fake = fakeFetch((req) => {
        if (req.method === "POST") return "ok";
        if (!req.sid) return openPacket("s1", 2 ** 31, 2 ** 31);
        return ++gets === 1 ? '40{"sid":"abc"}' : "hang";
      });
      const socket = connect(URL_, fetchOnly(fake.fetch, { reconnection: false }));
      await next(socket, "connect");
      assert.deepEqual(outOfRange, []);
      socket.disconnect();
    } finally {
      globalThis.setTimeout = original;
    }
    const strings = fakeFetch((req) =>
      req.sid ? "hang" : "0" + JSON.stringify({ sid: "s", upgrades: [], pingInterval: "300", pingTimeout: "200" })
    );
    const socket = connect(URL_, fetchOnly(strings.fetch, { reconnection: false }));
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "Invalid handshake");
  });

  it("turns an auth function that throws into connect_error, and the connection stays whole", async () => {
    // The throw escaped the manager's "open" half-way: no data listener, no heartbeat, no poll,
    // and every socket of the connection waited for ever.
    let gets = 0;
    let connectPosted: () => void = () => {};
    const posted = new Promise<void>((resolve) => connectPosted = resolve);
    const fake = fakeFetch((req) => {
      if (req.method === "POST") {
        if (req.body === "40/other,") connectPosted();
        return "ok";
      }
      if (!req.sid) return openPacket("s1", 10000, 5000);
      if (++gets === 1) return posted.then(() => '40/other,{"sid":"o"}');
      return "hang";
    });
    const manager = new Manager(URL_, fetchOnly(fake.fetch, { reconnection: false }));
    const failing = manager.socket("/", {
      auth: () => {
        throw new Error("no token");
      },
    });
    const [err] = await next(failing, "connect_error");
    assert.equal(err.message, "no token");
    const other = manager.socket("/other");
    await next(other, "connect");
    other.disconnect();
    failing.disconnect();
  });

  it("counts only pings for the heartbeat, and emits engine.io-client's engine events", async () => {
    // A server whose pings stopped but whose messages still come is found out (engine.io-client
    // resets its deadline on pings only; any packet used to count here).
    let gets = 0;
    const fake = fakeFetch(async (req) => {
      if (req.method === "POST") return "ok";
      if (!req.sid) return openPacket("s1", 100, 100);
      gets++;
      await sleep(gets === 1 ? 0 : 30);
      return gets === 1 ? "2" : `4message ${gets}`;
    });
    const engine = new Engine(URL_, { fetch: fake.fetch, transports: ["polling"] });
    const seen: string[] = [];
    for (const event of ["ping", "pong", "heartbeat", "message", "flush"] as const) {
      engine.on(event, () => seen.push(event));
    }
    const created: unknown[] = [];
    engine.on("packetCreate", (packet) => created.push(packet));
    const closed = new Promise<string>((resolve) => engine.on("close", (reason: string) => resolve(reason)));
    engine.open();
    await until(() => seen.includes("message"), 3000, "a message");
    engine.send("hello");
    assert.equal(await closed, "ping timeout");
    assert.deepEqual(seen.slice(0, 4), ["heartbeat", "flush", "ping", "pong"]); // the pong goes out first
    assert.ok(seen.includes("message") && seen.filter((e) => e === "heartbeat").length >= 2);
    assert.deepEqual(created, [
      { type: "pong", options: { compress: true } },
      { type: "message", data: "hello", options: { compress: true } },
    ]);
  });

  it("answers pings with pongs and stays connected", async () => {
    let gets = 0;
    const posts: string[] = [];
    const fake = fakeFetch(async (req) => {
      if (req.method === "POST") {
        posts.push(req.body!);
        return "ok";
      }
      if (!req.sid) return openPacket("s1", 40, 200);
      gets++;
      if (gets === 1) return '40{"sid":"abc"}';
      if (gets < 6) {
        await sleep(40);
        return "2";
      }
      return "hang";
    });
    const socket = connect(URL_, fetchOnly(fake.fetch));
    await next(socket, "connect");
    let pings = 0;
    socket.io.on("ping", () => pings++);
    await until(() => pings >= 3 && posts.filter((p) => p === "3").length >= 3, 3000, "three pings and pongs");
    assert.ok(socket.connected);
    assert.ok(pings >= 3, `pings: ${pings}`);
    assert.ok(posts.filter((p) => p === "3").length >= 3, `posts: ${posts}`);
  });

  it("treats a close packet during the handshake as a failed attempt", async () => {
    const fake = fakeFetch((req) => (req.sid ? "hang" : "1"));
    const socket = connect(URL_, fetchOnly(fake.fetch, { reconnection: false }));
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "transport close");
  });

  it("reports a WebSocket that fails, closes before the handshake, or sends garbage", async () => {
    for (
      const play of [
        (ws: FakeWebSocket) => ws.fail(),
        (ws: FakeWebSocket) => {
          ws.open();
          ws.close();
        },
        (ws: FakeWebSocket) => {
          ws.open();
          ws.message("garbage");
        },
        (ws: FakeWebSocket) => {
          ws.open();
          ws.message(openPacket());
          ws.message('40{"sid":"x"}');
          ws.message('451-["bin",{"_placeholder":true,"num":0}]');
          ws.message("4 unexpected text while waiting for an attachment");
        },
      ]
    ) {
      const socket = connect(URL_, {
        transports: ["websocket"],
        WebSocket: fakeWebSocket(play),
        reconnection: false,
      });
      const failed = await Promise.race([
        next(socket, "connect_error").then(([err]) => `connect_error: ${err.message}`),
        next(socket, "disconnect").then(([reason]) => `disconnect: ${reason}`),
      ]);
      assert.match(failed, /connect_error: (websocket error|transport close|parse error)|disconnect: parse error/);
      socket.disconnect();
    }
  });

  describe("over a real socket that hangs up", () => {
    let server: NetServer;
    let url = "";
    const sockets = new Set<NetSocket>();
    before(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        // Read the request line, then hang up without answering.
        socket.once("data", () => socket.destroy());
        socket.on("error", () => {});
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    for (const transport of ["polling", "websocket"] as const) {
      it(`reports the hang-up on ${transport} and tries again`, async () => {
        const socket = connect(url, { transports: [transport], reconnectionDelay: 20, reconnectionDelayMax: 20 });
        const [err] = await next(socket, "connect_error");
        assert.match(err.message, transport === "polling" ? /fetch read error/ : /websocket error/);
        await next(socket.io, "reconnect_error");
      });
    }
  });

  it("fails without transports", async () => {
    const manager = new Manager(URL_, { transports: [], autoConnect: false, reconnection: false });
    const err = await new Promise<Error | undefined>((resolve) => manager.open(resolve));
    assert.match(String(err?.message), /No transports/);
  });
});
