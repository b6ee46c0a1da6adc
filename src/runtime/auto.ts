/**
 * Detects the runtime and registers its upgrader as the default, so `io.handler()` works without
 * arguments where the runtime can upgrade from a bare `Request` (Deno, workerd).
 *
 * @module
 */

import { setDefaultUpgrader } from "./default_upgrader.ts";
import { enableDebug, readDebugEnvironment } from "../util/debug.ts";
import { denoUpgrader } from "./deno.ts";
import { workersUpgrader } from "./workers.ts";

const g = globalThis as { Deno?: { upgradeWebSocket?: unknown } };

/** The name of the runtime this code runs on. */
export type RuntimeName = "deno" | "bun" | "node" | "workerd" | "browser" | "unknown";

/**
 * Which runtime this is.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./auto.ts";
 * detectRuntime(); // "deno" under Deno
 * ```
 */
export function detectRuntime(): RuntimeName {
  const any = globalThis as Record<string, unknown>;
  if (typeof g.Deno?.upgradeWebSocket === "function") return "deno";
  if (any.Bun !== undefined) return "bun";
  if (typeof any.WebSocketPair === "function") return "workerd";
  const process = any.process as { versions?: { node?: string } } | undefined;
  if (process?.versions?.node) return "node";
  if (any.document !== undefined) return "browser";
  return "unknown";
}

const runtime = detectRuntime();

// DEBUG=sio:* (or socket.io*) turns the components' debug logs on, as socket.io's DEBUG does.
const debugPattern = readDebugEnvironment();
if (debugPattern) enableDebug(debugPattern);
if (runtime === "deno") setDefaultUpgrader(denoUpgrader);
else if (runtime === "workerd") setDefaultUpgrader(workersUpgrader);
