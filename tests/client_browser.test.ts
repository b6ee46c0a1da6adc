// In headless Chromium (Debian's `chromium` with npm `playwright-core`), a page loads the browser
// bundle (the ES module build of client.ts, built by the server in memory) from our server and exchanges events, acks and
// binary with it over polling, WebSocket and the upgrade. Needs Debian's chromium
// (scripts/install_debian_packages.sh installs it).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { bin, spawnServer } from "./client/_spawn.ts";
import type { ServerProcess } from "./client/_spawn.ts";
import { type Chromium, launchChromium } from "./_chromium.ts";
import type { Manager, Socket } from "../client.ts";

describe("client bundle in headless Chromium", () => {
  let server: ServerProcess;
  let browser: Chromium | undefined;
  // deno-lint-ignore no-explicit-any
  let page: any;
  before(async () => {
    server = await spawnServer(bin("deno"), (port) => ["run", "-A", "tests/client/our_server.ts", String(port)]);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(server.url + "/");
    await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    it(`exchanges events, acks and binary over ${transports.join(" + ")}`, async () => {
      const result = await page.evaluate(async (transports: string[]) => {
        // deno-lint-ignore no-explicit-any
        const { io } = (globalThis as any).client;
        const socket = io({ forceNew: true, transports, auth: { from: "browser" } });
        const next = (event: string) =>
          new Promise<unknown[]>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args)));
        const [auth] = await next("auth");
        const back = next("message-back");
        socket.emit("message", "hi", new Uint8Array([1, 2, 3]));
        const [text, bin] = await back;
        const ack = await socket.timeout(2000).emitWithAck("message-with-ack", { b: new Uint8Array([4, 5]) });
        const custom = socket.io.socket("/custom", { auth: { nsp: "custom" } });
        const [customAuth] = await new Promise<unknown[]>((resolve) =>
          custom.once("auth", (...a: unknown[]) => resolve(a))
        );
        if (transports.length === 2 && socket.io.engine.transport.name !== "websocket") {
          await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
        }
        const who = await socket.timeout(2000).emitWithAck("whoami");
        const out = {
          auth,
          text,
          binIsArrayBuffer: bin instanceof ArrayBuffer,
          bin: [...new Uint8Array(bin as ArrayBuffer)],
          ackIsArrayBuffer: ack.b instanceof ArrayBuffer,
          ack: [...new Uint8Array(ack.b)],
          customAuth,
          sameManager: custom.io === socket.io,
          transport: who.transport,
        };
        socket.io.disconnect();
        return out;
      }, transports);
      assert.deepEqual(result, {
        auth: { from: "browser" },
        text: "hi",
        binIsArrayBuffer: true,
        bin: [1, 2, 3],
        ackIsArrayBuffer: true,
        ack: [4, 5],
        customAuth: { nsp: "custom" },
        sameManager: true,
        transport: transports.length === 1 ? transports[0] : "websocket",
      });
    });
  }

  it("closes when the browser goes offline and reconnects when it is back", async () => {
    await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      const g = globalThis as any;
      g.events = [];
      g.socket = g.client.io({ forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
      g.socket.on("disconnect", (reason: string) => g.events.push("disconnect: " + reason));
      g.socket.io.on("reconnect", () => g.events.push("reconnect"));
      await new Promise((resolve) => g.socket.once("connect", resolve));
    });
    await page.context().setOffline(true);
    await page.waitForFunction(() => (globalThis as { events?: string[] }).events!.length >= 1);
    await page.context().setOffline(false);
    await page.waitForFunction(() => (globalThis as { events?: string[] }).events!.includes("reconnect"), null, {
      timeout: 10000,
    });
    const events = await page.evaluate(() => {
      // deno-lint-ignore no-explicit-any
      const g = globalThis as any;
      g.socket.io.disconnect();
      return g.events;
    });
    assert.equal(events[0], "disconnect: transport close");
    assert.ok(events.includes("reconnect"));
  });

  it("connects a Manager created without a URL (or with a port only) to the page's origin", async () => {
    const result = await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      const { Manager } = (globalThis as any).client;
      const who = async (manager: Manager) => {
        const socket = manager.socket("/");
        await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
        const reply = await socket.timeout(2000).emitWithAck("whoami");
        manager.disconnect();
        return { connected: typeof reply.id === "string", url: manager.engine!.transport!.opts.url };
      };
      return [
        await who(new Manager()),
        await who(new Manager({ transports: ["websocket"], port: location.port })),
      ];
    });
    assert.deepEqual(result, [
      { connected: true, url: server.url + "/socket.io/" },
      { connected: true, url: server.url + "/socket.io/" },
    ]);
  });

  it("closeOnBeforeunload closes the transport silently on beforeunload", async () => {
    const result = await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      const { io } = (globalThis as any).client;
      const open = (closeOnBeforeunload: boolean) => {
        const socket = io({ forceNew: true, transports: ["websocket"], closeOnBeforeunload, reconnection: false });
        const events: string[] = [];
        socket.on("disconnect", (reason: string) => events.push(reason));
        return new Promise<{ socket: Socket; events: string[] }>((resolve) =>
          socket.once("connect", () => resolve({ socket, events }))
        );
      };
      const closing = await open(true);
      const staying = await open(false);
      dispatchEvent(new Event("beforeunload"));
      const right = {
        closing: closing.socket.io.engine!.transport!.readyState,
        staying: staying.socket.io.engine!.transport!.readyState,
        closingEvents: [...closing.events],
        stayingConnected: staying.socket.connected,
      };
      // The engine learns of it at its next heartbeat deadline, as socket.io-client's does.
      await new Promise((resolve) => closing.socket.once("disconnect", resolve));
      const later = { closingEvents: closing.events, stayingConnected: staying.socket.connected };
      staying.socket.disconnect();
      return { right, later };
    });
    assert.deepEqual(result, {
      right: { closing: "closed", staying: "open", closingEvents: [], stayingConnected: true },
      later: { closingEvents: ["ping timeout"], stayingConnected: true },
    });
  });
});
