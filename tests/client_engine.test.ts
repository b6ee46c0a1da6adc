// The Engine.IO client against the protocol fixture's bare Engine.IO echo endpoint (`/engine.io/`)
// and its Socket.IO endpoint: the real npm engine.io / socket.io (`reference`) and ours (`deno`).
// FIXTURE=reference or FIXTURE=deno picks one; both run by default.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Engine, io } from "../client.ts";
import type { EngineOptions } from "../client.ts";
import { startFixture } from "./_fixture_process.ts";
import type { Fixture } from "./_fixture_process.ts";
import { next, sleep } from "./client/_helpers.ts";
import { until } from "./_helpers.ts";

const kinds = process.env.FIXTURE ? [process.env.FIXTURE] : ["reference", "deno"];

function open(url: string, opts: EngineOptions): Promise<Engine> {
  const engine = new Engine(url, { path: "/engine.io", ...opts });
  const opened = next(engine, "open");
  engine.open();
  return opened.then(() => engine);
}

for (const kind of kinds) {
  describe(`engine client against the ${kind} fixture`, () => {
    let fixture: Fixture;
    before(async () => {
      fixture = await startFixture({ kind });
    });
    after(() => fixture?.close());

    for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as const) {
      it(`handshakes and echoes text and binary over ${transports.join(" + ")}`, async () => {
        const engine = await open(fixture.url, { transports: [...transports] });
        try {
          const hs = engine.handshake!;
          assert.equal(typeof hs.sid, "string");
          assert.equal(hs.pingInterval, 300);
          assert.equal(hs.pingTimeout, 200);
          assert.equal(hs.maxPayload, 1e6);
          assert.deepEqual(hs.upgrades, transports[0] === "polling" ? ["websocket"] : []);
          const received: unknown[] = [];
          engine.on("data", (data) => received.push(data));
          engine.write("héllo ✓");
          engine.write(new Uint8Array([0, 1, 255]));
          engine.write(new Uint8Array([9, 9, 1, 2, 9]).subarray(2, 4));
          while (received.length < 3) await next(engine, "data");
          assert.equal(received[0], "héllo ✓");
          assert.deepEqual([...(received[1] as Uint8Array)], [0, 1, 255]);
          assert.deepEqual([...(received[2] as Uint8Array)], [1, 2]);
          if (transports.length === 2) {
            if (engine.transport!.name !== "websocket") await next(engine, "upgrade");
            engine.write("after upgrade");
            assert.deepEqual(await next(engine, "data"), ["after upgrade"]);
          }
        } finally {
          engine.close();
        }
      });
    }

    it("keeps the session alive across heartbeats", async () => {
      const engine = await open(fixture.url, { transports: ["polling"] });
      let pings = 0;
      engine.on("ping", () => pings++);
      await sleep(1100);
      assert.equal(engine.readyState, "open");
      assert.ok(pings >= 2, `pings: ${pings}`);
      engine.close();
    });

    it("splits polling batches at maxPayload", async () => {
      const engine = await open(fixture.url, { transports: ["polling"], upgrade: false });
      try {
        const big = "x".repeat(400_000);
        const received: string[] = [];
        engine.on("data", (data) => received.push(data as string));
        for (let i = 0; i < 5; i++) engine.write(i + big);
        await until(() => received.length >= 5, 5000, "five messages");
        assert.deepEqual(received.map((r) => r[0]), ["0", "1", "2", "3", "4"]);
        assert.equal(engine.readyState, "open");
      } finally {
        engine.close();
      }
    });

    it("flushes buffered messages before closing and reports forced close", async () => {
      const engine = await open(fixture.url, { transports: ["polling"], upgrade: false });
      engine.write("last words");
      const closed = next(engine, "close");
      engine.close();
      assert.deepEqual(await closed, ["forced close", undefined]);
      assert.equal(engine.readyState, "closed");
    });

    it("starts on WebSocket with rememberUpgrade after a successful upgrade", async () => {
      const first = await open(fixture.url, {});
      if (first.transport!.name !== "websocket") await next(first, "upgrade");
      first.close();
      const second = new Engine(fixture.url, { path: "/engine.io", rememberUpgrade: true });
      second.open();
      assert.equal(second.transport!.name, "websocket");
      await next(second, "open");
      second.close();
    });

    it("connects Socket.IO sockets to / and /custom over one connection", async () => {
      const root = io(fixture.url, { forceNew: true, auth: { who: "root" } });
      const custom = root.io.socket("/custom", { auth: { who: "custom" } });
      try {
        const [[a], [b]] = await Promise.all([next(root, "auth"), next(custom, "auth")]);
        assert.deepEqual(a, { who: "root" });
        assert.deepEqual(b, { who: "custom" });
        const reply = await root.timeout(2000).emitWithAck("message-with-ack", 1, new Uint8Array([5]));
        assert.equal(reply, 1);
        const echoed = next(root, "message-back");
        root.emit("message", { bin: new Uint8Array([1, 2]) }, "t");
        const [obj, t] = await echoed;
        assert.deepEqual([...obj.bin], [1, 2]);
        assert.equal(t, "t");
        const [err] = await next(root.io.socket("/refused"), "connect_error");
        assert.equal(err.message, "Invalid namespace");
      } finally {
        root.io.disconnect();
      }
    });
  });
}
