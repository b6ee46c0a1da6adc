/**
 * `perMessageDeflate`, through `serve(io)` (which each runtime's entry point does: `io.listen` /
 * `io.attach` on Node, `bunOptions` on Bun): negotiated where the runtime can (Node's `ws`, Bun),
 * frames from the threshold compressed, `compress(false)` (on a socket, a broadcast and a room's
 * native publish on Bun) honoured frame by frame, off by default; read off the wire by a raw
 * client that sees each frame's RSV1 bit. `Deno.serve` does not offer the extension, `io.listen`
 * on Deno does (the README says so; this checks it). socket.io-client 4.8 negotiates it and exchanges large messages.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { constants as zlib, inflateRawSync } from "node:zlib";
import { io as sioClient } from "socket.io-client";
import { bunWebSocketHandler, serve, Server, type ServerOptions, type Socket } from "../server.ts";
import { socketIo } from "../src/hono/mod.ts";
import { once, until } from "./_helpers.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Bun ? "bun" : g.Deno ? "deno" : "node";
/** Whether this runtime's server negotiates permessage-deflate. */
const canDeflate = runtime !== "deno";

interface Frame {
  /** RSV1: the frame is compressed. */
  compressed: boolean;
  opcode: number;
  /** The payload, inflated when compressed. */
  data: Uint8Array;
}

/**
 * A WebSocket client on a raw TCP socket: it offers permessage-deflate (asking the server not to
 * keep its compression context between messages, so that each frame inflates on its own) and
 * reports RSV1.
 */
class RawWebSocket {
  extensions: string | undefined;
  #socket: NetSocket;
  #buffer = new Uint8Array(0);
  #frames: Frame[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: NetSocket) {
    this.#socket = socket;
  }

  static async open(port: number, path: string): Promise<RawWebSocket> {
    const socket = netConnect(port, "127.0.0.1");
    await once(socket, "connect");
    const ws = new RawWebSocket(socket);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits\r\n\r\n",
    );
    let head = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Uint8Array) => {
        ws.#append(chunk);
        const text = new TextDecoder("latin1").decode(ws.#buffer);
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        head = text.slice(0, end);
        ws.#buffer = ws.#buffer.subarray(end + 4);
        socket.off("data", onData);
        socket.on("data", (more: Uint8Array) => {
          ws.#append(more);
          ws.#parse();
        });
        ws.#parse();
        resolve();
      };
      socket.on("data", onData);
      socket.once("error", reject);
    });
    assert.match(head, /^HTTP\/1\.1 101/);
    ws.extensions = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(head)?.[1];
    return ws;
  }

  #append(chunk: Uint8Array): void {
    const all = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
    all.set(this.#buffer);
    all.set(chunk, this.#buffer.byteLength);
    this.#buffer = all;
  }

  #parse(): void {
    for (;;) {
      const b = this.#buffer;
      if (b.byteLength < 2) return;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.byteLength < 4) return;
        length = (b[2] << 8) | b[3];
        offset = 4;
      } else if (length === 127) {
        if (b.byteLength < 10) return;
        length = new DataView(b.buffer, b.byteOffset).getUint32(6);
        offset = 10;
      }
      if (b.byteLength < offset + length) return;
      const compressed = (b[0] & 0x40) !== 0;
      const payload = b.slice(offset, offset + length);
      this.#buffer = b.subarray(offset + length);
      const data = compressed ? new Uint8Array(inflateRawSync(payload, { finishFlush: zlib.Z_SYNC_FLUSH })) : payload;
      this.#frames.push({ compressed, opcode: b[0] & 0x0f, data });
      this.#wake?.();
    }
  }

  /** The next frame. */
  async next(): Promise<Frame> {
    while (this.#frames.length === 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.#wake = resolve)),
        new Promise<void>((_, reject) => setTimeout(() => reject(new Error("no frame within 3 s")), 3000)),
      ]);
    }
    return this.#frames.shift()!;
  }

  /** The next frame, as text. */
  async nextText(): Promise<{ compressed: boolean; text: string }> {
    const frame = await this.next();
    return { compressed: frame.compressed, text: new TextDecoder().decode(frame.data) };
  }

  /** Sends a masked, uncompressed text frame. */
  send(text: string): void {
    const payload = new TextEncoder().encode(text);
    assert.ok(payload.byteLength < 126);
    const frame = new Uint8Array(6 + payload.byteLength);
    frame[0] = 0x81;
    frame[1] = 0x80 | payload.byteLength;
    frame.set([1, 2, 3, 4], 2);
    for (let i = 0; i < payload.byteLength; i++) frame[6 + i] = payload[i] ^ [1, 2, 3, 4][i & 3];
    this.#socket.write(frame);
  }

  close(): void {
    this.#socket.destroy();
  }
}

