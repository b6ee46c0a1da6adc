/**
 * A Worker that runs our client (the workerd tests of the client): `GET /?target=URL` connects to
 * the Socket.IO server at URL over WebSocket only, with `extraHeaders` `x-from-worker: 1`, and
 * answers with the result of an acknowledged round trip, or the connect error.
 *
 * @module
 */

import { io } from "../../client.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const target = new URL(request.url).searchParams.get("target");
    if (!target) return new Response("?target= is missing", { status: 400 });
    const socket = io(target, {
      transports: ["websocket"],
      extraHeaders: { "x-from-worker": "1" },
      reconnection: false,
      timeout: 3000,
    });
    try {
      const result = await new Promise<unknown>((resolve) => {
        socket.on("connect", async () => {
          try {
            resolve({ ack: await socket.timeout(2000).emitWithAck("echo", "from a Worker") });
          } catch (err) {
            resolve({ error: String(err) });
          }
        });
        socket.on("connect_error", (err) => resolve({ connectError: err.message }));
      });
      return Response.json(result);
    } finally {
      socket.disconnect();
    }
  },
};
