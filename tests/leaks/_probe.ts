/**
 * What the leak tests measure besides the server's own counters:
 * - live timers armed by the server's code (`src/engine`, `src/io`, `src/parser`), by wrapping
 *   `setTimeout`/`clearTimeout` and keeping those whose creation stack passes through `src/` —
 *   a stand-in until the engine exposes a timer counter of its own;
 * - the heap after a forced garbage collection (Deno and Node through `node:v8` + `node:vm`,
 *   Bun through `Bun.gc`).
 *
 * @module
 */

import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";

/** A running timer tracker. */
export interface TimerTracker {
  /** Timers armed from src/ that have neither fired nor been cleared. */
  live(): number;
  /** Where the live ones were created (first lines of their stacks), by count. */
  where(): Record<string, number>;
  /** Restores the originals. */
  stop(): void;
}

const SRC = /\/src\/(engine|io|parser)\//;

/** Starts counting the server's live timers. */
export function trackTimers(): TimerTracker {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const originalSet = g.setTimeout;
  const originalClear = g.clearTimeout;
  const live = new Map<unknown, string>();
  g.setTimeout = function (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
    const stack = new Error().stack ?? "";
    if (typeof fn !== "function" || !SRC.test(stack)) return originalSet(fn, ms, ...args);
    const frame =
      stack.split("\n").find((l) => SRC.test(l))?.trim().replace(/^at /, "").replace(/^.*\/src\//, "src/") ?? "?";
    // deno-lint-ignore prefer-const
    let id: unknown;
    id = originalSet(
      (...a: unknown[]) => {
        live.delete(id);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.set(id, frame);
    return id;
  };
  g.clearTimeout = function (id: unknown) {
    live.delete(id);
    return originalClear(id);
  };
  return {
    live: () => live.size,
    where() {
      const out: Record<string, number> = {};
      for (const frame of live.values()) out[frame] = (out[frame] ?? 0) + 1;
      return out;
    },
    stop() {
      g.setTimeout = originalSet;
      g.clearTimeout = originalClear;
    },
  };
}

let gcFn: (() => void) | null | undefined;

/** Forces a full garbage collection where the runtime allows it; returns whether it could. */
export function forceGc(): boolean {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (gcFn === undefined) {
    if (typeof g.gc === "function") gcFn = () => g.gc();
    else if (g.Bun?.gc) gcFn = () => g.Bun.gc(true);
    else {
      try {
        v8.setFlagsFromString("--expose-gc");
        const fn = vm.runInNewContext("gc");
        gcFn = typeof fn === "function" ? () => fn() : null;
      } catch {
        gcFn = null;
      }
    }
  }
  if (!gcFn) return false;
  gcFn();
  gcFn();
  return true;
}

/** Heap in use, in bytes, after a forced collection (and a tick for finalizers). */
export async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  forceGc();
  return process.memoryUsage().heapUsed;
}
