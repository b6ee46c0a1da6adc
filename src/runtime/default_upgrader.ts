/**
 * The upgrader used when a handler is created without one: the runtime detection in
 * `src/runtime/auto.ts` registers the current runtime's, so the core never names a runtime.
 *
 * @module
 */

import type { Upgrader } from "../engine/websocket_like.ts";

let current: Upgrader | undefined;

/**
 * Registers the default upgrader.
 *
 * @example
 * ```ts ignore
 * setDefaultUpgrader(denoUpgrader);
 * ```
 */
export function setDefaultUpgrader(upgrader: Upgrader): void {
  current = upgrader;
}

/**
 * The default upgrader, if a runtime registered one.
 *
 * @example
 * ```ts
 * import { getDefaultUpgrader } from "./default_upgrader.ts";
 * const upgrader = getDefaultUpgrader();
 * ```
 */
export function getDefaultUpgrader(): Upgrader | undefined {
  return current;
}
