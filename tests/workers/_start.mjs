// Starts a Worker module in workerd through Miniflare's JS API (Node only), for tests and the
// fixture: bundles ENTRY with esbuild, listens on 127.0.0.1:PORT (0 picks one) and prints
// `listening on http://127.0.0.1:PORT`; stops on SIGTERM/SIGINT (and when stdin closes, with
// WORKERD_STOP_ON_STDIN=1, so a parent that dies does not leave workerd behind).
//
//   node tests/workers/_start.mjs ENTRY PORT [BINDING=ClassName ...] [--var NAME=VALUE ...]
//
// Every BINDING becomes a SQLite-backed Durable Object namespace of the class exported as ClassName;
// every `--var NAME=VALUE` (or `--var=NAME=VALUE`) a text binding (`env.NAME`).
// WORKERD_INSPECTOR=1 opens workerd's inspector (Chrome DevTools Protocol) on a free port of
// 127.0.0.1 and prints `inspector on 127.0.0.1:PORT` first; WORKERD_VERBOSE=1 makes workerd log
// uncaught exceptions (`uncaught exception; source = Uncaught ...`) on stderr.
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

const [entry, portArg = "0", ...bindingArgs] = process.argv.slice(2);
if (!entry) {
  console.error("usage: _start.mjs ENTRY PORT [BINDING=ClassName ...]");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "sio-workerd-"));
const outfile = join(dir, "worker.js");
await build({
  entryPoints: [resolve(entry)],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  outfile,
  logLevel: "error",
});

const durableObjects = {};
const bindings = {};
for (let i = 0; i < bindingArgs.length; i++) {
  if (bindingArgs[i] === "--var" || bindingArgs[i].startsWith("--var=")) {
    const arg = bindingArgs[i] === "--var" ? bindingArgs[++i] ?? "" : bindingArgs[i].slice("--var=".length);
    const [name, ...value] = arg.split("=");
    bindings[name] = value.join("=");
    continue;
  }
  const [binding, className] = bindingArgs[i].split("=");
  durableObjects[binding] = { className, useSQLite: true };
}

/** A port that was free a moment ago (workerd does not tell which one it picked for port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}
const inspectorPort = process.env.WORKERD_INSPECTOR === "1" ? await freePort() : undefined;

const mf = new Miniflare({
  modules: true,
  scriptPath: outfile,
  modulesRoot: dir,
  cf: false,
  compatibilityDate: "2026-04-07",
  durableObjects,
  bindings,
  durableObjectsPersist: false,
  host: "127.0.0.1",
  port: Number(portArg),
  log: new Log(process.env.WORKERD_LOG ? LogLevel.DEBUG : LogLevel.WARN),
  verbose: process.env.WORKERD_VERBOSE === "1",
  inspectorPort,
});
const url = await mf.ready;
if (inspectorPort !== undefined) console.log(`inspector on 127.0.0.1:${inspectorPort}`);
console.log(`listening on ${url.origin}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (process.env.WORKERD_STOP_ON_STDIN === "1") {
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}
