/**
 * A chat with rooms, on the in-memory default, served with Hono on Deno:
 *
 *   npx deno task demo          # then open http://localhost:8000 in two browser tabs
 *
 * - The name comes from the handshake's `auth` and is checked by a middleware.
 * - `join` moves a socket to a room (leaving the one it was in), `leave` leaves it; messages go to
 *   the sender's room only; each room sees who is in it (`members`) and system lines when someone
 *   joins or leaves; everyone sees the list of rooms (`rooms`).
 * - The page (index.html) uses our own client, which the server serves at
 *   `/socket.io/socket.io.min.js` (a classic script that sets the global `io`).
 * - SIGTERM / SIGINT: `io.close()` disconnects every client ("io server disconnect"), then the
 *   HTTP server stops.
 *
 * PORT (default 8000; 0 picks a free one) and HOST (default 0.0.0.0) come from the environment.
 *
 * @module
 */
import { Hono } from "hono";
import { Server, type Socket } from "../../server.ts";
import { socketIo } from "../../src/hono/mod.ts";

const port = Number(Deno.env.get("PORT") ?? 8000);
const hostname = Deno.env.get("HOST") ?? "0.0.0.0";
const page = await Deno.readTextFile(new URL("./index.html", import.meta.url));

/** What the server keeps on each socket (`socket.data`). */
interface ChatData {
  name: string;
  room?: string;
}

/** A chat line, as the page receives it. */
interface ChatMessage {
  name: string;
  text: string;
  at: number;
}

/** What `join`, `leave` and `message` acknowledge. */
type Reply = { ok: true; room?: string; members?: string[] } | { ok: false; error: string };

interface ClientEvents {
  join(room: string, ack: (reply: Reply) => void): void;
  leave(ack: (reply: Reply) => void): void;
  message(text: string, ack: (reply: Reply) => void): void;
}

interface ServerEvents {
  message(message: ChatMessage): void;
  system(text: string): void;
  members(room: string, names: string[]): void;
  rooms(rooms: { name: string; size: number }[]): void;
}

const io = new Server<ClientEvents, ServerEvents, Record<string, never>, ChatData>();
type ChatSocket = Socket<ClientEvents, ServerEvents, Record<string, never>, ChatData>;

const clean = (value: unknown, max: number): string => String(value ?? "").trim().slice(0, max);
const ROOM_NAME = /^[\p{L}\p{N} _-]{1,32}$/u;

// The name comes with the handshake (`io({ auth: { name } })`); no name, no connection.
io.use((socket, next) => {
  const name = clean(socket.handshake.auth?.name, 32);
  if (!name) return next(new Error("Pick a name first"));
  socket.data.name = name;
  next();
});

/** The names of the sockets in `room`. */
async function members(room: string): Promise<string[]> {
  const sockets = await io.in(room).fetchSockets();
  return sockets.map((s) => s.data.name).sort((a, b) => a.localeCompare(b));
}

/** Every chat room and its size (the in-memory adapter's map, less each socket's own room). */
function rooms(): { name: string; size: number }[] {
  const list: { name: string; size: number }[] = [];
  for (const [name, ids] of io.of("/").adapter.rooms) {
    if (!io.of("/").sockets.has(name)) list.push({ name, size: ids.size });
  }
  return list.sort((a, b) => a.name.localeCompare(b.name));
}

async function leaveRoom(socket: ChatSocket): Promise<void> {
  const room = socket.data.room;
  if (!room) return;
  socket.data.room = undefined;
  await socket.leave(room);
  io.to(room).emit("system", `${socket.data.name} left #${room}`);
  io.to(room).emit("members", room, await members(room));
}

io.on("connection", (socket) => {
  socket.emit("rooms", rooms());

  socket.on("join", async (requested, ack) => {
    const room = clean(requested, 32);
    if (!ROOM_NAME.test(room)) {
      return ack({ ok: false, error: "A room name is 1 to 32 letters, digits, spaces, _ or -" });
    }
    if (room !== socket.data.room) {
      await leaveRoom(socket);
      await socket.join(room);
      socket.data.room = room;
      socket.to(room).emit("system", `${socket.data.name} joined #${room}`);
      io.to(room).emit("members", room, await members(room));
      io.emit("rooms", rooms());
    }
    ack({ ok: true, room, members: await members(room) });
  });

  socket.on("leave", async (ack) => {
    await leaveRoom(socket);
    io.emit("rooms", rooms());
    ack({ ok: true });
  });

  socket.on("message", (text, ack) => {
    const room = socket.data.room;
    const message = clean(text, 500);
    if (!room) return ack({ ok: false, error: "Join a room first" });
    if (!message) return ack({ ok: false, error: "Say something" });
    io.to(room).emit("message", { name: socket.data.name, text: message, at: Date.now() });
    ack({ ok: true });
  });

  socket.on("disconnect", async () => {
    await leaveRoom(socket);
    io.emit("rooms", rooms());
  });
});

const app = new Hono();
// Socket.IO's requests (polling, WebSocket upgrades, and the client bundle's files such as
// /socket.io/socket.io.min.js) go to the server; everything else to the routes below.
app.use(socketIo(io));
app.get("/", (c) => c.html(page));

const server = Deno.serve({
  port,
  hostname,
  onListen: ({ port }) => console.log(`chat demo listening on http://localhost:${port}`),
}, app.fetch);

// Graceful shutdown: every client is told the server is going away, then the HTTP server stops.
let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await io.close();
  await server.shutdown();
  console.log("chat demo stopped");
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);
