/**
 * socket.io 4.8 on Node (its default `ws` WebSocket server), default options, on 127.0.0.1 and a
 * free port. Prints `listening on PORT`.
 *
 *   node bench/servers/socketio_node.mjs
 */

import { createServer } from "node:http";
import process from "node:process";
import { Server } from "socket.io";
import { announce, setupApp } from "./_app.ts";

const httpServer = createServer();
const io = new Server(httpServer);
setupApp(io);
httpServer.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => announce(httpServer.address().port));
