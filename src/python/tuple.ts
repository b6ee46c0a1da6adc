/**
 * python-socketio's argument convention: `data` is one argument, a tuple is several. TypeScript has
 * no tuples distinct from arrays, so {@linkcode tuple} marks a value as "several arguments"; an
 * array stays one argument, as a Python list does.
 *
 * @module
 */

/**
 * Several arguments (python's tuple), made by {@linkcode tuple}.
 *
 * @example
 * ```ts
 * import { Tuple, tuple } from "./tuple.ts";
 * const args = tuple(1, "two");
 * console.log(args instanceof Tuple, args.items); // true [1, "two"]
 * ```
 */
export class Tuple {
  /** The arguments, in order. */
  readonly items: readonly unknown[];

  /** Wraps `items` (prefer {@linkcode tuple}). */
  constructor(items: readonly unknown[]) {
    this.items = Object.freeze([...items]);
  }

  /** The items as a plain array (JSON sees a tuple as a list, as Python's `json` does). */
  toJSON(): unknown[] {
    return [...this.items];
  }
}

/**
 * Marks values as several arguments, as a Python tuple does: `sio.emit("move", tuple(x, y))` sends
 * two arguments, `sio.emit("move", [x, y])` one (a list). A handler that returns a tuple answers an
 * acknowledgement with several arguments.
 *
 * @example
 * ```ts
 * import { tuple } from "./tuple.ts";
 * const answer = tuple("ok", 42); // an ack with two arguments: "ok" and 42
 * ```
 */
export function tuple(...items: unknown[]): Tuple {
  return new Tuple(items);
}

/**
 * The arguments `data` stands for, as python-socketio reads it: none for `undefined` or `null`,
 * the items of a {@linkcode Tuple}, otherwise `data` as the only argument.
 *
 * @example
 * ```ts
 * import { toArgs, tuple } from "./tuple.ts";
 * toArgs(tuple(1, 2)); // [1, 2]
 * toArgs([1, 2]); // [[1, 2]]
 * toArgs(undefined); // []
 * ```
 */
export function toArgs(data: unknown): unknown[] {
  if (data === undefined || data === null) return [];
  if (data instanceof Tuple) return [...data.items];
  return [data];
}

/**
 * What python-socketio's `call` returns for the arguments of an acknowledgement: `undefined` for
 * none, the value for one, an array for several.
 *
 * @example
 * ```ts
 * import { fromArgs } from "./tuple.ts";
 * fromArgs([]); // undefined
 * fromArgs(["a"]); // "a"
 * fromArgs(["a", "b"]); // ["a", "b"]
 * ```
 */
export function fromArgs(args: readonly unknown[]): unknown {
  return args.length === 0 ? undefined : args.length === 1 ? args[0] : [...args];
}
