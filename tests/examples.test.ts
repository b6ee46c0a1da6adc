// The examples in examples/, each started as its README line says (with ./node_modules/.bin/deno,
// bun or node) on a free loopback port (PORT=0), then used with our client: an ack round trip over
// polling and over WebSocket, a broadcast from one to the other, the page at `/` and the client
// bundle the server serves. The Workers example is bundled with esbuild and run in workerd
// (Miniflare). Each server is stopped with SIGTERM, which every example handles with io.close().
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { io, type Socket } from "../client.ts";
import { bin, ROOT } from "./client/_spawn.ts";
import { startWorkerd } from "./workers/_helpers.ts";
import { once } from "./_helpers.ts";

interface Example {
  url: string;
  stop(): Promise<void>;
}

/** Starts `cmd args` with PORT=0 on 127.0.0.1 and waits for its `listening on http://localhost:PORT`. */
function start(cmd: string, args: string[]): Promise<Example> {
  const child: ChildProcess = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", PORT: "0", HOST: "127.0.0.1" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      // process.kill: Deno's child.kill() does nothing once the child was sent a signal.
      const grace = setTimeout(() => process.kill(child.pid!, "SIGKILL"), 3000);
      await exited;
      clearTimeout(grace);
    }
    child.stdout!.destroy();
    child.stderr!.destroy();
  };
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start in 15 s:\n${output}`));
    }, 15000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited early (${code}):\n${output}`));
    });
    child.stderr!.on("data", (chunk) => (output += String(chunk)));
    child.stdout!.on("data", (chunk) => {
      output += String(chunk);
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${match[1]}`, stop });
      }
    });
  });
}

const sockets: Socket[] = [];

function connect(url: string, transports: ("polling" | "websocket")[], query?: Record<string, string>): Socket {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: 3000, transports, query });
  sockets.push(socket);
  return socket;
}

/** An ack round trip with text and binary, on polling and on WebSocket, and a broadcast across. */
async function roundTrip(url: string): Promise<void> {
  const polling = connect(url, ["polling"]);
  const websocket = connect(url, ["websocket"]);
  await Promise.all([once(polling, "connect"), once(websocket, "connect")]);
  for (const socket of [polling, websocket]) {
    const back = await socket.timeout(3000).emitWithAck("echo", { text: "héllo", bytes: new Uint8Array([1, 2, 3]) });
    assert.equal(back.text, "héllo");
    assert.deepEqual([...new Uint8Array(back.bytes)], [1, 2, 3]);
  }
  const heard = once<[string, string]>(websocket, "chat");
  polling.emit("chat", "hi all");
  assert.deepEqual(await heard, [polling.id, "hi all"]);
  for (const socket of sockets.splice(0)) socket.disconnect();
}

/** The page at `/` and the client bundle at /socket.io/socket.io.min.js. */
async function page(url: string, text: RegExp): Promise<void> {
  const home = await fetch(url + "/");
  assert.equal(home.status, 200);
  assert.match(await home.text(), text);
  const bundle = await fetch(url + "/socket.io/socket.io.min.js");
  assert.equal(bundle.status, 200);
  assert.match(bundle.headers.get("content-type") ?? "", /javascript/);
  assert.ok((await bundle.text()).length > 1000);
}

const DENO = [bin("deno"), "run", "--allow-net", "--allow-env", "--allow-read"];

const CASES: { name: string; cmd: string[]; text: RegExp }[] = [
  { name: "examples/deno on Deno", cmd: [...DENO, "examples/deno/main.ts"], text: /Socket\.IO on Deno/ },
  { name: "examples/bun on Bun", cmd: [bin("bun"), "examples/bun/main.ts"], text: /Socket\.IO on Bun/ },
  { name: "examples/node on Node", cmd: [bin("node"), "examples/node/main.ts"], text: /Socket\.IO on Node/ },
  { name: "examples/hono on Deno", cmd: [...DENO, "examples/hono/main.ts"], text: /Socket\.IO in Hono/ },
  { name: "examples/hono on Bun", cmd: [bin("bun"), "examples/hono/main.ts"], text: /Socket\.IO in Hono/ },
  { name: "examples/hono on Node", cmd: [bin("node"), "examples/hono/main.ts"], text: /Socket\.IO in Hono/ },
];

describe("examples", () => {
  after(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });

  for (const { name, cmd, text } of CASES) {
    it(`${name}: round trip with our client, page and client bundle`, async () => {
      const example = await start(cmd[0], cmd.slice(1));
      try {
        await roundTrip(example.url);
        await page(example.url, text);
      } finally {
        await example.stop();
      }
    });
  }

  it("examples/workers bundles with esbuild (what wrangler does) into one module", () => {
    const dir = mkdtempSync(join(tmpdir(), "sio-example-worker-"));
    try {
      const outfile = join(dir, "worker.js");
      const result = spawnSyncOk(bin("esbuild"), [
        "examples/workers/worker.ts",
        "--bundle",
        "--format=esm",
        "--platform=browser",
        "--target=es2022",
        "--log-level=error",
        `--outfile=${outfile}`,
      ]);
      assert.equal(result, "");
      const code = readFileSync(outfile, "utf8");
      assert.match(code, /export\s*\{[^}]*ChatObject[^}]*\}/);
      assert.match(code, /export\s*\{[^}]*as default[^}]*\}/);
      assert.doesNotMatch(code, /from\s*["']node:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("examples/workers/hono_worker.ts in workerd: Hono routes and socket.io on one origin", async () => {
    const server = await startWorkerd(`${ROOT}examples/workers/hono_worker.ts`, { CHAT: "ChatObject" });
    try {
      assert.match(await (await fetch(`${server.url}/`)).text(), /Hono app/);
      assert.deepEqual(await (await fetch(`${server.url}/health`)).json(), { ok: true });
      const query = { room: `hono-${Date.now()}` };
      const polling = connect(server.url, ["polling"], query);
      const websocket = connect(server.url, ["websocket"], query);
      await Promise.all([once(polling, "said"), once(websocket, "said")]);
      for (const socket of [polling, websocket]) {
        assert.deepEqual(await socket.timeout(3000).emitWithAck("echo", [1, "two"]), [1, "two"]);
      }
      const heard = once<[string, string]>(polling, "said");
      assert.equal(await websocket.timeout(3000).emitWithAck("say", "via hono"), true);
      assert.deepEqual(await heard, ["anonymous", "via hono"]);
    } finally {
      for (const socket of sockets.splice(0)) socket.disconnect();
      await server.close();
    }
  });

  it("examples/workers_shards in workerd: a chat over 4 objects, tenants kept together", async () => {
    const server = await startWorkerd(`${ROOT}examples/workers_shards/worker.ts`, { CHAT: "ChatShard" });
    try {
      // 8 clients at random (two transports), 2 of one tenant
      const clients = Array.from({ length: 8 }, (_, i) => connect(server.url, i % 2 ? ["websocket"] : ["polling"]));
      const tenant = [0, 1].map(() => connect(server.url, ["websocket"], { tenant: "acme" }));
      await Promise.all([...clients, ...tenant].map((s) => once(s, "connect")));
      const counts: Record<string, number> = await clients[0].timeout(3000).emitWithAck("who");
      assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 10);
      assert.ok(Object.keys(counts).length >= 2, JSON.stringify(counts));
      for (const name of Object.keys(counts)) assert.match(name, /^chat(:[1-3])?$/);
      const heard = [...clients, ...tenant].map((s) => once<[string, string]>(s, "said"));
      assert.equal(await tenant[0].timeout(3000).emitWithAck("say", "hello everyone"), true);
      const said = await Promise.all(heard);
      for (const [, text] of said) assert.equal(text, "hello everyone");
      assert.equal(new Set(said.map(([shard]) => shard)).size, 1); // the sender's shard
      const [first, second] = tenant.map((s) => s.io.engine?.id?.split(".")[0]);
      assert.match(String(first), /^[0-3]$/);
      assert.equal(first, second);
    } finally {
      for (const socket of sockets.splice(0)) socket.disconnect();
      await server.close();
    }
  });

  it("examples/workers in workerd: round trip with our client", async () => {
    const server = await startWorkerd(`${ROOT}examples/workers/worker.ts`, { CHAT: "ChatObject" });
    try {
      const query = { room: `test-${Date.now()}` };
      const polling = connect(server.url, ["polling"], query);
      const websocket = connect(server.url, ["websocket"], query);
      const [[, welcome]] = await Promise.all([
        once<[string, string]>(polling, "said"),
        once(websocket, "said"),
      ]);
      assert.match(welcome, /^welcome, \d+ here$/);
      for (const socket of [polling, websocket]) {
        assert.deepEqual(await socket.timeout(3000).emitWithAck("echo", { n: 1 }), { n: 1 });
      }
      polling.emit("nick", "ann");
      const heard = once<[string, string]>(websocket, "said");
      assert.equal(await polling.timeout(3000).emitWithAck("say", "hello"), true);
      assert.deepEqual(await heard, ["ann", "hello"]);
    } finally {
      for (const socket of sockets.splice(0)) socket.disconnect();
      await server.close();
    }
  });
});

/** Runs a command to completion; returns its stderr, throws when it fails. */
function spawnSyncOk(cmd: string, args: string[]): string {
  const result = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  return result.stderr;
}