describe(`perMessageDeflate (server on ${runtime})`, () => {
  let io: Server | undefined;
  const opened: RawWebSocket[] = [];

  afterEach(async () => {
    for (const ws of opened.splice(0)) ws.close();
    await io?.close();
    io = undefined;
  });

  /**
   * A server with `options` on `serve()` (or on `listen(io)`), and a raw session to it connected
   * to `/`.
   */
  async function start(
    options: ServerOptions,
    listen: (io: Server) => Promise<number> = async (io) => (await serve(io, { port: 0, hostname: "127.0.0.1" })).port,
  ): Promise<{ ws: RawWebSocket; socket: Socket; port: number }> {
    io = new Server({ pingInterval: 5000, pingTimeout: 5000, ...options });
    const sockets: Socket[] = [];
    io.on("connection", (socket) => {
      socket.join("room");
      sockets.push(socket);
    });
    const port = await listen(io);
    const ws = await RawWebSocket.open(port, "/socket.io/?EIO=4&transport=websocket");
    opened.push(ws);
    assert.match((await ws.nextText()).text, /^0\{"sid"/);
    ws.send("40");
    assert.match((await ws.nextText()).text, /^40\{"sid"/);
    await until(() => sockets.length === 1, 2000, "the socket");
    return { ws, socket: sockets[0], port };
  }

  const big = "deflate me ".repeat(500);

  if (canDeflate) {
    it("negotiates it and compresses frames from the threshold, unless sent with compress(false)", async () => {
      const { ws, socket } = await start({ perMessageDeflate: true });
      assert.match(ws.extensions ?? "", /^permessage-deflate/);
      socket.emit("big", big);
      assert.deepEqual(await ws.nextText(), { compressed: true, text: `42["big","${big}"]` });
      socket.emit("small", "x".repeat(100)); // under 1024 bytes
      assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["small","${"x".repeat(100)}"]` });
      socket.compress(false).emit("big", big);
      assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["big","${big}"]` });
      // Binary attachments are frames of their own, compressed as well.
      socket.emit("bytes", new Uint8Array(4000).fill(7));
      assert.deepEqual(await ws.nextText(), {
        compressed: false,
        text: `451-["bytes",{"_placeholder":true,"num":0}]`,
      });
      const attachment = await ws.next();
      assert.equal(attachment.opcode, 2);
      assert.equal(attachment.compressed, true);
      assert.deepEqual(attachment.data, new Uint8Array(4000).fill(7));
      // Broadcasts: to a room (Bun publishes it natively) and to everyone, with and without the flag.
      io!.to("room").emit("room", big);
      assert.deepEqual(await ws.nextText(), { compressed: true, text: `42["room","${big}"]` });
      io!.to("room").compress(false).emit("room", big);
      assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["room","${big}"]` });
      io!.compress(false).emit("all", big);
      assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["all","${big}"]` });
      io!.emit("all", big);
      assert.deepEqual(await ws.nextText(), { compressed: true, text: `42["all","${big}"]` });
    });

    it("takes a threshold", async () => {
      const { ws, socket } = await start({ perMessageDeflate: { threshold: 50 } });
      assert.match(ws.extensions ?? "", /^permessage-deflate/);
      socket.emit("medium", "x".repeat(100));
      assert.deepEqual(await ws.nextText(), { compressed: true, text: `42["medium","${"x".repeat(100)}"]` });
    });
  } else {
    it("is not offered by Deno.serve, which has no permessage-deflate", async () => {
      const { ws, socket } = await start({ perMessageDeflate: true });
      assert.equal(ws.extensions, undefined);
      socket.emit("big", big);
      assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["big","${big}"]` });
    });

    it("is offered through io.listen (Deno's node:http and ws)", async () => {
      const { ws, socket } = await start({ perMessageDeflate: true }, async (io) => {
        io.listen(0);
        await new Promise((resolve) => io.httpServer!.once("listening", resolve));
        const address = io.httpServer!.address();
        return typeof address === "object" && address !== null ? address.port : 0;
      });
      assert.match(ws.extensions ?? "", /^permessage-deflate/);
      socket.emit("big", big);
      assert.deepEqual(await ws.nextText(), { compressed: true, text: `42["big","${big}"]` });
      socket.compress(false).emit("big", big);
      assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["big","${big}"]` });
    });
  }

  if (runtime === "bun") {
    it("Hono on Bun: Bun's websocket options decide (bunWebSocketHandler, with perMessageDeflate: true)", async () => {
      const { Hono } = await import("hono");
      for (const perMessageDeflate of [true, false]) {
        const { ws, socket } = await start({}, (io) => {
          const app = new Hono();
          app.use(socketIo(io));
          const websocket = { ...bunWebSocketHandler, perMessageDeflate };
          const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch, websocket, idleTimeout: 0 });
          io._onClose(() => server.stop(true));
          return Promise.resolve(server.port);
        });
        assert.equal(/^permessage-deflate/.test(ws.extensions ?? ""), perMessageDeflate);
        socket.emit("big", big);
        assert.deepEqual(await ws.nextText(), { compressed: perMessageDeflate, text: `42["big","${big}"]` });
        socket.compress(false).emit("big", big);
        assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["big","${big}"]` });
        ws.close();
        await io!.close();
      }
    });
  }

  it("is off by default", async () => {
    const { ws, socket } = await start({});
    assert.equal(ws.extensions, undefined);
    socket.emit("big", big);
    assert.deepEqual(await ws.nextText(), { compressed: false, text: `42["big","${big}"]` });
  });

  it("socket.io-client 4.8 negotiates it and exchanges large messages both ways", async () => {
    io = new Server({ pingInterval: 5000, pingTimeout: 5000, perMessageDeflate: true });
    io.on("connection", (socket) => {
      socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value));
    });
    const { port } = await serve(io, { port: 0, hostname: "127.0.0.1" });
    const client = sioClient(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false });
    try {
      await once(client, "connect");
      if (client.io.engine.transport.name !== "websocket") await once(client.io.engine, "upgrade");
      const reply = await client.timeout(3000).emitWithAck("echo", { big, bytes: new Uint8Array(5000).fill(3) });
      assert.equal(reply.big, big);
      assert.deepEqual(new Uint8Array(reply.bytes), new Uint8Array(5000).fill(3));
      // deno-lint-ignore no-explicit-any
      const extensions = (client.io.engine.transport as any).ws?.extensions;
      if (canDeflate) assert.match(String(extensions), /^permessage-deflate/);
      else assert.equal(extensions, "");
    } finally {
      client.disconnect();
    }
  });
});
