/**
 * The cluster scenarios every server of the mixed-cluster tests runs (ours here, the Node
 * reference in node_cluster_server.mjs, with the same events):
 * - connection: `socket.data = { name }`, joins `auth.room` when given, emits `hello` with its name;
 * - `broadcast` -> `io.emit("broadcast-back", ...args)`; `to-room (room, ...args)` -> `room-back`;
 *   `except-room (room, ...args)` -> `io.except(room).emit("except-back", ...args)`;
 * - `fetch (ack)` -> `ack([{ id, name, rooms }])` of `io.fetchSockets()`, sorted by name;
 * - `sse (ack)` -> `io.serverSideEmit("ping", name, cb)` -> `ack({ err, responses })` (sorted);
 *   every server answers `ping` with `pong from NAME`;
 * - `ask-all (ack)` -> `io.timeout(2000).emit("question", cb)` -> `ack({ err, responses })` (sorted);
 * - `disconnect-room (room, ack)` -> `io.in(room).disconnectSockets()`;
 * - `join-all (room, ack)` / `leave-all` -> `io.socketsJoin(room)` / `io.socketsLeave(room)`;
 * - `drop` -> closes the connection (to test recovery); `whoami (ack)` -> `{ id, name, recovered, rooms }`.
 *
 * @module
 */
import type { Server } from "../../server.ts";

// deno-lint-ignore no-explicit-any
type AnyServer = Server<any, any, any, any>;
type Ack = (value: unknown) => void;

/** Installs the scenarios on `io`, a server named `name`. */
export function installScenarios(io: AnyServer, name: string): void {
  io.on("ping", (_from: string, cb: (v: string) => void) => cb(`pong from ${name}`));
  io.on("connection", (socket) => {
    if (!socket.recovered) socket.data = { name };
    const room = (socket.handshake.auth as { room?: string }).room;
    if (room && !socket.recovered) socket.join(room);
    socket.emit("hello", name);
    socket.on("broadcast", (...args: unknown[]) => io.emit("broadcast-back", ...args));
    socket.on("broadcast-acked", (...args: unknown[]) => {
      const ack = args.pop() as Ack;
      io.emit("broadcast-back", ...args);
      ack(true);
    });
    socket.on("to-room", (room: string, ...args: unknown[]) => io.to(room).emit("room-back", ...args));
    socket.on("except-room", (room: string, ...args: unknown[]) => io.except(room).emit("except-back", ...args));
    socket.on("fetch", async (ack: Ack) => {
      const sockets = await io.fetchSockets();
      ack(
        sockets.map((s) => ({ id: s.id, name: (s.data as { name: string }).name, rooms: [...s.rooms].sort() }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );
    });
    socket.on("sse", (ack: Ack) => {
      io.serverSideEmit("ping", name, (err: Error | null, responses: string[]) => {
        ack({ err: err ? err.message : null, responses: [...responses].sort() });
      });
    });
    socket.on("ask-all", (ack: Ack) => {
      io.timeout(2000).emit("question", (err: Error | null, responses: string[]) => {
        ack({ err: err ? err.message : null, responses: [...responses].sort() });
      });
    });
    socket.on("disconnect-room", (room: string, ack: Ack) => {
      io.in(room).disconnectSockets();
      ack(true);
    });
    socket.on("join-all", (room: string, ack: Ack) => {
      io.socketsJoin(room);
      ack(true);
    });
    socket.on("leave-all", (room: string, ack: Ack) => {
      io.socketsLeave(room);
      ack(true);
    });
    socket.on("drop", () => socket.conn.close());
    socket.on(
      "whoami",
      (ack: Ack) => ack({ id: socket.id, name, recovered: socket.recovered, rooms: [...socket.rooms].sort() }),
    );
  });
}
