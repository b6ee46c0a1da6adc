/**
 * The benchmark's scenarios, shared by the runner (bench/run.ts) and the load generator
 * (bench/loadgen.ts), in the order the runner takes them.
 *
 * @module
 */

/** The broadcast shapes: one room, the whole namespace, everyone but the sender, two overlapping rooms. */
export const BROADCASTS = ["broadcast", "broadcast-all", "broadcast-others", "broadcast-rooms"] as const;

/** Every scenario, in the order a server runs them. */
export const SCENARIOS = ["idle", "echo", "ack", ...BROADCASTS, "polling"] as const;

/** One scenario of the benchmark. */
export type Scenario = (typeof SCENARIOS)[number];
