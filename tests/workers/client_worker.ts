/**
 * A Worker that runs our client (the workerd tests of the client): `GET /?target=URL` connects to
 * the Socket.IO server at URL over WebSocket only, with `extraHeaders` `x-from-worker: 1` (and
 * `autoUnref`, which means nothing here), and answers with the result of an acknowledged round
 * trip, or the connect error. `GET /?target=URL&tls=1` tries a TLS option, which Workers cannot
 * honour, and answers with what was thrown.
 *
 * @module
 */

import { io } from "../../client.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const target = new URL(request.url).searchParams.get("target");
    if (!target) return new Response("?target= is missing", { status: 400 });
    if (new URL(request.url).searchParams.has("tls")) {
      try {
        io(target, { forceNew: true, ca: "-----BEGIN CERTIFICATE-----" });
        return Response.json({ thrown: null });
      } catch (err) {
        return Response.json({ thrown: `${(err as Error).name}: ${(err as Error).message}` });
      }
    }
    const socket = io(target, {
      transports: ["websocket"],
      extraHeaders: { "x-from-worker": "1" },
      autoUnref: true,
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
