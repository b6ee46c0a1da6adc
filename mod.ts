/**
 * A Socket.IO v5 server and client in TypeScript, on web standards: one server for Deno, Bun, Node
 * and Cloudflare Workers, one fetch-based client for browsers and every one of those runtimes,
 * wire-compatible with socket.io 4.x and python-socketio 5.
 *
 * Everything from `server.ts`, and the client's entry points (the client's `Socket`, `Engine` and
 * `Transport` are exported here as `ClientSocket`, `ClientEngine` and `ClientTransport`; import
 * `client.ts` for their original names).
 *
 * ```ts
 * import { io, Server } from "./mod.ts";
 * const server = new Server();
 * server.on("connection", (socket) => socket.emit("welcome"));
 * const listener = Deno.serve({ port: 0, onListen() {} }, server.handler());
 * const socket = io(`http://localhost:${listener.addr.port}`);
 * socket.on("welcome", () => console.log("welcomed"));
 * ```
 *
 * @module
 */

export * from "./server.ts";
export {
  connect,
  ConnectionError,
  DisconnectedError,
  Engine as ClientEngine,
  io,
  Manager,
  SimpleClient,
  Socket as ClientSocket,
  TimeoutError,
  Transport as ClientTransport,
  TransportError,
} from "./client.ts";
export type { ClientOptions, ManagerOptions, SimpleClientOptions } from "./client.ts";
