// Cross-site WebSocket hijacking protection (checkWebSocketOrigin): raw WebSocket handshakes with
// an Origin header, over TCP, on the runtime running the tests.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { Engine, type EngineOptions } from "../src/engine/server.ts";
import { type Running, serve } from "./_server.ts";

const running: Running[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

async function start(options: EngineOptions) {
  const engine = new Engine({ pingInterval: 5000, pingTimeout: 5000, ...options });
  const server = await serve((req, options) => engine.handle(req, options), () => engine.close());
  running.push(server);
  return server;
}

/** Sends a WebSocket handshake with `origin` and resolves with the status code of the answer. */
function handshake(port: number, origin: string | null, query = "EIO=4&transport=websocket"): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      const line = data.split("\r\n")[0];
      if (/^HTTP\/1\.1 \d{3}/.test(line)) {
        resolve(Number(line.split(" ")[1]));
        socket.destroy();
      }
    });
    socket.on("error", reject);
    socket.write(
      `GET /engine.io/?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
        (origin === null ? "" : `Origin: ${origin}\r\n`) + "\r\n",
    );
  });
}

describe("engine: checkWebSocketOrigin", () => {
  it("is off by default: any origin may open a WebSocket", async () => {
    const server = await start({});
    assert.equal(await handshake(server.port, "http://evil.test"), 101);
  });

  it("with cors, allows the listed origins and refuses others with 403", async () => {
    const server = await start({ checkWebSocketOrigin: true, cors: { origin: ["http://app.test"] } });
    assert.equal(await handshake(server.port, "http://app.test"), 101);
    assert.equal(await handshake(server.port, "http://evil.test"), 403);
    assert.equal(await handshake(server.port, null), 101, "no Origin: not a browser");
  });

  it("without cors, allows only the server's own origin", async () => {
    const server = await start({ checkWebSocketOrigin: true });
    assert.equal(await handshake(server.port, `http://127.0.0.1:${server.port}`), 101);
    assert.equal(await handshake(server.port, "http://evil.test"), 403);
  });
});
