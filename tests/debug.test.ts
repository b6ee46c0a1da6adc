// Debug logging: quiet by default; the `debug` option (or DEBUG) names each component; bad input
// gets a clear line.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { io as connectClient } from "../client.ts";
import { createDebug, enableDebug, setDebugSink } from "../src/util/debug.ts";
import { closeAllWebSockets, createWebSocket, request } from "./conformance/_helpers.ts";
import { until } from "./_helpers.ts";
import { startServer } from "./_server.ts";

const lines: string[] = [];
setDebugSink((line) => lines.push(line));
after(() => {
  enableDebug(false);
  setDebugSink((line) => console.debug(line));
  closeAllWebSockets();
});

describe("debug logging", () => {
  it("names the client's components too (Manager option)", async () => {
    const io = new Server({ pingInterval: 5000, pingTimeout: 5000 });
    const server = await startServer(io);
    lines.length = 0;
    try {
      const socket = connectClient(server.url, { forceNew: true, transports: ["websocket"], debug: "sio:client:*" });
      await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
      socket.disconnect();
      const text = lines.join("\n");
      assert.match(text, /sio:client:engine session \S+ open over websocket/);
      assert.doesNotMatch(text, /sio:engine /, "server components stay off");
    } finally {
      enableDebug(false);
      lines.length = 0;
      await server.close();
    }
  });

  it("is off by default and follows patterns with excludes", () => {
    enableDebug(false);
    const a = createDebug("sio:test:a");
    const b = createDebug("sio:test:b");
    a("hidden");
    assert.equal(lines.length, 0);
    enableDebug("sio:test:*,-sio:test:b");
    assert.equal(a.enabled, true);
    assert.equal(b.enabled, false);
    a("shown %d", 1);
    b("hidden");
    assert.equal(lines.length, 1);
    assert.match(lines[0], /sio:test:a shown 1$/);
    enableDebug(false);
    lines.length = 0;
  });

  it("logs refused requests, malformed packets and disconnects once the option is on", async () => {
    const io = new Server({ debug: "sio:*", pingInterval: 5000, pingTimeout: 5000 });
    const server = await startServer(io);
    try {
      await request(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`);
      const ws = createWebSocket(`${server.wsUrl}/socket.io/?EIO=4&transport=websocket`);
      await ws.waitFor("message");
      ws.send("40");
      await ws.next();
      ws.send('42{"not":"an array"}');
      await ws.waitFor("close");
      await until(() => lines.some((l) => l.includes("disconnected")), 2000, "the disconnect logged");
      const text = lines.join("\n");
      assert.match(
        text,
        /sio:engine refused GET \/socket\.io\/\?EIO=4&transport=polling&sid=nope: code 1 \(Session ID unknown\)/,
      );
      assert.match(text, /sio:engine session \S+ opened over websocket/);
      assert.match(text, /sio:io:client session \S+ sent a malformed packet \(Invalid payload\): closing it/);
      assert.match(text, /sio:io:socket socket \S+ of \/ disconnected: parse error/);
    } finally {
      enableDebug(false);
      await server.close();
    }
  });
});
