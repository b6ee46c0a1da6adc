/**
 * Starts a scenario server in a child process (Node socket.io, python-socketio, our server on Deno)
 * and restarts it on the same port. Only node: built-ins: works under deno test, bun test and
 * node --test.
 *
 * @module
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** A local tool from node_modules/.bin, or the one on PATH. */
export function bin(name: string): string {
  const local = `${ROOT}node_modules/.bin/${name}`;
  return existsSync(local) ? local : name;
}

/** A running server process. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The port (kept across restarts). */
  port: number;
  /** Stops it: SIGTERM by default, SIGKILL to simulate a crash. */
  close(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Kills it and starts it again on the same port. */
  restart(delayMs?: number): Promise<void>;
}

function start(
  cmd: string,
  args: (port: number) => string[],
  port: number,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(cmd, args(port), {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let output = "";
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => done(new Error(`${cmd} did not start in 20 s:\n${output}`)), 20000);
    function done(err?: Error, found?: number) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill("SIGKILL");
        reject(err);
      } else resolve({ child, port: found! });
    }
    child.once("error", (err) => done(err));
    child.once("exit", (code) => done(new Error(`${cmd} exited early (${code}):\n${output}`)));
    const onData = (chunk: unknown) => {
      output += String(chunk);
      if (process.env.SERVER_LOG) process.stderr.write(String(chunk));
      const match = /listening\b.*?:(\d+)/.exec(output);
      if (match) done(undefined, Number(match[1]));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk) => {
      output += String(chunk);
      if (process.env.SERVER_LOG) process.stderr.write(String(chunk));
    });
  });
}

async function stop(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    const grace = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(grace);
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/**
 * Spawns `cmd args(port)` and waits for its `listening on http://127.0.0.1:PORT` line.
 *
 * @example
 * ```ts
 * const server = await spawnServer(bin("node"), (port) => ["tests/client/node_server.mjs", String(port)]);
 * await server.close();
 * ```
 */
export async function spawnServer(cmd: string, args: (port: number) => string[]): Promise<ServerProcess> {
  let { child, port } = await start(cmd, args, 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: (signal = "SIGTERM") => stop(child, signal),
    async restart(delayMs = 0) {
      await stop(child, "SIGKILL");
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      for (let i = 0;; i++) {
        try {
          ({ child } = await start(cmd, args, port));
          return;
        } catch (err) {
          // The port may linger for a moment after the kill.
          if (i >= 20) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}
