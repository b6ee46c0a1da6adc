/**
 * The application every Socket.IO server in the benchmark runs (ours and socket.io have the same
 * API here), so only the server differs:
 * - `echo` -> emit `echo` back with the same argument;
 * - `ack` -> call the ack with the same argument;
 * - `bcast` -> emit `b` to the room `room` (clients that connect with `?room=1` join it);
 * - `bcast-all` -> emit `b` to the whole namespace (`io.emit`);
 * - `bcast-others` -> emit `b` to everyone but the sender (`socket.broadcast.emit`).
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type AnyServer = any;

/** Installs the benchmark handlers on a server. */
export function setupApp(io: AnyServer): void {
  // deno-lint-ignore no-explicit-any
  io.on("connection", (socket: any) => {
    if (socket.handshake.query.room === "1") socket.join("room");
    socket.on("echo", (data: unknown) => {
      socket.emit("echo", data);
    });
    socket.on("ack", (data: unknown, ack: (data: unknown) => void) => {
      ack(data);
    });
    socket.on("bcast", (seq: number, pad: string) => {
      io.to("room").emit("b", seq, pad);
    });
    socket.on("bcast-all", (seq: number, pad: string) => {
      io.emit("b", seq, pad);
    });
    socket.on("bcast-others", (seq: number, pad: string) => {
      socket.broadcast.emit("b", seq, pad);
    });
  });
}

/** Prints the line the orchestrator waits for, and exits on SIGTERM/SIGINT. */
export async function announce(port: number): Promise<void> {
  const process = (await import("node:process")).default;
  console.log(`listening on ${port}`);
  const stop = () => process.exit(0);
  // The load generator asks for a full garbage collection before it reads RSS (servers are started
  // with --expose-gc; Bun has Bun.gc), so memory figures count live objects, not garbage.
  process.on("SIGUSR2", () => {
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    if (g.Bun) g.Bun.gc(true);
    else if (typeof g.gc === "function") g.gc();
  });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
