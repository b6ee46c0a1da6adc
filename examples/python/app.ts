/**
 * python-socketio's aiohttp example app (`examples/server/aiohttp/app.py` in
 * miguelgrinberg/python-socketio), ported to TypeScript with the python idioms of
 * `@sio/socket.io/python`: its event handlers become the methods of a class-based namespace,
 * sessions keep each client's name and message count, rooms are joined and left by sid, and
 * `call` asks a client for an answer.
 *
 *   ./node_modules/.bin/deno run --allow-net --allow-env --allow-read examples/python/app.ts
 *
 * then open http://localhost:5000 (the page of the original, on our client bundle). PORT (default
 * 5000), HOST (default 0.0.0.0) and TICK_MS (the background task's period, default 10000) come
 * from the environment.
 *
 * @module
 */
import { AsyncNamespace, AsyncServer, type Environ } from "../../src/python/mod.ts";
import { serve } from "../../server.ts";

interface Session {
  name: string;
  count: number;
}

interface Message {
  data?: string;
  room?: string;
}

/** The handlers of app.py, as methods: event `my_event` goes to `onMyEvent`, and so on. */
class MyNamespace extends AsyncNamespace {
  async onConnect(sid: string, environ: Environ, auth?: { name?: string }) {
    const name = auth?.name ?? `guest ${sid.slice(0, 4)}`;
    await this.saveSession(sid, { name, count: 0 } satisfies Session);
    console.log(`${name} connected from ${environ.REMOTE_ADDR || "?"}`);
    await this.emit("my_response", { data: "Connected", count: 0 }, { to: sid });
  }

  async onMyEvent(sid: string, message: Message) {
    // handlers run concurrently (as with python's async_handlers): read the count where it changes
    let count = 0;
    await this.session<Session>(sid, (s) => {
      count = ++s.count;
    });
    await this.emit("my_response", { data: message.data, count }, { to: sid });
  }

  async onMyBroadcastEvent(sid: string, message: Message) {
    const { name } = await this.getSession(sid);
    await this.emit("my_response", { data: message.data, from: name });
  }

  async onJoin(sid: string, message: Message) {
    await this.enterRoom(sid, String(message.room));
    await this.emit("my_response", { data: `Entered room: ${message.room}`, rooms: this.rooms(sid) }, { to: sid });
  }

  async onLeave(sid: string, message: Message) {
    await this.leaveRoom(sid, String(message.room));
    await this.emit("my_response", { data: `Left room: ${message.room}`, rooms: this.rooms(sid) }, { to: sid });
  }

  async onCloseRoom(_sid: string, message: Message) {
    const room = String(message.room);
    await this.emit("my_response", { data: `Room ${room} is closing.` }, { to: room });
    await this.closeRoom(room);
  }

  async onMyRoomEvent(sid: string, message: Message) {
    const { name } = await this.getSession(sid);
    await this.emit("my_response", { data: message.data, from: name }, { to: String(message.room) });
  }

  /** Not in app.py: the server asks the client (`call`) and answers with the round trip. */
  async onMyPing(sid: string) {
    const sent = Date.now();
    const echoed = await this.call("server_ping", sent, { to: sid, timeout: 5000 });
    return { echoed: echoed === sent, rtt: Date.now() - sent };
  }

  async onDisconnectRequest(sid: string) {
    await this.disconnect(sid);
  }

  onDisconnect(sid: string, reason: string) {
    console.log(`client ${sid} disconnected, reason: ${reason}`);
  }
}

const sio = new AsyncServer({ cors: { origin: "*" } });
sio.registerNamespace(new MyNamespace("/"));

/** app.py's background task: an event for everyone, now and then. */
const tick = Number(Deno.env.get("TICK_MS") ?? 10000);
let count = 0;
const timer = setInterval(() => {
  count += 1;
  sio.emit("my_response", { data: "Server generated event", count });
}, tick);

const page = await Deno.readTextFile(new URL("./app.html", import.meta.url));
const listening = await serve(sio.io, {
  port: Number(Deno.env.get("PORT") ?? 5000),
  hostname: Deno.env.get("HOST") ?? "0.0.0.0",
  fallback: (request) =>
    new URL(request.url).pathname === "/"
      ? new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } })
      : new Response("Not found", { status: 404 }),
});
console.log(`listening on http://localhost:${listening.port}`);

Deno.addSignalListener("SIGTERM", async () => {
  clearInterval(timer);
  await sio.shutdown(); // every client is disconnected, the listener stops
  Deno.exit(0);
});
