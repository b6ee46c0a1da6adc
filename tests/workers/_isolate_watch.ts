/**
 * Watches a workerd isolate from inside, for the fuzz and leak runs against a Durable Object
 * (bundled into `fuzz_worker.ts`; web-standard globals only). Call {@linkcode watchIsolate} once,
 * at module load, before any server exists:
 * - timers: wraps `setTimeout`/`clearTimeout`/`setInterval`/`clearInterval` and keeps the live
 *   ones. In the bundle, stacks carry no `src/` paths, so every live timer of the isolate counts
 *   (the Worker itself arms none); each is labelled with the first frame that is not this module;
 * - `console.error`: the io layer reports the errors it caught there (`[socket.io] error in ...`);
 *   the lines are kept, not printed;
 * - `unhandledrejection` and `error` events on the global scope (workerd delivers the first;
 *   uncaught exceptions in callbacks show in workerd's own log, which the test side reads).
 *
 * @module
 */

/** What the watch saw (the same shape as the in-process guard's report). */
export interface IsolateReport {
  unhandledRejections: string[];
  uncaughtExceptions: string[];
  /** Lines logged with console.error (first 400 characters, at most 50 kept). */
  errorLogs: string[];
  /** How many console.error calls there were in all. */
  errorLogCount: number;
}

/** Live timers of the isolate. */
export interface IsolateTimers {
  live: number;
  /** Where the live ones were armed, by count. */
  where: Record<string, number>;
}

/** A running watch. */
export interface IsolateWatch {
  report(): IsolateReport;
  timers(): IsolateTimers;
}

const KEPT = 50;

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}`.slice(0, 2000);
  try {
    return String(value).slice(0, 2000);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The first stack frame outside this module (function name and position in the bundle). */
function armedAt(): string {
  const lines = (new Error().stack ?? "").split("\n").slice(1);
  const frame = lines.find((l) => !/armedAt|watched(Set|Clear)|at globalThis\./.test(l)) ?? lines[0] ?? "?";
  return frame.trim().replace(/^at /, "").replace(/\(.*\//, "(");
}

let current: IsolateWatch | undefined;

/** Starts watching the isolate (once; later calls return the same watch). */
export function watchIsolate(): IsolateWatch {
  if (current) return current;
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const report: IsolateReport = { unhandledRejections: [], uncaughtExceptions: [], errorLogs: [], errorLogCount: 0 };
  const live = new Map<unknown, string>();

  const originalSetTimeout = g.setTimeout;
  const originalClearTimeout = g.clearTimeout;
  const originalSetInterval = g.setInterval;
  const originalClearInterval = g.clearInterval;
  g.setTimeout = function watchedSetTimeout(fn: unknown, ms?: number, ...args: unknown[]) {
    if (typeof fn !== "function") return originalSetTimeout(fn, ms, ...args);
    const where = armedAt();
    // deno-lint-ignore prefer-const
    let id: unknown;
    id = originalSetTimeout(
      (...a: unknown[]) => {
        live.delete(id);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.set(id, where);
    return id;
  };
  g.clearTimeout = function watchedClearTimeout(id: unknown) {
    live.delete(id);
    return originalClearTimeout(id);
  };
  g.setInterval = function watchedSetInterval(fn: unknown, ms?: number, ...args: unknown[]) {
    const id = originalSetInterval(fn, ms, ...args);
    live.set(id, `interval ${armedAt()}`);
    return id;
  };
  g.clearInterval = function watchedClearInterval(id: unknown) {
    live.delete(id);
    return originalClearInterval(id);
  };

  console.error = (...args: unknown[]) => {
    report.errorLogCount++;
    if (report.errorLogs.length < KEPT) report.errorLogs.push(args.map(describe).join(" ").slice(0, 400));
  };
  g.addEventListener?.("unhandledrejection", (event: { reason?: unknown; preventDefault?(): void }) => {
    if (report.unhandledRejections.length < KEPT) report.unhandledRejections.push(describe(event.reason));
  });
  g.addEventListener?.("error", (event: { error?: unknown; message?: unknown }) => {
    if (report.uncaughtExceptions.length < KEPT) report.uncaughtExceptions.push(describe(event.error ?? event.message));
  });

  current = {
    report: () => report,
    timers() {
      const where: Record<string, number> = {};
      for (const frame of live.values()) where[frame] = (where[frame] ?? 0) + 1;
      return { live: live.size, where };
    },
  };
  return current;
}
