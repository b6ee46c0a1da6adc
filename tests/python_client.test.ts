// python-socketio's client idioms on our client (src/python/client.ts): class-based client
// namespaces, several namespaces in one connect ("*" = those with handlers), wait(), "*" handlers,
// retry and waitTimeout, BadNamespaceError and call timeouts; and SimpleClient with `await using`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { SimpleClient } from "../client.ts";
import {
  AsyncClient,
  AsyncClientNamespace,
  BadNamespaceError,
  ConnectionError,
  TimeoutError,
  tuple,
} from "../src/python/mod.ts";
import { type Running, serve, startServer } from "./_server.ts";
import { freePort } from "./adapters/_redis.ts";
import { deadline, sleep } from "./client/_helpers.ts";

const FAST = { reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 } as const;

function setup(io: Server): void {
  for (const name of ["/", "/chat"]) {
    io.of(name).on("connection", (socket) => {
      socket.emit("hello", name, socket.handshake.auth);
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop() as (...a: unknown[]) => void;
        ack(...args);
      });
      socket.on("ask", async (question: string, ack: (a: unknown) => void) => {
        ack(await socket.timeout(2000).emitWithAck("question", question));
      });
      socket.on("kick", () => socket.disconnect());
      socket.on("silent", () => {});
    });
  }
  io.of("/private").use((_socket, next) => next(Object.assign(new Error("not you"), { data: { code: 7 } })));
  io.of("/stuck").use(() => {}); // never answers CONNECT
}

