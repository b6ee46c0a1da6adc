/**
 * A tiny chat on Cloudflare Workers: the Worker routes `/socket.io/` to a Durable Object that hosts
 * the Socket.IO server; the object uses the WebSocket Hibernation API, so idle clients cost no
 * memory, and their rooms and `socket.data` come back when a message wakes it up.
 *
 *   ./node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port 8787 -c examples/workers/wrangler.toml
 *
 * then connect any socket.io 4.x client to `http://127.0.0.1:8787` (`?room=NAME` picks the object:
 * one object per chat room):
 *
 *   const socket = io("http://127.0.0.1:8787", { query: { room: "lobby" } });
 *   socket.emit("nick", "ann");
 *   socket.emit("say", "hello", (ok) => console.log("delivered", ok));
 *   socket.on("said", (nick, text) => console.log(`${nick}: ${text}`));
 *
 * @module
 */

import {
  defineSocketIoObject,
  type DurableObjectNamespaceLike,
  routeToSocketIo,
  type Server,
} from "../../src/runtime/durable_object.ts";

interface ChatData {
  nick: string;
}

/** The chat: runs on every new instance of the object (first use, and each wake-up). */
function chat(io: Server): void {
  io.on("connection", (socket) => {
    const data = socket.data as ChatData;
    // A restored socket (the object woke up from hibernation) keeps its data and rooms: only
    // re-attach the handlers, do not greet it again.
    if (!socket.recovered) {
      data.nick = "anonymous";
      socket.join("chat");
      socket.emit("said", "server", `welcome, ${io.engine.clientsCount} here`);
    }
    socket.on("nick", (nick: string) => {
      data.nick = String(nick).slice(0, 32);
    });
    socket.on("say", (text: string, ack?: (ok: boolean) => void) => {
      io.to("chat").emit("said", data.nick, String(text).slice(0, 1000));
      ack?.(true);
    });
    socket.on("echo", (payload: unknown, ack?: (payload: unknown) => void) => ack?.(payload));
  });
}

/** The Durable Object class; `wrangler.toml` binds it as `CHAT`. */
export const ChatObject = defineSocketIoObject(chat, {
  pingInterval: 25000,
  pingTimeout: 20000,
  cors: { origin: "*" },
});

interface Env {
  CHAT: DurableObjectNamespaceLike;
}

/** The Worker: `/socket.io/` to the room's object, a short text elsewhere. */
export default {
  fetch(request: Request, env: Env): Promise<Response> | Response {
    const room = new URL(request.url).searchParams.get("room") ?? "lobby";
    return routeToSocketIo(request, env.CHAT, room) ??
      new Response("socket.io chat: connect a socket.io client to this origin\n", {
        headers: { "content-type": "text/plain" },
      });
  },
};
