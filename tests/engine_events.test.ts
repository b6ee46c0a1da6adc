/**
 * The engine's observable API as engine.io 6 has it, on the runtime running the tests: a session's
 * `packet`, `packetCreate` (with `options.compress`), `flush`, `drain`, `heartbeat`, `error`,
 * `upgrading` and `upgrade` (with the transport); the server's `flush`, `drain`, `initial_headers` and `headers`
 * (editing the answers, the WebSocket's 101 included), `connection_error` with `req`; and engine
 * middlewares (`io.engine.use`), with `socket.request` as socket.io gives it.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as connectTcp } from "node:net";
import { Server } from "../server.ts";
import { msgpackParser } from "../src/parser/msgpack.ts";
import { io as connect } from "../client.ts";
import type { EngineSocket } from "../server.ts";
import { type Running, startServer } from "./_server.ts";
import { closeRawIo, connectRaw, startIo } from "./_raw_io.ts";
import { once, until } from "./_helpers.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
/** tests/_server.ts serves on node:http under Node (Deno.serve and Bun.serve elsewhere). */
const onNodeHttp = !g.Deno && !g.Bun;

const running: Running[] = [];
const clients: Array<{ disconnect(): unknown }> = [];

async function start(io: Server): Promise<Running> {
  const server = await startServer(io);
  running.push(server);
  return server;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of running.splice(0)) await server.close();
  await closeRawIo();
});

/** The head of the answer to a WebSocket handshake at `path` (a raw TCP client; then it hangs up). */
function upgradeHead(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    let head = "";
    socket.on("data", (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.destroy();
      resolve(head.slice(0, end + 2).toLowerCase()); // every line ends with \r\n
    });
    socket.on("error", reject);
  });
}

