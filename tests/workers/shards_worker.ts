/**
 * The Worker of the sharded-mode tests (`tests/workers_shards.test.ts`): one app spread over 4
 * Durable Objects, in two namespaces: `FAST` (short heartbeat) and `SLOW` (a heartbeat longer than
 * workerd's 10 s eviction, so an idle shard hibernates). A handshake's `?shard=N` picks its shard
 * (anything else: the picker's fallback, at random); `?signed` routes with a secret (signed
 * session ids); `?do=slow` picks the `SLOW` namespace.
 *
 * Per shard, `/stats?do=...&shard=N` answers `{ name, instance, refused }` (`refused`: requests the
 * shard's engine refused, such as unknown session ids) and `/restart?do=...&shard=N` resets the
 * object (`ctx.abort()`, as an exception or a deploy would).
 *
 * @module
 */

import {
  defineShardedSocketIoObject,
  type DurableObjectNamespaceLike,
  routeToSocketIoShard,
  type SocketIoShards,
} from "../../src/runtime/durable_object_shards.ts";
import type { DurableObjectStateLike, Server } from "../../src/runtime/durable_object.ts";

type Ack = (value: unknown) => void;

function sorted<T>(items: T[]): T[] {
  return [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function setup(io: Server, _env: unknown, state: DurableObjectStateLike): (request: Request) => Response {
  const name = String((state as { id?: { name?: string } }).id?.name);
  // A new id per object instance: a wake-up from hibernation or a restart shows as a new instance.
  const instance = crypto.randomUUID();
  let refused = 0;
  io.engine.on("connection_error", () => refused++);
  io.on("ping", (_from: string, cb: (v: string) => void) => cb(`pong from ${name}`));
  io.on("connection", (socket) => {
    const room = (socket.handshake.auth as { room?: string }).room;
    if (!socket.recovered) {
      socket.data = { shard: name };
      if (room) socket.join(room);
    }
    socket.on("whoami", (ack: Ack) =>
      ack({
        shard: name,
        instance,
        id: socket.id,
        recovered: socket.recovered,
        rooms: [...socket.rooms].sort(),
        data: socket.data,
      }));
    socket.on("echo", (value: unknown, ack: Ack) => ack(value));
    socket.on("everyone", (...args: unknown[]) => io.emit("everyone-back", ...args));
    socket.on("to-room", (room: string, ...args: unknown[]) => io.to(room).emit("room-back", ...args));
    socket.on("except-room", (room: string, except: string, ...args: unknown[]) => {
      io.to(room).except(except).emit("except-back", ...args);
    });
    socket.on("local", (room: string, ...args: unknown[]) => io.local.to(room).emit("local-back", ...args));
    socket.on("fetch", async (room: string, ack: Ack) => {
      const sockets = await io.in(room).fetchSockets();
      ack(
        sorted(
          sockets.map((s) => ({ id: s.id, shard: (s.data as { shard: string }).shard, rooms: [...s.rooms].sort() })),
        ),
      );
    });
    socket.on("ask-room", (room: string, ack: Ack) => {
      io.to(room).timeout(2000).emit("question", (err: Error | null, responses: unknown[]) => {
        ack({ err: err ? err.message : null, responses: sorted(responses) });
      });
    });
    socket.on("sse", (ack: Ack) => {
      io.serverSideEmit("ping", name, (err: Error | null, responses: string[]) => {
        ack({ err: err ? err.message : null, responses: sorted(responses) });
      });
    });
    socket.on("join-all", (room: string, target: string, ack: Ack) => {
      io.in(room).socketsJoin(target);
      ack(true);
    });
    socket.on("leave-all", (room: string, target: string, ack: Ack) => {
      io.in(room).socketsLeave(target);
      ack(true);
    });
    socket.on("disconnect-room", (room: string, ack: Ack) => {
      io.in(room).disconnectSockets();
      ack(true);
    });
    // RemoteSocket: the sockets of `room` on other shards get an event and join `room-remote`.
    socket.on("remote", async (room: string, ack: Ack) => {
      let remote = 0;
      for (const s of await io.in(room).fetchSockets()) {
        if ((s.data as { shard: string }).shard === name) continue;
        remote++;
        s.emit("remote-hello", name);
        s.join(`${room}-remote`);
      }
      ack(remote);
    });
  });
  return (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/stats") return Response.json({ name, instance, refused });
    if (pathname === "/restart") {
      (state as { abort?: (reason?: string) => void }).abort?.("restarted by the test");
      return new Response("restarting");
    }
    return new Response("Not found", { status: 404 });
  };
}

function pick(request: Request): number {
  const shard = new URL(request.url).searchParams.get("shard");
  if (shard === "throw") throw new Error("a broken picker");
  return Number(shard ?? NaN);
}

const FAST: SocketIoShards = { count: 4, binding: "FAST", name: "fast", pick };
const SLOW: SocketIoShards = { count: 4, binding: "SLOW", name: "slow", pick };

/** Short heartbeat. */
export const FastShard = defineShardedSocketIoObject(setup, {
  shards: FAST,
  pingInterval: 400,
  pingTimeout: 300,
  requestsTimeout: 2000,
});
/** A heartbeat longer than workerd's eviction: an idle shard hibernates. */
export const SlowShard = defineShardedSocketIoObject(setup, {
  shards: SLOW,
  pingInterval: 13000,
  pingTimeout: 2000,
  requestsTimeout: 2000,
});

/** The secret of `?signed` (a test's; keep real ones in secret bindings). */
const SECRET = "a secret for the tests";

interface Env {
  FAST: DurableObjectNamespaceLike;
  SLOW: DurableObjectNamespaceLike;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> | Response {
    const url = new URL(request.url);
    const shards = url.searchParams.get("do") === "slow" ? SLOW : FAST;
    const binding = env[shards.binding as keyof Env];
    if (url.pathname === "/stats" || url.pathname === "/restart") {
      const index = Number(url.searchParams.get("shard"));
      const name = index === 0 ? shards.name! : `${shards.name}:${index}`;
      return binding.get(binding.idFromName(name)).fetch(request);
    }
    const secret = url.searchParams.has("signed") ? SECRET : undefined;
    return routeToSocketIoShard(request, binding, shards, { secret }) ??
      new Response("Not Found", { status: 404 });
  },
};
