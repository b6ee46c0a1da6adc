/**
 * The npm package: builds it (scripts/build_npm.ts) into a temporary folder, packs it with `npm pack`, installs
 * the tarball in an empty folder (offline, from npm's cache, which `npm install` of this repo
 * filled) and uses it from Node and from Bun: a server (`io.listen`, with no other import) and
 * the client, JSON and msgpack, polling, WebSocket and upgrade, plus the served browser bundle.
 * Under `node --test` it also type-checks a small typed program against the package's `.d.ts`
 * (with `skipLibCheck: false`, so the declarations themselves are checked).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isNode = !g.Deno && !g.Bun;

const ROUND_TRIP = `
import { Server } from "@sio/socket.io/server";
import { io } from "@sio/socket.io/client";
import { msgpackParser } from "@sio/socket.io/msgpack";
import * as root from "@sio/socket.io";
import "@sio/socket.io/workers";
import "@sio/socket.io/hono";
import { instrument } from "@sio/socket.io/admin";

const results = [];
for (const parser of [undefined, msgpackParser]) {
  const server = new Server({ parser });
  const admin = instrument(server, { auth: false, mode: "production" });
  server.on("connection", (socket) => socket.on("echo", (v, ack) => ack(v)));
  server.listen(0);
  await new Promise((resolve) => server.httpServer.once("listening", resolve));
  const { port } = server.httpServer.address();
  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    const socket = io("http://127.0.0.1:" + port, { forceNew: true, reconnection: false, transports, parser });
    const reply = await socket.timeout(3000).emitWithAck("echo", { n: 1, bytes: new Uint8Array([1, 2]) });
    results.push((parser ? "msgpack" : "json") + "/" + transports.join("+") + ":" + reply.n + ":" + new Uint8Array(reply.bytes).join(","));
    socket.disconnect();
  }
  const bundle = await fetch("http://127.0.0.1:" + port + "/socket.io/socket.io.min.js");
  results.push("bundle:" + bundle.status);
  await bundle.arrayBuffer();
  const map = await fetch("http://127.0.0.1:" + port + "/socket.io/socket.io.msgpack.min.js.map");
  results.push("map:" + map.status + ":" + (await map.json()).sources.includes("src/parser/msgpack.ts"));
  admin.close();
  await server.close();
}
results.push("root:" + typeof root.Server + "/" + typeof root.io);
results.push("node:" + typeof (await import("@sio/socket.io/node")).stopNodeServer);
console.log(JSON.stringify(results));
process.exit(0);
`;

const EXPECTED = [
  "json/polling:1:1,2",
  "json/websocket:1:1,2",
  "json/polling+websocket:1:1,2",
  "bundle:200",
  "map:200:true",
  "msgpack/polling:1:1,2",
  "msgpack/websocket:1:1,2",
  "msgpack/polling+websocket:1:1,2",
  "bundle:200",
  "map:200:true",
  "root:function/function",
  "node:function",
];

// socket.io's CommonJS forms: the module is a function that makes a server on an HTTP server.
const REQUIRE_APP = `
const { createServer } = require("node:http");
const http = createServer((_req, res) => res.end("the app"));
const io = require("@sio/socket.io/server")(http, { pingInterval: 1234 });
const { Server } = require("@sio/socket.io/server");
const root = require("@sio/socket.io");
const { io: connect } = require("@sio/socket.io/client");
io.on("connection", (socket) => socket.on("echo", (v, ack) => ack(v)));
http.listen(0, "127.0.0.1", async () => {
  const url = "http://127.0.0.1:" + http.address().port;
  const socket = connect(url, { forceNew: true, reconnection: false });
  const reply = await socket.timeout(3000).emitWithAck("echo", "hi");
  socket.disconnect();
  const open = await (await fetch(url + "/socket.io/?EIO=4&transport=polling")).text();
  const sid = JSON.parse(open.slice(1)).sid;
  await (await fetch(url + "/socket.io/?EIO=4&transport=polling&sid=" + sid, { method: "POST", body: "1" })).text();
  const app = await (await fetch(url + "/")).text();
  const fromRoot = root() instanceof root.Server;
  console.log(JSON.stringify([io instanceof Server, reply, JSON.parse(open.slice(1)).pingInterval, app, fromRoot]));
  io.close(() => process.exit(0));
});
`;

const TYPED_APP = `
import { Server } from "@sio/socket.io/server";
import { io } from "@sio/socket.io/client";
import { msgpackParser } from "@sio/socket.io/msgpack";

interface ClientToServer { echo: (value: number, ack: (reply: number) => void) => void }
interface ServerToClient { news: (title: string) => void }
const server = new Server<ClientToServer, ServerToClient>({ parser: msgpackParser });
server.on("connection", (socket) => {
  socket.on("echo", (value, ack) => ack(value + 1));
  socket.emit("news", "hello");
  // @ts-expect-error: the typed events reach the user (were the declarations "any", this would fail)
  socket.emit("news", 42);
});
const handler: (request: Request) => Promise<Response> = server.handler();
const socket = io<ServerToClient, ClientToServer>("http://127.0.0.1:1", { parser: msgpackParser });
socket.on("news", (title: string) => title.toUpperCase());
const reply: number = await socket.timeout(10).emitWithAck("echo", 1);
export { handler, reply };
`;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
}

describe("npm package (scripts/build_npm.ts)", () => {
  let dir: string;
  let app: string;

  before(async () => {
    const { buildNpm } = await import("../scripts/build_npm.ts");
    // Into a directory of its own: the suite may build the package on several runtimes at once.
    dir = mkdtempSync(join(tmpdir(), "sio-npm-"));
    await buildNpm({ quiet: true, writeModule: false, outDir: join(dir, "npm") });
    run("npm", ["pack", join(dir, "npm"), "--pack-destination", dir, "--silent"], dir);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote no tarball");
    app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    const install = ["install", join(dir, tarball), "--no-audit", "--no-fund", "--loglevel=error"];
    try {
      run("npm", [...install, "--offline"], app);
    } catch {
      // Not everything in npm's cache yet (a fresh machine): let npm fetch what it misses.
      run("npm", [...install, "--prefer-offline"], app);
    }
    writeFileSync(join(app, "roundtrip.mjs"), ROUND_TRIP);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has package.json exports for every export path of deno.json, with types", () => {
    const pkg = JSON.parse(readFileSync(join(app, "node_modules/@sio/socket.io/package.json"), "utf8"));
    const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
    for (const path of Object.keys(deno.exports)) {
      const entry = pkg.exports[path];
      assert.ok(entry, `no export ${path}`);
      assert.ok(existsSync(join(app, "node_modules/@sio/socket.io", entry.import)), `${path}: ${entry.import}`);
      assert.ok(existsSync(join(app, "node_modules/@sio/socket.io", entry.types)), `${path}: ${entry.types}`);
    }
    assert.equal(pkg.type, "module");
    assert.ok(pkg.dependencies.ws);
    assert.ok(pkg.dependencies.bcryptjs);
    assert.ok(pkg.dependencies["@msgpack/msgpack"]);
    assert.equal(pkg.peerDependenciesMeta.hono.optional, true);
  });

  it("round trip from Node (server and client, JSON and msgpack, every transport)", () => {
    const out = run(join(ROOT, "node_modules/.bin/node"), ["roundtrip.mjs"], app);
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), EXPECTED);
  });

  it("CommonJS: require(...)(httpServer, opts) as socket.io's module, from Node and Bun", () => {
    writeFileSync(join(app, "require.cjs"), REQUIRE_APP);
    for (const runtime of ["node", "bun"]) {
      const out = run(join(ROOT, "node_modules/.bin", runtime), ["require.cjs"], app);
      assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), [true, "hi", 1234, "the app", true], runtime);
    }
  });

  it("round trip from Bun", () => {
    const out = run(join(ROOT, "node_modules/.bin/bun"), ["roundtrip.mjs"], app);
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), EXPECTED);
  });

  // Node only (where tsc runs best); other runtimes define no test here.
  if (isNode) {
    it("its declarations type-check a typed program (tsc, skipLibCheck off)", () => {
      writeFileSync(join(app, "app.ts"), TYPED_APP);
      writeFileSync(
        join(app, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "es2022",
            module: "nodenext",
            moduleResolution: "nodenext",
            strict: true,
            noEmit: true,
            // esnext.disposable: SimpleClient is AsyncDisposable (`await using`, TypeScript 5.2+)
            lib: ["es2023", "esnext.disposable", "dom"],
            types: [],
            skipLibCheck: false,
          },
          files: ["app.ts"],
        }),
      );
      try {
        run(join(ROOT, "node_modules/.bin/node"), [
          join(ROOT, "node_modules/typescript/bin/tsc"),
          "-p",
          "tsconfig.json",
        ], app);
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        assert.fail(`tsc failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
      }
    });
  }
});
