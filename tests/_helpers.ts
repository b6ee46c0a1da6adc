/**
 * The waits every test file uses: a sleep (for time that must pass), a deadline on a promise, a
 * wait for a condition, and the next event of an emitter. A wait fails with what it waited for
 * instead of hanging. Web standards only: runs on Deno, Bun, Node and in workerd.
 *
 * @module
 */

/** Resolves after `ms` milliseconds (for time that must pass; to wait for something, `until`). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `what` unless `promise` settles within `ms`. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `check()` is true (asking every 5 ms), or fails after `timeout` ms. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeout = 5000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Anything with `on(event, listener)` and `off(event, listener)`: Node's emitters, socket.io's and
 * ours (typed loosely: their typed event maps differ).
 */
// deno-lint-ignore no-explicit-any
export type EventSource = any;

/**
 * The arguments of the next `event` on `source` that `filter` accepts; rejects after `ms`.
 */
// deno-lint-ignore no-explicit-any
export function once<T extends unknown[] = any[]>(
  source: EventSource,
  event: string,
  ms = 3000,
  // deno-lint-ignore no-explicit-any
  filter: (...args: any[]) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.off(event, listener);
      reject(new Error(`Timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    const listener = (...args: unknown[]) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      source.off(event, listener);
      resolve(args as T);
    };
    source.on(event, listener);
  });
}
