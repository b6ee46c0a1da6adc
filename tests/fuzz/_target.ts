/**
 * The server the fuzzer and the leak tests attack: our `Server` in this process (so its counters
 * can be read), served on 127.0.0.1 by `tests/_server.ts` on the current runtime.
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

import { Server, type ServerOptions } from "../../src/io/server.ts";
import type { Socket } from "../../src/io/socket.ts";
import { type Running, startServer } from "../_server.ts";

/** A running target. */
export interface Target {
  io: Server;
  server: Running;
  /** `http://127.0.0.1:PORT/socket.io/` */
  httpBase: string;
  /** `ws://127.0.0.1:PORT/socket.io/` */
  wsBase: string;
  /** Namespaces the target knows (static ones). */
  namespaces: string[];
  close(): Promise<void>;
}

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

/** Starts the target with the given engine/io options on top of the defaults below. */
export async function startTarget(options: ServerOptions = {}): Promise<Target> {
  const io = new Server({
    pingInterval: 500,
    pingTimeout: 1000,
    upgradeTimeout: 1000,
    connectTimeout: 1000,
    maxHttpBufferSize: 1e5,
    cleanupEmptyChildNamespaces: true,
    ...options,
  });
  io.on("connection", wire);
  io.of("/custom").on("connection", wire);
  const guarded = io.of("/guarded");
  guarded.use((socket, next) => {
    if (socket.handshake.auth?.deny) next(new Error("denied"));
    else next();
  });
  guarded.on("connection", wire);
  io.of(/^\/dyn-\d+$/).on("connection", wire);
  const server = await startServer(io);
  return {
    io,
    server,
    httpBase: `${server.url}/socket.io/`,
    wsBase: `${server.wsUrl}/socket.io/`,
    namespaces: ["/", "/custom", "/guarded"],
    close: () => server.close(),
  };
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
