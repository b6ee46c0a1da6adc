/**
 * socket.io apps run unchanged on ours: each program in `programs/` is written the way socket.io's
 * and socket.io-client's documentation writes it (the Get Started chat, express-session and
 * Passport, helmet through `io.engine.use`, `new Server(port)`, CommonJS `require`, the msgpack
 * parser, the Redis sharded adapter, a client script that exits thanks to `autoUnref`). Each runs
 * on Node twice, the same file: against npm's socket.io / socket.io-client / @socket.io/redis-adapter,
 * and with those imports resolved to ours (`_alias.mjs`); both runs must print the expected result
 * (the reference run shows the expectation is socket.io's) and exit by themselves.
 *
 * Node runs the programs whatever runs this file, so it runs once, under deno test.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { cjsEntry } from "../../scripts/build_npm.ts";
import { serve, Server } from "../../server.ts";
import { HAS_REDIS, type RedisServer, startRedis } from "../adapters/_redis.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const onDeno = !!(globalThis as { Deno?: unknown }).Deno && !(globalThis as { Bun?: unknown }).Bun;

type Target = "ours" | "reference";

interface Program {
  /** The file in `programs/`. */
  file: string;
  /** What it prints (its last line, JSON), on socket.io and on ours. */
  expected: unknown;
  /** What the harness provides besides a port: Redis, or a server for a client-only script. */
  needs?: "redis" | "server";
}

const PROGRAMS: Program[] = [
  { file: "chat.mjs", expected: { page: "<h1>Hello world</h1>", toAlice: "hello", toBob: "hello" } },
  {
    file: "passport.mjs",
    expected: {
      login: 302,
      polling: ["john", 1],
      inRoom: 1,
      websocket: ["john", 2],
      "polling+websocket": ["john", 3],
      anonymous: "refused",
    },
  },
  {
    file: "helmet.mjs",
    expected: {
      status: 200,
      headers: {
        "x-content-type-options": "nosniff",
        "x-frame-options": "SAMEORIGIN",
        "strict-transport-security": "max-age=31536000; includeSubDomains",
        "x-dns-prefetch-control": "off",
      },
      reply: "world",
    },
  },
  { file: "server_port.mjs", expected: { hello: "world", closeError: null, port: "free" } },
  { file: "require.cjs", expected: { isServer: true, reply: "pong" } },
  {
    file: "msgpack.mjs",
    expected: {
      text: "hé",
      n: 42,
      buffer: [1, 2, 3],
      arrayBuffer: [4, 5],
      date: "1970-01-01T00:00:00.000Z",
      serverGot: ["Uint8Array (Buffer)", "ArrayBuffer"],
    },
  },
  { file: "redis_sharded.mjs", needs: "redis", expected: { heard: [["hello", "first"], ["hello", "first"]] } },
  { file: "auto_unref.mjs", needs: "server", expected: { connected: true, id: "string" } },
];

/** `count` distinct TCP ports nobody listens on now (held together while they are picked). */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(servers.map((server) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, () => resolve((server.address() as { port: number }).port));
    })
  ));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Runs a program on Node for `target` with its ports; resolves with what its last line says once
 * it exited by itself with code 0 (fails after 15 s, with its output).
 */
async function run(
  file: string,
  target: Target,
  env: Record<string, string>,
  [port, port2]: number[],
): Promise<unknown> {
  const child = spawn(NODE, [
    "--import",
    join(ROOT, "tests/compat/_alias.mjs"),
    join(ROOT, "tests/compat/programs", file),
  ], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, COMPAT_TARGET: target, PORT: String(port), PORT2: String(port2), NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => stdout += String(chunk));
  child.stderr!.on("data", (chunk) => stderr += String(chunk));
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      process.kill(child.pid!, "SIGKILL");
      resolve("did not exit within 15 s");
    }, 15000);
    child.once("exit", (exitCode, signal) => {
      clearTimeout(timer);
      resolve(exitCode ?? String(signal));
    });
  });
  const last = stdout.trim().split("\n").pop() ?? "";
  assert.equal(code, 0, `${file} on ${target}: ${code}\n${stdout}${stderr}`);
  try {
    return JSON.parse(last);
  } catch {
    assert.fail(`${file} on ${target} printed no result:\n${stdout}${stderr}`);
  }
}

if (onDeno) {
  describe("socket.io programs, unchanged, on ours and on socket.io (Node)", () => {
    let shims: string;
    let redis: RedisServer | undefined;
    let server: Server | undefined;
    let serverUrl = "";

    before(async () => {
      // socket.io's entries as the npm package makes them (an ES module, and a CommonJS function).
      shims = mkdtempSync(join(tmpdir(), "sio-compat-"));
      writeFileSync(join(shims, "socket.io.mjs"), `export * from ${JSON.stringify(join(ROOT, "server.ts"))};\n`);
      writeFileSync(join(shims, "socket.io.cjs"), cjsEntry(join(ROOT, "server.ts")));
      if (HAS_REDIS) redis = await startRedis();
      server = new Server();
      const { port } = await serve(server, { port: 0, hostname: "127.0.0.1" });
      serverUrl = `http://127.0.0.1:${port}`;
    });

    after(async () => {
      await server?.close();
      await redis?.stop();
      if (shims) rmSync(shims, { recursive: true, force: true });
    });

    for (const program of PROGRAMS) {
      it(program.file, async (t) => {
        if (program.needs === "redis" && !redis) return t.skip("no redis-server");
        const env: Record<string, string> = { COMPAT_SHIMS: shims };
        if (redis) env.REDIS_URL = redis.url;
        if (program.needs === "server") env.URL = serverUrl;
        const ports = await freePorts(4);
        // Side by side, except on Redis: two clusters on one Redis share its channels, and each
        // would hear the other's broadcasts (a program's "heard" from the other program's server).
        const [reference, ours] = program.needs === "redis"
          ? [
            await run(program.file, "reference", env, ports.slice(0, 2)),
            await run(program.file, "ours", env, ports.slice(2)),
          ]
          : await Promise.all([
            run(program.file, "reference", env, ports.slice(0, 2)),
            run(program.file, "ours", env, ports.slice(2)),
          ]);
        assert.deepEqual(reference, program.expected, "socket.io");
        assert.deepEqual(ours, program.expected, "ours");
      });
    }
  });
}
