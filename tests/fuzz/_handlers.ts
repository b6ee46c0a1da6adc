/**
 * The server the fuzzer and the leak tests attack, without the part that runs it: its options,
 * its namespaces and event handlers, and its counters. No `node:` import, so the same module runs
 * in this process (`_target.ts`) and bundled into a Worker (`tests/workers/fuzz_worker.ts`).
 *
 * Namespaces: `/` and `/custom` (open), `/guarded` (a middleware refuses `auth.deny`), and dynamic
 * children `/dyn-N` (removed again once empty). Events on every namespace:
 * - `message` -> emits `message-back` with the same arguments;
 * - `message-with-ack` -> acks with the same arguments;
 * - `join` / `leave` (room name) -> rooms come and go;
 * - `throw` -> a socket middleware refuses it (the socket gets `error`);
 * - `disconnect-me` (true: the whole connection) -> the server disconnects the socket.
 *
 * @module
 */

import type { Server, ServerOptions } from "../../src/io/server.ts";
import type { Socket } from "../../src/io/socket.ts";

/** The fuzz target's options: short timers, a small buffer (so "too large" inputs are cheap). */
export const FUZZ_SERVER_OPTIONS: ServerOptions = {
  pingInterval: 500,
  pingTimeout: 1000,
  upgradeTimeout: 1000,
  connectTimeout: 1000,
  maxHttpBufferSize: 1e5,
  cleanupEmptyChildNamespaces: true,
  // Engine.IO v3 / Socket.IO v4 sessions too (the v3 scenario)
  allowEIO3: true,
};

/** The leak tests' timers, on top of {@linkcode FUZZ_SERVER_OPTIONS}: heartbeat and upgrade paths end fast. */
export const LEAK_SERVER_OPTIONS: ServerOptions = {
  pingInterval: 200,
  pingTimeout: 300,
  upgradeTimeout: 500,
  connectTimeout: 500,
};

/** The namespaces that always exist once the handlers are set up. */
export const STATIC_NAMESPACES: readonly string[] = ["/", "/custom", "/guarded"];

// deno-lint-ignore no-explicit-any
function wire(socket: Socket<any, any, any, any>): void {
  socket.use(([event], next) => {
    if (event === "throw") next(new Error("refused by middleware"));
    else next();
  });
  socket.on("error", () => {});
  socket.on("message", (...args: unknown[]) => {
    (socket.emit as (event: string, ...args: unknown[]) => boolean)("message-back", ...args);
  });
  socket.on("message-with-ack", (...args: unknown[]) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("join", (room: unknown) => {
    if (typeof room === "string" && room.length < 64) socket.join(room);
  });
  socket.on("disconnect-me", (close: unknown) => {
    socket.disconnect(close === true);
  });
  socket.on("leave", (room: unknown) => {
    if (typeof room === "string") socket.leave(room);
  });
}

/** Creates the namespaces and wires the handlers on `io`. */
export function setupFuzzServer(io: Server): void {
  io.on("connection", wire);
  io.of("/custom").on("connection", wire);
  const guarded = io.of("/guarded");
  guarded.use((socket, next) => {
    if (socket.handshake.auth?.deny) next(new Error("denied"));
    else next();
  });
  guarded.on("connection", wire);
  io.of(/^\/dyn-\d+$/).on("connection", wire);
}

/** The counters a leak check reads. */
export interface Counts {
  sessions: number;
  /** Connected sockets per namespace (only namespaces with any). */
  sockets: Record<string, number>;
  /** Rooms per namespace (only namespaces with any). */
  rooms: Record<string, number>;
  /** Namespaces that exist. */
  namespaces: number;
  /**
   * WebSockets the platform still holds for the server (workerd's `state.getWebSockets()`, with
   * the Hibernation API); absent where the runtime has no such list.
   */
  webSockets?: number;
}

/** Reads the server's counters. */
export function counts(io: Server): Counts {
  const sockets: Record<string, number> = {};
  const rooms: Record<string, number> = {};
  for (const [name, nsp] of io._nsps) {
    if (nsp.sockets.size > 0) sockets[name] = nsp.sockets.size;
    const size = nsp.adapter.rooms.size;
    if (size > 0) rooms[name] = size;
  }
  return { sessions: io.engine.clientsCount, sockets, rooms, namespaces: io._nsps.size };
}

/** The engine timings a run needs to know (how long the server may take to drop a session). */
export interface EngineTimings {
  maxHttpBufferSize: number;
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
}

/** The engine timings of `io`. */
export function engineTimings(io: Server): EngineTimings {
  const { maxHttpBufferSize, pingInterval, pingTimeout, upgradeTimeout } = io.engine.options;
  return { maxHttpBufferSize, pingInterval, pingTimeout, upgradeTimeout };
}