/** Opens a polling session; returns its sid and the handshake's answer. */
async function handshake(url: string, query = ""): Promise<{ sid: string; response: Response; text: string }> {
  const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling${query}`);
  const text = await response.text();
  return { sid: response.status === 200 ? JSON.parse(text.slice(1)).sid : "", response, text };
}

describe("a session's events", () => {
  it("packet, packetCreate with options.compress, flush, drain, heartbeat, upgrading and upgrade with the transport", async () => {
    const io = new Server({ pingInterval: 100, pingTimeout: 1000 });
    const seen = {
      packets: [] as Array<{ type: string; data?: unknown }>,
      created: [] as Array<{ type: string; data?: unknown; options?: { compress?: boolean } }>,
      flushed: 0,
      drains: 0,
      heartbeats: 0,
      upgrading: [] as string[],
      upgrades: [] as string[],
      transportAfter: "",
    };
    // On the engine's connection: the upgrade may start before the socket.io CONNECT arrives.
    io.engine.on("connection", (conn: EngineSocket) => {
      conn.on("packet", (packet) => seen.packets.push(packet));
      conn.on("packetCreate", (packet) => seen.created.push(packet));
      conn.on("flush", (packets) => seen.flushed += packets.length);
      conn.on("drain", () => seen.drains++);
      conn.on("heartbeat", () => seen.heartbeats++);
      conn.on("upgrading", (transport) => seen.upgrading.push(transport.name));
      conn.once("upgrade", (transport) => {
        seen.upgrades.push(transport.name);
        seen.transportAfter = conn.transport.name;
      });
    });
    io.on("connection", (socket) => {
      socket.on("hi", () => {
        socket.compress(false).emit("a");
        socket.emit("b");
      });
    });
    const server = await start(io);
    const client = connect(server.url, { forceNew: true, reconnection: false });
    clients.push(client);
    await once(client, "connect");
    await until(() => seen.upgrades.length === 1, 3000, "the upgrade");
    client.emit("hi");
    await once(client, "b");
    await until(() => seen.heartbeats > 0, 3000, "a heartbeat");
    assert.deepEqual(seen.upgrading, ["websocket"]);
    assert.deepEqual(seen.upgrades, ["websocket"]);
    assert.equal(seen.transportAfter, "websocket");
    assert.ok(seen.packets.some((p) => p.type === "message" && p.data === '2["hi"]'), "the event as a packet");
    assert.ok(seen.packets.some((p) => p.type === "pong"), "the pong as a packet");
    const a = seen.created.find((p) => p.data === '2["a"]');
    const b = seen.created.find((p) => p.data === '2["b"]');
    assert.deepEqual(a, { type: "message", data: '2["a"]', options: { compress: false } });
    assert.deepEqual(b, { type: "message", data: '2["b"]', options: { compress: true } });
    assert.ok(seen.created.some((p) => p.type === "ping"), "pings are created packets too");
    assert.ok(seen.flushed >= 3 && seen.drains >= 3, `flushed ${seen.flushed}, drains ${seen.drains}`);
  });

  it("the engine's flush and drain: every session's, those open before the first listener too, and what an upgrade's probe releases", async () => {
    const io = new Server();
    io.on("connection", (socket) => socket.on("hi", (ack) => ack("yo")));
    // Written while the upgrade is probed: held back, then released with the poll the probe ends.
    io.engine.on("connection", (conn: EngineSocket) => conn.on("upgrading", () => conn.write('2["during"]')));
    const server = await start(io);
    const first = connect(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    clients.push(first);
    await once(first, "connect");
    const flushed = new Map<string, unknown[]>();
    const drained = new Set<string>();
    io.engine.on("flush", (conn, packets) => {
      flushed.set(conn.id, [...(flushed.get(conn.id) ?? []), ...packets.map((p) => p.data)]);
    });
    io.engine.on("drain", (conn) => drained.add(conn.id));
    const second = connect(server.url, { forceNew: true, reconnection: false });
    clients.push(second);
    await once(second, "connect");
    assert.equal(await first.emitWithAck("hi"), "yo");
    assert.equal(await second.emitWithAck("hi"), "yo");
    const ids = [...io.engine.clients.keys()];
    assert.equal(ids.length, 2);
    for (const id of ids) {
      assert.ok(flushed.get(id)?.includes('30["yo"]'), `${id} flushed ${JSON.stringify(flushed.get(id))}`);
      assert.ok(drained.has(id), `${id} drained`);
    }
    await until(() => flushed.get(ids[1])?.includes('2["during"]') === true, 2000, "the released packet's flush");
  });

  it("error, then close, on a malformed frame", async () => {
    const events: string[] = [];
    const { server } = await startIo({}, (io) => {
      io.engine.on("connection", (conn: EngineSocket) => {
        conn.on("error", (err) => events.push(`error: ${err.message}`));
        conn.on("close", (reason) => events.push(`close: ${reason}`));
      });
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("9 not a packet");
    await until(() => events.length === 2, 3000, "error and close");
    assert.deepEqual(events, ["error: parse error: invalid packet", "close: parse error"]);
  });
});

describe("the server's events", () => {
  it("initial_headers and headers edit the answers, the 101 included; connection_error carries req", async () => {
    const io = new Server();
    let n = 0;
    const requests: unknown[] = [];
    io.engine.on("initial_headers", (headers, req) => {
      headers["x-initial"] = "yes";
      headers["set-cookie"] = ["a=1", "b=2"];
      requests.push(req);
    });
    io.engine.on("headers", (headers) => {
      headers["x-every"] = String(++n);
    });
    const errors: Array<{ req: { _query: Record<string, string>; headers: unknown }; code: number }> = [];
    io.engine.on("connection_error", (err) => errors.push(err));
    const server = await start(io);

    const first = await handshake(server.url);
    assert.equal(first.response.headers.get("x-initial"), "yes");
    assert.equal(first.response.headers.get("x-every"), "1");
    assert.deepEqual(first.response.headers.getSetCookie(), ["a=1", "b=2"]);
    const bye = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${first.sid}`, {
      method: "POST",
      body: "1",
    });
    assert.equal(bye.headers.get("x-initial"), null, "initial_headers: the handshake only");
    assert.equal(bye.headers.get("x-every"), "2");
    await bye.text();

    const head = await upgradeHead(server.port, "/socket.io/?EIO=4&transport=websocket");
    assert.match(head, /^http\/1\.1 101/);
    assert.match(head, /\r\nx-initial: yes\r\n/);
    assert.match(head, /\r\nx-every: 3\r\n/);

    const refused = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`);
    assert.equal(refused.status, 400);
    await refused.text();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 1);
    assert.equal(errors[0].req._query.sid, "nope", "engine.io's req._query");
    // Node's IncomingMessage on its HTTP server (headers as an object), the web Request elsewhere.
    if (onNodeHttp) assert.equal(typeof (errors[0].req.headers as Record<string, string>).host, "string");
    else assert.ok(errors[0].req instanceof Request);
    // initial_headers' request: the same kind of object.
    assert.equal(onNodeHttp ? "rawHeaders" in (requests[0] as object) : requests[0] instanceof Request, true);
  });
});

describe("engine middlewares (io.engine.use)", () => {
  it("set headers on polls and the 101, see the request, and socket.request is what they saw", async () => {
    const io = new Server();
    io.engine.use((req, res, next) => {
      res.setHeader("X-Middleware", "ran");
      req.marked = req._query.sid === undefined ? "handshake" : "poll";
      next();
    });
    const server = await start(io);
    const first = await handshake(server.url);
    assert.equal(first.response.status, 200);
    assert.equal(first.response.headers.get("x-middleware"), "ran");
    const head = await upgradeHead(server.port, "/socket.io/?EIO=4&transport=websocket");
    assert.match(head, /\r\nx-middleware: ran\r\n/);

    const request = new Promise<unknown>((resolve) => io.on("connection", (socket) => resolve(socket.request)));
    const handshakeOf = new Promise<unknown>((resolve) =>
      io.on("connection", (socket) => resolve(socket.conn.request))
    );
    const client = connect(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    clients.push(client);
    const [req, conn] = await Promise.all([request, handshakeOf]);
    if (onNodeHttp) {
      // socket.io's socket.request: Node's IncomingMessage, with what the middleware set.
      assert.equal((req as { marked: string }).marked, "handshake");
      assert.ok(Array.isArray((req as { rawHeaders: unknown }).rawHeaders));
    } else assert.equal(req, conn, "the HandshakeRequest on web runtimes");
    const bye = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${first.sid}`, {
      method: "POST",
      body: "1",
    });
    await bye.text();
  });

  it("next(err) refuses with 400 and a connection_error; a middleware may answer by itself", async () => {
    const io = new Server();
    const failures: string[] = [];
    io.engine.on("connection_error", (err) => failures.push(String(err.context.name)));
    io.engine.use((req, res, next) => {
      if (req._query.token === "bad") return next(new Error("bad token"));
      if (req._query.token === undefined) {
        res.writeHead(401, { "content-type": "text/plain" });
        res.end("who are you?");
        return;
      }
      next();
    });
    const server = await start(io);
    const none = await handshake(server.url);
    assert.equal(none.response.status, 401);
    assert.equal(none.text, "who are you?");
    const bad = await handshake(server.url, "&token=bad");
    assert.equal(bad.response.status, 400);
    assert.deepEqual(JSON.parse(bad.text), { code: 3, message: "Bad request" });
    assert.deepEqual(failures, ["MIDDLEWARE_FAILURE"]);
    const refusedUpgrade = await upgradeHead(server.port, "/socket.io/?EIO=4&transport=websocket");
    assert.match(refusedUpgrade, /^http\/1\.1 401/);
    const client = connect(server.url, { forceNew: true, reconnection: false, query: { token: "ok" } });
    clients.push(client);
    await once(client, "connect");
  });
});

