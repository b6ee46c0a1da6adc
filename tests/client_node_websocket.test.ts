// The WebSocket client over node:http behind autoUnref and node:https TLS
// (src/client/_node_transports.ts), against a raw TCP server written here that answers the
// upgrade and then sends frames byte by byte as the test says: fragments, 16- and 64-bit lengths,
// pings, close frames, and the protocol errors a broken server can make.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { createServer, type Server, type Socket } from "node:net";
import { nodeWebSocket } from "../src/client/_node_transports.ts";
import type { NodeModules } from "../src/client/_node_transports.ts";
import { deadline, sleep } from "./client/_helpers.ts";

const modules = { http, https, unrefTimer: () => {} } as unknown as NodeModules;
const NodeWebSocket = nodeWebSocket(modules, { tls: {}, unref: false });

/** A server frame (unmasked). */
function frame(opcode: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const length = data.byteLength;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(head + length);
  out[0] = (fin ? 0x80 : 0) | opcode;
  const view = new DataView(out.buffer);
  if (length < 126) out[1] = length;
  else if (length < 65536) (out[1] = 126, view.setUint16(2, length));
  else (out[1] = 127, view.setUint32(6, length));
  out.set(data, head);
  return out;
}

/** The client frames read from a socket: opcode and unmasked payload. */
function readFrames(socket: Socket): Array<{ opcode: number; payload: Uint8Array }> {
  const frames: Array<{ opcode: number; payload: Uint8Array }> = [];
  let buf = new Uint8Array(0);
  socket.on("data", (chunk: Uint8Array) => {
    buf = new Uint8Array([...buf, ...chunk]);
    while (buf.length >= 6) {
      let length = buf[1] & 0x7f;
      let offset = 2;
      if (length === 126) (length = (buf[2] << 8) | buf[3], offset = 4);
      else if (length === 127) (length = new DataView(buf.buffer).getUint32(6), offset = 10);
      if (buf.length < offset + 4 + length) return;
      const mask = buf.subarray(offset, offset + 4);
      const payload = buf.slice(offset + 4, offset + 4 + length).map((b, i) => b ^ mask[i & 3]);
      frames.push({ opcode: buf[0] & 0x0f, payload });
      buf = buf.slice(offset + 4 + length);
    }
  });
  return frames;
}

type Script = (socket: Socket, frames: Array<{ opcode: number; payload: Uint8Array }>) => Promise<void> | void;

describe("the node:http WebSocket client", () => {
  let server: Server;
  let port = 0;
  let script: Script;
  /** The frames the client sent on the latest connection (read as they arrive). */
  let received: Array<{ opcode: number; payload: Uint8Array }> = [];
  const closeCodeSent = () => {
    const payload = received.find((f) => f.opcode === 8)?.payload;
    return payload ? (payload[0] << 8) | payload[1] : -1;
  };
  let accept = (key: string) =>
    createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  before(async () => {
    server = createServer((socket) => {
      let head = "";
      const onData = (chunk: Uint8Array) => {
        head += new TextDecoder().decode(chunk);
        if (!head.includes("\r\n\r\n")) return;
        socket.off("data", onData);
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
        socket.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
        );
        const frames = readFrames(socket);
        received = frames;
        Promise.resolve(script(socket, frames)).catch(() => socket.destroy());
      };
      socket.on("data", onData);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Opens a client; resolves with what it saw once it closed. */
  function run(): Promise<{ events: unknown[]; close: { code: number; wasClean: boolean } }> {
    return deadline(
      new Promise((resolve) => {
        const ws = new NodeWebSocket(`ws://127.0.0.1:${port}/`);
        const events: unknown[] = [];
        ws.onopen = () => events.push("open");
        ws.onerror = () => events.push("error");
        ws.onmessage = (event) => {
          const data = event.data;
          events.push(typeof data === "string" ? data : [...new Uint8Array(data as ArrayBuffer)].length);
          if (data === "close please") ws.close(3001);
        };
        ws.onclose = (event) => resolve({ events, close: { code: event.code, wasClean: event.wasClean } });
      }),
      5000,
      "the close",
    );
  }

  /** Writes `bytes` in pieces, so that frames arrive split at every boundary. */
  async function trickle(socket: Socket, bytes: Uint8Array, piece = 3): Promise<void> {
    for (let i = 0; i < bytes.length; i += piece) {
      socket.write(bytes.subarray(i, i + piece));
      await sleep(1);
    }
  }

  it("reads fragmented text, 16- and 64-bit lengths split anywhere, answers pings, and closes cleanly", async () => {
    let pong: Uint8Array | undefined;
    let closeCode = 0;
    script = async (socket, frames) => {
      await trickle(socket, frame(1, "hél", false));
      await trickle(socket, frame(9, "p1")); // a ping between fragments
      await trickle(socket, frame(0, "lo ✓"));
      await trickle(socket, frame(2, new Uint8Array(300)), 64);
      socket.write(frame(2, new Uint8Array(70000)));
      await sleep(20);
      pong = frames.find((f) => f.opcode === 10)?.payload;
      socket.write(frame(1, "close please"));
      while (!frames.some((f) => f.opcode === 8)) await sleep(5);
      const close = frames.find((f) => f.opcode === 8)!.payload;
      closeCode = (close[0] << 8) | close[1];
      socket.write(frame(8, close));
      socket.end();
    };
    const { events, close } = await run();
    assert.deepEqual(events, ["open", "hél" + "lo ✓", 300, 70000, "close please"]);
    assert.equal(new TextDecoder().decode(pong), "p1");
    assert.equal(closeCode, 3001);
    assert.deepEqual(close, { code: 3001, wasClean: true });
  });

  it("echoes a close the server starts", async () => {
    script = (socket) => {
      socket.write(frame(8, new Uint8Array([0x03, 0xe8]))); // 1000
    };
    const { close } = await run();
    assert.deepEqual(close, { code: 1000, wasClean: true });
    assert.equal(closeCodeSent(), 1000);
  });

  for (
    const [name, bytes, code] of [
      ["an unknown opcode", frame(3, "x"), 1002],
      ["a reserved bit", Uint8Array.of(0xc1, 0x01, 0x78), 1002],
      ["bad UTF-8 in a text message", frame(1, new Uint8Array([0xc3, 0x28])), 1007],
      ["a continuation with nothing to continue", frame(0, "x"), 1002],
      ["a fragmented control frame", frame(9, "x", false), 1002],
      ["a message over 100 MiB (told by its header alone)", Uint8Array.of(0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0), 1009],
    ] as const
  ) {
    it(`fails the connection on ${name}, telling the server why`, async () => {
      script = (socket) => {
        socket.write(bytes);
      };
      const { events, close } = await run();
      assert.deepEqual(events, ["open"]);
      assert.deepEqual(close, { code: 1006, wasClean: false });
      assert.equal(closeCodeSent(), code);
    });
  }

  it("refuses a handshake whose Sec-WebSocket-Accept is wrong", async () => {
    const right = accept;
    accept = () => "d3Jvbmc=";
    script = () => {};
    try {
      const { events, close } = await run();
      assert.deepEqual(events, ["error"]);
      assert.deepEqual(close, { code: 1006, wasClean: false });
    } finally {
      accept = right;
    }
  });
});
