/**
 * Emitting to listeners that must not hurt each other: for the server's events that user code
 * listens to next to the library's own bookkeeping (a session's `close`, `message`). Kept out of
 * {@linkcode Emitter} so that the browser client does not carry it.
 *
 * @module
 */

import type { Emitter, EventsMap, ListenerOf } from "./emitter.ts";

/**
 * Calls the listeners of `event` on `emitter` with `args`, each on its own: one that throws (or
 * returns a promise that rejects) is passed to `onError` (called on the emitter) with the event's
 * name, and the others still run. Returns whether there were any listeners.
 *
 * @example
 * ```ts
 * import { Emitter } from "./emitter.ts";
 * import { emitIsolated } from "./emit_isolated.ts";
 * const e = new Emitter<{ ping: (n: number) => void }>();
 * e.on("ping", () => { throw new Error("boom"); });
 * e.on("ping", (n) => console.log(n)); // still runs
 * emitIsolated(e, "ping", (err, event) => console.error(event, err), 1);
 * ```
 */
export function emitIsolated<M extends EventsMap, E extends keyof M & string, T extends Emitter<M>>(
  emitter: T & Emitter<M>,
  event: E,
  onError: (this: T, err: unknown, event: string) => void,
  ...args: Parameters<ListenerOf<M, E>>
): boolean {
  const list = emitter._list(event);
  if (list === undefined) return false;
  // One listener (a session's "message") is the hot path; a copy only when there are several.
  if (typeof list === "function") {
    callIsolated(emitter, list, event, onError, args);
    return true;
  }
  const listeners = list.slice();
  for (let i = 0, n = listeners.length; i < n; i++) callIsolated(emitter, listeners[i], event, onError, args);
  return true;
}

function callIsolated<T>(
  emitter: T,
  listener: (...args: never[]) => unknown,
  event: string,
  onError: (this: T, err: unknown, event: string) => void,
  args: unknown[],
): void {
  try {
    const result: unknown = (listener as (...a: unknown[]) => unknown).apply(emitter, args);
    if (result !== undefined && result !== null && typeof (result as PromiseLike<unknown>).then === "function") {
      (result as PromiseLike<unknown>).then(undefined, (err) => onError.call(emitter, err, event));
    }
  } catch (err) {
    onError.call(emitter, err, event);
  }
}
