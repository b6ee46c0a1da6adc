// io.attach(httpServer) and io.listen(port) on a node:http server, on every runtime that has one
// (Node, Bun, Deno): no import besides the Server, attach takes effect at once (the very first
// request may be a WebSocket upgrade: it waits for `ws` to load), the server's own listeners keep
// the other paths, and io.close() closes the HTTP server too.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { Server } from "../server.ts";
import { io as connect } from "../client.ts";

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

describe("io.attach() and io.listen() on node:http", () => {
  it("attach serves at once, the first request a WebSocket; other paths stay with the app; close() stops it", async () => {
    const io = new Server();
    io.on("connection", (socket) => socket.on("echo", (value, ack) => ack(value)));
    const http: HttpServer = createServer((_req, res) => res.end("the app"));
    assert.equal(io.attach(http), http);
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

  it("listen() starts a server of its own, 404 elsewhere; close() stops it", async () => {
    const io = new Server();
    io.on("connection", (socket) => socket.on("echo", (value, ack) => ack(value)));
    const http = await io.listen(0, "127.0.0.1");
    const url = `http://127.0.0.1:${portOf(http)}`;
    try {
      assert.deepEqual(await echoOnce(url, ["websocket"]), { n: 1 });
      const other = await fetch(`${url}/elsewhere`);
      assert.equal(other.status, 404);
      await other.arrayBuffer();
    } finally {
      await io.close();
    }
    assert.equal((http as HttpServer).listening, false);
  });
});
