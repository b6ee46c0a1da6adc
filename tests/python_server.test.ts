// python-socketio's server idioms on our server (src/python/): handlers that take the sid and
// return the ack, connect refusal, alwaysConnect, "*" events and namespaces, class-based namespaces
// (on<Event> and on_<event> methods), and every sid-addressed method. The peers are our client.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AsyncNamespace,
  AsyncServer,
  ConnectionRefusedError,
  type Environ,
  NOT_HANDLED,
  TimeoutError,
  tuple,
} from "../src/python/mod.ts";
import type { Socket } from "../client.ts";
import { type Running, startServer } from "./_server.ts";
import { closeAll, connect, connected, deadline, next, sleep } from "./client/_helpers.ts";
import { until } from "./_helpers.ts";

const OPTS = { pingInterval: 300, pingTimeout: 200, connectTimeout: 1000 } as const;

/** Emits with an ack and resolves with the ack's arguments. */
function ask(socket: Socket, event: string, ...args: unknown[]): Promise<unknown[]> {
  return deadline(
    new Promise((resolve) => socket.emit(event, ...args, (...answer: unknown[]) => resolve(answer))),
    3000,
    `the ack of ${event}`,
  );
}

describe("python idioms: AsyncServer", () => {
  let sio: AsyncServer;
  let server: Running;
  const seen: unknown[][] = [];

  before(async () => {
    sio = new AsyncServer({ ...OPTS, namespaces: ["/", "/open"] });
    sio.on("connect", async (sid: string, environ: Environ, auth: Record<string, unknown>) => {
      if (auth?.refuse === "false") return false;
      if (auth?.refuse === "error") throw new ConnectionRefusedError("not allowed", { retry: false });
      seen.push(["connect", sid, environ.QUERY_STRING, environ.HTTP_X_TEST, auth]);
      // emitted before the CONNECT answer, as python-socketio allows
      await sio.emit("welcome", { sid }, { to: sid });
      await sio.saveSession(sid, { name: auth?.name ?? "anon" });
    });
    sio.on("disconnect", (sid: string, reason: string) => seen.push(["disconnect", sid, reason]));
    sio.on("echo", (_sid: string, ...args: unknown[]) => tuple(...args));
    sio.on("one", (_sid: string, data: unknown) => data);
    sio.on("none", () => undefined);
    sio.on("quiet", () => NOT_HANDLED);
    sio.on("whoami", async (sid: string) => ({ sid, session: await sio.getSession(sid), rooms: sio.rooms(sid) }));
    sio.on("join", async (sid: string, room: string) => {
      await sio.enterRoom(sid, room);
      return sio.rooms(sid);
    });
    sio.on("leave", async (sid: string, room: string) => {
      await sio.leaveRoom(sid, room);
      return sio.rooms(sid);
    });
    sio.on("to-room", async (sid: string, room: string, text: string) => {
      await sio.emit("room-message", tuple(room, text), { to: room, skipSid: sid });
    });
    sio.on("close", async (_sid: string, room: string) => {
      await sio.closeRoom(room);
    });
    sio.on("visit", async (sid: string) => {
      const s = await sio.session(sid, (session: { visits?: number }) => {
        session.visits = (session.visits ?? 0) + 1;
      });
      return s.visits;
    });
    sio.on("ask-me", async (sid: string, question: string) => {
      const answer = await sio.call("question", question, { to: sid, timeout: 2000 });
      return tuple("you said", answer);
    });
    sio.on("ask-nobody", async (sid: string) => {
      try {
        await sio.call("question", "?", { to: sid, timeout: 100 });
        return "answered";
      } catch (err) {
        return err instanceof TimeoutError ? "timeout" : String(err);
      }
    });
    sio.on("callback-me", async (sid: string) => {
      const got = await new Promise((resolve) => {
        sio.emit("question", "cb?", { to: sid, callback: (...answer) => resolve(answer) });
      });
      return got;
    });
    sio.on("send-me", async (sid: string, text: string) => {
      await sio.send(text, { to: sid });
    });
    sio.on("kick", async (sid: string) => {
      await sio.disconnect(sid);
    });
    sio.on("info", (sid: string) => ({ transport: sio.transport(sid), path: sio.getEnviron(sid)?.PATH_INFO }));
    sio.on("*", (event: string, sid: string, ...args: unknown[]) => tuple("caught", event, typeof sid, ...args));
    server = await startServer(sio.io);
  });

  afterEach(() => closeAll());
  after(async () => {
    await server.close();
  });

  it("gives handlers the sid, the environ and the auth; acks are return values", async () => {
    const socket = connect(server.url, { auth: { name: "ann" }, query: { q: "1" }, extraHeaders: { "x-test": "yes" } });
    const [welcome] = await next(socket, "welcome");
    await connected(socket);
    assert.equal((welcome as { sid: string }).sid, socket.id);
    const connect_ = seen.find((e) => e[0] === "connect" && e[1] === socket.id)!;
    assert.match(String(connect_[2]), /q=1/);
    assert.equal(connect_[3], "yes");
    assert.deepEqual(connect_[4], { name: "ann" });
    assert.deepEqual(await ask(socket, "echo", 1, "two", [3]), [1, "two", [3]]);
    assert.deepEqual(await ask(socket, "one", [1, 2]), [[1, 2]]);
    assert.deepEqual(await ask(socket, "none"), []);
    assert.deepEqual(await ask(socket, "unknown-event", 5), ["caught", "unknown-event", "string", 5]);
    // NOT_HANDLED: no ack at all
    let answered = false;
    socket.emit("quiet", () => (answered = true));
    await ask(socket, "none");
    await sleep(50);
    assert.equal(answered, false);
  });

  it("refuses with false or ConnectionRefusedError", async () => {
    const a = connect(server.url, { auth: { refuse: "false" }, reconnection: false });
    const [errA] = await next(a, "connect_error");
    assert.equal(errA.message, "Connection rejected by server");
    const b = connect(server.url, { auth: { refuse: "error" }, reconnection: false });
    const [errB] = await next(b, "connect_error");
    assert.equal(errB.message, "not allowed");
    assert.deepEqual(errB.data, { retry: false });
  });

  it("accepts only the namespaces it knows", async () => {
    const open = connect(server.url + "/open");
    await connected(open);
    const other = connect(server.url + "/other", { reconnection: false });
    const [err] = await next(other, "connect_error");
    assert.equal(err.message, "Invalid namespace");
  });

  it("addresses clients by sid: rooms, sessions, closeRoom, skipSid", async () => {
    const a = connect(server.url, { auth: { name: "a" } });
    const b = connect(server.url, { auth: { name: "b" } });
    await Promise.all([connected(a), connected(b)]);
    const [info] = await ask(a, "whoami") as [{ sid: string; session: unknown; rooms: string[] }];
    assert.equal(info.sid, a.id);
    assert.deepEqual(info.session, { name: "a" });
    assert.deepEqual(info.rooms, [a.id]);
    assert.deepEqual((await ask(a, "join", "r"))[0], [a.id, "r"]);
    await ask(b, "join", "r");
    // skipSid: the sender is left out
    const got = next(b, "room-message");
    let aGot = false;
    a.on("room-message", () => (aGot = true));
    await ask(a, "to-room", "r", "hello");
    assert.deepEqual(await got, ["r", "hello"]);
    await ask(a, "none");
    assert.equal(aGot, false);
    assert.deepEqual((await ask(a, "leave", "r"))[0], [a.id]);
    await ask(b, "close", "r");
    const [after] = await ask(b, "whoami") as [{ rooms: string[] }];
    assert.deepEqual(after.rooms, [b.id]);
    assert.deepEqual(await ask(a, "visit"), [1]);
    assert.deepEqual(await ask(a, "visit"), [2]);
  });

  it("calls a client and times out; emits with a callback", async () => {
    const socket = connect(server.url);
    await connected(socket);
    socket.on("question", (q: string, ack: (...a: unknown[]) => void) => {
      if (q === "?") return; // never answers
      ack(q.toUpperCase(), 42);
    });
    assert.deepEqual(await ask(socket, "ask-me", "hi"), ["you said", ["HI", 42]]);
    assert.deepEqual(await ask(socket, "ask-nobody"), ["timeout"]);
    assert.deepEqual(await ask(socket, "callback-me"), [["CB?", 42]]);
  });

  it("disconnects by sid, tells transport and environ", async () => {
    const socket = connect(server.url, { transports: ["websocket"] });
    await connected(socket);
    const id = socket.id!;
    assert.deepEqual(await ask(socket, "info"), [{ transport: "websocket", path: "/socket.io/" }]);
    const message = next(socket, "message");
    socket.emit("send-me", "a message");
    assert.deepEqual(await message, ["a message"]);
    const gone = next(socket, "disconnect");
    socket.emit("kick");
    assert.equal((await gone)[0], "io server disconnect");
    await until(() => seen.some((e) => e[0] === "disconnect" && e[1] === id), 3000, "the disconnect handler");
    assert.deepEqual(seen.find((e) => e[0] === "disconnect" && e[1] === id), ["disconnect", id, "server disconnect"]);
    const other = connect(server.url);
    await connected(other);
    const otherId = other.id!;
    other.disconnect();
    await until(() => seen.some((e) => e[0] === "disconnect" && e[1] === otherId), 3000, "the client disconnect");
    assert.deepEqual(seen.find((e) => e[1] === otherId && e[0] === "disconnect")![2], "client disconnect");
  });

  it("keeps the socket.io API working beside it", async () => {
    sio.io.on("connection", (socket) => socket.on("plain", (ack: (v: string) => void) => ack("socket.io")));
    const socket = connect(server.url);
    await connected(socket);
    assert.deepEqual(await ask(socket, "plain"), ["socket.io"]);
  });
});

