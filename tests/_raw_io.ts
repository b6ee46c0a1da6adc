/**
 * An io server on the runtime running the tests, and raw WebSocket sessions to it (frames as the
 * protocol has them), for tests that drive the Socket.IO protocol by hand. `startIo` servers and
 * the sockets are closed by `closeRawIo()` (call it in `afterEach`).
 *
 * @module
 */
import { Server, type ServerOptions } from "../server.ts";
import { closeAllWebSockets, createWebSocket, type TestSocket } from "./conformance/_helpers.ts";
import { type Running, startServer } from "./_server.ts";

const running: Running[] = [];

/** Starts a server (long heartbeat unless `options` says otherwise) after `setup(io)`. */
export async function startIo(
  options: ServerOptions,
  setup: (io: Server) => void = () => {},
): Promise<{ io: Server; server: Running }> {
  const io = new Server({ pingInterval: 5000, pingTimeout: 5000, ...options });
  setup(io);
  const server = await startServer(io);
  running.push(server);
  return { io, server };
}

/** A WebSocket session to the server, past its open packet. */
export async function connectRaw(wsUrl: string): Promise<TestSocket> {
  const ws = createWebSocket(`${wsUrl}/socket.io/?EIO=4&transport=websocket`);
  await ws.waitFor("message"); // open packet
  return ws;
}

/** Closes every raw socket and every server `startIo` started. */
export async function closeRawIo(): Promise<void> {
  closeAllWebSockets();
  for (const s of running.splice(0)) await s.close();
}
