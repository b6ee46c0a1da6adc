// The ported python-socketio example app (examples/python/app.ts: a class-based namespace with
// sessions, rooms by sid and `call`), started as its README line says, with PORT=0, and driven by
// python-socketio's own client (Debian's) through every form of the original page; the page and
// the client bundle it loads are served too.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { bin, ROOT, type ServerProcess, spawnServer } from "./client/_spawn.ts";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const HAS_PYTHON = spawnSync(PYTHON, ["-c", "import socketio, aiohttp"], { stdio: "ignore" }).status === 0;

describe("examples/python/app.ts (python-socketio's example app, ported)", { skip: !HAS_PYTHON }, () => {
  let app: ServerProcess;
  before(async () => {
    const previous = { PORT: process.env.PORT, HOST: process.env.HOST, TICK_MS: process.env.TICK_MS };
    Object.assign(process.env, { HOST: "127.0.0.1", TICK_MS: "200" });
    try {
      app = await spawnServer(bin("deno"), (port) => {
        process.env.PORT = String(port);
        return ["run", "--allow-net", "--allow-env", "--allow-read", "examples/python/app.ts"];
      });
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
  after(async () => {
    await app?.close();
  });

  it("serves the page and the client bundle it loads", async () => {
    const page = await fetch(app.url + "/");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="\/socket.io\/socket.io.min.js"><\/script>/);
    const bundle = await fetch(app.url + "/socket.io/socket.io.min.js");
    assert.equal(bundle.status, 200);
    await bundle.arrayBuffer();
  });

  it("answers python-socketio's client as the original app does", async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        PYTHON,
        [`${ROOT}tests/python/example_client.py`, app.url],
        { timeout: 20000 },
        (err, stdout, stderr) => err ? reject(new Error(`${err.message}\n${stderr}\n${stdout}`)) : resolve(stdout),
      )
    );
    const { received, ping, sid } = JSON.parse(output.trim().split("\n").pop()!);
    assert.deepEqual(received, [
      { data: "Connected", count: 0 },
      { data: "hello", count: 1 },
      { data: "again", count: 2 },
      { data: "to everyone", from: "py" },
      { data: "Entered room: lobby", rooms: [sid, "lobby"] },
      { data: "to the lobby", from: "py" },
      { data: "Room lobby is closing." },
      { data: "Entered room: attic", rooms: [sid, "attic"] },
      { data: "Left room: attic", rooms: [sid] },
    ]);
    assert.equal(ping.echoed, true);
    assert.equal(typeof ping.rtt, "number");
  });
});