describe("binary received by the server", () => {
  it("is a Buffer on Node and Bun (as socket.io delivers it), a plain Uint8Array on Deno: every transport, JSON and msgpack", async () => {
    const kinds: string[] = [];
    for (const parser of [undefined, msgpackParser]) {
      const io = new Server({ parser });
      io.on("connection", (socket) => {
        socket.on("bytes", (value: { deep: Uint8Array[] }, ack: () => void) => {
          const bytes = value.deep[0];
          const isBuffer = (globalThis as { Buffer?: { isBuffer(v: unknown): boolean } }).Buffer?.isBuffer(bytes);
          kinds.push(`${isBuffer ? "Buffer" : bytes.constructor.name}:${[...bytes].join(",")}`);
          ack();
        });
      });
      const server = await start(io);
      for (const transports of [["polling"], ["websocket"]] as const) {
        const client = connect(server.url, {
          forceNew: true,
          reconnection: false,
          transports: [...transports],
          parser,
        });
        clients.push(client);
        await client.timeout(3000).emitWithAck("bytes", { deep: [new Uint8Array([1, 2])] });
      }
    }
    const expected = g.Deno ? "Uint8Array:1,2" : "Buffer:1,2";
    assert.deepEqual(kinds, [expected, expected, expected, expected]);
  });
});
