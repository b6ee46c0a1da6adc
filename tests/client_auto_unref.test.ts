// autoUnref: a process (Deno, Bun or Node: the runtime running the tests) whose only work left is
// a connected client exits by itself, over each transport, as with socket.io-client; without it
// the connection keeps the process alive. The server (ours, in this process) sees the client go.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { Server } from "../src/io/server.ts";
import { type Running, startServer } from "./_server.ts";
import { deadline, sleep } from "./client/_helpers.ts";
import { bin, ROOT, spawnServer } from "./client/_spawn.ts";

/** The child on this runtime: its output, and its exit code once it exits by itself. */
function child(url: string, transports: string[], mode?: "ref" | "v4") {
  const args = "Deno" in globalThis ? ["run", "-A"] : [];
  args.push("tests/client/auto_unref_child.ts", url, JSON.stringify(transports));
  if (mode) args.push(mode);
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout!.on("data", (chunk) => (output += chunk));
  proc.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, exited, output: () => output };
}

describe("autoUnref", () => {
  let server: Running;
  let disconnects = 0;
  before(async () => {
    const io = new Server({ pingInterval: 300, pingTimeout: 200 });
    io.on("connection", (socket) => socket.on("disconnect", () => disconnects++));
    server = await startServer(io);
  });
  after(() => server?.close());

  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    it(`lets a process with only a connected client exit (${transports.join(" + ")})`, async () => {
      const before = disconnects;
      const { exited, output } = child(server.url, transports);
      const code = await deadline(exited, 15000, "the child's exit");
      assert.equal(code, 0, output());
      assert.equal(output().trim(), "connected over " + transports.at(-1));
      // Its connection was alive until the end: the server sees it go only now.
      const left = Date.now() + 3000;
      while (disconnects === before && Date.now() < left) await sleep(20);
      assert.equal(disconnects, before + 1);
    });
  }

  it("lets it exit with protocol: 4 too (a socket.io 2 server; the client's pings are unreferenced)", async () => {
    const v2 = await spawnServer(bin("node"), (port) => ["tests/client/node_server_v2.mjs", String(port)]);
    try {
      const { exited, output } = child(v2.url, ["polling", "websocket"], "v4");
      assert.equal(await deadline(exited, 15000, "the child's exit"), 0, output());
      assert.equal(output().trim(), "connected over websocket");
    } finally {
      await v2.close();
    }
  });

  it("without it, the connected client keeps the process alive", async () => {
    const { proc, exited, output } = child(server.url, ["polling", "websocket"], "ref");
    try {
      const up = Date.now() + 15000;
      while (!output().includes("connected") && Date.now() < up) await sleep(20);
      assert.equal(output().trim(), "connected over websocket");
      await sleep(800);
      assert.equal(proc.exitCode, null, "the process exited: " + output());
    } finally {
      proc.kill();
      await exited;
    }
  });
});
