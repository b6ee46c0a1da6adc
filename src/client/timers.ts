/**
 * The client's timers: the `useNativeTimers` and `autoUnref` options of socket.io-client.
 *
 * @module
 */

import { unrefTimer } from "./_runtime_features.ts";
import { isBrowser } from "./env.ts";

// Taken when the client is loaded: fake timers installed later (by a test framework) are not these.
const nativeSetTimeout = setTimeout;
const nativeClearTimeout = clearTimeout;

/**
 * A timer's handle.
 *
 * @example
 * ```ts
 * import type { TimerId } from "./timers.ts";
 * const id: TimerId = setTimeout(() => {}, 10);
 * clearTimeout(id);
 * ```
 */
export type TimerId = ReturnType<typeof setTimeout>;

/**
 * The options that decide how the client's timers run.
 *
 * @example
 * ```ts
 * import { createTimers } from "./timers.ts";
 * import type { TimerOptions } from "./timers.ts";
 * const options: TimerOptions = { useNativeTimers: true, autoUnref: true };
 * createTimers(options);
 * ```
 */
export interface TimerOptions {
  /**
   * Use the `setTimeout` and `clearTimeout` there were when the client was loaded, not those of the
   * moment (fake timers installed by a test framework do not apply to the client; default false).
   */
  useNativeTimers?: boolean;
  /** Outside browsers: the connection keeps no process alive by itself (default false). */
  autoUnref?: boolean;
}

/**
 * `setTimeout` and `clearTimeout` as the client uses them.
 *
 * @example
 * ```ts
 * import { createTimers } from "./timers.ts";
 * const timers = createTimers({ autoUnref: true });
 * const id = timers.set(() => console.log("later"), 100, true); // keeps no process alive
 * timers.clear(id);
 * ```
 */
export interface Timers {
  /** Starts a timer; `unref`: it keeps no process alive when `autoUnref` is set. */
  set(fn: () => void, ms: number, unref?: boolean): TimerId;
  /** Stops a timer (nothing happens for `undefined`). */
  clear(id: TimerId | undefined): void;
}

/**
 * The timers for a client with these options. Without `useNativeTimers` they are the global
 * functions of the moment this is called, as socket.io-client binds them.
 *
 * @example
 * ```ts
 * import { createTimers } from "./timers.ts";
 * const timers = createTimers({ useNativeTimers: true });
 * timers.set(() => console.log("on the real clock"), 10);
 * ```
 */
export function createTimers(opts: TimerOptions): Timers {
  const set = opts.useNativeTimers ? nativeSetTimeout : globalThis.setTimeout;
  const clear = opts.useNativeTimers ? nativeClearTimeout : globalThis.clearTimeout;
  return {
    set(fn, ms, unref) {
      const id = set.call(globalThis, fn, ms);
      if (!isBrowser && unref && opts.autoUnref) unrefTimer(id);
      return id;
    },
    clear: (id) => clear.call(globalThis, id),
  };
}
