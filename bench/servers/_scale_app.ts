/**
 * The application of the scale benchmark (`bench/scale.ts`), the same on every server (ours and
 * socket.io share this API):
 * - `emit-all` (seq, pad) -> `io.emit("all", seq, pad)`: to every client of the namespace, in every
 *   process of a cluster;
 * - `cpu` (ack) -> acks the process's user+system CPU time in microseconds (`process.cpuUsage()`,
 *   finer than the 10 ms ticks of /proc), so idle CPU can be read over short windows;
 * - every disconnection is counted by its reason (printed, see {@linkcode setupScaleApp}).
 *
 * @module
 */

import process from "node:process";

// deno-lint-ignore no-explicit-any
type AnyServer = any;

/**
 * Installs the scale handlers on a server. Disconnections are counted by reason and printed as a
 * line `disconnects {"ping timeout":3}` (at most once a second, when they changed), so that a
 * connection the benchmark lost comes with the server's reason for it.
 */
export function setupScaleApp(io: AnyServer): void {
  const reasons: Record<string, number> = {};
  let pending: ReturnType<typeof setTimeout> | undefined;
  const report = () => {
    pending = undefined;
    console.log(`disconnects ${JSON.stringify(reasons)}`);
  };
  // deno-lint-ignore no-explicit-any
  io.on("connection", (socket: any) => {
    socket.on("disconnect", (reason: string) => {
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      pending ??= setTimeout(report, 1000);
    });
    socket.on("emit-all", (seq: number, pad: string) => {
      io.emit("all", seq, pad);
    });
    socket.on("cpu", (ack: (micros: number) => void) => {
      const usage = process.cpuUsage();
      if (typeof ack === "function") ack(usage.user + usage.system);
    });
  });
}

/** The value of `--NAME VALUE` among the process's arguments. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A node-redis publishing client and its subscribing duplicate, connected to `url`. */
// deno-lint-ignore no-explicit-any
export async function redisPair(url: string): Promise<[any, any]> {
  const { createClient } = await import("redis");
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on("error", (err: Error) => console.error("redis:", err.message));
  sub.on("error", (err: Error) => console.error("redis:", err.message));
  await Promise.all([pub.connect(), sub.connect()]);
  return [pub, sub];
}
