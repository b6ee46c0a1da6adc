/**
 * The child processes a Deno benchmark script started, killed if the script itself is interrupted
 * (SIGINT, SIGTERM), so no server or load generator outlives it.
 *
 * @module
 */

/**
 * Children running now: add each when spawned, delete it once it has exited.
 *
 * @example
 * ```ts
 * import { liveChildren } from "./_children.ts";
 * const child = new Deno.Command("sleep", { args: ["1"] }).spawn();
 * liveChildren.add(child);
 * await child.status;
 * liveChildren.delete(child);
 * ```
 */
export const liveChildren: Set<Deno.ChildProcess> = new Set();

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    for (const child of liveChildren) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }
    Deno.exit(130);
  });
}
