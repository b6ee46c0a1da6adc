/**
 * Deadlines on promises: fail one that takes too long, or stop waiting for one.
 *
 * @module
 */

/**
 * `promise`, or a rejection with `message()` once `ms` have passed; the timer goes either way.
 *
 * @example
 * ```ts
 * import { within } from "./within.ts";
 * await within(Promise.resolve(1), 1000, () => "timeout reached"); // 1
 * ```
 */
export function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `promise` to settle, at most `ms`; never rejects.
 *
 * @example
 * ```ts
 * import { atMost } from "./within.ts";
 * await atMost(new Promise(() => {}), 10); // returns after 10 ms
 * ```
 */
export async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.then(() => {}, () => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
