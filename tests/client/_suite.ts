/**
 * The client suite, run against every scenario server (Node socket.io, python-socketio, ours).
 *
 * A scenario server listens on `/socket.io/` (pingInterval 300, pingTimeout 200, connectTimeout
 * 1000) with namespaces `/` and `/custom` that do, on connection, `emit("auth", handshake.auth)`, and:
 * - `message` -> `emit("message-back", ...args)`; `message-with-ack` -> `ack(...args)`
 * - `ack-never` -> no ack; `flaky(key)` -> acks `"ok after N"` from the second try on
 * - `ask(q)` -> `emit("question", q, ack)` to the client, then `emit("answer", answer)`
 * - `broadcast` -> `emit("broadcast-back", ...args)` to everyone in the namespace
 * - `drop` -> closes the Engine.IO connection; `server-disconnect` -> `socket.disconnect()`
 * - `whoami` -> `ack({ id, recovered, transport })`; `headers` -> `ack({ cookie, extra })`
 * and namespace `/private` whose middleware refuses unless `auth.token === "ok"` with
 * `Error("not authorized")` and data `{ reason: "bad token" }`. Polling responses set a cookie `lb`.
 *
 * @module
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io, SimpleClient } from "../../client.ts";
import type { ClientOptions, Socket } from "../../client.ts";
import { closeAll, connect, connected, deadline, FAST, next, sleep, track } from "./_helpers.ts";

/** A running scenario server. */
export interface ScenarioServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Stops it. */
  close(): Promise<void>;
  /** Kills it and starts it again on the same port, if it can. */
  restart?: (delayMs?: number) => Promise<void>;
}

/** Which server the suite runs against and what it supports. */
export interface Target {
  /** A name for the test titles. */
  name: string;
  /** Starts the server. */
  start(): Promise<ScenarioServer>;
  /** The path of a server with connection state recovery and the `broadcast` and `drop` scenarios. */
  recoveryPath?: string;
}

const MODES: Array<{ name: string; opts: ClientOptions; transport: string }> = [
  { name: "polling", opts: { transports: ["polling"] }, transport: "polling" },
  { name: "websocket", opts: { transports: ["websocket"] }, transport: "websocket" },
  { name: "polling + upgrade", opts: {}, transport: "websocket" },
];

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** Reads received binary (Uint8Array here; ArrayBuffer when binaryType is arraybuffer) as numbers. */
function numbers(value: unknown): number[] {
  assert.ok(value instanceof Uint8Array || value instanceof ArrayBuffer, `binary expected, got ${value}`);
  return [...new Uint8Array(value as ArrayBuffer)];
}

