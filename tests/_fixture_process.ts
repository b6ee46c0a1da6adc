/**
 * Starts the protocol fixture server in a child process for a test file.
 *
 * `FIXTURE=deno` (default) runs ours (`deno run -A tests/fixture/launch.ts deno PORT`);
 * `FIXTURE=reference` runs the real npm socket.io (`node tests/fixture/reference.mjs PORT`);
 * `FIXTURE=workerd-shards` the fixture in workerd spread over 4 Durable Objects (`--shards 4`).
 * `FIXTURE_URL=http://127.0.0.1:PORT` uses a fixture already running there instead (for debugging:
 * run the fixture in one terminal, the tests in another; `close()` then leaves it running).
 * `FIXTURE_LOG=1` copies the fixture's output to stderr.
 * Only node: built-ins are used, so the helper works under deno test, bun test and node --test.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** A running fixture server. */
export interface Fixture {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT` */
  wsUrl: string;
  /** The port it listens on. */
  port: number;
  /** Which server runs: `reference` or a runtime name (`deno`). */
  kind: string;
  /** Stops it (SIGTERM, then SIGKILL after a grace period) and waits for the exit. */
  close(): Promise<void>;
}

/** The repository's root directory. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

function bin(name: string): string {
  const local = `${ROOT}node_modules/.bin/${name}`;
  return existsSync(local) ? local : name;
}

/** Which fixture the tests run against: `reference` or a runtime name. */
export const FIXTURE_KIND: string = process.env.FIXTURE ?? "deno";

/** Whether the tests run against the real npm socket.io (the oracle). */
export const IS_REFERENCE: boolean = FIXTURE_KIND === "reference";

function command(kind: string, port: number, flags: readonly string[]): [string, string[]] {
  if (kind === "reference") {
    return [bin("node"), [`${ROOT}tests/fixture/reference.mjs`, String(port), ...flags]];
  }
  if (kind === "deno") {
    // Deno's coming request.signal behaviour here (the in-process servers of the deno group have
    // the legacy one): a held poll must see a client leave with both.
    return [bin("deno"), [
      "run",
      "-A",
      "--unstable-no-legacy-abort",
      `${ROOT}tests/fixture/launch.ts`,
      "deno",
      String(port),
      ...flags,
    ]];
  }
  if (kind === "bun") return [bin("bun"), ["run", `${ROOT}tests/fixture/serve.ts`, String(port), ...flags]];
  if (kind === "node") return [bin("node"), [`${ROOT}tests/fixture/serve.ts`, String(port), ...flags]];
  if (kind === "node22") {
    // Node 22 LTS, installed by tests/run_all.ts (group node22) into .cache/node22.
    return [`${ROOT}.cache/node22/node_modules/node/bin/node`, [
      `${ROOT}tests/fixture/serve.ts`,
      String(port),
      ...flags,
    ]];
  }
  // The heartbeat flags become the Worker's bindings PING_INTERVAL and PING_TIMEOUT.
  const vars: string[] = [];
  for (const [flag, name] of [["--ping-interval", "PING_INTERVAL"], ["--ping-timeout", "PING_TIMEOUT"]]) {
    const i = flags.indexOf(flag);
    if (i >= 0 && flags[i + 1] !== undefined) vars.push(`--var=${name}=${flags[i + 1]}`);
  }
  if (kind === "workerd") {
    return [bin("node"), [
      `${ROOT}tests/workers/_start.mjs`,
      `${ROOT}tests/fixture/workers_fixture.ts`,
      String(port),
      flags.includes("--allow-eio3") ? "FIXTURE=FixtureEio3Object" : "FIXTURE=FixtureObject",
      ...vars,
    ]];
  }
  if (kind === "workerd-shards") {
    return [bin("node"), [
      `${ROOT}tests/workers/_start.mjs`,
      `${ROOT}tests/fixture/workers_fixture.ts`,
      String(port),
      flags.includes("--allow-eio3") ? "FIXTURE=FixtureShardedEio3Object" : "FIXTURE=FixtureShardedObject",
      "--var",
      "FIXTURE_SHARDS=4",
      ...vars,
    ]];
  }
  throw new Error(
    `Unknown FIXTURE ${JSON.stringify(kind)}: use "reference", "deno", "bun", "node", "workerd" or "workerd-shards"`,
  );
}

/** Lines every fixture prints that say nothing about the tests. */
const QUIET = [
  /^listening on /,
  // Deno warns once that it reads request.signal (a held poll watches it for the client leaving).
  /^Deno\.serve: request\.signal aborts on successful responses/,
];

/**
 * Starts the fixture on `port` (0, the default, lets the server pick a free one; the port it
 * chose is read from its `listening on http://127.0.0.1:PORT` line); `flags` are the fixture's
 * (`--allow-eio3`, `--ping-interval MS --ping-timeout MS`).
 */
export function startFixture(
  options: { port?: number; kind?: string; timeoutMs?: number; flags?: readonly string[] } = {},
): Promise<Fixture> {
  const kind = options.kind ?? FIXTURE_KIND;
  const external = process.env.FIXTURE_URL;
  if (external && options.port === undefined) {
    const url = external.replace(/\/+$/, "");
    const port = Number(new URL(url).port);
    return Promise.resolve({
      url,
      wsUrl: url.replace(/^http/, "ws"),
      port,
      kind: `external ${kind}`,
      close: () => Promise.resolve(),
    });
  }
  const [cmd, args] = command(kind, options.port ?? 0, options.flags ?? []);
  const child: ChildProcess = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  return new Promise<Fixture>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      fail(new Error(`Fixture ${kind} did not print "listening" within ${options.timeoutMs ?? 15000} ms:\n${output}`));
    }, options.timeoutMs ?? 15000);
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    }
    child.once("error", (err) => fail(err));
    child.once("exit", (code, signal) => {
      fail(new Error(`Fixture ${kind} exited early (code ${code}, signal ${signal}):\n${output}`));
    });
    child.stderr!.on("data", (chunk) => {
      output += String(chunk);
      if (process.env.FIXTURE_LOG) process.stderr.write(chunk);
    });
    child.stdout!.on("data", (chunk) => {
      output += String(chunk);
      if (process.env.FIXTURE_LOG) process.stderr.write(chunk);
      if (settled) return;
      const match = /listening\b.*?:(\d+)/.exec(output);
      if (!match) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({
        url: `http://127.0.0.1:${port}`,
        wsUrl: `ws://127.0.0.1:${port}`,
        port,
        kind,
        async close() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const grace = setTimeout(() => child.kill("SIGKILL"), 2000);
            await exited;
            clearTimeout(grace);
          }
          child.stdout?.destroy();
          child.stderr?.destroy();
          // What the server logged (an error in a handler, a heartbeat alarm that failed) explains
          // a failure on the client's side: shown after the file's tests, unless it said nothing.
          const said = output.split("\n").filter((line) => line.trim() !== "" && !QUIET.some((q) => q.test(line)));
          if (said.length > 0 && !process.env.FIXTURE_LOG) {
            process.stderr.write(
              `--- the ${kind} fixture logged ---\n${said.join("\n")}\n--- end of the fixture's log ---\n`,
            );
          }
        },
      });
    });
  });
}
