/**
 * What the fuzzer and the leak tests attack: a {@linkcode Target} is a running server reached
 * over the network, plus the few questions a run asks about its inside (counters, what it logged,
 * its live timers, its heap). {@linkcode startTarget} runs our `Server` in this process, served on
 * 127.0.0.1 by `tests/_server.ts` on the current runtime, with the handlers of `_handlers.ts`;
 * `tests/workers/_fuzz_target.ts` runs the same handlers in workerd, inside a Durable Object.
 *
 * @module
 */

import process from "node:process";
import { Server, type ServerOptions } from "../../src/io/server.ts";
import { type Running, startServer } from "../_server.ts";
import { heapUsed, trackTimers } from "../leaks/_probe.ts";
import { type Guard, type GuardReport, startGuard } from "./_guard.ts";
import {
  type Counts,
  counts,
  type EngineTimings,
  engineTimings,
  FUZZ_SERVER_OPTIONS,
  setupFuzzServer,
  STATIC_NAMESPACES,
} from "./_handlers.ts";

export type { Counts, EngineTimings } from "./_handlers.ts";

/** Live timers of the server: how many, and where they were armed. */
export interface TimerReport {
  live: number;
  where: Record<string, number>;
}

/** A running target. */
export interface Target {
  /** Where the server runs, for reports ("deno 2.x, in process", "workerd, Durable Object ..."). */
  name: string;
  /** `http://127.0.0.1:PORT/socket.io/` */
  httpBase: string;
  /** `ws://127.0.0.1:PORT/socket.io/` */
  wsBase: string;
  /** The TCP port (raw HTTP inputs go there). */
  port: number;
  /** Namespaces the target knows (static ones). */
  namespaces: string[];
  /** The server's engine timings. */
  engine: EngineTimings;
  /** The server's counters now. */
  counts(): Promise<Counts>;
  /** What the server side saw so far: unhandled rejections, uncaught exceptions, error logs. */
  report(): Promise<GuardReport>;
  /** The server's live timers; `null` if this target was started without tracking them. */
  timers(): Promise<TimerReport | null>;
  /** The server's heap in use after a forced collection, in bytes. */
  heapUsed(): Promise<number>;
  /** The resident set size of the server's process, in bytes (informative). */
  rss(): Promise<number>;
  /** Stops the server; returns what the server side saw, to the end. */
  close(): Promise<GuardReport>;
}

/** Starts a target (the kind a run attacks is the caller's choice). */
export type TargetFactory = () => Promise<Target>;

/** The runtime running this code. */
export function runtimeName(): string {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${g.process?.versions?.node}`;
}

/** What an in-process target watches besides its counters. */
export interface WatchOptions {
  /**
   * Watch the process (unhandled rejections, uncaught exceptions, console.error) from before the
   * server exists until it is closed (default false: `report()` then throws).
   */
  guard?: boolean;
  /** Keep captured console.error lines off the terminal (they are still reported). */
  quiet?: boolean;
  /** Count the live timers armed by src/ (default false: `timers()` is `null`). */
  timers?: boolean;
}

/** A target in this process: the `Server` and the HTTP server are at hand too. */
export interface InProcessTarget extends Target {
  io: Server;
  server: Running;
}

/** Starts the target in this process with `options` on top of {@linkcode FUZZ_SERVER_OPTIONS}. */
export async function startTarget(options: ServerOptions = {}, watch: WatchOptions = {}): Promise<InProcessTarget> {
  const timers = watch.timers ? trackTimers() : undefined;
  const guard: Guard | undefined = watch.guard ? startGuard({ quiet: watch.quiet }) : undefined;
  const stopWatching = () => {
    timers?.stop();
    guard?.stop();
  };
  let io: Server;
  let server: Running;
  try {
    io = new Server({ ...FUZZ_SERVER_OPTIONS, ...options });
    setupFuzzServer(io);
    server = await startServer(io);
  } catch (err) {
    stopWatching();
    throw err;
  }
  const report = (): GuardReport => {
    if (!guard) throw new Error("This target was started without a guard");
    return guard.report();
  };
  return {
    name: `${runtimeName()}, in process`,
    io,
    server,
    httpBase: `${server.url}/socket.io/`,
    wsBase: `${server.wsUrl}/socket.io/`,
    port: server.port,
    namespaces: [...STATIC_NAMESPACES],
    engine: engineTimings(io),
    counts: () => Promise.resolve(counts(io)),
    report: () => Promise.resolve().then(report),
    timers: () => Promise.resolve(timers ? { live: timers.live(), where: timers.where() } : null),
    heapUsed,
    rss: () => Promise.resolve(process.memoryUsage().rss),
    async close() {
      try {
        await server.close();
      } finally {
        stopWatching();
      }
      return guard
        ? guard.report()
        : { unhandledRejections: [], uncaughtExceptions: [], errorLogs: [], errorLogCount: 0 };
    },
  };
}
