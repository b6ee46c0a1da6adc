/**
 * Our client inside a Worker (real workerd): over WebSocket with `extraHeaders`, which workerd's
 * `new WebSocket(url, { headers })` refuses ("The protocol header token is invalid"); the client
 * opens the socket with a `fetch` carrying `Upgrade: websocket` there. The server runs here.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { type Running, startServer } from "./_server.ts";
import { startWorkerd, type WorkerdServer } from "./workers/_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

describe("our client in workerd", () => {
  let worker: WorkerdServer;
  let running: Running;
  const seen: Array<{ header: string | null; transport: string }> = [];

  before(async () => {
    const io = new Server();
    io.on("connection", (socket) => {
      seen.push({ header: socket.handshake.headers["x-from-worker"] ?? null, transport: socket.conn.transportName });
      socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    });
    running = await startServer(io);
    worker = await startWorkerd(`${ROOT}tests/workers/client_worker.ts`, {});
  });

  after(async () => {
    await worker?.close();
    await running?.close();
  });

  it("connects over WebSocket with extraHeaders and round-trips an ack", async () => {
    const res = await fetch(`${worker.url}/?target=${encodeURIComponent(running.url)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ack: "from a Worker" });
    assert.deepEqual(seen, [{ header: "1", transport: "websocket" }]);
  });

  it("throws a TypeError for TLS options, which Workers' fetch and WebSocket cannot take", async () => {
    const res = await fetch(`${worker.url}/?tls=1&target=${encodeURIComponent(running.url)}`);
    assert.deepEqual(await res.json(), {
      thrown:
        "TypeError: The ca option cannot be honoured here: this runtime's fetch and WebSocket take no TLS settings",
    });
    assert.equal(seen.length, 1); // nothing was sent
  });
});
