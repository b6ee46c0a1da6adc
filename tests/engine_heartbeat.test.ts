// The pong deadline counts from when the ping went out. When the event loop is held up past the
// time a ping was due (a long synchronous task), the ping goes out late, and the client still gets
// the whole pingTimeout to answer: counted from when the ping was due, the deadline had already
// passed and the session died before its pong could arrive.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Engine } from "../src/engine/server.ts";
import { textResponse } from "../src/engine/exchange.ts";
import { WebEngineRequest } from "../src/engine/web_exchange.ts";
import type { WebSocketHandlers } from "../src/engine/websocket_like.ts";
import { answer, serve } from "./_server.ts";
import { sleep, until } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NODE = existsSync(`${ROOT}node_modules/.bin/node`) ? `${ROOT}node_modules/.bin/node` : "node";

const PING_INTERVAL = 100;
const PING_TIMEOUT = 1000;

function holdEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a long synchronous task */ }
}

describe("Engine heartbeat after the event loop was held up", () => {
  it("gives the client pingTimeout from the late ping to answer", async () => {
    const engine = new Engine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    try {
      const base = "http://x/engine.io/?EIO=4&transport=polling";
      const open = await answer(engine, new Request(base));
      const sid = JSON.parse((await open!.text()).slice(1)).sid;
      const session = engine.clients.get(sid)!;
      let closeReason: string | undefined;
      session.once("close", (reason) => closeReason = reason);

      // The ping is due 100 ms after the handshake; the loop is busy until well after the pong
      // would have been due (100 + 1000 ms) had the deadline counted from then.
      holdEventLoop(PING_INTERVAL + PING_TIMEOUT + 300);
      const poll = await answer(engine, new Request(`${base}&sid=${sid}`));
      assert.equal(await poll!.text(), "2");

      // The client answers a little later, as one over a network would: after the timers due now.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(closeReason, undefined, "the session died before its pong could arrive");
      const pong = await answer(engine, new Request(`${base}&sid=${sid}`, { method: "POST", body: "3" }));
      assert.equal(pong!.status, 200);
      await pong!.text();
      assert.equal(session.readyState, "open");

      // Without a pong, the next ping's deadline still closes it.
      const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
      await closed;
      assert.equal(closeReason, "ping timeout");
    } finally {
      await engine.close(0);
    }
  });
});

