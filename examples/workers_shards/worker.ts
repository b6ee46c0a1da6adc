/**
 * A chat on Cloudflare Workers that outgrows one Durable Object: the Worker spreads the sessions
 * over `SHARDS` objects (by a `tenant` query parameter when given, at random otherwise) and each
 * session's requests and WebSocket reach its own object; `io.to("chat").emit` reaches the chat's
 * members on every shard. Session ids are signed when the `SIO_SECRET` secret is set.
 *
 *   ./node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port 8787 -c examples/workers_shards/wrangler.toml
 *
 * then connect socket.io 4.x clients to `http://127.0.0.1:8787`:
 *
 *   const socket = io("http://127.0.0.1:8787");
 *   socket.emit("say", "hello", (ok) => console.log("delivered", ok));
 *   socket.on("said", (shard, text) => console.log(`(${shard}) ${text}`));
 *   socket.emit("who", (counts) => console.log(counts)); // members per shard
 *
 * @module
 */

import {
  defineShardedSocketIoObject,
  type DurableObjectNamespaceLike,
  routeToSocketIoShard,
  type Server,
  type SocketIoShards,
} from "../../src/runtime/durable_object_shards.ts";

interface Env {
  CHAT: DurableObjectNamespaceLike;
  SHARDS?: string;
  SIO_SECRET?: string;
}

/** The shards, from `wrangler.toml`'s vars: the Worker and the objects agree on them. */
function shards(env: unknown): SocketIoShards {
  return {
    count: Number((env as Env).SHARDS ?? 4),
    binding: "CHAT",
    name: "chat",
    // a tenant's sessions on one shard (their broadcasts stay cheap); others anywhere
    pick: (request, count) => {
      const tenant = new URL(request.url).searchParams.get("tenant");
      if (tenant === null) return Math.floor(Math.random() * count);
      let hash = 0;
      for (const c of tenant) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
      return hash % count;
    },
  };
}

/** The chat: runs on every new instance of each shard (first use, each wake-up). */
function chat(io: Server, _env: unknown, state: unknown): void {
  const shard = String((state as { id?: { name?: string } }).id?.name ?? "?");
  io.on("connection", (socket) => {
    if (!socket.recovered) socket.join("chat");
    socket.on("say", (text: string, ack?: (ok: boolean) => void) => {
      io.to("chat").emit("said", shard, String(text).slice(0, 1000)); // every shard's members
      ack?.(true);
    });
    socket.on("who", async (ack: (counts: Record<string, number>) => void) => {
      const counts: Record<string, number> = {};
      for (const s of await io.in("chat").fetchSockets()) {
        const where = (s.data as { shard?: string }).shard ?? "?";
        counts[where] = (counts[where] ?? 0) + 1;
      }
      ack(counts);
    });
    socket.data = { ...(socket.data as object), shard };
  });
}

/** The Durable Object class of every shard; `wrangler.toml` binds it as `CHAT`. */
export const ChatShard = defineShardedSocketIoObject(chat, {
  shards,
  pingInterval: 25000,
  pingTimeout: 20000,
  cors: { origin: "*" },
});

/** The Worker: `/socket.io/` to the session's shard, a short text elsewhere. */
export default {
  fetch(request: Request, env: Env): Promise<Response> | Response {
    return routeToSocketIoShard(request, env.CHAT, shards(env), { secret: env.SIO_SECRET }) ??
      new Response("socket.io sharded chat: connect a socket.io client to this origin\n", {
        headers: { "content-type": "text/plain" },
      });
  },
};
