// WebSocket upgrades at the edges, through serve() on the runtime running the tests (Deno.serve,
// Bun.serve, node:http with ws): an upgrade to a path that is not the server's gets 404 (on Node it
// stayed open, unanswered), and io.close() finishes although a WebSocket client stopped reading
// (on Node it waited for ws's 30 s closing handshake, or for ever with the unanswered upgrade).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as tcpConnect, type Socket as TcpSocket } from "node:net";
import { Buffer } from "node:buffer";
import { serve, Server } from "../server.ts";
import { until } from "./conformance/_helpers.ts";

function rawUpgrade(port: number, path: string): { socket: TcpSocket; received: () => string } {
  let got = "";
  const socket = tcpConnect(port, "127.0.0.1", () => {
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  socket.on("data", (chunk: Buffer) => got += chunk.toString("latin1"));
  socket.on("error", () => {});
  return { socket, received: () => got };
}

/** A masked text frame, as a client sends it. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe("serve(): upgrades at the edges", () => {
  it("answers an upgrade to another path with 404, and closes with it pending", async () => {
    const io = new Server();
    const listening = await serve(io, { port: 0, hostname: "127.0.0.1" });
    const { socket, received } = rawUpgrade(listening.port, "/other?EIO=4&transport=websocket");
    try {
      await until(() => /^HTTP\/1\.1 404/.test(received()), 3000, "a 404");
    } finally {
      const started = Date.now();
      await io.close();
      assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
      socket.destroy();
    }
  });

  it("closes although a WebSocket client stopped reading", async () => {
    const io = new Server();
    let connected = 0;
    io.on("connection", () => connected++);
    const listening = await serve(io, { port: 0, hostname: "127.0.0.1" });
    const { socket, received } = rawUpgrade(listening.port, "/socket.io/?EIO=4&transport=websocket");
    await until(() => received().includes('"sid"'), 3000, "the open packet");
    socket.write(clientFrame("40"));
    await until(() => connected === 1, 3000, "the socket's connection");
    socket.pause(); // never reads the close frame, never answers it
    const started = Date.now();
    await io.close();
    const took = Date.now() - started;
    socket.destroy();
    assert.ok(took < 5000, `closed after ${took} ms`);
  });
});

/** Sends `head` raw and resolves with what comes back until the server ends the reply. */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const socket = tcpConnect(port, "127.0.0.1", () => socket.write(head));
    socket.on("data", (chunk: Buffer) => {
      got += chunk.toString("latin1");
      // One reply is enough: the head and a body of Content-Length bytes.
      const [head_, body = ""] = got.split("\r\n\r\n");
      const length = /content-length: *(\d+)/i.exec(head_)?.[1];
      if (length !== undefined && Buffer.byteLength(body, "latin1") >= Number(length)) socket.destroy();
    });
    socket.on("close", () => resolve(got));
    socket.on("error", () => resolve(got));
    setTimeout(() => socket.destroy(), 3000);
  });
}

/**
 * Serves a fresh server for `test`, with what it logs collected instead of printed, then closes
 * it; fails if a TypeError was logged (the stack trace of a request gone wrong, not a clear line).
 */
async function withServer(test: (port: number, io: Server, runtime: string) => Promise<void>): Promise<void> {
  const io = new Server();
  const listening = await serve(io, { port: 0, hostname: "127.0.0.1" });
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    await test(listening.port, io, listening.runtime);
  } finally {
    console.error = error;
    await io.close();
  }
  assert.ok(!logged.some((args) => args.some((a) => a instanceof TypeError)), JSON.stringify(logged.map(String)));
}

describe("serve(): WebSocket handshakes that are not quite", () => {
  it("without its key: 400 on every runtime (Deno answered 500 and logged a TypeError)", async () => {
    await withServer(async (port, io) => {
      const reply = await rawRequest(
        port,
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n" +
          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      assert.match(reply, /^HTTP\/1\.1 400/);
      assert.equal(io.engine.clientsCount, 0);
    });
  });

  it("not an upgrade (no Connection: Upgrade): 400, or Bun's upgrade (Node and Deno answered 500)", async () => {
    await withServer(async (port, _io, runtime) => {
      const reply = await rawRequest(
        port,
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n",
      );
      // Bun upgrades it anyway; Deno and Node refuse it.
      assert.match(reply, runtime === "bun" ? /^HTTP\/1\.1 (101|400)/ : /^HTTP\/1\.1 400/);
    });
  });
});

describe("serve(): requests with a bad or no Host", () => {
  it("answers a Host that makes no URL with 400, and a request without Host as usual", async () => {
    await withServer(async (port) => {
      const bad = await rawRequest(
        port,
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
      );
      assert.match(bad, /^HTTP\/1\.1 400/);
      const noHost = await rawRequest(port, "GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n");
      assert.match(noHost, /^HTTP\/1\.[01] 200/);
      assert.match(noHost, /0\{"sid":/);
    });
  });
});

describe("serve(): a WebSocket client that stops reading room broadcasts", () => {
  it("is disconnected, not left with a silent gap (Bun's publish dropped them past its limit)", async () => {
    const io = new Server({ maxBufferedBytes: 1024 * 1024 });
    const reasons: string[] = [];
    let connected = 0;
    io.on("connection", (socket) => {
      connected++;
      socket.join("room");
      socket.on("disconnect", (reason) => reasons.push(reason));
    });
    const listening = await serve(io, { port: 0, hostname: "127.0.0.1" });
    const { socket, received } = rawUpgrade(listening.port, "/socket.io/?EIO=4&transport=websocket");
    try {
      await until(() => received().includes('"sid"'), 3000, "the open packet");
      socket.write(clientFrame("40"));
      await until(() => connected === 1, 3000, "the socket's connection");
      socket.pause(); // reads nothing more
      const chunk = "x".repeat(100_000);
      for (let i = 0; i < 300 && reasons.length === 0; i++) {
        io.to("room").emit("news", i, chunk);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
      }
      await until(() => reasons.length > 0, 10000, "the slow reader's disconnection");
      assert.match(reasons[0], /^transport (full|close|error)$/);
    } finally {
      socket.destroy();
      await io.close();
    }
  });
});
