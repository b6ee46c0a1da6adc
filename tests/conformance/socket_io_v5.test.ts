/**
 * Socket.IO v5 conformance: every scenario of the official suite
 * (socketio/socket.io `docs/socket.io-protocol/v5-test-suite/test-suite.js`, which repeats the
 * Engine.IO scenarios on `/socket.io/`), plus protocol facts from `docs/protocol.md` and the
 * fixture's extra events (broadcast, join, to-room, count) that the suite lacks.
 *
 * Runs against ours by default; `FIXTURE=reference` runs it against the real npm socket.io.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Fixture, startFixture } from "../_fixture_process.ts";
import {
  bytes,
  closeAllWebSockets,
  createWebSocket,
  Polling,
  pollUntilRefused,
  request,
  sleep,
  type TestSocket,
} from "./_helpers.ts";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const HANDSHAKE_KEYS = ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"];

let fixture: Fixture;
let URL_: string;
let WS_URL: string;

async function initLongPollingSession(): Promise<string> {
  const p = new Polling(URL_, "/socket.io/");
  await p.open();
  return p.sid;
}

/** A WebSocket session connected to `/` (handshake and `auth` packet consumed). */
async function initSocketIOConnection(): Promise<TestSocket> {
  const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
  await socket.waitFor("message"); // Engine.IO handshake
  socket.send("40");
  await socket.next(); // Socket.IO handshake
  await socket.next(); // "auth" packet
  return socket;
}

/** Like initSocketIOConnection, but answers every ping so the session outlives a few intervals. */
async function initLiveConnection(auth = ""): Promise<LiveSocket> {
  const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
  const handshake = await socket.waitFor("message");
  const engineSid = JSON.parse(handshake.data.substring(1)).sid as string;
  const live = new LiveSocket(socket, engineSid);
  socket.send("40" + auth);
  const connect = await live.next();
  assert.ok(typeof connect === "string" && connect.startsWith("40{"), String(connect));
  live.ioSid = JSON.parse(connect.substring(2)).sid;
  assert.equal(await live.next(), `42["auth",${auth || "{}"}]`);
  return live;
}

/** A WebSocket session that answers pings with pongs and queues every other packet. */
class LiveSocket {
  readonly packets: Array<string | ArrayBuffer> = [];
  readonly waiters: Array<(p: string | ArrayBuffer) => void> = [];
  ioSid = "";
  readonly socket: TestSocket;
  readonly engineSid: string;
  constructor(socket: TestSocket, engineSid: string) {
    this.socket = socket;
    this.engineSid = engineSid;
    socket.ws.addEventListener("message", (event: MessageEvent) => {
      // the buffered TestSocket queue is bypassed: this listener sees every frame
      if (event.data === "2") {
        socket.send("3");
        return;
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter(event.data);
      else this.packets.push(event.data);
    });
  }
  send(data: string | Uint8Array): void {
    this.socket.send(data);
  }
  next(ms = 3000): Promise<string | ArrayBuffer> {
    const queued = this.packets.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`Timed out after ${ms} ms waiting for a packet`));
      }, ms);
      const waiter = (p: string | ArrayBuffer) => {
        clearTimeout(timer);
        resolve(p);
      };
      this.waiters.push(waiter);
    });
  }
  close(): void {
    this.socket.close();
  }
}

