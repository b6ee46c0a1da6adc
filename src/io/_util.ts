/**
 * Small helpers shared by the io layer: safe listener calls, prototype-safe objects, middlewares.
 *
 * @module
 */

/**
 * Reports an error thrown (or a promise rejected) by user code, without letting it escape.
 *
 * @example
 * ```ts
 * import { reportListenerError } from "./_util.ts";
 * reportListenerError(new Error("boom"), "connection listener");
 * ```
 */
export function reportListenerError(err: unknown, where: string): void {
  console.error(`[socket.io] error in ${where}:`, err);
}

/**
 * Calls user code: a synchronous throw or an asynchronous rejection is logged, never rethrown.
 *
 * @example
 * ```ts
 * import { safeCall } from "./_util.ts";
 * safeCall(() => { throw new Error("boom"); }, "listener");
 * ```
 */
export function safeCall(fn: () => unknown, where: string): void {
  try {
    const result = fn();
    if (
      result !== null && typeof result === "object" &&
      typeof (result as PromiseLike<unknown>).then === "function"
    ) {
      (result as PromiseLike<unknown>).then(undefined, (err) => reportListenerError(err, where));
    }
  } catch (err) {
    reportListenerError(err, where);
  }
}

/**
 * Sets `key` on `target` as an own, enumerable property, even for `__proto__`.
 *
 * @example
 * ```ts
 * import { setOwn } from "./_util.ts";
 * const o: Record<string, unknown> = {};
 * setOwn(o, "__proto__", "x"); // o has an own "__proto__" key; its prototype is untouched
 * ```
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Runs middlewares in order: each calls `next()` to go on or `next(err)` to stop; a throw counts as
 * `next(err)` (and is logged); `done` is called once, with the first error if any.
 *
 * @example
 * ```ts
 * import { runMiddlewares } from "./_util.ts";
 * runMiddlewares([(n: number, next: (err?: Error) => void) => next()], 1, "example", (err) => console.log(err));
 * ```
 */
export function runMiddlewares<A, E extends Error = Error>(
  fns: ReadonlyArray<(arg: A, next: (err?: E) => void) => void>,
  arg: A,
  where: string,
  done: (err?: E) => void,
): void {
  const list = fns.slice();
  if (list.length === 0) return done();
  const step = (i: number) => {
    let called = false;
    const next = (err?: E) => {
      if (called) return;
      called = true;
      if (err) return done(err);
      if (i + 1 < list.length) step(i + 1);
      else done();
    };
    try {
      list[i](arg, next);
    } catch (err) {
      reportListenerError(err, where);
      next((err instanceof Error ? err : new Error(String(err))) as E);
    }
  };
  step(0);
}
