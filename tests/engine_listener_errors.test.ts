// Engine-level listeners that throw, on the runtime's own server (Deno.serve, Bun.serve, node:http
// with ws): the error is logged, the other listeners still run, the request or frame that carried
// the event is answered as usual, and the process goes on. A "message" listener that threw used to
// end a Deno or Node process from inside the WebSocket's event handler.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../src/engine/server.ts";
import { type Running, serve } from "./_server.ts";
import { createWebSocket, request, until } from "./conformance/_helpers.ts";

const BROKEN = "a broken listener";

describe("engine listeners that throw", () => {
  let engine: Engine;
  let server: Running;
  let logged: string[] = [];
  const error = console.error;
  /** What each event's second listener saw. */
  let seen: string[] = [];

  before(async () => {
    // A short heartbeat, so that a pong (and its "heartbeat" event) comes within the test.
    engine = new Engine({
      pingInterval: 100,
      pingTimeout: 1000,
      allowRequest: (req, cb) => cb(null, !req.url.includes("refuse")),
    });
    const broken = () => {
      throw new Error(BROKEN);
    };
    engine.on("connection", broken);
    engine.on("connection", (session) => {
      seen.push("connection");
      session.on("message", broken);
      session.on("message", (data) => {
        seen.push(`message ${data}`);
        session.write(`echo ${data}`);
      });
      session.on("heartbeat", broken);
      session.on("heartbeat", () => seen.push("heartbeat"));
      session.on("close", broken);
      session.on("close", (reason) => seen.push(`close ${reason}`));
    });
    engine.on("connection_error", broken);
    engine.on("connection_error", (err) => seen.push(`connection_error ${err.code}`));
    server = await serve((req, options) => engine.handle(req, options));
  });

  after(async () => {
    await engine.close();
    await server.close();
  });

  afterEach(() => {
    console.error = error;
  });

  function captureLogs(): void {
    logged = [];
    seen = [];
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
  }

  it("over WebSocket: the message is handled, the session lives on, each error is logged", async () => {
    captureLogs();
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    assert.ok(String((await ws.waitFor("message")).data).startsWith("0{"));
    ws.answerPings();
    ws.send("4hello");
    assert.equal(await ws.next(), "4echo hello");
    // The next message still goes through the same session.
    ws.send("4again");
    assert.equal(await ws.next(), "4echo again");
    await until(() => seen.includes("heartbeat"), 3000, "a pong");
    ws.close();
    await until(() => seen.includes("close transport close"), 3000, "the session's close");
    assert.deepEqual(seen.filter((s) => !s.startsWith("heartbeat")), [
      "connection",
      "message hello",
      "message again",
      "close transport close",
    ]);
    for (const event of ["connection", "message", "heartbeat", "close"]) {
      assert.ok(
        logged.some((line) => line.includes(`"${event}" listener`) && line.includes(BROKEN)),
        `no log for ${event}: ${JSON.stringify(logged)}`,
      );
    }
    assert.equal(engine.clientsCount, 0);
  });

  it("over polling: the handshake and the POST are answered as usual", async () => {
    captureLogs();
    const base = `${server.url}/engine.io/?EIO=4&transport=polling`;
    const open = await request(base);
    assert.equal(open.status, 200);
    const sid = JSON.parse(open.text.slice(1)).sid;
    const post = await request(`${base}&sid=${sid}`, { method: "POST", body: "4hi" });
    assert.equal(post.status, 200);
    assert.equal(post.text, "ok");
    // (A ping may come along: the heartbeat is short.)
    const packets = (await request(`${base}&sid=${sid}`)).text.split("\x1e").filter((p) => p !== "2");
    assert.deepEqual(packets, ["4echo hi"]);
    assert.equal((await request(`${base}&sid=${sid}`, { method: "POST", body: "1" })).status, 200);
    assert.deepEqual(seen, ["connection", "message hi", "close transport close"]);
    assert.equal(engine.clientsCount, 0);
  });

  it("a refused request still gets its error response", async () => {
    captureLogs();
    const refused = await request(`${server.url}/engine.io/?EIO=4&transport=polling&refuse=1`);
    assert.equal(refused.status, 403);
    assert.deepEqual(seen, ["connection_error 4"]);
    assert.ok(logged.some((line) => line.includes(`"connection_error" listener`)), JSON.stringify(logged));
  });
});
