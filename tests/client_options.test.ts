// socket.io-client 4 options of our client against our server on the runtime running the tests:
// the URL parts as options (`new Manager(opts)` without a URL), packetCreate with
// options.compress, a settable engine.binaryType, requestTimeout against a server that never
// answers, agent, useNativeTimers. (transportOptions and forceBase64 are in tests/client/_suite.ts, TLS
// in client_tls.test.ts, autoUnref in client_auto_unref.test.ts, the browser-only ones in
// client_browser.test.ts.)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Engine, Fetch, io, Manager, WebSocket } from "../client.ts";
import type { EngineOptions, OutgoingPacket, Socket } from "../client.ts";
import { Server } from "../src/io/server.ts";
import { type Running, serve, startServer } from "./_server.ts";
import { deadline, next } from "./client/_helpers.ts";

/** The URL of the first request an engine with these options makes (nothing is answered). */
async function firstUrl(uri: string | undefined, opts: EngineOptions): Promise<string> {
  const urls: string[] = [];
  const fetch = (url: string) => {
    urls.push(url);
    return Promise.reject(new Error("not sent"));
  };
  const engine = uri === undefined ? new Engine({ ...opts, fetch }) : new Engine(uri, { ...opts, fetch });
  const failed = next(engine, "error");
  engine.open();
  await failed;
  return urls[0].replace(/&t=[^&]+/, "");
}

