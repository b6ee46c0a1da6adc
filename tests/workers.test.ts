/**
 * The server on Cloudflare Workers, in real workerd (Miniflare): a Durable Object hosts it, the
 * Worker routes `/socket.io/` to it. Every test runs against the three hosting modes:
 * - `fast`: the WebSocket Hibernation API (`state.acceptWebSocket`, heartbeat from an alarm),
 * - `auto`: the same, pongs answered by the platform (`autoPong`),
 * - `plain`: in-memory `WebSocketPair`s and the engine's own heartbeat.
 * The client is the npm `socket.io-client` 4.8 (and a raw WebSocket for the heartbeat details).
 * Hibernation itself (eviction after 10 s idle) is in `workers_hibernation.test.ts`.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { decodedText, raw } from "./_raw_http.ts";
import { CLIENT_BUNDLE_GLOBAL } from "../src/io/_client_bundle.ts";
import { Fetch, io, type Socket } from "socket.io-client";
import { io as ourIo } from "../client.ts";
import { connected, delay, once, startWorkerd, TEST_WORKER, type WorkerdServer } from "./workers/_helpers.ts";

let server: WorkerdServer;
const sockets: Socket[] = [];

before(async () => {
  server = await startWorkerd(...TEST_WORKER);
});

after(async () => {
  await server?.close();
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
});

function bytesOf(value: unknown): Uint8Array {
  assert.ok(value instanceof Uint8Array || value instanceof ArrayBuffer, "not binary");
  return value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

describe("workerd: socket.io's Node forms", () => {
  it("new Server(port) fails with a message that says what to use", async () => {
    const text = await (await fetch(`${server.url}/forms`)).text();
    assert.match(text, /A port needs node:http, which workerd does not have/);
    assert.match(text, /defineSocketIoObject/);
  });
});

const KINDS = {
  fast: "hibernation API",
  auto: "hibernation API, pongs answered by the platform",
  plain: "in-memory WebSockets",
} as const;

for (const kind of ["fast", "auto", "plain"] as const) {
  describe(`workerd, ${KINDS[kind]}`, () => {
    let room = 0;
    /** A client of a fresh object (each test gets its own Durable Object by name). */
    function client(
      options: Parameters<typeof io>[1] = {},
      nsp = "",
      name = `${kind}-${room}`,
    ): Socket {
      const socket = io(server.url + nsp, {
        forceNew: true,
        reconnection: false,
        timeout: 3000,
        ...options,
        query: { do: kind, room: name },
      });
      sockets.push(socket);
      return socket;
    }
    afterEach(() => {
      room++;
    });

    it("polling: handshake, events, acks", async () => {
      const socket = client({ transports: ["polling"] });
      const [welcome] = await once(socket, "welcome");
      await connected(socket);
      assert.equal(welcome.id, socket.id);
      assert.equal(socket.io.engine.transport.name, "polling");
      socket.emit("message", "hello", 1, { a: [true] });
      assert.deepEqual(await once(socket, "message-back"), ["hello", 1, { a: [true] }]);
      assert.deepEqual(await socket.timeout(2000).emitWithAck("echo", "x", 2), "x");
    });

    it("websocket only: events, acks, binary", async () => {
      const socket = await connected(client({ transports: ["websocket"] }));
      assert.equal(socket.io.engine.transport.name, "websocket");
      assert.equal(await socket.timeout(2000).emitWithAck("echo", "ws"), "ws");
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      const back = await socket.timeout(2000).emitWithAck("echo", { file: bytes, n: 1 });
      assert.deepEqual(bytesOf(back.file), bytes);
      assert.equal(back.n, 1);
      socket.emit("message", bytes, "text");
      const [b, t] = await once(socket, "message-back");
      assert.deepEqual(bytesOf(b), bytes);
      assert.equal(t, "text");
    });

    it("polling: binary", async () => {
      const socket = await connected(client({ transports: ["polling"] }));
      const bytes = new Uint8Array(1000).map((_, i) => i % 256);
      const back = await socket.timeout(2000).emitWithAck("echo", bytes);
      assert.deepEqual(bytesOf(back), bytes);
    });

    it("upgrades from polling to websocket", async () => {
      const socket = client();
      await connected(socket);
      if (socket.io.engine.transport.name !== "websocket") await once(socket.io.engine, "upgrade");
      const info = await socket.timeout(2000).emitWithAck("whoami");
      assert.equal(info.transport, "websocket");
      assert.equal(await socket.timeout(2000).emitWithAck("echo", "after upgrade"), "after upgrade");
    });

    it("server-to-client acknowledgements", async () => {
      const socket = client({ transports: ["websocket"] });
      socket.on("question", (n: number, ack: (answer: number) => void) => ack(n * 2));
      await connected(socket);
      assert.equal(await socket.timeout(3000).emitWithAck("ask"), 42);
    });

    it("rooms across clients and transports", async () => {
      const a = await connected(client({ transports: ["websocket"] }));
      const b = await connected(client({ transports: ["polling"] }));
      const c = await connected(client({ transports: ["websocket"] }));
      assert.equal(await a.timeout(2000).emitWithAck("join", "r"), true);
      assert.equal(await b.timeout(2000).emitWithAck("join", "r"), true);
      let cGot = false;
      c.on("room-back", () => (cGot = true));
      const gotA = once(a, "room-back");
      const gotB = once(b, "room-back");
      c.emit("to-room", "r", "hi", 7);
      assert.deepEqual(await gotA, ["hi", 7]);
      assert.deepEqual(await gotB, ["hi", 7]);
      await delay(100);
      assert.equal(cGot, false);
      const info = await a.timeout(2000).emitWithAck("whoami");
      assert.deepEqual(info.rooms, [a.id, "r"].sort());
      assert.equal(info.clients, 3);
    });

    it("namespaces with auth", async () => {
      const socket = client({ transports: ["websocket"], auth: { token: "t" } }, "/custom");
      const [auth] = await once(socket, "auth");
      assert.deepEqual(auth, { token: "t" });
    });

    it("heartbeat keeps a quiet websocket session alive", async () => {
      const socket = await connected(client({ transports: ["websocket"] }));
      let pings = 0;
      socket.io.engine.on("ping", () => pings++);
      await delay(1500); // pingInterval 400 + pingTimeout 300: several rounds
      assert.ok(pings >= 2, `only ${pings} pings`);
      assert.equal(socket.connected, true);
      assert.equal(await socket.timeout(2000).emitWithAck("echo", "still here"), "still here");
    });

    it("closes a websocket session that does not answer pings", async () => {
      const url = `${
        server.url.replace("http", "ws")
      }/socket.io/?EIO=4&transport=websocket&do=${kind}&room=${kind}-${room}`;
      const ws = new WebSocket(url);
      const frames: string[] = [];
      ws.onmessage = (event) => frames.push(String(event.data));
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      // The server's close frame puts the socket in CLOSING (2). Node's and Bun's clients then wait
      // for workerd to end the TCP connection, which it does not do for a hibernatable WebSocket
      // the object closed (Deno's client closes at once): CLOSING is the server's answer.
      const start = Date.now();
      while (ws.readyState < 2) {
        if (Date.now() - start > 3000) throw new Error("not closed");
        await delay(20);
      }
      const elapsed = Date.now() - start;
      assert.ok(frames[0].startsWith("0{"), frames[0]);
      assert.ok(frames.includes("2"), `no ping in ${JSON.stringify(frames)}`);
      assert.ok(elapsed >= 400, `closed after ${elapsed} ms`);
    });

    it("a raw pong gets no answer (autoPong: a noop)", async () => {
      const url = `${
        server.url.replace("http", "ws")
      }/socket.io/?EIO=4&transport=websocket&do=${kind}&room=${kind}-${room}`;
      const ws = new WebSocket(url);
      const frames: string[] = [];
      const ping = new Promise<void>((resolve) => {
        ws.onmessage = (event) => {
          frames.push(String(event.data));
          if (event.data === "2") {
            ws.send("3");
            resolve();
          }
        };
      });
      await ping;
      // autoPong: the platform answers "3" with a noop "6" (clients ignore it); otherwise nothing
      // comes within 200 ms.
      const end = Date.now() + (kind === "auto" ? 3000 : 200);
      while (!frames.includes("6") && Date.now() < end) await delay(10);
      ws.close();
      const after = frames.slice(frames.indexOf("2") + 1).filter((f) => f !== "2");
      assert.deepEqual(after, kind === "auto" ? ["6"] : []);
    });

    it("a session whose close listener throws is cleaned up, and the others' heartbeat goes on", async () => {
      const url = `${
        server.url.replace("http", "ws")
      }/socket.io/?EIO=4&transport=websocket&do=${kind}&room=${kind}-${room}`;
      // B answers its pings; A does not, and its session's close listener throws.
      const b = new WebSocket(url);
      const bPings: number[] = [];
      b.onmessage = (event) => {
        if (event.data === "2") {
          bPings.push(Date.now());
          b.send("3");
        }
      };
      const a = new WebSocket(`${url}&throw_on_close`);
      const aFrames: string[] = [];
      a.onmessage = (event) => aFrames.push(String(event.data));
      // Closed by the heartbeat (CLOSING is the server's answer, see above).
      const start = Date.now();
      while (a.readyState < 2) {
        if (Date.now() - start > 3000) throw new Error("A not closed");
        await delay(20);
      }
      const closedAt = Date.now();
      assert.ok(aFrames.includes("2"), `A got no ping: ${JSON.stringify(aFrames)}`);
      // B's pings go on at the usual pace: two within three pingIntervals of A's close. (An alarm
      // that throws is retried by the platform after 2 s or more, with no ping for anyone meanwhile.)
      while (bPings.filter((t) => t > closedAt).length < 2 && Date.now() - closedAt < 5000) await delay(20);
      const after = bPings.filter((t) => t > closedAt).map((t) => t - closedAt);
      assert.ok(after.length >= 2 && after[1] < 1200, `B's pings after A closed: ${JSON.stringify(after)} ms`);
      // A's session is gone from the server: B and the asking client are left.
      const probe = client();
      const info = await (await connected(probe)).timeout(2000).emitWithAck("whoami") as { clients: number };
      b.close();
      assert.equal(info.clients, 2);
    });

    it("pings a session that joins a running heartbeat no sooner than min(pingInterval, pingTimeout) / 2", async () => {
      // pingInterval 400, pingTimeout 300: no first ping within 150 ms of the handshake, wherever
      // in the shared round the session opened. Sessions open every 30 ms across a whole round,
      // so one opens just before a round's pings; every session answers its pings.
      const url = `${
        server.url.replace("http", "ws")
      }/socket.io/?EIO=4&transport=websocket&do=${kind}&room=${kind}-${room}`;
      const live = (): { ws: WebSocket; pings: number[] } => {
        const ws = new WebSocket(url);
        const session = { ws, pings: [] as number[] };
        let openedAt = 0;
        ws.onmessage = (event) => {
          if (String(event.data).startsWith("0{")) openedAt = Date.now();
          if (event.data === "2") {
            session.pings.push(Date.now() - openedAt);
            ws.send("3");
          }
        };
        return session;
      };
      const anchor = live(); // starts the round
      const sessions = [];
      for (let i = 0; i < 15; i++) {
        await delay(30);
        sessions.push(live());
      }
      const end = Date.now() + 5000;
      while (sessions.some((s) => s.pings.length < 2) && Date.now() < end) await delay(20);
      for (const s of [anchor, ...sessions]) s.ws.close();
      const first = sessions.map((s) => s.pings[0]);
      assert.ok(sessions.every((s) => s.pings.length >= 2), `pings: ${JSON.stringify(sessions.map((s) => s.pings))}`);
      // 50 ms for the difference between the two frames' trips
      assert.ok(Math.min(...first) >= 100, `first pings after ${JSON.stringify(first)} ms`);
      // ... and no later than pingInterval + pingTimeout, when a client gives up
      assert.ok(Math.max(...first) < 700, `first pings after ${JSON.stringify(first)} ms`);
    });
  });
}

