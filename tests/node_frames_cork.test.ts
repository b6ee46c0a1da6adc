// The Node shim writes the frames a socket is sent in one turn of the event loop to its TCP socket
// at once (cork, uncork at the end of the turn), without holding back a lone frame, and the engine
// still sees the socket as having nothing queued (volatile packets after a regular one in the same
// turn go out). Write operations are counted on the server's own TCP socket of a standard
// WebSocket client. Node only (the shim under test).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { until } from "./_helpers.ts";

const isNode = !(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

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

/** Opens a raw Engine.IO WebSocket session, connects to `/`, and collects the text frames after. */
async function rawClient(port: number): Promise<{ ws: WebSocket; frames: string[] }> {
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
  return { ws, frames };
}

if (isNode) {
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
