/**
 * The Worker the workerd tests run (bundled by `_start.mjs`): three Durable Object classes host the
 * same small Socket.IO server — `FAST` (hibernation API, short heartbeat), `PLAIN` (in-memory
 * `WebSocketPair`s, engine heartbeat) and `SLOW` (hibernation API with a heartbeat longer than
 * workerd's 10 s inactivity eviction, so the object really hibernates between events); `AUTO` and
 * `SLOW_AUTO` are the same with `autoPong` (the platform answers pongs). A request's
 * `?do=fast|plain|auto|slow|slow_auto` picks the class.
 *
 * @module
 */

import {
  defineSocketIoObject,
  type DurableObjectNamespaceLike,
  routeToSocketIo,
  type Server,
} from "../../src/runtime/durable_object.ts";
import { Server as RuntimeServer } from "../../server.ts";

function setup(io: Server): () => Response {
  // A new id per object instance: a wake-up from hibernation shows as a new instance.
  const instance = crypto.randomUUID();
  // `?throw_on_close`: the session gets a close listener that throws (a user's bug must cost no
  // one else their heartbeat, nor leave the session behind).
  io.engine.on("connection", (session) => {
    if (!session.request.url.searchParams.has("throw_on_close")) return;
    session.on("close", () => {
      throw new Error("a broken close listener");
    });
  });
  io.on("connection", (socket) => {
    if (!socket.recovered) {
      socket.data = { connectedTo: instance };
      socket.emit("welcome", { id: socket.id, instance });
    }
    socket.on("echo", (...args: unknown[]) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
    socket.on("message", (...args: unknown[]) => socket.emit("message-back", ...args));
    socket.on("join", (room: string, ack?: (ok: boolean) => void) => {
      socket.join(room);
      ack?.(true);
    });
    socket.on("to-room", (room: string, ...args: unknown[]) => {
      io.to(room).emit("room-back", ...args);
    });
    socket.on("set-data", (key: string, value: unknown, ack?: () => void) => {
      (socket.data as Record<string, unknown>)[key] = value;
      ack?.();
    });
    socket.on("whoami", (ack: (info: unknown) => void) => {
      ack({
        instance,
        id: socket.id,
        recovered: socket.recovered,
        data: socket.data,
        rooms: [...socket.rooms].sort(),
        transport: socket.conn.transportName,
        clients: io.engine.clientsCount,
      });
    });
    socket.on("ask", async (ack: (answer: unknown) => void) => {
      // A server-to-client acknowledgement.
      const answer = await socket.timeout(2000).emitWithAck("question", 21);
      ack(answer);
    });
  });
  io.of("/custom").on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
  });
  return () => Response.json({ instance });
}

export const FastObject = defineSocketIoObject(setup, { pingInterval: 400, pingTimeout: 300, cors: { origin: "*" } });
export const PlainObject = defineSocketIoObject(setup, {
  hibernation: false,
  pingInterval: 400,
  pingTimeout: 300,
  cors: { origin: "*" },
});
export const AutoObject = defineSocketIoObject(setup, {
  autoPong: true,
  pingInterval: 400,
  pingTimeout: 300,
  cors: { origin: "*" },
});
// The slow ones let Engine.IO v3 clients in too: their sessions go through hibernation as well.
export const SlowObject = defineSocketIoObject(setup, { pingInterval: 13000, pingTimeout: 2000, allowEIO3: true });
export const SlowAutoObject = defineSocketIoObject(setup, {
  autoPong: true,
  pingInterval: 13000,
  pingTimeout: 2000,
  allowEIO3: true,
});

interface Env {
  FAST: DurableObjectNamespaceLike;
  PLAIN: DurableObjectNamespaceLike;
  AUTO: DurableObjectNamespaceLike;
  SLOW: DurableObjectNamespaceLike;
  SLOW_AUTO: DurableObjectNamespaceLike;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> | Response {
    const url = new URL(request.url);
    // `/forms`: socket.io's Node forms (a port) say what to use here instead.
    if (url.pathname === "/forms") {
      try {
        new RuntimeServer(3000);
        return new Response("no error");
      } catch (err) {
        return new Response((err as Error).message);
      }
    }
    const kind = (url.searchParams.get("do") ?? "fast").toUpperCase() as keyof Env;
    const binding = env[kind];
    if (!binding) return new Response("unknown object", { status: 400 });
    const room = url.searchParams.get("room") ?? "default";
    // `/instance?do=...` asks the object which instance answers (after the socket.io routes).
    if (url.pathname === "/instance") return binding.get(binding.idFromName(room)).fetch(request);
    return routeToSocketIo(request, binding, room) ?? new Response("Not Found", { status: 404 });
  },
};
