// socket.io's forms on a node:http server, on every runtime that has one (Node, Bun, Deno):
// `new Server(httpServer | port, opts)`, `io.attach(httpServer | port, opts)`, `io.listen(port)`,
// with no import besides the Server. attach takes effect at once (the very first request may be a
// WebSocket upgrade: it waits for `ws` to load), the server's own listeners keep the other paths,
// and io.close(callback) closes the HTTP server too, freeing its port.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { Server } from "../server.ts";
import { io as connect } from "../client.ts";
import { once } from "./_helpers.ts";

async function echoOnce(url: string, transports: ("polling" | "websocket")[]): Promise<unknown> {
  const socket = connect(url, { forceNew: true, reconnection: false, transports });
  try {
    return await socket.timeout(3000).emitWithAck("echo", { n: 1 });
  } finally {
    socket.disconnect();
  }
}

function portOf(server: { address(): unknown }): number {
  return (server.address() as { port: number }).port;
}

/** A port nobody listens on (a listener on 0, closed). */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = portOf(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Whether `port` can be listened on again (the server that had it is gone). */
async function isFree(port: number): Promise<boolean> {
  const probe = createNetServer();
  const ok = await new Promise<boolean>((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => probe.close(() => resolve()));
  return ok;
}

/** The open packet of a polling handshake at `url` (the session is closed again at once). */
async function handshake(url: string, init?: RequestInit): Promise<{ pingInterval: number; response: Response }> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, init);
  const open = JSON.parse((await response.text()).slice(1));
  const bye = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${open.sid}`, { method: "POST", body: "1" });
  await bye.arrayBuffer();
  return { ...open, response };
}

function echoing(io: Server): Server {
  io.on("connection", (socket) => socket.on("echo", (value, ack) => ack(value)));
  return io;
}

describe("socket.io's forms on node:http", () => {
  it("attach serves at once, the first request a WebSocket; other paths stay with the app; close() stops it", async () => {
    const io = echoing(new Server());
    const http: HttpServer = createServer((_req, res) => res.end("the app"));
    assert.equal(io.attach(http), io);
    assert.equal(io.httpServer, http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${portOf(http)}`;
    try {
      assert.deepEqual(await echoOnce(url, ["websocket"]), { n: 1 });
      assert.deepEqual(await echoOnce(url, ["polling"]), { n: 1 });
      assert.deepEqual(await echoOnce(url, ["polling", "websocket"]), { n: 1 });
      const app = await fetch(`${url}/elsewhere`);
      assert.equal(await app.text(), "the app");
      const bundle = await fetch(`${url}/socket.io/socket.io.min.js`);
      assert.equal(bundle.status, 200);
      await bundle.arrayBuffer();
    } finally {
      await io.close();
    }
    assert.equal(http.listening, false, "io.close() closed the attached server");
    assert.equal(http.listenerCount("request"), 1, "the app's listener is back, once");
    assert.equal(http.listenerCount("upgrade"), 0);
  });

  it("new Server(httpServer, opts): the options apply, the app keeps its paths", async () => {
    const http = createServer((_req, res) => res.end("the app"));
    const io = echoing(new Server(http, { pingInterval: 1234, cors: { origin: "https://app.example" } }));
    assert.equal(io.httpServer, http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${portOf(http)}`;
    try {
      const { response, pingInterval } = await handshake(url, { headers: { origin: "https://app.example" } });
      assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
      assert.equal(pingInterval, 1234);
      assert.deepEqual(await echoOnce(url, ["polling", "websocket"]), { n: 1 });
      assert.equal(await (await fetch(`${url}/`)).text(), "the app");
    } finally {
      await io.close();
    }
    assert.equal(http.listening, false);
  });

  it("new Server(port), io.listen(port, opts), io.attach(port): a server of their own, 404 elsewhere, the port free after close(callback)", async () => {
    const forms: Array<(port: number) => Server> = [
      (port) => new Server(port),
      (port) => new Server(String(port) as unknown as number, { pingInterval: 4321 }),
      (port) => new Server().listen(port, { pingInterval: 4321 }),
      (port) => new Server().attach(port),
    ];
    for (const [i, make] of forms.entries()) {
      const port = await freePort();
      const io = echoing(make(port));
      const http = io.httpServer as HttpServer;
      if (!http.listening) await once(http, "listening");
      const url = `http://127.0.0.1:${port}`;
      const expectedPing = i === 1 || i === 2 ? 4321 : 25000;
      assert.equal((await handshake(url)).pingInterval, expectedPing, `form ${i}`);
      assert.deepEqual(await echoOnce(url, ["websocket"]), { n: 1 });
      const other = await fetch(`${url}/elsewhere`);
      assert.equal(other.status, 404);
      await other.arrayBuffer();
      const err = await new Promise<Error | undefined>((resolve) => io.close(resolve));
      assert.equal(err, undefined, `form ${i}: close reported ${err}`);
      assert.equal(await isFree(port), true, `form ${i}: port ${port} free after close`);
    }
  });

  it("attach's options fill in, the constructor's win (as socket.io merges them)", async () => {
    const io = new Server({ pingInterval: 1111 });
    const http = createServer();
    io.attach(http, { pingInterval: 2222, pingTimeout: 3333, connectTimeout: 99 });
    assert.equal(io.engine.options.pingInterval, 1111);
    assert.equal(io.engine.options.pingTimeout, 3333);
    await io.close();
  });

  it("close(callback) reports a server that was not running; an express app is refused with what to pass", async () => {
    const http = createServer();
    const io = new Server(http);
    const err = await new Promise<Error | undefined>((resolve) => io.close(resolve));
    assert.ok(err instanceof Error, "Node's ERR_SERVER_NOT_RUNNING");
    const app = (_req: unknown, _res: unknown) => {};
    assert.throws(() => new Server().attach(app as never), /pass an http\.Server instance/);
  });

  it("io.eio is io.engine; path(v), serveClient(v) and connectTimeout(v) set and read", async () => {
    const io = new Server();
    assert.equal(io.eio, io.engine);
    assert.equal(io.path(), "/socket.io");
    assert.equal(io.path("/realtime/"), io);
    assert.equal(io.path(), "/realtime");
    assert.equal(io.serveClient(), true);
    assert.equal(io.serveClient(false).serveClient(), false);
    assert.equal(io.connectTimeout(), 45000);
    assert.equal(io.connectTimeout(50).connectTimeout(), 50);
    const http = createServer();
    io.attach(http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${portOf(http)}`;
    try {
      const old = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(old.status, 404);
      await old.arrayBuffer();
      const bundle = await fetch(`${url}/realtime/socket.io.min.js`);
      assert.equal(bundle.status, 400, "serveClient(false): the engine answers the whole path");
      await bundle.arrayBuffer();
      // connectTimeout(50): a connection that joins no namespace is closed.
      const sid = JSON.parse((await (await fetch(`${url}/realtime/?EIO=4&transport=polling`)).text()).slice(1)).sid;
      const closed = await fetch(`${url}/realtime/?EIO=4&transport=polling&sid=${sid}`);
      const packets = (await closed.text()).split("\u001e");
      assert.equal(packets.at(-1), "1", "a close packet: closed by the connect timeout");
    } finally {
      await io.close();
    }
  });
});
