// The Node shim's frames, read back by standard WebSocket clients. Node only (the shim under test).
// - Text is encoded once per distinct string (bytes shared by a broadcast) and `ws` frames those
//   bytes as text: every payload-length form of the WebSocket header (7-bit, 16-bit, 64-bit),
//   multi-byte UTF-8 whose byte length crosses a boundary its character count does not, and many
//   sockets getting the same bytes.
// - The frames a socket is sent in one turn of the event loop reach its TCP socket at once (cork,
//   uncork at the end of the turn), without holding back a lone frame, and the engine still sees
//   the socket as having nothing queued (volatile packets after a regular one in the same turn go
//   out). Write operations are counted on the server's own TCP socket.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { until } from "./_helpers.ts";

const isNode = !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

/** Opens a raw Engine.IO WebSocket session, connects to `/`, and collects the text frames after. */
async function rawClient(port: number): Promise<{ ws: WebSocket; frames: string[]; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.onerror = () => reject(new Error("WebSocket error"));
    ws.onmessage = (e) => {
      const data = String(e.data);
      if (data.startsWith("0{")) ws.send("40");
      else if (data.startsWith("40")) resolve();
      else if (data === "2") ws.send("3");
      else frames.push(data);
    };
  });
  return { ws, frames, close: () => ws.close() };
}

/** A server socket whose write operations (one per system call) are counted. */
interface Counted {
  writes: number;
}

/** Counts the write operations of `socket` (a `net.Socket`): one `_write` or `_writev` each. */
function countWrites(socket: Record<string, unknown>): Counted {
  const counted = { writes: 0 };
  for (const name of ["_write", "_writev"]) {
    const original = socket[name] as (...args: unknown[]) => unknown;
    socket[name] = function (this: unknown, ...args: unknown[]) {
      counted.writes++;
      return original.apply(this, args);
    };
  }
  return counted;
}

if (isNode) {
  describe("Node: text frames written by the shim", () => {
    it("every header length form and multi-byte text arrive intact, to every socket", async () => {
      const { createServer } = await import("node:http");
      const { Server } = await import("../server.ts");
      const io = new Server({ maxHttpBufferSize: 1e6 });
      const server = createServer();
      io.attach(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const clients = await Promise.all([rawClient(port), rawClient(port), rawClient(port)]);
      try {
        // A frame's text is `42["m","<s>"]`: 10 characters around s.
        const ascii = (frameLength: number) => "x".repeat(frameLength - 10);
        const texts = [
          "",
          ascii(125), // largest 7-bit length
          ascii(126), // smallest 16-bit length
          ascii(65535), // largest 16-bit length
          ascii(65536), // smallest 64-bit length
          ascii(200000),
          "é".repeat(60), // 70 characters, 130 bytes: the byte length decides the header form
          "😀".repeat(20000), // 4 bytes each: 80,010 bytes in a 40,010-character frame
          "mixed ascii, é, 中文 and 😀",
        ];
        for (const text of texts) io.emit("m", text);
        // The same text twice in a row, then another, then the first again (frames are reused only
        // for the same content).
        io.emit("m", "again");
        io.emit("m", "again");
        io.emit("m", "other");
        io.emit("m", "again");
        const expected = [...texts, "again", "again", "other", "again"].map((t) => `42${JSON.stringify(["m", t])}`);
        await until(() => clients.every((c) => c.frames.length >= expected.length), 10000, "every frame");
        for (const client of clients) {
          assert.equal(client.frames.length, expected.length);
          client.frames.forEach((frame, i) => assert.equal(frame, expected[i], `frame ${i}`));
        }
      } finally {
        for (const client of clients) client.close();
        await io.close();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe("Node: frames of one turn in one write", () => {
    it("a burst is one write, a lone frame is written in the same turn, volatile still goes out", async () => {
      const { createServer } = await import("node:http");
      const { Server } = await import("../server.ts");
      const io = new Server();
      const server = createServer();
      let counted: Counted | undefined;
      server.on("upgrade", (_req, socket) => {
        counted = countWrites(socket as unknown as Record<string, unknown>);
      });
      io.attach(server);
      // What the server's handlers saw right after their turn (setImmediate runs after it ends).
      const seen: number[] = [];
      io.on("connection", (socket) => {
        socket.on("burst", () => {
          const before = counted!.writes;
          socket.emit("m", 1);
          socket.emit("m", 2);
          socket.volatile.emit("m", "v");
          io.emit("m", 3);
          setImmediate(() => seen.push(counted!.writes - before));
        });
        socket.on("lone", () => {
          const before = counted!.writes;
          socket.emit("m", "lone");
          setImmediate(() => seen.push(counted!.writes - before));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const client = await rawClient(port);
      try {
        client.ws.send('42["burst"]');
        await until(() => seen.length === 1 && client.frames.length === 4, 5000, "the burst");
        assert.deepEqual(client.frames, ['42["m",1]', '42["m",2]', '42["m","v"]', '42["m",3]']);
        assert.equal(seen[0], 1, "four frames in one write");
        client.ws.send('42["lone"]');
        await until(() => seen.length === 2 && client.frames.length === 5, 5000, "the lone frame");
        assert.equal(client.frames[4], '42["m","lone"]');
        assert.equal(seen[1], 1, "the lone frame written before the next turn");
      } finally {
        client.ws.close();
        await io.close();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
}
