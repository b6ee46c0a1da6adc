// Limits that protect the server: namespaces per connection, pending acks per socket, attachments
// per packet. Raw frames over WebSocket against a server on the runtime running the tests.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "../server.ts";
import { closeRawIo, connectRaw, startIo } from "./_raw_io.ts";
import { until } from "./_helpers.ts";

afterEach(closeRawIo);

describe("io limits", () => {
  it("refuses namespaces past maxNamespacesPerConnection with CONNECT_ERROR, keeping the others", async () => {
    const { server } = await startIo({ maxNamespacesPerConnection: 2 }, (io) => {
      io.of(/^\/n\d+$/).on(
        "connection",
        (socket) => socket.on("ping-me", (ack: (v: string) => void) => ack(socket.nsp.name)),
      );
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40/n1,");
    assert.match(String(await ws.next()), /^40\/n1,\{"sid":/);
    ws.send("40/n2,");
    assert.match(String(await ws.next()), /^40\/n2,\{"sid":/);
    ws.send("40/n3,");
    assert.equal(await ws.next(), '44/n3,{"message":"Too many namespaces"}');
    ws.send('42/n2,7["ping-me"]');
    assert.equal(await ws.next(), '43/n2,7["/n2"]');
  });

  it("answers acks past maxPendingAcks with an error at once; earlier ones still resolve", async () => {
    const results: unknown[] = [];
    let serverSocket!: Socket;
    const { server } = await startIo({ maxPendingAcks: 2 }, (io) => {
      io.on("connection", (socket) => {
        serverSocket = socket;
      });
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40");
    await ws.next(); // CONNECT reply
    for (let i = 0; i < 3; i++) {
      serverSocket.emit("ask", i, (...args: unknown[]) => results.push(args));
    }
    const asked = [await ws.next(), await ws.next()];
    assert.deepEqual(asked, ['420["ask",0]', '421["ask",1]']);
    await until(() => results.length >= 1, 2000, "the refused acknowledgement");
    assert.equal(results.length, 1);
    assert.match(String((results[0] as unknown[])[0]), /Too many pending acknowledgements/);
    ws.send('430["zero"]');
    ws.send('431["one"]');
    await until(() => results.length >= 3, 2000, "both answers");
    assert.deepEqual(results.slice(1), [["zero"], ["one"]]);
  });

  it("fails timed acknowledgements at once when the socket disconnects (no timer left behind)", async () => {
    let serverSocket!: Socket;
    const { server } = await startIo({}, (io) => {
      io.on("connection", (socket) => {
        serverSocket = socket;
      });
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40");
    await ws.next();
    const started = Date.now();
    const result = new Promise<unknown>((resolve) => {
      serverSocket.timeout(60_000).emit("never-answered", (err: unknown) => resolve(err));
    });
    assert.equal(await ws.next(), '420["never-answered"]');
    ws.send("41");
    const err = await result;
    assert.match(String(err), /socket has been disconnected/);
    assert.ok(Date.now() - started < 5000);
  });

  it("closes a connection announcing more attachments than maxAttachments", async () => {
    let reason = "";
    const { server } = await startIo({ maxAttachments: 2 }, (io) => {
      io.on("connection", (socket) => socket.on("disconnect", (r: string) => reason = r));
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40");
    await ws.next();
    ws.send('453-["e",{"_placeholder":true,"num":0}]');
    await ws.waitFor("close");
    assert.equal(reason, "parse error");
  });

  it("drops a CONNECT sent again while the first one waits for a middleware: one socket, one answer", async () => {
    // socket.connect() twice (or disconnect() then connect()) before the answer. It used to give
    // the client two sockets in that namespace, and every broadcast twice.
    let connections = 0;
    const { io, server } = await startIo({}, (io) => {
      io.use((_socket, next) => void setTimeout(next, 100));
      io.on("connection", () => connections++);
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40");
    ws.send("40");
    assert.match(String(await ws.next()), /^40\{"sid":/);
    io.emit("hello", 1);
    assert.equal(await ws.next(), '42["hello",1]');
    await assert.rejects(ws.next(300), /Timed out/, "a second answer or a second copy of the broadcast");
    assert.equal(connections, 1);
    assert.equal(io.of("/").sockets.size, 1);
    assert.equal(ws.closed, false);
  });

  it("drops a CONNECT for a namespace the connection is in already; the connection goes on", async () => {
    // socket.io-client sends it for manager.socket(nsp) followed by socket.connect(); closing the
    // connection took the client's other namespaces down with it.
    const { io, server } = await startIo({}, (io) => {
      io.of("/chat").on("connection", (socket) => socket.on("ping-me", (ack: (v: string) => void) => ack(socket.id)));
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40");
    await ws.next();
    ws.send("40/chat,");
    const [, sid] = /^40\/chat,\{"sid":"([^"]+)"/.exec(String(await ws.next()))!;
    ws.send("40/chat,");
    ws.send('42/chat,1["ping-me"]');
    assert.equal(await ws.next(), `43/chat,1["${sid}"]`);
    assert.equal(io.of("/chat").sockets.size, 1);
    assert.equal(io.of("/").sockets.size, 1);
    assert.equal(ws.closed, false);
  });

  it("counts CONNECTs still waiting against maxNamespacesPerConnection", async () => {
    const { server } = await startIo({ maxNamespacesPerConnection: 2 }, (io) => {
      io.of(/^\/n\d+$/).use((_socket, next) => void setTimeout(next, 100));
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40/n1,");
    ws.send("40/n2,");
    ws.send("40/n3,");
    const answers = (await ws.waitForPackets(3)).map(String).sort();
    assert.match(answers[0], /^40\/n1,\{"sid":/);
    assert.match(answers[1], /^40\/n2,\{"sid":/);
    assert.equal(answers[2], '44/n3,{"message":"Too many namespaces"}');
  });

  it("takes a new CONNECT after a middleware refused the last one, or the namespace was unknown", async () => {
    let attempts = 0;
    const { server } = await startIo({}, (io) => {
      io.use((_socket, next) => void setTimeout(() => next(++attempts === 1 ? new Error("not yet") : undefined), 20));
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40/nowhere,");
    assert.equal(await ws.next(), '44/nowhere,{"message":"Invalid namespace"}');
    ws.send("40/nowhere,");
    assert.equal(await ws.next(), '44/nowhere,{"message":"Invalid namespace"}');
    ws.send("40");
    assert.equal(await ws.next(), '44{"message":"not yet"}');
    ws.send("40");
    assert.match(String(await ws.next()), /^40\{"sid":/);
  });
});
