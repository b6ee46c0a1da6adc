/**
 * The `parser` option takes a parser module written for socket.io (`{ Encoder, Decoder }`
 * classes) as it is: npm's socket.io-parser and socket.io-msgpack-parser, on our server and our
 * client, talking to socket.io-client with the same module.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as socketIoParser from "socket.io-parser";
import msgpackModule from "socket.io-msgpack-parser";
import { io as npmIo } from "socket.io-client";
import { Server } from "../server.ts";
import { io } from "../client.ts";
import { type Running, startServer } from "./_server.ts";
import { once } from "./_helpers.ts";

const running: Running[] = [];
const clients: Array<{ disconnect(): unknown }> = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of running.splice(0)) await server.close();
});

const MODULES = { "socket.io-parser": socketIoParser, "socket.io-msgpack-parser": msgpackModule };

/** The bytes of whatever binary a client handed over (Buffer, ArrayBuffer, Uint8Array). */
function bytesOf(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  throw new Error(`not binary: ${Object.prototype.toString.call(value)}`);
}

describe("parser option: socket.io parser modules, unchanged", () => {
  for (const [name, module] of Object.entries(MODULES)) {
    it(`${name} on our server, with socket.io-client and with our client: events, acks, binary`, async () => {
      const server = new Server({ parser: module });
      const received: unknown[] = [];
      server.on("connection", (socket) => {
        socket.emit("welcome", { n: 1 }, new Uint8Array([9, 8]));
        socket.on("echo", (value, ack) => {
          received.push(value);
          ack(value);
        });
      });
      const running_ = await startServer(server);
      running.push(running_);
      for (const who of ["socket.io-client", "ours"]) {
        const options = { forceNew: true, reconnection: false, autoConnect: false, parser: module };
        const client = who === "ours" ? io(running_.url, options) : npmIo(running_.url, options);
        clients.push(client);
        const welcomed = once(client, "welcome");
        client.connect();
        const [welcome, bytes] = await welcomed;
        assert.deepEqual(welcome, { n: 1 }, who);
        assert.deepEqual(bytesOf(bytes), [9, 8], who);
        const reply = await client.timeout(3000).emitWithAck("echo", { text: "hi", bytes: new Uint8Array([1, 2, 3]) });
        assert.equal(reply.text, "hi", who);
        assert.deepEqual(bytesOf(reply.bytes), [1, 2, 3], who);
      }
      assert.equal(received.length, 2);
      for (const value of received) assert.deepEqual(bytesOf((value as { bytes: unknown }).bytes), [1, 2, 3]);
    });
  }

  it("anything else is refused at once, with what the option takes", () => {
    assert.throws(() => new Server({ parser: {} as never }), /a module with Encoder and Decoder classes/);
  });
});
