/**
 * Detects the runtime and registers its upgrader as the default, so `io.handler()` works without
 * arguments where the runtime can upgrade from a bare `Request` (Deno, workerd).
 *
 * @module
 */

import { setDefaultUpgrader } from "./default_upgrader.ts";
import { enableDebug } from "../util/debug.ts";
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
function readDebugEnv(): string | undefined {
  const any = globalThis as {
    Deno?: {
      env?: { get(name: string): string | undefined };
      permissions?: { querySync?(d: { name: "env"; variable: string }): { state: string } };
    };
    process?: { env?: Record<string, string | undefined> };
  };
  try {
    const deno = any.Deno;
    if (deno?.env) {
      // Never prompt for a permission just to look for DEBUG.
      if (deno.permissions?.querySync?.({ name: "env", variable: "DEBUG" }).state !== "granted") return undefined;
      return deno.env.get("DEBUG");
    }
    return any.process?.env?.DEBUG;
  } catch {
    return undefined;
  }
}
const debugPattern = readDebugEnv();
if (debugPattern) enableDebug(debugPattern);
if (runtime === "deno") setDefaultUpgrader(denoUpgrader);
else if (runtime === "workerd") setDefaultUpgrader(workersUpgrader);
