// python-socketio's Kombu manager format over AMQP, with a real RabbitMQ the test starts (on free
// ports, its data in a temporary folder): Debian's python-socketio Server on KombuManager and our
// AsyncServer on AsyncAmqpManager share clients: broadcasts both ways (binary included), a Python
// write-only KombuManager and ours, callbacks across, a disconnect by sid from the Python side.
// The broker takes seconds to boot: this file runs in the Deno group only (tests/run_all.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import amqp from "amqplib";
import { AsyncServer, tuple } from "../src/python/mod.ts";
import { AsyncAmqpManager } from "../src/python/amqp_manager.ts";
import { type Running, startServer } from "./_server.ts";
import { ROOT, type ServerProcess, spawnServer } from "./client/_spawn.ts";
import { client, type ClientSocket, connected, next } from "./adapters/_cluster.ts";
import { freePort } from "./adapters/_redis.ts";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const RABBITMQ = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const HAS_AMQP = existsSync(RABBITMQ) &&
  spawnSync(PYTHON, ["-c", "import socketio, kombu"], { stdio: "ignore" }).status === 0;

interface Broker {
  url: string;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

/** RabbitMQ on free ports of 127.0.0.1, with its own epmd, data and cookie in a temporary folder. */
async function startBroker(): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), "sio-rabbitmq-"));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  const env = {
    ...process.env,
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODENAME: `sio${port}@localhost`,
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
  };
  const epmd = spawn("epmd", ["-port", String(epmdPort)], { stdio: "ignore" });
  // its own process group: the script, the Erlang VM and its helpers stop together
  const broker = spawn(RABBITMQ, [], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const stop = async () => {
    try {
      process.kill(-broker.pid!, "SIGKILL");
    } catch {
      // gone already
    }
    await exited(broker);
    broker.stdout!.destroy();
    broker.stderr!.destroy();
    epmd.kill("SIGKILL");
    await exited(epmd);
    rmSync(dir, { recursive: true, force: true });
  };
  let output = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`RabbitMQ did not start in 60 s:\n${output}`)), 60000);
      broker.stdout!.on("data", (chunk) => {
        output += String(chunk);
        if (/Starting broker\.\.\. completed|Server startup complete/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      broker.stderr!.on("data", (chunk) => (output += String(chunk)));
      broker.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`RabbitMQ exited (${code}):\n${output}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, stop };
}

function bytesOf(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  throw new Error(`not binary: ${JSON.stringify(value)}`);
}

describe("python-socketio cluster over AMQP (Kombu)", { skip: !HAS_AMQP }, () => {
  let broker: Broker;
  let python: ServerProcess;
  // deno-lint-ignore no-explicit-any
  let connection: any;
  let ours: Running;
  let a: ClientSocket, b: ClientSocket;
  const logs: string[] = [];

  before(async () => {
    broker = await startBroker();
    python = await spawnServer(PYTHON, (port) => [`${ROOT}tests/python/amqp_server.py`, String(port), broker.url]);
    connection = await amqp.connect(broker.url);
    const manager = new AsyncAmqpManager(connection, { format: "legacy", logger: (line) => logs.push(line) });
    const sio = new AsyncServer({ clientManager: manager, pingInterval: 300, pingTimeout: 200 });
    sio.on("broadcast", (_sid: string, ...args: unknown[]) => sio.emit("broadcast-back", tuple(...args)));
    sio.on("ask", (_sid: string, target: string, q: string) => sio.call("question", q, { to: target, timeout: 5000 }));
    ours = await startServer(sio.io);
    a = client(python.url, {}, { transports: ["polling"] }); // wsgiref: no WebSocket
    b = client(ours.url);
    await Promise.all([connected(a), connected(b)]);
    for (const s of [a, b]) s.on("question", (q: string, answer: (v: string) => void) => answer(`${q}!`));
    // both servers bound their queues once a broadcast goes round
    const end = Date.now() + 10000;
    while (true) {
      const got = Promise.all([next(a, "broadcast-back", 500), next(b, "broadcast-back", 500)]);
      b.emit("broadcast", "warm-up");
      try {
        await got;
        break;
      } catch (err) {
        if (Date.now() > end) throw err;
      }
    }
  });

  after(async () => {
    a?.disconnect();
    b?.disconnect();
    await ours?.close();
    await python?.close();
    await connection?.close().catch(() => {});
    await broker?.stop();
  });

  it("broadcasts both ways, binary included", async () => {
    for (const [name, from] of [["python", a], ["ours", b]] as const) {
      const got = [a, b].map((s) => next(s, "broadcast-back"));
      from.emit("broadcast", `from ${name}`, new Uint8Array([5, 6]));
      for (const [text, bytes] of await Promise.all(got)) {
        assert.equal(text, `from ${name}`);
        assert.deepEqual(bytesOf(bytes), [5, 6]);
      }
    }
  });

  it("a Python write-only KombuManager and ours as one reach both servers' clients", async () => {
    const got = [a, b].map((s) => next(s, "external"));
    await new Promise<void>((resolve, reject) =>
      execFile(
        PYTHON,
        [`${ROOT}tests/python/amqp_write_only.py`, broker.url],
        { timeout: 20000 },
        (err, _o, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
      )
    );
    for (const [text, bytes] of await Promise.all(got)) assert.deepEqual([text, bytesOf(bytes)], ["from kombu", [7]]);
    const writer = await amqp.connect(broker.url);
    try {
      const external = new AsyncAmqpManager(writer, { writeOnly: true, format: "legacy" });
      const got2 = [a, b].map((s) => next(s, "external"));
      await external.emit("external", { from: "ours" });
      for (const args of await Promise.all(got2)) assert.deepEqual(args, [{ from: "ours" }]);
      await external.close();
    } finally {
      await writer.close();
    }
  });

  it("callbacks across servers", async () => {
    assert.equal(await a.timeout(5000).emitWithAck("ask", b.id, "py asks"), "py asks!");
    assert.equal(await b.timeout(5000).emitWithAck("ask", a.id, "we ask"), "we ask!");
  });

  it("a disconnect by sid from the Python side reaches our client; nothing was refused", async () => {
    const gone = next(b, "disconnect");
    assert.equal(await a.timeout(5000).emitWithAck("kick", b.id), true);
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(logs, []);
  });
});
