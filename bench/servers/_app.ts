/**
 * The application every Socket.IO server in the benchmark runs (ours and socket.io have the same
 * API here), so only the server differs:
 * - `echo` -> emit `echo` back with the same argument;
 * - `ack` -> call the ack with the same argument;
 * - `bcast` -> emit `b` to the room `room` (clients that connect with `?room=1` join it);
 * - `bcast-all` -> emit `b` to the whole namespace (`io.emit`);
 * - `bcast-others` -> emit `b` to everyone but the sender (`socket.broadcast.emit`);
 * - `bcast-rooms` -> emit `b` to the rooms `a` and `b` (`io.to(["a", "b"])`: clients that connect
 *   with `?rooms=a`, `b` or `ab` join them; those in both get it once).
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
    const rooms = socket.handshake.query.rooms;
    if (typeof rooms === "string") socket.join(rooms.split(""));
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
    socket.on("bcast-rooms", (seq: number, pad: string) => {
      io.to(["a", "b"]).emit("b", seq, pad);
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

/**
 * Serves `io` on `host:port` (0: a free port) with this runtime's own server, as users do: Deno's
 * `serve` with `io.handler()`, Bun's `serve` straight to the engine (the benchmark's clients only
 * speak to /socket.io/), Node's HTTP server with `io.attach`; then {@linkcode announce}s the port.
 */
export async function serveAndAnnounce(io: AnyServer, port: number, host = "127.0.0.1"): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno?.serve) {
    const ready = Promise.withResolvers<number>();
    g.Deno.serve(
      { port, hostname: host, onListen: (addr: { port: number }) => ready.resolve(addr.port) },
      io.handler(),
    );
    return announce(await ready.promise);
  }
  if (g.Bun?.serve) {
    const { bunServeOptions } = await import("../../server.ts");
    const engine = io.engine;
    const server = g.Bun.serve({
      port,
      hostname: host,
      ...bunServeOptions((request, options) => engine.handle(request, options)),
    });
    return announce(server.port);
  }
  const { createServer } = await import("node:http");
  const server = createServer();
  io.attach(server); // returns the io, as socket.io's attach does
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return announce((server.address() as { port: number }).port);
}