describe("workerd: compression and the served client", () => {
  // The object sees Cloudflare's `Accept-Encoding: br, gzip` whatever the client sent, so it sends
  // plain answers and workerd compresses them for the clients that ask (a body compressed by the
  // object went to a client that sent no Accept-Encoding as it was: socket.io-client's XHR broke).
  it("leaves polling answers' compression to the platform, which follows the client's Accept-Encoding", async () => {
    const big = "x".repeat(3000);
    for (const accept of ["gzip, deflate", "br", undefined, "identity"]) {
      const query = `do=plain&room=compression-${accept}`;
      const open = decodedText(await raw(`${server.url}/socket.io/?EIO=4&transport=polling&${query}`));
      const poll = `${server.url}/socket.io/?EIO=4&transport=polling&sid=${JSON.parse(open.slice(1)).sid}&${query}`;
      assert.equal(decodedText(await raw(poll, {}, "POST", "40")), "ok");
      assert.match(decodedText(await raw(poll)), /^40\{"sid":/);
      assert.equal(decodedText(await raw(poll, {}, "POST", `42["message","${big}"]`)), "ok");
      const answer = await raw(poll, accept === undefined ? {} : { "accept-encoding": accept });
      assert.equal(answer.headers["content-encoding"], accept?.split(",")[0].replace("identity", "") || undefined);
      assert.equal(decodedText(answer), `42["message-back","${big}"]`, `Accept-Encoding: ${accept}`);
      await raw(poll, {}, "POST", "1");
    }
  });

  it("socket.io-client 4.8 (XHR and Fetch) and our client exchange large messages over compressed polling", async () => {
    const text = "compress me ".repeat(500);
    const clients = [
      io(server.url, { forceNew: true, reconnection: false, transports: ["polling"], query: { do: "plain" } }),
      io(server.url, { forceNew: true, reconnection: false, transports: [Fetch], query: { do: "plain" } }),
      ourIo(server.url, { forceNew: true, reconnection: false, transports: ["polling"], query: { do: "plain" } }),
    ];
    try {
      for (const socket of clients) {
        // deno-lint-ignore no-explicit-any
        const reply = await (socket as any).timeout(3000).emitWithAck("echo", text, new Uint8Array(3000).fill(5));
        assert.equal(reply, text);
      }
    } finally {
      for (const socket of clients) socket.disconnect();
    }
  });

  it("serves the client's files and maps (compressed by the platform), with a 304 for their ETag", async () => {
    const base = `${server.url}/socket.io/`;
    const query = "?do=plain&room=client-files";
    for (const accept of ["gzip, deflate, br", "br", undefined]) {
      const script = await raw(
        `${base}socket.io.min.js${query}`,
        accept === undefined ? {} : { "accept-encoding": accept },
      );
      assert.equal(script.status, 200);
      assert.equal(script.headers["content-encoding"], accept?.split(",")[0]);
      assert.equal(decodedText(script), CLIENT_BUNDLE_GLOBAL, `Accept-Encoding: ${accept}`);
    }
    const map = await raw(`${base}socket.io.msgpack.min.js.map${query}`, { "accept-encoding": "gzip" });
    assert.equal(map.headers["content-encoding"], "gzip");
    assert.ok(JSON.parse(decodedText(map)).sources.includes("src/parser/msgpack.ts"));
    const cached = await raw(`${base}socket.io.msgpack.min.js.map${query}`, {
      "if-none-match": String(map.headers["etag"]),
    });
    assert.equal(cached.status, 304);
  });

  it("permessage-deflate is the platform's: workerd negotiates it whatever the options say", async () => {
    const port = Number(new URL(server.url).port);
    for (const kind of ["plain", "fast"]) {
      const socket = netConnect(port, "127.0.0.1");
      await once(socket, "connect");
      socket.write(
        `GET /socket.io/?EIO=4&transport=websocket&do=${kind}&room=deflate HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
      );
      const [head] = await once(socket, "data");
      socket.destroy();
      assert.match(String(head), /^HTTP\/1\.1 101/);
      assert.match(String(head), /\r\nsec-websocket-extensions: permessage-deflate/i, kind);
    }
  });
});
