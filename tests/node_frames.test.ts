// The Node shim encodes text once per distinct string (bytes shared by a broadcast) and has `ws`
// frame those bytes as text: every payload-length form of the WebSocket header (7-bit, 16-bit,
// 64-bit), multi-byte UTF-8 whose byte length crosses a boundary its character count does not, and
// many sockets getting the same bytes, all read back by standard WebSocket clients. Node only (the
// shim under test).
import { describe, it } from "node:test";
import assert from "node:assert/strict";

const isNode = !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

/** Opens a raw Engine.IO WebSocket session, connects to `/`, and collects the text frames after. */
async function rawClient(port: number): Promise<{ frames: string[]; close(): void }> {
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
  return { frames, close: () => ws.close() };
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
        const deadline = Date.now() + 10000;
        while (clients.some((c) => c.frames.length < expected.length) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
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
}