describe("python idioms: AsyncClient", () => {
  let io: Server;
  let server: Running;

  before(async () => {
    io = new Server({ pingInterval: 300, pingTimeout: 200 });
    setup(io);
    server = await startServer(io);
  });
  after(async () => {
    await server.close();
  });

  it("class-based namespaces, several namespaces in one call, acks as return values", async () => {
    const log: unknown[][] = [];
    class Chat extends AsyncClientNamespace {
      onConnect() {
        log.push(["connect", this.namespace]);
      }
      onHello(name: string, auth: unknown) {
        log.push(["hello", name, auth]);
      }
      onQuestion(q: string) {
        return `${q}!`;
      }
      onDisconnect(reason: string) {
        log.push(["disconnect", reason]);
      }
    }
    const sio = new AsyncClient(FAST);
    sio.registerNamespace(new Chat("/chat"));
    sio.on("hello", (name: string) => log.push(["main hello", name]));
    await sio.connect(server.url, { auth: { token: "t" } }); // "*": / and /chat, those with handlers
    assert.deepEqual(Object.keys(sio.namespaces).sort(), ["/", "/chat"]);
    assert.equal(typeof sio.getSid("/chat"), "string");
    assert.notEqual(sio.getSid("/chat"), sio.getSid());
    assert.deepEqual(await sio.call("echo", tuple(1, "two"), { namespace: "/chat" }), [1, "two"]);
    assert.deepEqual(await sio.call("echo", [1, 2]), [1, 2]);
    assert.equal(await sio.call("echo"), undefined);
    assert.equal(await sio.call("ask", "why", { namespace: "/chat" }), "why!");
    while (log.filter((e) => String(e[0]).includes("hello")).length < 2) await sleep(10);
    assert.ok(log.some((e) => e[0] === "connect" && e[1] === "/chat"));
    assert.deepEqual(log.find((e) => e[0] === "hello"), ["hello", "/chat", { token: "t" }]);
    assert.deepEqual(log.find((e) => e[0] === "main hello"), ["main hello", "/"]);
    const waited = sio.wait();
    await sio.disconnect();
    await deadline(waited, 2000, "wait()");
    assert.deepEqual(log.find((e) => e[0] === "disconnect"), ["disconnect", "client disconnect"]);
    assert.equal(sio.connected, false);
  });

  it('"*" event and namespace handlers', async () => {
    const got: unknown[][] = [];
    const sio = new AsyncClient(FAST);
    sio.on("*", (event: string, ...args: unknown[]) => got.push(["any event", event, ...args]));
    sio.on("hello", (namespace: string, name: string) => got.push(["any namespace", namespace, name]), "*");
    await sio.connect(server.url, { namespaces: ["/", "/chat"] });
    while (got.length < 2) await sleep(10);
    assert.deepEqual(got.find((e) => e[0] === "any event"), ["any event", "hello", "/", {}]);
    assert.deepEqual(got.find((e) => e[0] === "any namespace"), ["any namespace", "/chat", "/chat"]);
    await sio.disconnect();
  });

  it("fails when a namespace refuses, with the server's data for connect_error", async () => {
    const errors: unknown[] = [];
    const sio = new AsyncClient(FAST);
    sio.on("connect_error", (data: unknown) => errors.push(data), "/private");
    await assert.rejects(
      sio.connect(server.url, { namespaces: ["/", "/private"] }),
      (err: Error) => err instanceof ConnectionError && /failed to connect: \/private/.test(err.message),
    );
    assert.deepEqual(errors, [{ message: "not you", data: { code: 7 } }]);
    assert.equal(sio.connected, false);
    await sio.wait(); // not connected: at once
  });

  it("waitTimeout: a namespace that does not answer in time fails the connect", async () => {
    const sio = new AsyncClient(FAST);
    const started = Date.now();
    await assert.rejects(sio.connect(server.url, { namespaces: "/stuck", waitTimeout: 200 }), ConnectionError);
    const took = Date.now() - started;
    assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
  });

  it("wait() resolves when the server disconnects every namespace", async () => {
    const reasons: string[] = [];
    const sio = new AsyncClient(FAST);
    sio.on("disconnect", (reason: string) => reasons.push(reason));
    await sio.connect(server.url);
    await sio.emit("kick");
    await deadline(sio.wait(), 2000, "wait()");
    assert.deepEqual(reasons, ["server disconnect"]);
    await assert.rejects(sio.emit("echo"), BadNamespaceError);
  });

  it("BadNamespaceError and call timeouts", async () => {
    const sio = new AsyncClient(FAST);
    await sio.connect(server.url);
    await assert.rejects(sio.emit("echo", 1, { namespace: "/chat" }), BadNamespaceError);
    await assert.rejects(sio.call("echo", 1, { namespace: "/chat" }), BadNamespaceError);
    await assert.rejects(sio.call("silent", undefined, { timeout: 100 }), TimeoutError);
    await sio.disconnect();
  });

  it("retry: keeps trying until the server comes up; without it, fails at once", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const quick = new AsyncClient(FAST);
    const errors: unknown[] = [];
    quick.on("connect_error", (message: unknown) => errors.push(message));
    await assert.rejects(quick.connect(url), ConnectionError);
    assert.equal(errors.length, 1);
    assert.equal(typeof errors[0], "string");

    const patient = new AsyncClient(FAST);
    const connecting = patient.connect(url, { retry: true });
    await sleep(200);
    const late = new Server({ pingInterval: 300, pingTimeout: 200 });
    setup(late);
    const lateServer = await serve(
      (request, options) => late.handle(request, options),
      () => late.close(),
      port,
    );
    try {
      await deadline(connecting, 5000, "the retried connect");
      assert.deepEqual(await patient.call("echo", "up"), "up");
      await patient.disconnect();
    } finally {
      await lateServer.close();
    }

    const givingUp = new AsyncClient({ ...FAST, reconnectionAttempts: 2 });
    await assert.rejects(givingUp.connect(url, { retry: true }), /gave up/);
  });
});

describe("SimpleClient with await using", () => {
  let io: Server;
  let server: Running;
  before(async () => {
    io = new Server({ pingInterval: 300, pingTimeout: 200 });
    setup(io);
    server = await startServer(io);
  });
  after(async () => {
    await server.close();
  });

  it("disconnects when the scope ends", async () => {
    let gone: Promise<unknown> | undefined;
    {
      await using client = new SimpleClient();
      await client.connect(server.url);
      assert.deepEqual(await client.receive({ timeout: 2000 }), ["hello", "/", {}]);
      const socket = client.socket!;
      gone = new Promise((resolve) => socket.once("disconnect", resolve));
    }
    assert.equal(await deadline(gone!, 2000, "the disconnect"), "io client disconnect");
  });
});
