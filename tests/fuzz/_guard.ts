/**
 * Watches the process while a fuzz or leak run goes on: unhandled rejections, uncaught exceptions,
 * and what the server logs through `console.error` (the io layer reports errors it caught there,
 * as `[socket.io] error in ...`). Works on Deno, Bun and Node through `node:process`.
 *
 * @module
 */

import process from "node:process";

/** What the guard saw. */
export interface GuardReport {
  unhandledRejections: string[];
  uncaughtExceptions: string[];
  /** Lines logged with console.error (first 200 characters of each, at most 50 kept). */
  errorLogs: string[];
  /** How many console.error calls there were in all. */
  errorLogCount: number;
  /** What the server side saw that is not a fault, worth a line in a summary. */
  notes?: string[];
}

/** A running guard. */
export interface Guard {
  report(): GuardReport;
  /** Removes the handlers and restores console.error. */
  stop(): GuardReport;
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}`.slice(0, 2000);
  try {
    return String(value).slice(0, 2000);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Starts watching. `quiet` keeps captured console.error lines off the terminal (they are still
 * counted and kept in the report).
 */
export function startGuard(options: { quiet?: boolean } = {}): Guard {
  const report: GuardReport = { unhandledRejections: [], uncaughtExceptions: [], errorLogs: [], errorLogCount: 0 };
  const onRejection = (reason: unknown) => {
    report.unhandledRejections.push(describe(reason));
  };
  const onException = (err: unknown) => {
    report.uncaughtExceptions.push(describe(err));
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  const original = console.error;
  console.error = (...args: unknown[]) => {
    report.errorLogCount++;
    if (report.errorLogs.length < 50) report.errorLogs.push(args.map(describe).join(" ").slice(0, 400));
    if (!options.quiet) original.apply(console, args);
  };
  let stopped = false;
  return {
    report: () => report,
    stop() {
      if (!stopped) {
        stopped = true;
        process.off("unhandledRejection", onRejection);
        process.off("uncaughtException", onException);
        console.error = original;
      }
      return report;
    },
  };
}
