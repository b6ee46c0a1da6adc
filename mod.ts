/**
 * A Socket.IO v5 server and client in TypeScript, on web standards: one server for Deno, Bun, Node
 * and Cloudflare Workers, wire-compatible with socket.io 4.x and python-socketio 5.
 *
 * ```ts ignore
 * import { Server } from "./mod.ts";
 * const io = new Server();
 * io.on("connection", (socket) => socket.emit("welcome"));
 * Deno.serve(io.handler());
 * ```
 *
 * @module
 */

export * from "./server.ts";
