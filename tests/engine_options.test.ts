// Engine.IO server options and edge cases beyond the official suite: CORS, allowRequest, cookie,
// initialPacket, header hooks, limits, transports, upgrades, server close.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine, type EngineOptions, type EngineSocket } from "../src/engine/server.ts";
import type { EngineConnectionError } from "../src/engine/errors.ts";
import type { PollingTransport } from "../src/engine/transports/polling.ts";
import { closeAllWebSockets, createWebSocket, Polling, request, sleep, until } from "./conformance/_helpers.ts";
import { type Running, serve } from "./_server.ts";

const running: Running[] = [];

async function start(options: EngineOptions = {}) {
  const engine = new Engine({ pingInterval: 300, pingTimeout: 200, ...options });
  const sessions: EngineSocket[] = [];
  const errors: EngineConnectionError[] = [];
  engine.on("connection", (socket) => {
    sessions.push(socket);
    socket.on("message", (data) => socket.write(data));
  });
  engine.on("connection_error", (err) => errors.push(err));
  const waiters: Array<{ method: string; resolve: () => void }> = [];
  const server = await serve(
    (req, options) => {
      const index = waiters.findIndex((w) => w.method === req.method);
      if (index !== -1) waiters.splice(index, 1)[0].resolve();
      return engine.handle(req, options);
    },
    () => engine.close(),
  );
  running.push(server);
  /** Resolves when the next request with `method` reaches the engine. */
  const arrival = (method: string) => new Promise<void>((resolve) => waiters.push({ method, resolve }));
  return { engine, server, sessions, errors, arrival, base: `${server.url}/engine.io/` };
}

afterEach(async () => {
  closeAllWebSockets();
  for (const s of running.splice(0)) await s.close();
});