describe("client options", () => {
  let server: Running;
  const sockets: Socket[] = [];
  const track = (socket: Socket) => (sockets.push(socket), socket);
  before(async () => {
    const ioServer = new Server({ pingInterval: 300, pingTimeout: 200 });
    ioServer.on("connection", (socket) => {
      socket.on("echo", (...args: unknown[]) => (args.pop() as (...a: unknown[]) => void)(...args));
      socket.on("bytes", (ack: (b: Uint8Array) => void) => ack(new Uint8Array([1, 2, 3])));
    });
    server = await startServer(ioServer);
  });
  after(async () => {
    for (const socket of sockets) socket.io.disconnect();
    await server?.close();
  });

  it("connects without a URL to the server that hostname and port name (new Manager(opts), io(opts))", async () => {
    const manager = new Manager({ hostname: "127.0.0.1", port: server.port, transports: ["websocket"] });
    const socket = track(manager.socket("/"));
    assert.equal(await socket.timeout(4000).emitWithAck("echo", "a"), "a");
    const other = track(io({ hostname: "127.0.0.1", port: server.port, forceNew: true }));
    assert.equal(await other.timeout(4000).emitWithAck("echo", "b"), "b");
    assert.notEqual(other.io, manager);
  });

  it("builds the URL from host, hostname, port and secure as engine.io-client does", async () => {
    const path = { path: "/socket.io" };
    assert.equal(await firstUrl(undefined, {}), "http://localhost/engine.io/?EIO=4&transport=polling");
    assert.equal(
      await firstUrl(undefined, { ...path, secure: true, hostname: "example.test", port: 443 }),
      "https://example.test/socket.io/?EIO=4&transport=polling",
    );
    assert.equal(
      await firstUrl(undefined, { ...path, secure: true, hostname: "example.test", port: 8443 }),
      "https://example.test:8443/socket.io/?EIO=4&transport=polling",
    );
    assert.equal(
      await firstUrl(undefined, { host: "example.test:8080", query: { a: "1" } }),
      "http://example.test:8080/engine.io/?a=1&EIO=4&transport=polling",
    );
    assert.equal(
      await firstUrl(undefined, { hostname: "::1", port: 3000 }),
      "http://[::1]:3000/engine.io/?EIO=4&transport=polling",
    );
    // A URL wins over the options.
    assert.equal(
      await firstUrl("wss://a.test:444/?room=1", { hostname: "ignored.test", port: 1 }),
      "https://a.test:444/engine.io/?room=1&EIO=4&transport=polling",
    );
  });

  it("takes transport classes in transports, ours or engine.io-client's, as socket.io-client 4.8 does", async () => {
    const { WebSocket: EngineIoWebSocket } = await import("engine.io-client");
    for (const transports of [[WebSocket], [EngineIoWebSocket], [Fetch]]) {
      const socket = track(io(server.url, { forceNew: true, transports }));
      await next(socket, "connect");
      assert.equal(socket.io.engine!.transport!.name, transports[0] === Fetch ? "polling" : "websocket");
    }
  });

  it("gives packetCreate each packet's options.compress, from socket.compress() and write()", async () => {
    const socket = track(io(server.url, { forceNew: true, transports: ["websocket"] }));
    await next(socket, "connect");
    const engine = socket.io.engine!;
    const created: OutgoingPacket[] = [];
    engine.on("packetCreate", (packet) => created.push(packet));
    // A whole Socket.IO packet written by hand (an event nobody listens to).
    const flushed = new Promise<void>((resolve) => engine.write('2["nothing"]', { compress: false }, resolve));
    await deadline(flushed, 2000, "the write callback");
    await socket.compress(false).timeout(4000).emitWithAck("echo", new Uint8Array([7]));
    await socket.timeout(4000).emitWithAck("echo", "plain");
    const messages = created.filter((packet) => packet.type === "message");
    assert.deepEqual(messages.map((packet) => packet.options.compress), [false, false, false, true]);
    assert.equal(messages[0].data, '2["nothing"]');
    assert.ok(messages[2].data instanceof Uint8Array); // the attachment goes with its packet's flag
  });

  it("delivers binary in the engine's binaryType, which can be set at any time", async () => {
    const socket = track(io(server.url, { forceNew: true, transports: ["websocket"] }));
    await next(socket, "connect");
    const engine = socket.io.engine!;
    assert.equal(engine.binaryType, "uint8array");
    const raw: unknown[] = [];
    engine.on("message", (data) => typeof data !== "string" && raw.push(data));
    const read = async (
      value: unknown,
    ) => [...new Uint8Array(value instanceof Blob ? await value.arrayBuffer() : value as ArrayBuffer)];
    const kinds: string[] = [];
    for (const binaryType of ["arraybuffer", "blob", "uint8array"] as const) {
      engine.binaryType = binaryType;
      const bytes = await socket.timeout(4000).emitWithAck("bytes");
      kinds.push(bytes.constructor.name);
      assert.deepEqual(await read(bytes), [1, 2, 3]);
    }
    assert.deepEqual(kinds, ["ArrayBuffer", "Blob", "Uint8Array"]);
    assert.deepEqual(raw.map((data) => (data as object).constructor.name), ["ArrayBuffer", "Blob", "Uint8Array"]);
  });

  it("fails a polling request the server never answers after requestTimeout", async () => {
    const pending: Array<() => void> = [];
    const silent = await serve(() => new Promise<Response>((resolve) => pending.push(() => resolve(new Response()))));
    try {
      const started = Date.now();
      const timedOut = track(
        io(silent.url, { forceNew: true, requestTimeout: 150, reconnection: false, timeout: 3000 }),
      );
      const [err] = await next(timedOut, "connect_error", 3000);
      assert.equal(err.message, "fetch read error");
      assert.equal(err.description.message, "Request timed out after 150 ms");
      assert.ok(Date.now() - started < 1500);
      // Without it, only the Manager's timeout ends the attempt.
      const waiting = track(io(silent.url, { forceNew: true, reconnection: false, timeout: 300 }));
      const [other] = await next(waiting, "connect_error", 3000);
      assert.equal(other.message, "timeout");
    } finally {
      for (const answer of pending) answer(); // the server cannot stop with requests unanswered
      await silent.close();
    }
  });

  it("makes every request and WebSocket handshake through the agent option's http.Agent", async () => {
    const http = await import("node:http");
    const used: string[] = [];
    class Recording extends http.Agent {
      // deno-lint-ignore no-explicit-any
      override createConnection(options: any, callback?: any) {
        used.push(options.headers?.upgrade === "websocket" ? "websocket" : "polling");
        return super.createConnection(options, callback);
      }
    }
    const socket = track(io(server.url, { forceNew: true, agent: new Recording() }));
    await next(socket, "connect");
    if (socket.io.engine!.transport!.name !== "websocket") await next(socket.io.engine!, "upgrade");
    assert.equal(await socket.timeout(4000).emitWithAck("echo", "via agent"), "via agent");
    assert.ok(used.includes("polling") && used.includes("websocket"), `connections: ${used}`);
  });

  it("keeps the timers it was loaded with under useNativeTimers, not fake ones installed later", async () => {
    const realSetTimeout = globalThis.setTimeout;
    const delays: number[] = [];
    globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      delays.push(ms ?? 0);
      return realSetTimeout(fn, ms, ...args);
    }) as typeof setTimeout;
    let native: Socket;
    let patched: Socket;
    try {
      native = track(io(server.url, { forceNew: true, useNativeTimers: true, timeout: 4321 }));
      patched = track(io(server.url, { forceNew: true, timeout: 4322 }));
      await Promise.all([next(native, "connect"), next(patched, "connect")]);
      await native.timeout(3211).emitWithAck("echo", 1);
      await patched.timeout(3212).emitWithAck("echo", 1);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    assert.ok(!delays.includes(4321) && !delays.includes(3211), `the native timers were not used: ${delays}`);
    assert.ok(delays.includes(4322) && delays.includes(3212), `the global timers were not used: ${delays}`);
  });
});