describe("Engine heartbeat: a busy-but-alive peer stays, a dead one goes", () => {
  it("keeps a session whose pong arrived while the event loop was busy past its deadline", async () => {
    // Each ping makes the client ask for a request whose handler holds the server's event loop
    // for 700 ms, and the client answers the ping 30 ms later: the pong waits unread in the socket
    // while its deadline (pingTimeout 200 ms) passes. (The hold leaves the client, which shares
    // the machine, most of it to get its pong out in time.) When the loop is free again, the deadline's
    // timer runs before the socket is read (Node runs timers before I/O; Deno reads sockets only
    // when its loop idles): the session must not be closed for a pong that is there.
    const engine = new Engine({ pingInterval: 200, pingTimeout: 200 });
    const reasons: string[] = [];
    engine.on("connection", (session) => session.on("close", (reason) => reasons.push(reason)));
    const server = await serve((request, options) => {
      if (new URL(request.url).pathname === "/busy") {
        holdEventLoop(700);
        return Promise.resolve(textResponse(204, "", new Headers()));
      }
      return engine.handle(request, options);
    });
    try {
      const child = spawn(NODE, [
        `${ROOT}tests/_pong_while_busy.mjs`,
        `${server.wsUrl}/engine.io/?EIO=4&transport=websocket`,
        `${server.url}/busy`,
        "2",
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let output = "";
      child.stdout!.on("data", (chunk) => output += chunk);
      await new Promise<void>((resolve) => child.once("exit", () => resolve()));
      await until(() => reasons.length > 0, 3000, "the session's close");
      // Two pongs answered while the server was busy, then a third ping: the client leaves.
      assert.deepEqual(output.trim().split("\n"), ["ping", "ping", "ping"], output);
      assert.deepEqual(reasons, ["transport close"]);
    } finally {
      await engine.close(0);
      await server.close();
    }
  });

  it("closes a silent session just after its deadline, and one that talks but never answers pingTimeout later", async () => {
    // pingInterval 100, pingTimeout 300. `silent` never answers; `chatty` sends a message every
    // 50 ms and never answers: it is alive, so (as in the reference server) its deadline is
    // extended once by pingTimeout, and no more.
    const engine = new Engine({ pingInterval: 100, pingTimeout: 300 });
    try {
      const base = "http://x/engine.io/?EIO=4&transport=polling";
      const open = async () => {
        const response = await answer(engine, new Request(base));
        const sid = JSON.parse((await response.text()).slice(1)).sid as string;
        const session = engine.clients.get(sid)!;
        const record = { sid, pingAt: 0, closedAt: 0, reason: "" };
        session.once("close", (reason) => Object.assign(record, { closedAt: performance.now(), reason }));
        // The ping, on a poll held until it comes.
        answer(engine, new Request(`${base}&sid=${sid}`)).then(async (poll) => {
          assert.equal(await poll.text(), "2");
          record.pingAt = performance.now();
        });
        return record;
      };
      const silent = await open();
      const chatty = await open();
      const talk = setInterval(() => {
        answer(engine, new Request(`${base}&sid=${chatty.sid}`, { method: "POST", body: "4hello" }))
          .then((r) => r.text(), () => {});
      }, 50);
      try {
        await until(() => silent.closedAt > 0, 3000, "the silent session's close");
        assert.equal(silent.reason, "ping timeout");
        const silentAfter = silent.closedAt - silent.pingAt;
        assert.ok(silentAfter >= 290 && silentAfter < 300 + 150, `closed ${silentAfter} ms after its ping`);
        await sleep(150);
        assert.equal(chatty.closedAt, 0, "a session that talks was closed at its first deadline");
        await until(() => chatty.closedAt > 0, 3000, "the chatty session's close");
        assert.equal(chatty.reason, "ping timeout");
        const chattyAfter = chatty.closedAt - chatty.pingAt;
        assert.ok(chattyAfter >= 590 && chattyAfter < 600 + 300, `closed ${chattyAfter} ms after its ping`);
      } finally {
        clearInterval(talk);
      }
    } finally {
      await engine.close(0);
    }
  });
});

describe("Engine heartbeat during an upgrade", () => {
  it("sends a ping that is due with the poll the probe ends, not after the upgrade", async () => {
    // The ping is due while the server is busy; its timer has not run when the probe is answered.
    // Held back, it would wait for the upgrade to complete (hundreds of ms under load, while the
    // client counts); it goes out with the poll the probe ends instead of a no-op.
    const engine = new Engine({ pingInterval: 100, pingTimeout: 1000 });
    try {
      const base = "http://x/engine.io/?EIO=4&transport=polling";
      const open = await answer(engine, new Request(base));
      const sid = JSON.parse((await open.text()).slice(1)).sid;
      const poll = answer(engine, new Request(`${base}&sid=${sid}`)); // held: nothing to send yet
      await sleep(10);
      const frames: string[] = [];
      const socket = { send: (data: string | Uint8Array) => frames.push(String(data)), close() {} };
      let handlers: WebSocketHandlers | undefined;
      await engine.handle(
        new WebEngineRequest(
          new Request(`http://x/engine.io/?EIO=4&transport=websocket&sid=${sid}`, {
            headers: { upgrade: "websocket" },
          }),
        ),
        {
          upgrade: (_request, h) => {
            handlers = h;
            h.onOpen(socket);
            return new Response(null, { status: 200 });
          },
        },
      );
      holdEventLoop(150); // the ping comes due (100 ms after the handshake); its timer cannot run
      handlers!.onMessage("2probe");
      assert.deepEqual(frames, ["3probe"]);
      assert.equal(await (await poll).text(), "2");
      handlers!.onMessage("5");
      handlers!.onMessage("3"); // its pong, over the WebSocket
      await sleep(50);
      assert.equal(engine.clients.get(sid)?.transportName, "websocket");
      assert.ok(!frames.includes("2"), `a second ping: ${JSON.stringify(frames)}`);
    } finally {
      await engine.close(0);
    }
  });
});
