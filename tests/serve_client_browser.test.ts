/**
 * The served msgpack bundle in headless Chromium: a page loads `/socket.io/socket.io.msgpack.min.js`
 * from our server (msgpack parser, on the runtime running the tests) with a plain `<script>`, and its
 * global `io` exchanges events, acks and binary over polling, WebSocket and the upgrade; the
 * browser's own fetch gets the large polling answers compressed (its resource timing shows fewer
 * bytes on the wire than in the body). Needs Debian's chromium.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../server.ts";
import { msgpackParser } from "../src/parser/msgpack.ts";
import { textResponse } from "../src/engine/exchange.ts";
import { type Running, serve } from "./_server.ts";
import { type Chromium, launchChromium } from "./_chromium.ts";

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script src="/socket.io/socket.io.msgpack.min.js"></script>
<script>globalThis.ready = typeof io === "function";</script>`;

describe("the served msgpack bundle in headless Chromium", () => {
  let io: Server;
  let running: Running;
  let browser: Chromium | undefined;
  // deno-lint-ignore no-explicit-any
  let page: any;

  before(async () => {
    io = new Server({ parser: msgpackParser, pingInterval: 2000, pingTimeout: 2000 });
    io.on("connection", (socket) => {
      socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value));
      socket.on("shout", (text: string) => socket.emit("shouted", text, new Uint8Array([9, 8, 7])));
    });
    running = await serve(
      (request, options) =>
        io.handle(request, {
          ...options,
          fallback: () => textResponse(200, PAGE, new Headers({ "content-type": "text/html; charset=utf-8" })),
        }),
      () => io.close(),
    );
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(running.url + "/");
    await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
  });
  after(async () => {
    await browser?.close();
    await running?.close();
  });

  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    it(`exchanges events, acks and binary over ${transports.join(" + ")}`, async () => {
      const result = await page.evaluate(async (transports: string[]) => {
        // deno-lint-ignore no-explicit-any
        const io = (globalThis as any).io;
        const socket = io({ forceNew: true, reconnection: false, transports });
        await new Promise((resolve, reject) => {
          socket.once("connect", resolve);
          socket.once("connect_error", reject);
        });
        if (transports.length === 2 && socket.io.engine.transport.name !== "websocket") {
          await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
        }
        const big = "msgpack ".repeat(1000);
        const { text, bytes } = await socket.timeout(3000).emitWithAck("echo", {
          text: big,
          bytes: new Uint8Array([1, 2, 3]),
        });
        const shouted = new Promise<unknown[]>((resolve) =>
          socket.once("shouted", (...args: unknown[]) => resolve(args))
        );
        socket.emit("shout", big);
        const [shoutedText, shoutedBytes] = await shouted;
        const transport = socket.io.engine.transport.name;
        socket.disconnect();
        // The polling answers as the browser received them.
        const polls = (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
          .filter((entry) => entry.name.includes("transport=polling") && entry.decodedBodySize > 4000);
        return {
          sameText: text === big && shoutedText === big,
          bytes: bytes instanceof ArrayBuffer ? [...new Uint8Array(bytes)] : String(bytes),
          shoutedBytes: shoutedBytes instanceof ArrayBuffer ? [...new Uint8Array(shoutedBytes)] : String(shoutedBytes),
          transport,
          compressedPolls: polls.filter((entry) => entry.encodedBodySize < entry.decodedBodySize / 4).length,
        };
      }, transports);
      assert.equal(result.sameText, true);
      assert.deepEqual(result.bytes, [1, 2, 3]);
      assert.deepEqual(result.shoutedBytes, [9, 8, 7]);
      assert.equal(result.transport, transports.length === 1 ? transports[0] : "websocket");
      if (transports[0] === "polling" && transports.length === 1) {
        assert.ok(result.compressedPolls >= 1, "a large polling answer came compressed");
      }
    });
  }
});
