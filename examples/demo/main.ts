/**
 * A small chat on the in-memory default: `npx deno task demo`, then open http://localhost:8000
 * in two browser tabs. The page uses the reference socket.io-client from npm for now (served at
 * `/socket.io-client.js`); our own client replaces it when it lands.
 *
 * PORT (default 8000) and HOSTNAME (default 0.0.0.0) come from the environment.
 *
 * @module
 */
import { Server } from "../../server.ts";

const port = Number(Deno.env.get("PORT") ?? 8000);
const hostname = Deno.env.get("HOSTNAME") ?? "0.0.0.0";

const page = await Deno.readTextFile(new URL("./index.html", import.meta.url));
let clientScript: Uint8Array | undefined;
try {
  clientScript = await Deno.readFile(
    new URL("../../node_modules/socket.io-client/dist/socket.io.min.js", import.meta.url),
  );
} catch {
  console.error("node_modules/socket.io-client is missing: run `npm install` first");
  Deno.exit(1);
}

const io = new Server();
const chat = io.of("/chat");

chat.use((socket, next) => {
  const name = String(socket.handshake.auth?.name ?? "").trim().slice(0, 32);
  if (!name) return next(new Error("Pick a name first"));
  socket.data.name = name;
  next();
});

chat.on("connection", (socket) => {
  const name = socket.data.name as string;
  chat.emit("system", `${name} joined (${chat.sockets.size} online)`);
  socket.on("chat", (text: unknown, ack?: (ok: boolean) => void) => {
    const message = String(text ?? "").slice(0, 500);
    if (message) chat.emit("chat", { name, text: message, at: Date.now() });
    if (typeof ack === "function") ack(Boolean(message));
  });
  socket.on("disconnect", () => {
    chat.emit("system", `${name} left (${chat.sockets.size} online)`);
  });
});

const handler = io.handler({
  fallback(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/") {
      return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (pathname === "/socket.io-client.js") {
      return new Response(clientScript as BodyInit, {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      });
    }
    return new Response("Not found", { status: 404 });
  },
});

Deno.serve({
  port,
  hostname,
  onListen: ({ port }) => console.log(`chat demo listening on http://localhost:${port}`),
}, handler);