describe("python idioms: alwaysConnect, class-based and catch-all namespaces", () => {
  let sio: AsyncServer;
  let server: Running;
  const log: unknown[][] = [];

  class Chat extends AsyncNamespace {
    onConnect(sid: string, _environ: Environ, auth: { ok?: boolean }) {
      log.push(["chat connect", sid]);
      if (!auth?.ok) throw new ConnectionRefusedError("go away");
    }
    onDisconnect(sid: string, reason: string) {
      log.push(["chat disconnect", sid, reason]);
    }
    async onChatMessage(sid: string, text: string) {
      await this.emit("said", tuple(sid, text), { skipSid: sid });
      return text.length;
    }
    on_python_style(_sid: string, value: number) {
      return value * 2;
    }
    onWho(sid: string) {
      return { rooms: this.rooms(sid), transport: this.transport(sid) };
    }
  }

  class Everything extends AsyncNamespace {
    override triggerEvent(event: string, ...args: unknown[]): Promise<unknown> {
      if (event === "connect" || event === "disconnect") return Promise.resolve(undefined);
      return Promise.resolve(tuple("everything", event, ...args));
    }
  }

  before(async () => {
    sio = new AsyncServer({ ...OPTS, alwaysConnect: true, namespaces: "*" });
    sio.registerNamespace(new Chat("/chat"));
    sio.registerNamespace(new Everything("*"));
    sio.on("connect", () => false, "/refused");
    sio.on(
      "special",
      (namespace: string, sid: string, x: unknown) => tuple("special in", namespace, typeof sid, x),
      "*",
    );
    server = await startServer(sio.io);
  });

  afterEach(() => closeAll());
  after(async () => {
    await server.close();
  });

  it("maps events to on<Event> and on_<event> methods", async () => {
    const a = connect(server.url + "/chat", { auth: { ok: true } });
    const b = connect(server.url + "/chat", { auth: { ok: true } });
    await Promise.all([connected(a), connected(b)]);
    const said = next(b, "said");
    assert.deepEqual(await ask(a, "chat_message", "hello"), [5]);
    assert.deepEqual(await said, [a.id, "hello"]);
    assert.deepEqual(await ask(a, "chatMessage", "hey"), [3]);
    assert.deepEqual(await ask(a, "python_style", 21), [42]);
    const [who] = await ask(a, "who") as [{ rooms: string[]; transport: string }];
    assert.deepEqual(who.rooms, [a.id]);
    assert.ok(who.transport === "polling" || who.transport === "websocket");
    const id = a.id!;
    a.disconnect();
    await until(() => log.some((e) => e[0] === "chat disconnect" && e[1] === id), 3000, "onDisconnect");
    assert.deepEqual(log.find((e) => e[0] === "chat disconnect" && e[1] === id)![2], "client disconnect");
  });

  it("alwaysConnect: accepts first, then disconnects a refused client without onDisconnect", async () => {
    const socket = connect(server.url + "/chat", { auth: { ok: false }, reconnection: false });
    let id = "";
    socket.on("connect", () => (id = socket.id!));
    assert.equal((await next(socket, "disconnect"))[0], "io server disconnect");
    assert.notEqual(id, "", "connected first");
    await sleep(50);
    assert.ok(log.some((e) => e[0] === "chat connect" && e[1] === id));
    assert.ok(!log.some((e) => e[0] === "chat disconnect" && e[1] === id));
    const refused = connect(server.url + "/refused", { reconnection: false });
    let wasConnected = false;
    refused.on("connect", () => (wasConnected = true));
    assert.equal((await next(refused, "disconnect"))[0], "io server disconnect");
    assert.ok(wasConnected);
  });

  it('"*" namespaces: any namespace connects, catch-all handlers get the namespace', async () => {
    const socket = connect(server.url + "/anything");
    await connected(socket);
    assert.deepEqual(await ask(socket, "special", 1), ["special in", "/anything", "string", 1]);
    const [first, event, namespace, sid, x] = await ask(socket, "other", 2);
    assert.deepEqual([first, event, namespace, typeof sid, x], ["everything", "other", "/anything", "string", 2]);
  });
});