describe("Socket.IO v5 protocol", () => {
  before(async () => {
    fixture = await startFixture();
    URL_ = fixture.url;
    WS_URL = fixture.wsUrl;
  });
  after(async () => {
    closeAllWebSockets();
    await fixture?.close();
  });
  afterEach(() => closeAllWebSockets());

  describe("Engine.IO protocol", () => {
    describe("handshake", () => {
      describe("HTTP long-polling", () => {
        it("should successfully open a session", async () => {
          const res = await request(`${URL_}/socket.io/?EIO=4&transport=polling`);
          assert.equal(res.status, 200);
          assert.ok(res.text.startsWith("0"), res.text);
          const value = JSON.parse(res.text.substring(1));
          assert.deepEqual(Object.keys(value).sort(), HANDSHAKE_KEYS);
          assert.equal(typeof value.sid, "string");
          assert.deepEqual(value.upgrades, ["websocket"]);
          assert.equal(value.pingInterval, PING_INTERVAL);
          assert.equal(value.pingTimeout, PING_TIMEOUT);
          assert.equal(value.maxPayload, 1000000);
        });

        it("should fail with an invalid 'EIO' query parameter", async () => {
          assert.equal((await request(`${URL_}/socket.io/?transport=polling`)).status, 400);
          assert.equal((await request(`${URL_}/socket.io/?EIO=abc&transport=polling`)).status, 400);
        });

        it("should fail with an invalid 'transport' query parameter", async () => {
          assert.equal((await request(`${URL_}/socket.io/?EIO=4`)).status, 400);
          assert.equal((await request(`${URL_}/socket.io/?EIO=4&transport=abc`)).status, 400);
        });

        it("should fail with an invalid request method", async () => {
          const url = `${URL_}/socket.io/?EIO=4&transport=polling`;
          assert.equal((await request(url, { method: "POST" })).status, 400);
          assert.equal((await request(url, { method: "PUT" })).status, 400);
        });
      });

      describe("WebSocket", () => {
        it("should successfully open a session", async () => {
          const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
          const { data } = await socket.waitFor("message");
          assert.ok(data.startsWith("0"), data);
          const value = JSON.parse(data.substring(1));
          assert.deepEqual(Object.keys(value).sort(), HANDSHAKE_KEYS);
          assert.equal(typeof value.sid, "string");
          assert.deepEqual(value.upgrades, []);
          assert.equal(value.pingInterval, PING_INTERVAL);
          assert.equal(value.pingTimeout, PING_TIMEOUT);
          assert.equal(value.maxPayload, 1000000);
          socket.close();
        });

        it("should fail with an invalid 'EIO' query parameter", async () => {
          await createWebSocket(`${WS_URL}/socket.io/?transport=websocket`).waitFor("close");
          await createWebSocket(`${WS_URL}/socket.io/?EIO=abc&transport=websocket`).waitFor("close");
        });

        it("should fail with an invalid 'transport' query parameter", async () => {
          await createWebSocket(`${WS_URL}/socket.io/?EIO=4`).waitFor("close");
          await createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=abc`).waitFor("close");
        });
      });
    });

    describe("heartbeat", () => {
      describe("HTTP long-polling", () => {
        it("should send ping/pong packets", async () => {
          const p = new Polling(URL_, "/socket.io/");
          await p.open();
          // Connected to "/" first: three pings take about 900 ms, the fixture's connectTimeout is
          // 1000 ms, and a session still without a namespace when it ends is closed (as it must be).
          assert.equal((await p.post("40")).status, 200);
          const packets: string[] = [];
          while (packets.length < 2) packets.push(...(await p.get()).text.split("\x1e"));
          assert.match(packets[0], /^40\{"sid":"[^"]+"\}$/);
          assert.deepEqual(packets.slice(1), ['42["auth",{}]']);
          for (let i = 0; i < 3; i++) {
            const poll = await p.get();
            assert.equal(poll.status, 200);
            assert.equal(poll.text, "2");
            const push = await p.post("3");
            assert.equal(push.status, 200);
          }
        });

        it("should close the session upon ping timeout", async () => {
          const sid = await initLongPollingSession();
          const url = `${URL_}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
          const poll = await pollUntilRefused(url, PING_INTERVAL + PING_TIMEOUT + 2000);
          assert.equal(poll.status, 400);
        });
      });

      describe("WebSocket", () => {
        it("should send ping/pong packets", async () => {
          const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
          await socket.waitFor("message"); // handshake
          // Connected to "/" first, as over polling: connectTimeout (1000 ms) is about the time three
          // pings take; under load it closed the session ("forced close") before the third ping.
          socket.send("40");
          assert.match(String((await socket.waitFor("message")).data), /^40\{"sid":"[^"]+"\}$/);
          assert.equal((await socket.waitFor("message")).data, '42["auth",{}]');
          for (let i = 0; i < 3; i++) {
            const { data } = await socket.waitFor("message");
            assert.equal(data, "2");
            socket.send("3");
          }
          socket.close();
        });

        it("should close the session upon ping timeout", async () => {
          const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
          await socket.waitFor("close", 2000);
        });
      });
    });

    describe("close", () => {
      describe("HTTP long-polling", () => {
        it("should forcefully close the session", async () => {
          const p = new Polling(URL_, "/socket.io/");
          await p.open();
          const { response } = await p.heldGet();
          assert.equal((await p.post("1")).status, 200);
          const poll = await response;
          assert.equal(poll.status, 200);
          assert.equal(poll.text, "6");
          assert.equal((await p.get()).status, 400);
        });
      });

      describe("WebSocket", () => {
        it("should forcefully close the session", async () => {
          const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
          await socket.waitFor("message"); // handshake
          socket.send("1");
          await socket.waitFor("close", 1000);
        });
      });
    });

    describe("upgrade", () => {
      it("should successfully upgrade from HTTP long-polling to WebSocket", async () => {
        const sid = await initLongPollingSession();
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
        await socket.waitFor("open");
        socket.send("2probe");
        const probe = await socket.waitFor("message");
        assert.equal(probe.data, "3probe");
        socket.send("5");
        // the session now lives on the WebSocket: connecting to "/" works over it
        socket.send("40");
        const connect = await socket.next();
        assert.ok(typeof connect === "string" && connect.startsWith("40{"), String(connect));
        socket.close();
      });

      it("should ignore HTTP requests with same sid after upgrade", async () => {
        const sid = await initLongPollingSession();
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
        await socket.waitFor("open");
        socket.send("2probe");
        assert.equal((await socket.waitFor("message")).data, "3probe");
        socket.send("5");
        socket.send("40"); // answered only once "5" was handled
        await socket.next();
        const poll = await request(`${URL_}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
        assert.equal(poll.status, 400);
        socket.close();
      });

      it("should ignore WebSocket connection with same sid after upgrade", async () => {
        const sid = await initLongPollingSession();
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
        await socket.waitFor("open");
        socket.send("2probe");
        assert.equal((await socket.waitFor("message")).data, "3probe");
        socket.send("5");
        socket.send("40");
        await socket.next();
        const socket2 = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
        await socket2.waitFor("close");
        socket.close();
      });
    });
  });

  describe("Socket.IO protocol", () => {
    describe("connect", () => {
      it("should allow connection to the main namespace", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message"); // Engine.IO handshake
        socket.send("40");
        const data = await socket.next() as string;
        assert.ok(data.startsWith("40"), data);
        const handshake = JSON.parse(data.substring(2));
        assert.deepEqual(Object.keys(handshake), ["sid"]);
        assert.equal(typeof handshake.sid, "string");
        assert.equal(await socket.next(), '42["auth",{}]');
      });

      it("should allow connection to the main namespace with a payload", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message");
        socket.send('40{"token":"123"}');
        const data = await socket.next() as string;
        assert.ok(data.startsWith("40"), data);
        const handshake = JSON.parse(data.substring(2));
        assert.deepEqual(Object.keys(handshake), ["sid"]);
        assert.equal(typeof handshake.sid, "string");
        assert.equal(await socket.next(), '42["auth",{"token":"123"}]');
      });

      it("should allow connection to a custom namespace", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message");
        socket.send("40/custom,");
        const data = await socket.next() as string;
        assert.ok(data.startsWith("40/custom,"), data);
        const handshake = JSON.parse(data.substring(10));
        assert.deepEqual(Object.keys(handshake), ["sid"]);
        assert.equal(typeof handshake.sid, "string");
        assert.equal(await socket.next(), '42/custom,["auth",{}]');
      });

      it("should allow connection to a custom namespace with a payload", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message");
        socket.send('40/custom,{"token":"abc"}');
        const data = await socket.next() as string;
        assert.ok(data.startsWith("40/custom,"), data);
        const handshake = JSON.parse(data.substring(10));
        assert.deepEqual(Object.keys(handshake), ["sid"]);
        assert.equal(typeof handshake.sid, "string");
        assert.equal(await socket.next(), '42/custom,["auth",{"token":"abc"}]');
      });

      it("should disallow connection to an unknown namespace", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message");
        socket.send("40/random");
        assert.equal(await socket.next(), '44/random,{"message":"Invalid namespace"}');
      });

      it("should disallow connection with an invalid handshake", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message");
        socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
        socket.send("4abc");
        await socket.waitFor("close", 800);
      });

      it("should close the connection if no handshake is received", async () => {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("close", 2000);
      });
    });

    describe("disconnect", () => {
      it("should disconnect from the main namespace", async () => {
        const socket = await initSocketIOConnection();
        socket.send("41");
        const { data } = await socket.waitFor("message");
        assert.equal(data, "2");
      });

      it("should connect then disconnect from a custom namespace", async () => {
        const socket = await initSocketIOConnection();
        await socket.waitFor("message"); // ping
        socket.send("3");
        socket.send("40/custom");
        await socket.next(); // Socket.IO handshake
        await socket.next(); // auth packet
        socket.send("41/custom");
        socket.send('42["message","message to main namespace"]');
        assert.equal(await socket.next(), '42["message-back","message to main namespace"]');
      });
    });

    describe("message", () => {
      it("should send a plain-text packet", async () => {
        const socket = await initSocketIOConnection();
        socket.send('42["message",1,"2",{"3":[true]}]');
        assert.equal(await socket.next(), '42["message-back",1,"2",{"3":[true]}]');
      });

      it("should send a packet with binary attachments", async () => {
        const socket = await initSocketIOConnection();
        socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
        socket.send(Uint8Array.from([1, 2, 3]));
        socket.send(Uint8Array.from([4, 5, 6]));
        const packets = await socket.waitForPackets(3);
        assert.equal(
          packets[0],
          '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
        );
        assert.deepEqual(bytes(packets[1]), Uint8Array.from([1, 2, 3]));
        assert.deepEqual(bytes(packets[2]), Uint8Array.from([4, 5, 6]));
        socket.close();
      });

      it("should send a plain-text packet with an ack", async () => {
        const socket = await initSocketIOConnection();
        socket.send('42456["message-with-ack",1,"2",{"3":[false]}]');
        assert.equal(await socket.next(), '43456[1,"2",{"3":[false]}]');
      });

      it("should send a packet with binary attachments and an ack", async () => {
        const socket = await initSocketIOConnection();
        socket.send(
          '452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
        );
        socket.send(Uint8Array.from([1, 2, 3]));
        socket.send(Uint8Array.from([4, 5, 6]));
        const packets = await socket.waitForPackets(3);
        assert.equal(packets[0], '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
        assert.deepEqual(bytes(packets[1]), Uint8Array.from([1, 2, 3]));
        assert.deepEqual(bytes(packets[2]), Uint8Array.from([4, 5, 6]));
        socket.close();
      });

      it("should close the connection upon invalid format (unknown packet type)", async () => {
        const socket = await initSocketIOConnection();
        socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
        socket.send("4abc");
        await socket.waitFor("close", 800);
      });

      it("should close the connection upon invalid format (invalid payload format)", async () => {
        const socket = await initSocketIOConnection();
        socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
        socket.send("42{}");
        await socket.waitFor("close", 800);
      });

      it("should close the connection upon invalid format (invalid ack id)", async () => {
        const socket = await initSocketIOConnection();
        socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
        socket.send('42abc["message-with-ack",1,"2",{"3":[false]}]');
        await socket.waitFor("close", 800);
      });
    });
  });

  // Facts from docs/protocol.md and the fixture's extra events, not in the official suite.
  describe("protocol facts beyond the official suite", () => {
    it("gives the Socket.IO socket an id different from the Engine.IO sid", async () => {
      const live = await initLiveConnection();
      assert.equal(typeof live.ioSid, "string");
      assert.ok(live.ioSid.length > 0);
      assert.notEqual(live.ioSid, live.engineSid);
      live.close();
    });

    it("closes the connection on a reserved event name", async () => {
      for (const name of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
        const socket = await initSocketIOConnection();
        socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
        socket.send(`42["${name}","x"]`);
        await socket.waitFor("close", 800).catch((err) => {
          throw new Error(`event name ${name}: ${err.message}`);
        });
      }
    });

    it("closes the connection on a CONNECT payload that is not an object", async () => {
      for (const packet of ['40"token"', "40[1]", '40/custom,"x"']) {
        const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await socket.waitFor("message");
        socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
        socket.send(packet);
        await socket.waitFor("close", 800).catch((err) => {
          throw new Error(`packet ${packet}: ${err.message}`);
        });
      }
    });

    it("closes the connection on ACK data that is not an array", async () => {
      const socket = await initSocketIOConnection();
      socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
      socket.send('431{"a":1}');
      await socket.waitFor("close", 800);
    });

    it("closes the connection on an EVENT whose first element is not a string or number", async () => {
      const socket = await initSocketIOConnection();
      socket.answerPings(); // then within 800 ms only the verdict on the packet can close it
      socket.send('42[{"a":1}]');
      await socket.waitFor("close", 800);
    });

    it("keeps the connection after refusing an unknown namespace", async () => {
      const live = await initLiveConnection();
      live.send("40/random,");
      assert.equal(await live.next(), '44/random,{"message":"Invalid namespace"}');
      live.send('42["message","still here"]');
      assert.equal(await live.next(), '42["message-back","still here"]');
      live.close();
    });

    it("closes the connection after connectTimeout (1000 ms) without CONNECT", async () => {
      // from before the session exists, so the timer cannot have started earlier
      const start = performance.now();
      const socket = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
      await socket.waitFor("message"); // handshake
      socket.answerPings(); // stay alive: only the connect timeout may close it
      await socket.waitFor("close", 3000);
      const elapsed = performance.now() - start;
      assert.ok(elapsed >= 995 && elapsed < 3000, `closed after ${elapsed} ms, expected ~1000`);
    });

    it("carries an event with binary over polling as b + base64", async () => {
      const p = new Polling(URL_, "/socket.io/");
      await p.open();
      assert.equal((await p.post("40")).text, "ok");
      const [connect, auth] = await p.packets(2);
      assert.ok(connect.startsWith("40{"), connect);
      assert.equal(auth, '42["auth",{}]');
      const push = await p.post('451-["message",{"_placeholder":true,"num":0},"x"]\x1ebAQID/w==');
      assert.equal(push.text, "ok");
      const packets = await p.packets(2);
      assert.deepEqual(packets, ['451-["message-back",{"_placeholder":true,"num":0},"x"]', "bAQID/w=="]);
      await p.post("1");
    });

    it("acks with binary over polling", async () => {
      const p = new Polling(URL_, "/socket.io/");
      await p.open();
      await p.post("40");
      await p.packets(2);
      await p.post('451-7["message-with-ack",{"_placeholder":true,"num":0}]\x1ebAA==');
      assert.deepEqual(await p.packets(2), ['461-7[{"_placeholder":true,"num":0}]', "bAA=="]);
      await p.post("1");
    });

    it("broadcast reaches every socket of / (and only them)", async () => {
      const a = await initLiveConnection();
      const b = await initLiveConnection();
      // c is connected to /custom only: not a receiver of io.emit
      const c = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
      await c.waitFor("message");
      c.send("40/custom,");
      await c.next();
      await c.next();
      a.send('42["broadcast",1,{"two":2}]');
      assert.equal(await a.next(), '42["broadcast-back",1,{"two":2}]');
      assert.equal(await b.next(), '42["broadcast-back",1,{"two":2}]');
      c.send("40");
      const next = await c.next();
      assert.ok(typeof next === "string" && next.startsWith("40{"), `c got ${String(next)}`);
      a.close();
      b.close();
      c.close();
    });

    it("join acks true and to-room reaches the room's members only", async () => {
      const a = await initLiveConnection();
      const b = await initLiveConnection();
      a.send('421["join","room-1"]');
      assert.equal(await a.next(), "431[true]");
      b.send('42["to-room","room-1","hi",2]');
      assert.equal(await a.next(), '42["room-back","hi",2]');
      // b is not in the room: its next packet is the answer to its own later message
      b.send('42["message","after"]');
      assert.equal(await b.next(), '42["message-back","after"]');
      // a room that nobody joined reaches nobody
      b.send('42["to-room","room-2","nobody"]');
      a.send('42["message","a-after"]');
      assert.equal(await a.next(), '42["message-back","a-after"]');
      a.close();
      b.close();
    });

    it("keeps other clients unaffected when one sends garbage", async () => {
      const good = await initLiveConnection();
      const bad = await initSocketIOConnection();
      bad.answerPings(); // then within 800 ms only the verdict on the packet can close it
      bad.send('42["disconnect"]');
      await bad.waitFor("close", 800);
      good.send('42["message","fine"]');
      assert.equal(await good.next(), '42["message-back","fine"]');
      good.close();
    });
  });

  describe("count (fresh fixture, so no other client lingers)", () => {
    let own: Fixture;
    before(async () => {
      own = await startFixture();
    });
    after(async () => {
      closeAllWebSockets();
      await own?.close();
    });

    it("acks the number of sockets in / from fetchSockets()", async () => {
      const saved = WS_URL;
      WS_URL = own.wsUrl;
      try {
        const a = await initLiveConnection();
        a.send('423["count"]');
        assert.equal(await a.next(), "433[1]");
        const b = await initLiveConnection('{"who":"b"}');
        // a socket in /custom only does not count
        const c = createWebSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
        await c.waitFor("message");
        c.send("40/custom,");
        await c.next();
        await c.next();
        b.send('424["count"]');
        assert.equal(await b.next(), "434[2]");
        // leaving / (the engine connection stays) is seen in the count at once
        b.send("41");
        a.send('425["count"]');
        let count = await a.next();
        // b's DISCONNECT travels on another connection: wait (bounded) until the server has it
        const end = Date.now() + 1000;
        while (count !== "435[1]" && Date.now() < end) {
          await sleep(20);
          a.send('425["count"]');
          count = await a.next();
        }
        assert.equal(count, "435[1]");
        a.close();
        b.close();
        c.close();
      } finally {
        WS_URL = saved;
      }
    });
  });
});