describe("engine: CORS", () => {
  it("sends no CORS headers unless configured", async () => {
    const { base } = await start();
    const res = await request(`${base}?EIO=4&transport=polling`, { headers: { origin: "http://a.test" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  it("echoes an allowed origin from a list, with credentials, and refuses others", async () => {
    const { base } = await start({ cors: { origin: ["http://a.test", /\.b\.test$/], credentials: true } });
    const ok = await request(`${base}?EIO=4&transport=polling`, { headers: { origin: "http://x.b.test" } });
    assert.equal(ok.headers.get("access-control-allow-origin"), "http://x.b.test");
    assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
    assert.match(ok.headers.get("vary") ?? "", /Origin/);
    const no = await request(`${base}?EIO=4&transport=polling`, { headers: { origin: "http://evil.test" } });
    assert.equal(no.headers.get("access-control-allow-origin"), null);
  });

  it("answers a preflight with 204 and the allowed methods and headers", async () => {
    const { base } = await start({ cors: { origin: "http://a.test", methods: ["GET", "POST"] } });
    const res = await request(`${base}?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { origin: "http://a.test", "access-control-request-headers": "x-token" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://a.test");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET,POST");
    assert.equal(res.headers.get("access-control-allow-headers"), "x-token");
  });

  it("asks an origin function", async () => {
    const { base } = await start({
      cors: { origin: (origin, cb) => cb(null, origin === "http://fn.test") },
    });
    const ok = await request(`${base}?EIO=4&transport=polling`, { headers: { origin: "http://fn.test" } });
    assert.equal(ok.headers.get("access-control-allow-origin"), "http://fn.test");
    const no = await request(`${base}?EIO=4&transport=polling`, { headers: { origin: "http://other.test" } });
    assert.equal(no.headers.get("access-control-allow-origin"), null);
  });
});

describe("engine: allowRequest", () => {
  it("refuses with 403 and code 4 (callback style)", async () => {
    const { base, errors } = await start({
      allowRequest: (req, cb) => cb(null, req.headers.get("x-ok") === "1"),
    });
    const no = await request(`${base}?EIO=4&transport=polling`);
    assert.equal(no.status, 403);
    assert.deepEqual(JSON.parse(no.text), { code: 4, message: "Forbidden" });
    assert.equal(errors.at(-1)?.code, 4);
    const ok = await request(`${base}?EIO=4&transport=polling`, { headers: { "x-ok": "1" } });
    assert.equal(ok.status, 200);
  });

  it("accepts an async function and refuses when it throws, without leaking the error", async () => {
    const { base } = await start({
      allowRequest: async (req) => {
        await sleep(1);
        if (req.headers.get("x-boom")) throw new Error("secret internals");
        return true;
      },
    });
    assert.equal((await request(`${base}?EIO=4&transport=polling`)).status, 200);
    const no = await request(`${base}?EIO=4&transport=polling`, { headers: { "x-boom": "1" } });
    assert.equal(no.status, 403);
    assert.doesNotMatch(no.text, /secret/);
  });

  it("refuses WebSocket handshakes too", async () => {
    const { server } = await start({ allowRequest: (_req, cb) => cb("nope", false) });
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    await ws.waitFor("close");
  });
});

describe("engine: handshake options", () => {
  it("sets the sid cookie and calls the header hooks", async () => {
    const seen: string[] = [];
    const { base } = await start({
      cookie: { name: "io", sameSite: "strict", secure: true },
      onInitialHeaders: (headers) => headers.set("x-initial", "1"),
      onHeaders: (headers, req) => {
        headers.set("x-every", "1");
        seen.push(req.method);
      },
    });
    const res = await request(`${base}?EIO=4&transport=polling`);
    const sid = JSON.parse(res.text.slice(1)).sid;
    assert.equal(res.headers.get("set-cookie"), `io=${sid}; Path=/; HttpOnly; Secure; SameSite=Strict`);
    assert.equal(res.headers.get("x-initial"), "1");
    assert.equal(res.headers.get("x-every"), "1");
    const poll = await request(`${base}?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "4x" });
    assert.equal(poll.headers.get("x-every"), "1");
    assert.equal(poll.headers.get("x-initial"), null);
    assert.deepEqual(seen, ["GET", "POST"]);
  });

  it("sends the initial packet after the open packet", async () => {
    const { base } = await start({ initialPacket: "welcome" });
    const res = await request(`${base}?EIO=4&transport=polling`);
    const [open, initial] = res.text.split("\x1e");
    assert.ok(open.startsWith("0{"));
    assert.equal(initial, "4welcome");
  });

  it("serves only the configured transports", async () => {
    const { base, server } = await start({ transports: ["websocket"] });
    const res = await request(`${base}?EIO=4&transport=polling`);
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.text), { code: 0, message: "Transport unknown" });
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    const open = await ws.waitFor("message");
    assert.deepEqual(JSON.parse(String(open.data).slice(1)).upgrades, []);
  });

  it("offers no upgrade when allowUpgrades is false and refuses one", async () => {
    const { base, server } = await start({ allowUpgrades: false });
    const polling = new Polling(server.url, "/engine.io/");
    const handshake = await polling.open();
    assert.deepEqual(handshake.upgrades, []);
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket&sid=${polling.sid}`);
    await ws.waitFor("close");
    assert.ok(base);
  });

  it("uses a custom path and id generator", async () => {
    const { server } = await start({ path: "/rt", generateId: () => "custom-id" });
    const res = await request(`${server.url}/rt/?EIO=4&transport=polling`);
    assert.equal(JSON.parse(res.text.slice(1)).sid, "custom-id");
  });
});

describe("engine: errors and limits", () => {
  it("answers unknown sids with code 1 and wrong methods with code 2", async () => {
    const { base } = await start();
    const unknown = await request(`${base}?EIO=4&transport=polling&sid=nope`);
    assert.equal(unknown.status, 400);
    assert.deepEqual(JSON.parse(unknown.text), { code: 1, message: "Session ID unknown" });
    assert.equal(unknown.headers.get("content-type"), "application/json");
    const method = await request(`${base}?EIO=4&transport=polling`, { method: "DELETE" });
    assert.deepEqual(JSON.parse(method.text), { code: 2, message: "Bad handshake method" });
  });

  it("refuses a websocket handshake without an Upgrade header with code 3", async () => {
    const { base } = await start();
    const res = await request(`${base}?EIO=4&transport=websocket`);
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.text), { code: 3, message: "Bad request" });
  });

  it("tells a WebSocket client why its session ended, in the close frame (code 1000)", async () => {
    const { server, sessions } = await start();
    // No pong: the session ends by ping timeout (300 + 200 ms).
    const silent = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    await silent.waitFor("message"); // the open packet
    const timedOut = (await silent.waitFor("close", 3000)) as CloseEvent;
    assert.equal(timedOut.code, 1000);
    assert.equal(timedOut.reason, "ping timeout");
    // Closed by the server.
    const closed = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    await closed.waitFor("message");
    await until(() => sessions.length === 2, 2000, "the second session");
    sessions[1].close();
    const forced = (await closed.waitFor("close", 3000)) as CloseEvent;
    assert.equal(forced.code, 1000);
    assert.equal(forced.reason, "forced close");
  });

  it("answers a POST body over maxHttpBufferSize with 413 and keeps the session", async () => {
    const { server } = await start({ maxHttpBufferSize: 100 });
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    const big = await polling.post("4" + "x".repeat(200));
    assert.equal(big.status, 413);
    const ok = await polling.post("4small");
    assert.equal(ok.status, 200);
    assert.deepEqual(await polling.packets(1), ["4small"]);
  });

  it("keeps the peer's address of a polling handshake", async () => {
    const { server, sessions } = await start();
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    assert.equal(sessions[0].request.remoteAddress, "127.0.0.1");
  });

  it("reads a chunked POST body (no content-length) up to maxHttpBufferSize, 413 past it", async () => {
    const { server } = await start({ maxHttpBufferSize: 100 });
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    const chunked = (parts: string[]) =>
      fetch(polling.url, {
        method: "POST",
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
    const big = await chunked(["4", "x".repeat(80), "x".repeat(80)]);
    await big.body?.cancel();
    assert.equal(big.status, 413);
    const ok = await chunked(["4chu", "nked"]);
    await ok.body?.cancel();
    assert.equal(ok.status, 200);
    assert.deepEqual(await polling.packets(1), ["4chunked"]);
  });

  it("closes a WebSocket whose frame exceeds maxHttpBufferSize", async () => {
    const { server, sessions } = await start({ maxHttpBufferSize: 100 });
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    await ws.waitFor("message");
    const closed = new Promise((resolve) => sessions[0].on("close", resolve));
    ws.send("4" + "y".repeat(500));
    await ws.waitFor("close");
    assert.equal(await closed, "transport error");
  });

  it("closes the session on concurrent POSTs", async () => {
    const { server, engine, arrival } = await start();
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    // The first POST's body stays open until the second POST has its answer.
    const { promise: answered, resolve: releaseFirst } = Promise.withResolvers<void>();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("4a"));
        await answered;
        controller.close();
      },
    });
    const firstArrived = arrival("POST");
    const first = fetch(polling.url, { method: "POST", body: stream, duplex: "half" } as RequestInit)
      .then((r) => r.text()).catch(() => "");
    await firstArrived; // the engine is reading its body
    const second = await polling.post("4b");
    releaseFirst();
    assert.equal(second.status, 400);
    await first;
    assert.equal(engine.clientsCount, 0);
  });

  it("drops a polling client that does not read once maxBufferedBytes are waiting", async () => {
    const { server, sessions, engine } = await start({
      maxBufferedBytes: 10_000,
      pingInterval: 5000,
      pingTimeout: 5000,
    });
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    const reason = new Promise((resolve) => sessions[0].on("close", resolve));
    const chunk = "x".repeat(1000);
    for (let i = 0; i < 9; i++) sessions[0].write(chunk);
    assert.equal(engine.clientsCount, 1, "still under the limit");
    for (let i = 0; i < 5; i++) sessions[0].write(chunk);
    assert.equal(await reason, "transport full");
    assert.equal(engine.clientsCount, 0);
    assert.equal((await polling.get()).status, 400);
  });

  it("keeps a reading client under maxBufferedBytes connected", async () => {
    const { server, sessions } = await start({ maxBufferedBytes: 10_000, pingInterval: 5000, pingTimeout: 5000 });
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    await ws.waitFor("message");
    const chunk = "y".repeat(1000);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) sessions[0].write(chunk);
      for (let i = 0; i < 5; i++) assert.equal((await ws.waitFor("message")).data, "4" + chunk);
    }
    assert.equal(sessions[0].readyState, "open");
  });

  it("closes the session when the client pings (v4: only the server pings)", async () => {
    const { server, sessions } = await start();
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket`);
    await ws.waitFor("message");
    const reason = new Promise((resolve) => sessions[0].on("close", resolve));
    ws.send("2");
    assert.equal(await reason, "transport error");
    await ws.waitFor("close");
  });

  it("closes an upgrade that does not finish within upgradeTimeout, keeping the session", async () => {
    const { server, engine } = await start({ upgradeTimeout: 100, pingInterval: 5000, pingTimeout: 5000 });
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    const ws = createWebSocket(`${server.wsUrl}/engine.io/?EIO=4&transport=websocket&sid=${polling.sid}`);
    await ws.waitFor("open");
    await ws.waitFor("close", 2000);
    assert.equal(engine.clientsCount, 1);
    await polling.post("4still");
    assert.deepEqual(await polling.packets(1), ["4still"]);
  });

  it("answers a waiting poll with a close packet when the server closes the session", async () => {
    const { server, sessions, engine } = await start({ pingInterval: 5000, pingTimeout: 5000 });
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    const poll = polling.get();
    await until(() => (sessions[0].transport as PollingTransport).polling, 3000, "the server to hold the GET");
    sessions[0].close();
    const res = await poll;
    assert.equal(res.text, "1");
    assert.equal(engine.clientsCount, 0);
  });

  it("flushes buffered messages before a server close on polling", async () => {
    const { server, sessions, engine } = await start({ pingInterval: 5000, pingTimeout: 5000 });
    const polling = new Polling(server.url, "/engine.io/");
    await polling.open();
    sessions[0].write("bye");
    sessions[0].close();
    const first = await polling.get();
    const second = first.text.includes("\x1e1") ? first : await polling.get();
    assert.ok(first.text.startsWith("4bye"), first.text);
    assert.ok(second.text.endsWith("1"), second.text);
    assert.equal(engine.clientsCount, 0);
  });
});
