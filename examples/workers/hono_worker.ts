/**
 * The same chat as `worker.ts`, with a Hono app as the Worker: `/socket.io/` goes to the room's
 * Durable Object (WebSockets included), every other route is the app's own, on one origin.
 *
 *   ./node_modules/.bin/wrangler dev --local -c examples/workers/wrangler.toml --main examples/workers/hono_worker.ts
 *
 * @module
 */

import { Hono } from "hono";
import { type DurableObjectNamespaceLike, routeToSocketIo } from "../../src/runtime/durable_object.ts";

export { ChatObject } from "./worker.ts";

interface Env {
  CHAT: DurableObjectNamespaceLike;
}

const app = new Hono<{ Bindings: Env }>();

// Socket.IO: polling and WebSocket upgrades, routed to one object per room.
app.all("/socket.io/*", (c) => {
  const room = new URL(c.req.url).searchParams.get("room") ?? "lobby";
  return routeToSocketIo(c.req.raw, c.env.CHAT, room) ?? c.notFound();
});

// The app's own routes.
app.get("/", (c) => c.text("a Hono app with socket.io under /socket.io/\n"));
app.get("/health", (c) => c.json({ ok: true }));

/** The Worker. */
export default app;