/** Registers the suite for `target`. */
export function clientSuite(target: Target): void {
  describe(`client against ${target.name}`, () => {
    let server: ScenarioServer;
    before(async () => {
      server = await target.start();
    });
    after(async () => {
      closeAll();
      await server?.close();
    });
    afterEach(() => closeAll());

    for (const mode of MODES) {
      describe(mode.name, () => {
        it("connects, gets its auth back and echoes events with binary", async () => {
          const socket = connect(server.url, { ...mode.opts, auth: { token: "t1" } });
          const [auth] = await next(socket, "auth");
          assert.deepEqual(auth, { token: "t1" });
          assert.ok(socket.connected);
          assert.equal(typeof socket.id, "string");
          const back = next(socket, "message-back");
          socket.emit("message", "hi", 42, { nested: { file: bytes(1, 2, 3) } }, [bytes(4), "x"]);
          const args = await back;
          assert.equal(args[0], "hi");
          assert.equal(args[1], 42);
          assert.deepEqual(numbers(args[2].nested.file), [1, 2, 3]);
          assert.deepEqual(numbers(args[3][0]), [4]);
          assert.equal(args[3][1], "x");
          if (mode.transport === "websocket" && socket.io.engine!.transport!.name !== "websocket") {
            await next(socket.io.engine!, "upgrade");
          }
          const who = await socket.timeout(4000).emitWithAck("whoami");
          assert.equal((who as { transport: string }).transport, mode.transport);
        });

        it("acks both ways, with binary", async () => {
          const socket = connect(server.url, mode.opts);
          await connected(socket);
          const reply = await new Promise<unknown[]>((resolve) =>
            socket.timeout(4000).emit("message-with-ack", "a", bytes(7, 8), (...args: unknown[]) => resolve(args))
          );
          assert.equal(reply.shift(), null);
          assert.equal(reply[0], "a");
          assert.deepEqual(numbers(reply[1]), [7, 8]);
          socket.on("question", (q: string, ack: (answer: unknown) => void) => ack({ q, bin: bytes(9) }));
          const answer = next(socket, "answer");
          socket.emit("ask", "why?");
          const [a] = await answer;
          assert.equal(a.q, "why?");
          assert.deepEqual(numbers(a.bin), [9]);
        });

        it("resolves emitWithAck and times out acks that never come", async () => {
          const socket = connect(server.url, mode.opts);
          await connected(socket);
          assert.equal(await socket.timeout(4000).emitWithAck("message-with-ack", 5), 5);
          assert.equal(await socket.timeout(2000).emitWithAck("message-with-ack", "x"), "x");
          await assert.rejects(socket.timeout(100).emitWithAck("ack-never"), /operation has timed out/);
          const [err] = await new Promise<unknown[]>((resolve) =>
            socket.timeout(100).emit("ack-never", (...args: unknown[]) => resolve(args))
          );
          assert.match(String(err), /timed out/);
          const [err2, value] = await new Promise<unknown[]>((resolve) =>
            socket.timeout(2000).emit("message-with-ack", 3, (...args: unknown[]) => resolve(args))
          );
          assert.equal(err2, null);
          assert.equal(value, 3);
        });
      });
    }

    it("upgrades from polling to WebSocket and keeps the session", async () => {
      const socket = connect(server.url);
      await connected(socket);
      const engine = socket.io.engine!;
      const sid = engine.id;
      if (engine.transport!.name === "polling") await next(engine, "upgrade");
      assert.equal(engine.transport!.name, "websocket");
      assert.equal(engine.id, sid);
      assert.deepEqual(await socket.timeout(4000).emitWithAck("message-with-ack", 1, 2), 1);
    });

    it("falls back to polling when the WebSocket cannot connect (tryAllTransports)", async () => {
      class Refused {
        constructor() {
          throw new Error("blocked");
        }
      }
      const socket = connect(server.url, {
        transports: ["websocket", "polling"],
        tryAllTransports: true,
        WebSocket: Refused as unknown as typeof WebSocket,
      });
      await connected(socket);
      assert.equal(socket.io.engine!.transport!.name, "polling");
    });

    it("multiplexes namespaces over one connection", async () => {
      const root = connect(server.url, { auth: { n: 1 }, forceNew: false });
      const custom = track(io(server.url + "/custom", { auth: { n: 2 } }));
      assert.equal(custom.io, root.io);
      const [[a1], [a2]] = await Promise.all([next(root, "auth"), next(custom, "auth")]);
      assert.deepEqual(a1, { n: 1 });
      assert.deepEqual(a2, { n: 2 });
      assert.notEqual(root.id, custom.id);
      assert.equal(await custom.timeout(4000).emitWithAck("message-with-ack", "c"), "c");
      custom.disconnect();
      assert.ok(root.connected);
      assert.equal(await root.timeout(4000).emitWithAck("message-with-ack", "r"), "r");
    });

    it("reports connect_error with the middleware's data, then connects with a good token", async () => {
      const socket = connect(server.url + "/private", { auth: { token: "bad" } });
      const [err] = await next(socket, "connect_error");
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { reason: "bad token" });
      assert.equal(socket.active, false);
      socket.auth = { token: "ok" };
      socket.connect();
      await connected(socket);
      assert.equal(await socket.timeout(4000).emitWithAck("message-with-ack", "in"), "in");
    });

    it("reports connect_error for an unknown namespace", async () => {
      const socket = connect(server.url + "/nope");
      const [err] = await next(socket, "connect_error");
      // socket.io says "Invalid namespace", python-socketio "Unable to connect".
      assert.match(err.message, /Invalid namespace|Unable to connect/);
      assert.equal(socket.connected, false);
    });

    it("buffers events emitted before connecting and delivers events in order", async () => {
      const socket = connect(server.url, { autoConnect: false });
      const got: unknown[] = [];
      socket.on("message-back", (n: number) => got.push(n));
      for (let i = 0; i < 5; i++) socket.emit("message", i);
      assert.equal(socket.sendBuffer.length, 5);
      socket.connect();
      await connected(socket);
      assert.equal(await socket.timeout(4000).emitWithAck("message-with-ack", "sync"), "sync");
      await sleep(50);
      assert.deepEqual(got, [0, 1, 2, 3, 4]);
    });

    it("reconnects after the server drops the transport, re-evaluating the auth function", async () => {
      let calls = 0;
      const socket = connect(server.url, {
        auth: (cb) => cb({ call: ++calls }),
      });
      const [auth1] = await next(socket, "auth");
      assert.deepEqual(auth1, { call: 1 });
      const disconnected = next(socket, "disconnect");
      const reconnected = next(socket.io, "reconnect");
      socket.emit("drop");
      const [reason] = await disconnected;
      // "transport error" when the server drops the session while the client upgrades.
      assert.match(reason, /^transport (close|error)$/);
      // Emitted while disconnected: buffered, sent after the reconnection.
      const back = next(socket, "message-back", 5000);
      socket.emit("message", "buffered");
      const volatileBack: unknown[] = [];
      socket.on("message-back", (m: unknown) => volatileBack.push(m));
      socket.volatile.emit("message", "volatile");
      const [auth2] = await next(socket, "auth", 5000);
      assert.deepEqual(auth2, { call: 2 });
      await reconnected;
      assert.deepEqual(await back, ["buffered"]);
      await sleep(100);
      assert.ok(!volatileBack.includes("volatile"));
      assert.ok(socket.connected);
    });

    it("does not reconnect after the server disconnects the socket", async () => {
      const socket = connect(server.url);
      await connected(socket);
      const disconnected = next(socket, "disconnect");
      socket.emit("server-disconnect");
      const [reason] = await disconnected;
      assert.equal(reason, "io server disconnect");
      assert.equal(socket.active, false);
      await sleep(300);
      assert.equal(socket.connected, false);
    });

    it("fails pending acks when the connection drops", async () => {
      const socket = connect(server.url);
      await connected(socket);
      const pending = socket.timeout(4000).emitWithAck("ack-never");
      socket.emit("drop");
      await assert.rejects(pending, /socket has been disconnected/);
      await connected(socket, 5000);
    });

    it("retries an event until it is acknowledged (ackTimeout + retries)", async () => {
      // The server drops the first try; the ack of the second must come back within ackTimeout
      // (a late one would make it "ok after 3"), so that one is generous.
      const socket = connect(server.url, { ackTimeout: 1000, retries: 3 });
      await connected(socket);
      const key = "k" + Math.random();
      const result = await socket.emitWithAck("flaky", key);
      assert.equal(result, "ok after 2");
      // Every try unanswered: the emit fails after retries + 1 timeouts.
      const impatient = connect(server.url, { ackTimeout: 100, retries: 2 });
      await connected(impatient);
      await assert.rejects(impatient.emitWithAck("ack-never"), /timed out/);
    });

    it("calls catch-all listeners for incoming and outgoing events", async () => {
      const socket = connect(server.url);
      const incoming: unknown[] = [];
      const outgoing: unknown[] = [];
      socket.onAny((...args) => incoming.push(args));
      socket.onAnyOutgoing((...args) => outgoing.push(args));
      await connected(socket);
      socket.emit("message", "any");
      await next(socket, "message-back");
      assert.deepEqual(outgoing, [["message", "any"]]);
      assert.deepEqual(incoming.at(-1), ["message-back", "any"]);
      socket.offAny();
      assert.equal(socket.listenersAny().length, 0);
    });

    it("keeps the server's cookie and sends extraHeaders", async () => {
      const socket = connect(server.url, { transports: ["polling"], extraHeaders: { "x-extra": "yes" } });
      await connected(socket);
      await sleep(50);
      const headers = await socket.timeout(4000).emitWithAck("headers");
      assert.equal(headers.extra, "yes");
      assert.match(String(headers.cookie), /lb=/);
    });

    it("sends each transport the extraHeaders of its transportOptions", async () => {
      const transportOptions = {
        polling: { extraHeaders: { "x-extra": "polling" } },
        websocket: { extraHeaders: { "x-extra": "websocket" } },
      };
      const polling = connect(server.url, { transports: ["polling"], transportOptions });
      const websocket = connect(server.url, {
        transports: ["websocket"],
        extraHeaders: { "x-extra": "both" },
        transportOptions,
      });
      const both = connect(server.url, { transports: ["websocket"], extraHeaders: { "x-extra": "both" } });
      const seen = await Promise.all(
        [polling, websocket, both].map((socket) => socket.timeout(4000).emitWithAck("headers")),
      );
      assert.deepEqual(seen.map((headers) => headers.extra), ["polling", "websocket", "both"]);
    });

    it("sends binary as base64 text with forceBase64, which the server reads", async () => {
      const sent: string[] = [];
      class Recording extends WebSocket {
        override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
          sent.push(typeof data);
          super.send(data);
        }
      }
      for (const transports of [["websocket"], ["polling"]] as const) {
        const socket = connect(server.url, { transports: [...transports], forceBase64: true, WebSocket: Recording });
        const reply = await socket.timeout(4000).emitWithAck("message-with-ack", { b: bytes(1, 2, 3) });
        assert.deepEqual(numbers(reply.b), [1, 2, 3]);
      }
      assert.ok(sent.length >= 2 && sent.every((type) => type === "string"), `frames sent: ${sent}`);
    });

    it("delivers binary as ArrayBuffer with binaryType arraybuffer", async () => {
      const socket = connect(server.url, { binaryType: "arraybuffer" });
      await connected(socket);
      const reply = await socket.timeout(4000).emitWithAck("message-with-ack", { b: bytes(1, 2) });
      assert.ok(reply.b instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(reply.b)], [1, 2]);
    });

    it("works through SimpleClient", async () => {
      const client = new SimpleClient();
      await client.connect(server.url, { auth: { simple: true }, transports: ["websocket"] });
      try {
        assert.ok(client.connected);
        assert.equal(typeof client.sid, "string");
        assert.equal(client.transport, "websocket");
        assert.deepEqual(await client.receive({ timeout: 2000 }), ["auth", { simple: true }]);
        await client.emit("message", "via simple", bytes(3));
        const [event, text, bin] = await client.receive({ timeout: 2000 });
        assert.equal(event, "message-back");
        assert.equal(text, "via simple");
        assert.deepEqual(numbers(bin), [3]);
        assert.equal(await client.call("message-with-ack", "called", { timeout: 2000 }), "called");
        await assert.rejects(client.call("ack-never", { timeout: 100 }), { name: "TimeoutError" });
        await assert.rejects(client.receive({ timeout: 100 }), { name: "TimeoutError" });
        await client.emit("message", 1);
        await client.emit("message", 2);
        const seen: unknown[] = [];
        for await (const [name, value] of client) {
          seen.push([name, value]);
          if (seen.length === 2) break;
        }
        assert.deepEqual(seen, [["message-back", 1], ["message-back", 2]]);
      } finally {
        await client.disconnect();
      }
      assert.equal(client.connected, false);
    });

    it("SimpleClient without reconnection fails its waiters once the server drops it", async () => {
      // The socket stays "active" (its manager is not closed), so only the reconnection setting
      // says that nothing will come back: receive() and call() used to wait for ever.
      const client = new SimpleClient();
      await client.connect(server.url, { reconnection: false, transports: ["websocket"] });
      try {
        await client.receive({ timeout: 2000 }); // auth
        const waiting = client.receive();
        await client.emit("drop");
        await assert.rejects(deadline(waiting, 4000, "the waiter's end"), { name: "DisconnectedError" });
        await assert.rejects(deadline(client.call("message-with-ack", 1), 2000, "the call's end"), {
          name: "DisconnectedError",
        });
      } finally {
        await client.disconnect();
      }
    });

    it("reconnects on its own after a connect() by hand during the wait for a reconnection", async () => {
      // The manual connection's success cleared the reconnection timer and left the manager
      // "reconnecting": the next drop was never followed by a reconnection.
      const socket = connect(server.url, {
        transports: ["websocket"],
        reconnectionDelay: 400,
        reconnectionDelayMax: 400,
      });
      await connected(socket);
      let dropped = next(socket, "disconnect");
      socket.emit("drop");
      await dropped;
      socket.io.connect(); // before the reconnection attempt is due
      await connected(socket);
      dropped = next(socket, "disconnect");
      socket.emit("drop");
      await dropped;
      await connected(socket, 4000);
      assert.equal(await socket.timeout(4000).emitWithAck("message-with-ack", "back"), "back");
    });

    it("connects by hand after reconnection(false) during the wait for a reconnection", async () => {
      const socket = connect(server.url, {
        transports: ["websocket"],
        reconnectionDelay: 200,
        reconnectionDelayMax: 200,
      });
      await connected(socket);
      const dropped = next(socket, "disconnect");
      socket.emit("drop");
      await dropped;
      socket.io.reconnection(false);
      await sleep(300); // past the attempt that was due
      assert.equal(socket.connected, false);
      socket.connect();
      await connected(socket, 4000);
    });

    if (target.recoveryPath) {
      it("recovers the session and the events missed while disconnected", async () => {
        const opts: ClientOptions = { transports: ["websocket"], path: target.recoveryPath };
        const socket = connect(server.url, opts);
        const other = connect(server.url, opts);
        await Promise.all([connected(socket), connected(other)]);
        assert.equal(socket.recovered, false);
        // A broadcast carries an offset the client keeps.
        const first = next(socket, "broadcast-back");
        other.emit("broadcast", "first");
        const [text, offset] = await first;
        assert.equal(text, "first");
        assert.equal(typeof offset, "string");
        const id = socket.id;
        const disconnected = next(socket, "disconnect");
        socket.emit("drop");
        await disconnected;
        other.emit("broadcast", "missed");
        await sleep(20);
        const missed = next(socket, "broadcast-back", 5000);
        await next(socket, "connect", 5000);
        assert.equal(socket.recovered, true);
        assert.equal(socket.id, id);
        assert.equal((await missed)[0], "missed");
      });
    }

    it("reconnects after the server restarts", async (t) => {
      if (!server.restart) return t.skip("this server cannot restart");
      const socket = connect(server.url);
      await connected(socket);
      const attempts: number[] = [];
      socket.io.on("reconnect_attempt", (n) => attempts.push(n));
      const disconnected = next(socket, "disconnect");
      const reconnected = next(socket.io, "reconnect", 15000);
      await server.restart(300);
      const [reason] = await disconnected;
      assert.match(reason, /transport (close|error)|ping timeout/);
      await reconnected;
      await connected(socket, 5000);
      assert.ok(attempts.length >= 1);
      assert.equal(await socket.timeout(4000).emitWithAck("message-with-ack", "again"), "again");
    });
  });
}

export { FAST };
export type { Socket };
