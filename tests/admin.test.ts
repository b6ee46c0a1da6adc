/**
 * The Admin UI server side (src/admin): socket.io-client 4.8 plays the `@socket.io/admin-ui` UI
 * against our server: basic auth with a bcrypt hash and sessions, `config`, `all_sockets`,
 * `server_stats`, live socket/room/event notifications, the `emit`/`join`/`leave`/`_disconnect`
 * actions, and `readonly` / `production` modes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io as npmIo, type Socket as NpmSocket } from "socket.io-client";
import bcrypt from "bcryptjs";
import { Server } from "../server.ts";
import { instrument, type Instrumentation } from "../src/admin/mod.ts";
import { type Running, startServer } from "./_server.ts";
import { once, until } from "./_helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const HASH = bcrypt.hashSync("s3cret", 4);

const open: NpmSocket[] = [];
function client(url: string, opts: Record<string, unknown> = {}): NpmSocket {
  const socket = npmIo(url, { forceNew: true, reconnection: false, transports: ["websocket"], ...opts });
  open.push(socket);
  return socket;
}

describe("admin UI protocol (instrument)", () => {
  let io: Server;
  let running: Running;
  let admin: Instrumentation;

  before(async () => {
    io = new Server({ pingInterval: 300, pingTimeout: 200 });
    admin = instrument(io, { auth: { type: "basic", username: "admin", password: HASH }, statsInterval: 100 });
    io.on("connection", (socket) => {
      socket.data.user = "ann";
      socket.on("hello", (name: string) => socket.emit("hi", name));
    });
    io.of("/chat");
    running = await startServer(io);
  });
  after(async () => {
    for (const s of open.splice(0)) s.disconnect();
    admin?.close();
    await running?.close();
  });

  it("rejects a wrong password and a missing auth option, and an invalid hash", async () => {
    const ui = client(`${running.url}/admin`, { auth: { username: "admin", password: "nope" } });
    const [err] = await once(ui, "connect_error");
    assert.equal(err.message, "invalid credentials");
    assert.throws(() => instrument(new Server(), {} as Any), /auth/);
    assert.throws(
      () => instrument(new Server(), { auth: { type: "basic", username: "a", password: "plain" } }),
      /bcrypt/,
    );
  });

  it("logs in, gets a session, the config, all sockets and server stats; the session logs in again", async () => {
    const user = client(running.url);
    await once(user, "connect");
    const ui = client(`${running.url}/admin`, { auth: { username: "admin", password: "s3cret" } });
    const session = once(ui, "session");
    const config = once(ui, "config");
    const all = once(ui, "all_sockets");
    const stats = once(ui, "server_stats");
    const [sessionId] = await session;
    assert.match(sessionId, /^[0-9a-f]{16}$/);
    const [{ supportedFeatures }] = await config;
    for (
      const f of [
        "EMIT",
        "JOIN",
        "LEAVE",
        "DISCONNECT",
        "MJOIN",
        "MLEAVE",
        "MDISCONNECT",
        "AGGREGATED_EVENTS",
        "ALL_EVENTS",
      ]
    ) {
      assert.ok(supportedFeatures.includes(f), f);
    }
    const [sockets] = await all;
    const mine = sockets.find((s: Any) => s.id === user.id);
    assert.ok(mine, "the user's socket is listed");
    assert.equal(mine.nsp, "/");
    assert.equal(mine.transport, "websocket");
    assert.deepEqual(mine.data, { user: "ann" });
    assert.ok(mine.rooms.includes(user.id));
    assert.equal(typeof mine.handshake.headers, "object");
    assert.equal(typeof mine.handshake.issued, "number");
    assert.ok(sockets.some((s: Any) => s.nsp === "/admin"), "the admin socket itself is listed");
    const [s] = await stats;
    assert.equal(typeof s.serverId, "string");
    assert.ok(s.clientsCount >= 2);
    assert.ok(Array.isArray(s.aggregatedEvents));
    assert.deepEqual(
      s.namespaces.map((n: Any) => n.name).sort(),
      ["/", "/admin", "/chat"],
    );
    const later = await once(
      ui,
      "server_stats",
      3000,
      (st: Any) => st.aggregatedEvents.some((e: Any) => e.type === "bytesOut"),
    );
    assert.ok(later[0].aggregatedEvents.every((e: Any) => typeof e.timestamp === "number" && e.count > 0));

    const again = client(`${running.url}/admin`, { auth: { sessionId } });
    await once(again, "config");
  });

  it("notifies connections, events both ways, rooms, data changes and disconnections", async () => {
    const ui = client(`${running.url}/admin`, { auth: { username: "admin", password: "s3cret" } });
    await once(ui, "config");
    const connected = once(ui, "socket_connected", 3000, (s: Any) => s.nsp === "/");
    const user = client(running.url);
    await once(user, "connect");
    const [serialized, date] = await connected;
    assert.equal(serialized.id, user.id);
    assert.ok(!Number.isNaN(Date.parse(date)));

    const received = once(ui, "event_received", 3000, (_nsp: string, id: string) => id === user.id);
    const sent = once(ui, "event_sent", 3000, (_nsp: string, id: string) => id === user.id);
    user.emit("hello", "bob");
    const [nsp, , args] = await received;
    assert.equal(nsp, "/");
    assert.deepEqual(args, ["hello", "bob"]);
    assert.deepEqual((await sent)[2], ["hi", "bob"]);

    const joined = once(ui, "room_joined", 3000, (_n: string, room: string) => room === "lobby");
    ui.emit("join", "/", "lobby", user.id);
    const [, room, id] = await joined;
    assert.equal(room, "lobby");
    assert.equal(id, user.id);
    const [remote] = await io.in("lobby").fetchSockets();
    assert.equal(remote.id, user.id);

    const news = once(user, "news");
    ui.emit("emit", "/", "lobby", "news", { a: 1 });
    assert.deepEqual(await news, [{ a: 1 }]);

    const left = once(ui, "room_left", 3000, (_n: string, r: string) => r === "lobby");
    ui.emit("leave", "/", "lobby");
    await left;

    const updated = once(ui, "socket_updated", 3000, (u: Any) => u.id === user.id && u.data);
    const [local] = [...io.sockets.sockets.values()].filter((s) => s.id === user.id);
    local.data.score = 3;
    assert.deepEqual((await updated)[0].data, { user: "ann", score: 3 });

    const userId = user.id; // socket.io-client forgets it on disconnect
    const gone = once(ui, "socket_disconnected", 3000, (_n: string, id: string) => id === userId);
    const userGone = once(user, "disconnect");
    ui.emit("_disconnect", "/", false, userId);
    const [, , reason] = await gone;
    assert.equal(reason, "server namespace disconnect");
    assert.equal((await userGone)[0], "io server disconnect");
  });
});

describe("admin UI protocol: readonly, production, no auth", () => {
  it("readonly offers no actions and ignores them; production sends no sockets or events", async () => {
    const io = new Server();
    const admin = instrument(io, {
      auth: false,
      readonly: true,
      mode: "production",
      namespaceName: "/ops",
      statsInterval: 100,
    });
    const running = await startServer(io);
    try {
      const user = client(running.url);
      await once(user, "connect");
      const ui = client(`${running.url}/ops`);
      const all: Any[] = [];
      ui.on("all_sockets", (s: Any) => all.push(s));
      ui.on("socket_connected", (s: Any) => all.push(s));
      const [{ supportedFeatures }] = await once(ui, "config");
      assert.deepEqual(supportedFeatures, ["AGGREGATED_EVENTS"]);
      ui.emit("_disconnect", "/", true);
      await once(ui, "server_stats");
      await once(ui, "server_stats");
      assert.ok(user.connected, "readonly: the action was ignored");
      assert.deepEqual(all, []);
    } finally {
      for (const s of open.splice(0)) s.disconnect();
      admin.close();
      await running.close();
    }
  });
});

describe("admin UI instrumentation: what it does to the server it watches", () => {
  let io: Server;
  let running: Running;
  let instrumentation: Instrumentation;
  const shared = { level: 1, nested: { n: 1 } };
  const logged: unknown[][] = [];
  const error = console.error;
  let conns: Any[] = [];

  before(async () => {
    console.error = (...args: unknown[]) => void logged.push(args);
    io = new Server({ pingInterval: 300, pingTimeout: 200 });
    io.engine.on("connection", (conn: Any) => conns.push(conn));
    instrumentation = instrument(io, { auth: false });
    io.use((socket, next) => {
      const mode = (socket.handshake.auth as { mode?: string }).mode;
      if (mode === "classes") {
        socket.data = { seen: new Set<string>(), since: new Date(0), cache: new Map<string, number>() };
      } else if (mode === "shared") socket.data = shared;
      next();
    });
    io.on("connection", (socket) => {
      if ((socket.handshake.auth as { mode?: string }).mode === "replace") socket.data = { replaced: true };
      socket.on("use-data", (ack: (v: unknown) => void) => {
        const data = socket.data as Any;
        if (data.seen) {
          data.seen.add("x");
          data.cache.set("k", 1);
          ack([data.seen.size, data.cache.get("k"), data.since.getTime()]);
        } else {
          data.score = 7;
          if (!data.nested) return ack(null);
          // A nested plain object reads back as one object (one proxy), and writes reach it.
          data.nested.n = 2;
          ack({ ...shared, same: data.nested === data.nested });
        }
      });
    });
    io.of("/chat");
    running = await startServer(io);
  });
  after(async () => {
    console.error = error;
    for (const s of open.splice(0)) s.disconnect();
    instrumentation?.close();
    await running?.close();
  });

  it("leaves Sets, Maps and Dates in socket.data working, and writes reach the object the app set", async () => {
    const ui = client(`${running.url}/admin`);
    await once(ui, "config");
    const updated = once(ui, "socket_updated", 3000, (u: Any) => u.data?.score === 7);
    const c1 = client(running.url, { auth: { mode: "classes" } });
    assert.deepEqual(await c1.timeout(2000).emitWithAck("use-data"), [1, 1, 0]);
    const c2 = client(running.url, { auth: { mode: "shared" } });
    // The object itself (the UI's `_admin` part is added to it, as @socket.io/admin-ui does).
    const seen = await c2.timeout(2000).emitWithAck("use-data") as Record<string, unknown>;
    assert.deepEqual([seen.level, seen.score, seen.nested, seen.same], [1, 7, { n: 2 }, true]);
    await updated;
    assert.deepEqual(logged, []);
  });

  it("survives socket.data being replaced: the upgrade still shows, nothing is logged", async () => {
    const ui = client(`${running.url}/admin`);
    await once(ui, "config");
    const upgraded = once(ui, "socket_updated", 5000, (u: Any) => u.transport === "websocket");
    const c = client(running.url, { auth: { mode: "replace" }, transports: ["polling", "websocket"] });
    await once(c, "connect");
    await upgraded;
    assert.deepEqual(logged, []);
  });

  it("takes its per-socket listeners off the connection when a socket leaves", async () => {
    conns = [];
    const c = client(running.url);
    await once(c, "connect");
    const conn = conns[0];
    const before = conn.listenerCount("upgrade");
    for (let i = 0; i < 20; i++) {
      const chat = c.io.socket("/chat");
      chat.connect();
      await once(chat, "connect");
      chat.disconnect();
    }
    await until(() => io.of("/chat").sockets.size === 0, 3000, "the /chat sockets to leave");
    assert.equal(conn.listenerCount("upgrade"), before);
  });

  it("sends nothing to the admin namespace while no admin is there, and close() takes its hooks off", async () => {
    for (const s of open.splice(0)) s.disconnect();
    await until(() => io.of("/admin").sockets.size === 0, 3000, "the admins to leave");
    const adapter = io.of("/admin").adapter;
    const broadcast = adapter.broadcast;
    let sent = 0;
    adapter.broadcast = function (...args: Parameters<typeof broadcast>) {
      sent++;
      return broadcast.apply(this, args);
    };
    try {
      const c = client(running.url);
      await once(c, "connect");
      await c.timeout(2000).emitWithAck("use-data");
      io.emit("news", 1);
      assert.equal(sent, 0);
    } finally {
      adapter.broadcast = broadcast;
    }
    const listeners = io.engine.listenerCount("connection");
    instrumentation.close();
    assert.equal(io.engine.listenerCount("connection"), listeners - 1);
  });
});
