/**
 * Lets `io.attach(httpServer)` and `io.listen(port)` work without the core naming Node: the Node
 * entry point (`src/runtime/node.ts`) registers itself here when imported.
 *
 * @module
 */

/** Attaches a server to an HTTP server of the runtime; returns that HTTP server. */
export type Attacher = (io: unknown, target: unknown) => unknown;

/** Starts an HTTP server on `port` for a server; resolves when it listens. */
export type Listener = (io: unknown, port: number, hostname?: string) => Promise<unknown>;

let attacher: Attacher | undefined;
let listener: Listener | undefined;

/**
 * Registers the runtime's attach and listen functions.
 *
 * @example
 * ```ts ignore
 * setAttacher((io, server) => attach(io, server), (io, port) => listen(io, port));
 * ```
 */
export function setAttacher(attach: Attacher, listen: Listener): void {
  attacher = attach;
  listener = listen;
}

/**
 * The registered functions, if any.
 *
 * @example
 * ```ts
 * import { getAttacher } from "./attacher.ts";
 * const { attach } = getAttacher();
 * ```
 */
export function getAttacher(): { attach?: Attacher; listen?: Listener } {
  return { attach: attacher, listen: listener };
}
