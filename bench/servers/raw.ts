/**
 * The raw WebSocket ceiling on whichever runtime runs this file: Deno.serve + upgradeWebSocket,
 * Bun.serve (native publish for the broadcast) or Node's `ws`. It does the least a server can:
 * it sends a fixed Engine.IO open packet, answers `40` with a fixed CONNECT reply (so the load
 * generator's handshake works unchanged), echoes every other frame unchanged, and sends a frame
 * starting with `42["bcast"`, `42["bcast-all"` or `42["bcast-rooms"` unchanged to every socket that connected with
 * `?room=1` (all but the sender for `42["bcast-others"`: Bun publishes it from the sender's own
 * socket). With `--json` (Bun), the echo decodes the event's JSON and encodes the reply, as any
 * Socket.IO server has to: the floor of a Socket.IO echo on that runtime. On Bun it also answers
 * HTTP long-polling as little as a server can (a fixed open packet with a new sid, each session's
 * GET held until its POST's echo answers it, `ok` to the POST): the floor of the polling scenario.
 *
 * @module
 */

import process from "node:process";
import { announce } from "./_app.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const wanted = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 0);
/** `--json`: echoes as a Socket.IO server must, decoding the event and encoding the reply (Bun). */
const jsonEcho = process.argv.includes("--json");

const OPEN =
  '0{"sid":"rawrawrawrawrawrawraw","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
const CONNECTED = '40{"sid":"rawsocketrawsocketraw"}';
const BCAST = '42["bcast"';
const OTHERS = '42["bcast-others"';
const ALL = '42["bcast-all"';
const ROOMS = '42["bcast-rooms"';

function toAll(data: string): boolean {
  return data.startsWith(BCAST) || data.startsWith(ALL) || data.startsWith(ROOMS);
}

interface Sendable {
  send(data: string): void;
}

function inRoom(url: string): boolean {
  return url.includes("room=1");
}

if (g.Deno?.serve) {
  const room = new Set<Sendable>();
  const ready = Promise.withResolvers<number>();
  g.Deno.serve(
    { port: wanted, hostname: "127.0.0.1", onListen: (a: { port: number }) => ready.resolve(a.port) },
    (request: Request) => {
      const { socket, response } = g.Deno.upgradeWebSocket(request, { idleTimeout: 0 });
      const member = inRoom(request.url);
      socket.onopen = () => {
        if (member) room.add(socket);
        socket.send(OPEN);
      };
      socket.onmessage = (e: MessageEvent) => {
        const data = e.data as string;
        if (data === "40") socket.send(CONNECTED);
        else if (data.startsWith(OTHERS)) { for (const s of room) if (s !== socket) s.send(data); }
        else if (toAll(data)) { for (const s of room) s.send(data); }
        else socket.send(data);
      };
      socket.onclose = () => room.delete(socket);
      return response;
    },
  );
  await announce(await ready.promise);
} else if (g.Bun?.serve) {
  // Long-polling sessions: a waiting GET, or what the next GET takes.
  const waiting = new Map<string, (body: string) => void>();
  const queued = new Map<string, string[]>();
  const text = { headers: { "content-type": "text/plain; charset=UTF-8" } };
  let sessions = 0;
  const poll = async (request: Request): Promise<Response> => {
    // The sid is the query's last parameter in the load generator's URLs.
    const at = request.url.indexOf("&sid=");
    const sid = at === -1 ? null : request.url.slice(at + 5);
    if (sid === null) return new Response(OPEN.replace("rawrawrawrawrawrawraw", `raw${++sessions}`), text);
    if (request.method === "GET") {
      const ready = queued.get(sid);
      queued.delete(sid);
      if (ready !== undefined) return new Response(ready.join("\x1e"), text);
      return new Response(await new Promise<string>((resolve) => waiting.set(sid, resolve)), text);
    }
    const body = await request.text();
    const answer = body === "40" ? CONNECTED : jsonEcho ? "42" + JSON.stringify(JSON.parse(body.slice(2))) : body;
    const get = waiting.get(sid);
    waiting.delete(sid);
    if (get !== undefined) get(answer);
    else queued.set(sid, [...(queued.get(sid) ?? []), answer]);
    return new Response("ok", text);
  };
  // deno-lint-ignore no-explicit-any
  const server: any = g.Bun.serve({
    port: wanted,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(request: Request, srv: { upgrade(r: Request, o: unknown): boolean }) {
      if (request.url.includes("transport=polling")) return poll(request);
      if (srv.upgrade(request, { data: { member: inRoom(request.url) } })) return undefined;
      return new Response("Upgrade required", { status: 426 });
    },
    websocket: {
      idleTimeout: 0,
      perMessageDeflate: false,
      // deno-lint-ignore no-explicit-any
      open(ws: any) {
        if (ws.data.member) ws.subscribe("room");
        ws.send(OPEN);
      },
      // deno-lint-ignore no-explicit-any
      message(ws: any, data: string) {
        if (data === "40") ws.send(CONNECTED);
        else if (data.startsWith(OTHERS)) ws.publish("room", data);
        else if (toAll(data)) server.publish("room", data);
        else if (jsonEcho) ws.send("42" + JSON.stringify(JSON.parse(data.slice(2))));
        else ws.send(data);
      },
    },
  });
  await announce(server.port);
} else {
  const { createServer } = await import("node:http");
  const { WebSocketServer } = await import("ws");
  const httpServer = createServer();
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, clientTracking: false });
  // deno-lint-ignore no-explicit-any
  const room = new Set<any>();
  // deno-lint-ignore no-explicit-any
  wss.on("connection", (ws: any, req: any) => {
    if (inRoom(req.url ?? "")) room.add(ws);
    ws.send(OPEN);
    ws.on("message", (raw: Buffer, isBinary: boolean) => {
      const data = isBinary ? raw : raw.toString();
      if (data === "40") ws.send(CONNECTED);
      else if (typeof data === "string" && (toAll(data) || data.startsWith(OTHERS))) {
        // Encoded once, written to every receiver as a text frame.
        const bytes = Buffer.from(data);
        const others = data.startsWith(OTHERS);
        for (const s of room) if (!others || s !== ws) s.send(bytes, { binary: false });
      } else ws.send(data);
    });
    ws.on("close", () => room.delete(ws));
  });
  await new Promise<void>((resolve) => httpServer.listen(wanted, "127.0.0.1", resolve));
  await announce((httpServer.address() as { port: number }).port);
}
