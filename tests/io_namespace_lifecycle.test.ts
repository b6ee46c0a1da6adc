// Namespace lifecycle edges: child namespaces of a dynamic parent with cleanupEmptyChildNamespaces
// (a child must not go while a socket is still in its middlewares, nor stay when the client that
// asked for it left first), and a disconnect() from a "disconnecting" listener. Raw frames over
// WebSocket against a server on the runtime running the tests.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { until } from "./conformance/_helpers.ts";
import { closeRawIo, connectRaw, startIo } from "./_raw_io.ts";

afterEach(closeRawIo);

describe("namespace lifecycle", () => {
  it("keeps a child namespace while a socket is still in its middlewares, after the last one left", async () => {
    let slowOnes = 0;
    const { io, server } = await startIo({ cleanupEmptyChildNamespaces: true }, (io) => {
      io.of(/^\/room-\d+$/).use((socket, next) => {
        if (!(socket.handshake.auth as { slow?: boolean }).slow) return next();
        slowOnes++;
        setTimeout(next, 200);
      });
    });
    const a = await connectRaw(server.wsUrl);
    a.send("40/room-1,");
    assert.match(String(await a.next()), /^40\/room-1,\{"sid":/);
    const b = await connectRaw(server.wsUrl);
    b.send('40/room-1,{"slow":true}');
    await until(() => slowOnes === 1, 3000, "B in the middleware");
    a.send("41/room-1,"); // the last connected socket leaves
    assert.match(String(await b.next()), /^40\/room-1,\{"sid":/);
    // B is in the namespace the server has under that name: it gets what is sent there.
    io.of("/room-1").emit("hello", 1);
    assert.equal(await b.next(), '42/room-1,["hello",1]');
    assert.equal(io.of("/room-1").sockets.size, 1);
  });

  it("does not keep a child made for a client that left before its matcher answered", async () => {
    let answered = 0;
    const { io, server } = await startIo({ cleanupEmptyChildNamespaces: true }, (io) => {
      io.of((_name, _auth, next) =>
        void setTimeout(() => {
          next(null, true);
          answered++;
        }, 100)
      );
    });
    for (let i = 0; i < 5; i++) {
      const ws = await connectRaw(server.wsUrl);
      ws.send(`40/dyn-${i},`);
      ws.close();
    }
    await until(() => answered === 5, 3000, "every matcher's answer");
    assert.deepEqual([...io._nsps.keys()], ["/"]);
  });

  it("runs disconnecting and disconnect once when a disconnecting listener calls disconnect()", async () => {
    const events: string[] = [];
    const { server } = await startIo({}, (io) => {
      io.on("connection", (socket) => {
        socket.on("disconnecting", () => {
          events.push("disconnecting");
          socket.disconnect();
        });
        socket.on("disconnect", (reason) => events.push(`disconnect ${reason}`));
        socket.on("leave", () => socket.disconnect());
      });
    });
    const ws = await connectRaw(server.wsUrl);
    ws.send("40");
    await ws.next();
    ws.send('42["leave"]');
    assert.equal(await ws.next(), "41");
    await until(() => events.length >= 2, 3000, "the disconnect");
    await assert.rejects(ws.next(200), /Timed out/, "a second DISCONNECT packet");
    assert.deepEqual(events, ["disconnecting", "disconnect server namespace disconnect"]);
  });
});
