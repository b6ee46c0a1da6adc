// socket.io-client 4.8 against our server with middlewares: CONNECT_ERROR with `data`, namespace
// middlewares, socket middlewares, on an in-process server of the runtime running the tests.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { Server } from "../../server.ts";
import { type Running, startServer } from "../_server.ts";

const running: Running[] = [];
const clients: ClientSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of running.splice(0)) await s.close();
});

async function start(setup: (io: Server) => void) {
  const io = new Server({ pingInterval: 300, pingTimeout: 200 });
  setup(io);
  const server = await startServer(io);
  running.push(server);
  return server;
}

function client(url: string, opts: Record<string, unknown> = {}): ClientSocket {
  const c = connect(url, { reconnection: false, forceNew: true, ...opts });
  clients.push(c);
  return c;
}

function connectError(c: ClientSocket): Promise<Error & { data?: unknown }> {
  return new Promise((resolve, reject) => {
    c.once("connect", () => reject(new Error("connected unexpectedly")));
    c.once("connect_error", resolve);
  });
}

for (const transports of [["polling"], ["websocket"]]) {
  describe(`socket.io-client middleware errors (${transports[0]})`, () => {
    it("receives connect_error with the middleware's message and data", async () => {
      const server = await start((io) => {
        io.use((socket, next) => {
          if (socket.handshake.auth.token === "good") return next();
          const err = new Error("not authorized") as Error & { data?: unknown };
          err.data = { reason: "bad token", retry: false };
          next(err);
        });
        io.on("connection", (socket) => socket.emit("welcome", socket.handshake.auth.token));
      });
      const bad = client(server.url, { transports, auth: { token: "bad" } });
      const err = await connectError(bad);
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { reason: "bad token", retry: false });
      assert.equal(bad.connected, false);

      const good = client(server.url, { transports, auth: { token: "good" } });
      const welcome = await new Promise((resolve) => good.on("welcome", resolve));
      assert.equal(welcome, "good");
    });

    it("applies namespace middlewares only to their namespace", async () => {
      const server = await start((io) => {
        io.of("/admin").use((_socket, next) => next(new Error("admins only")));
        io.of("/admin").on("connection", () => assert.fail("must not connect"));
        io.on("connection", (socket) => socket.on("ping-me", (ack: (v: string) => void) => ack("pong")));
      });
      const admin = client(`${server.url}/admin`, { transports });
      assert.equal((await connectError(admin)).message, "admins only");
      const main = client(server.url, { transports });
      assert.equal(await main.timeout(2000).emitWithAck("ping-me"), "pong");
    });

    it("socket middlewares refuse single events (the server socket gets an error event)", async () => {
      const server = await start((io) => {
        io.on("connection", (socket) => {
          socket.use(([event], next) => event === "forbidden" ? next(new Error("no way")) : next());
          socket.on("error", (err: Error) => socket.emit("refused", err.message));
          socket.on("allowed", (ack: (v: string) => void) => ack("ok"));
        });
      });
      const c = client(server.url, { transports });
      await new Promise<void>((resolve) => c.on("connect", () => resolve()));
      c.emit("forbidden");
      assert.equal(await new Promise((resolve) => c.on("refused", resolve)), "no way");
      assert.equal(await c.timeout(2000).emitWithAck("allowed"), "ok");
    });
  });
}
