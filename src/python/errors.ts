/**
 * python-socketio's exceptions, under their Python names.
 *
 * @module
 */

/**
 * Thrown by a `connect` handler to refuse the connection, as python-socketio's
 * `ConnectionRefusedError`: the client's `connect_error` receives `{ message, data }` made of the
 * arguments (no argument: `"Connection rejected by server"`; one: the message; two: the message
 * and `data`; more: the message and the rest as `data`).
 *
 * @example
 * ```ts
 * import { ConnectionRefusedError } from "./errors.ts";
 * const refuse = () => {
 *   throw new ConnectionRefusedError("authentication failed", { retry: false });
 * };
 * ```
 */
export class ConnectionRefusedError extends Error {
  /** Always `"ConnectionRefusedError"`. */
  override name = "ConnectionRefusedError";
  /** What the client receives in CONNECT_ERROR. */
  readonly errorArgs: { message: string; data?: unknown };

  /** Refuses with the given message and data. */
  constructor(...args: unknown[]) {
    const message = args.length === 0 ? "Connection rejected by server" : String(args[0]);
    super(message);
    this.errorArgs = args.length <= 1 ? { message } : { message, data: args.length === 2 ? args[1] : args.slice(1) };
  }
}

/**
 * Thrown by the client's `emit` and `call` for a namespace it is not connected to (python's
 * `BadNamespaceError`).
 *
 * @example
 * ```ts
 * import { BadNamespaceError } from "./errors.ts";
 * const err = new BadNamespaceError("/chat is not a connected namespace.");
 * console.log(err.name); // "BadNamespaceError"
 * ```
 */
export class BadNamespaceError extends Error {
  /** Always `"BadNamespaceError"`. */
  override name = "BadNamespaceError";
}
