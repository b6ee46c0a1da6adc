/**
 * The Worker of the recovery tests (`tests/workers_recovery.test.ts`): connection state recovery
 * kept in Durable Object storage, on a single object (`SINGLE`, `?do=single`) and on 4 shards
 * (`SHARDS`, `?do=shards`, a handshake's `?shard=N` picks its shard).
 *
 * Per object (`?do=...&shard=N`): `/restart` resets it (`ctx.abort()`, as an exception or a deploy
 * would), `/emit?room=R&msg=M` broadcasts `news` to a room from it, `/corrupt?pid=P&kind=bytes|forged`
 * overwrites a stored session with bytes that are not a record, or with a record naming another
 * session.
 *
 * @module
 */

import {
  defineSocketIoObject,
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  routeToSocketIo,
  type Server,
} from "../../src/runtime/durable_object.ts";
import {
  defineShardedSocketIoObject,
  routeToSocketIoShard,
  type SocketIoShards,
} from "../../src/runtime/durable_object_shards.ts";

type Ack = (value: unknown) => void;

function setup(io: Server, _env: unknown, state: DurableObjectStateLike): (request: Request) => Promise<Response> {
  const name = String((state as { id?: { name?: string } }).id?.name);
  const instance = crypto.randomUUID();
  io.on("connection", (socket) => {
    if (!socket.recovered) {
      const auth = socket.handshake.auth as { room?: string; name?: string };
      socket.data = { name: auth.name };
      if (auth.room) socket.join(auth.room);
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
    socket.on("set-data", (key: string, value: unknown, ack: Ack) => {
      (socket.data as Record<string, unknown>)[key] = value;
      ack(true);
    });
    socket.on("to-room", (room: string, msg: unknown) => io.to(room).emit("news", msg));
  });
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/restart") {
      (state as { abort?: (reason?: string) => void }).abort?.("restarted by the test");
      return new Response("restarting");
    }
    if (url.pathname === "/emit") {
      io.to(url.searchParams.get("room") ?? "").emit("news", url.searchParams.get("msg"));
      return new Response("sent");
    }
    if (url.pathname === "/corrupt") {
      const pid = url.searchParams.get("pid") ?? "";
      const value = url.searchParams.get("kind") === "bytes"
        ? new Uint8Array([0xc1, 0xff, 0x00])
        : { v: 1, sid: "someone-else", pid: "another", nsp: "/", rooms: ["admins"], data: {} };
      await (state.storage as unknown as { put(key: string, value: unknown): Promise<void> }).put(
        `sio:s:%2F|${pid}`,
        value,
      );
      return new Response("corrupted");
    }
    return new Response("Not found", { status: 404 });
  };
}

const RECOVERY = { connectionStateRecovery: { maxDisconnectionDuration: 3000 }, pingInterval: 400, pingTimeout: 300 };

/** One object. */
export const RecoverObject = defineSocketIoObject(setup, RECOVERY);

function pick(request: Request): number {
  return Number(new URL(request.url).searchParams.get("shard") ?? NaN);
}

const SHARDS: SocketIoShards = { count: 4, binding: "SHARDS", name: "rec", pick };

/** Four shards. */
export const RecoverShard = defineShardedSocketIoObject(setup, { ...RECOVERY, shards: SHARDS, requestsTimeout: 2000 });

interface Env {
  SINGLE: DurableObjectNamespaceLike;
  SHARDS: DurableObjectNamespaceLike;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> | Response {
    const url = new URL(request.url);
    const sharded = url.searchParams.get("do") === "shards";
    if (url.pathname !== "/socket.io/") {
      const index = Number(url.searchParams.get("shard") ?? 0);
      const name = sharded ? (index === 0 ? "rec" : `rec:${index}`) : "default";
      const binding = sharded ? env.SHARDS : env.SINGLE;
      return binding.get(binding.idFromName(name)).fetch(request);
    }
    if (sharded) {
      return routeToSocketIoShard(request, env.SHARDS, SHARDS) ?? new Response("Not Found", { status: 404 });
    }
    return routeToSocketIo(request, env.SINGLE) ?? new Response("Not Found", { status: 404 });
  },
};
