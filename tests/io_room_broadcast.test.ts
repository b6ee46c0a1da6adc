// Room broadcasts: the same result on every runtime, whether frames go out one write per socket or
// through the runtime's native topics (Bun): members only, leaving stops delivery, order with
// earlier writes kept, namespaces isolated, polling and WebSocket members mixed, binary.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server, type Socket } from "../server.ts";
import { closeAllWebSockets, createWebSocket, Polling, type TestSocket } from "./conformance/_helpers.ts";
import { type Running, startServer } from "./_server.ts";
import { until } from "./_helpers.ts";

const running: Running[] = [];
afterEach(async () => {
  closeAllWebSockets();
  for (const s of running.splice(0)) await s.close();
});

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

async function setup() {
  const io = new Server({ pingInterval: 5000, pingTimeout: 5000 });
  const sockets: Socket[] = [];
  io.on("connection", (socket) => {
    sockets.push(socket);
  });
  io.of("/other").on("connection", (socket) => {
    sockets.push(socket);
  });
  const server = await startServer(io);
  running.push(server);
  return { io, server, sockets };
}

async function wsClient(wsUrl: string, nsps: string[] = ["/"]): Promise<TestSocket> {
  const ws = createWebSocket(`${wsUrl}/socket.io/?EIO=4&transport=websocket`);
  await ws.waitFor("message");
  for (const nsp of nsps) {
    ws.send(nsp === "/" ? "40" : `40${nsp},`);
    await ws.next();
  }
  return ws;
}

describe(`room broadcasts${isBun ? " (Bun native topics)" : ""}`, () => {
  it("reaches members only, stops after leave, keeps order with earlier writes", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl);
    const b = await wsClient(server.wsUrl);
    await until(() => sockets.length === 2);
    const [sa, sb] = sockets;
    if (isBun) assert.ok(sa.conn.webSocket?.publisher && io.engine.hasFanOut, "Bun sockets offer native fan-out");
    sa.join("r");
    sb.join("r");
    sa.emit("direct", 1); // buffered in this tick: must arrive before the broadcast
    io.to("r").emit("room", "first");
    assert.deepEqual([await a.next(), await a.next()], ['42["direct",1]', '42["room","first"]']);
    assert.equal(await b.next(), '42["room","first"]');
    sb.leave("r");
    io.to("r").emit("room", "second");
    sb.emit("direct", 2);
    assert.equal(await a.next(), '42["room","second"]');
    assert.equal(await b.next(), '42["direct",2]', "b left the room: only its direct message");
  });

  it("keeps namespaces apart on one connection and mixes polling and WebSocket members", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl, ["/", "/other"]);
    const polling = new Polling(server.url, "/socket.io/");
    await polling.open();
    await polling.post("40");
    assert.match((await polling.packets(1))[0], /^40\{"sid"/);
    await until(() => sockets.length === 3);
    for (const socket of sockets) socket.join("r");
    io.of("/other").to("r").emit("only-other", new Uint8Array([1, 2, 3]));
    io.to("r").emit("main", "x");
    const frames = [await a.next(), await a.next(), await a.next()];
    assert.equal(frames[0], '451-/other,["only-other",{"_placeholder":true,"num":0}]');
    assert.deepEqual(new Uint8Array(frames[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
    assert.equal(frames[2], '42["main","x"]');
    assert.deepEqual(await polling.packets(1), ['42["main","x"]'], "the polling member is not in /other");
  });

  it("stops delivering to a socket that left the namespace on a connection still open", async () => {
    const { io, server, sockets } = await setup();
    const a = await wsClient(server.wsUrl, ["/", "/other"]);
    await until(() => sockets.length === 2);
    for (const socket of sockets) socket.join("r");
    io.of("/other").to("r").emit("before");
    assert.equal(await a.next(), '42/other,["before"]');
    a.send("41/other,");
    await until(() => io.of("/other").sockets.size === 0);
    io.of("/other").to("r").emit("after-leave");
    io.to("r").emit("main");
    assert.equal(await a.next(), '42["main"]');
  });
});
