// The Node reference in the mixed cluster: socket.io 4.8 with @socket.io/redis-adapter 8 (node-redis
// clients; classic or sharded) or @socket.io/redis-streams-adapter, the same scenarios as
// _scenarios.ts.
//
//   node tests/adapters/node_cluster_server.mjs PORT REDIS_URL NAME [--adapter=classic|sharded|streams|heartbeat] [--recovery]
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import { ClusterAdapterWithHeartbeat } from "socket.io-adapter";
import { decode, encode } from "@msgpack/msgpack";

/** The heartbeat test bus (tests/adapters/_heartbeat_bus.ts) on socket.io-adapter's own class. */
class HeartbeatBusAdapter extends ClusterAdapterWithHeartbeat {
  constructor(nsp, pub, sub) {
    super(nsp, { heartbeatInterval: 200, heartbeatTimeout: 1000 });
    this.pub = pub;
    this.channel = `hb#${nsp.name}#`;
    const handler = (payload) => {
      let message;
      try {
        message = decode(payload);
      } catch {
        return;
      }
      this.onMessage(message);
    };
    sub.subscribe([this.channel, `${this.channel}${this.uid}#`], handler, true);
  }
  doPublish(message) {
    return this.pub.publish(this.channel, Buffer.from(encode(message))).then(() => "");
  }
  doPublishResponse(uid, response) {
    return this.pub.publish(`${this.channel}${uid}#`, Buffer.from(encode(response))).then(() => {});
  }
}

const [portArg, url, name = "node", ...flags] = process.argv.slice(2);
const kind = flags.find((f) => f.startsWith("--adapter="))?.slice("--adapter=".length) ?? "classic";
const pub = createClient({ url });
const sub = pub.duplicate();
pub.on("error", () => {});
sub.on("error", () => {});
await Promise.all([pub.connect(), sub.connect()]);
const adapter = kind === "sharded"
  ? createShardedAdapter(pub, sub)
  : kind === "streams"
  ? createStreamsAdapter(pub, { blockTimeInMs: 1000 })
  : kind === "heartbeat"
  ? function (nsp) {
    return new HeartbeatBusAdapter(nsp, pub, sub); // socket.io calls it with new
  }
  : createAdapter(pub, sub, { requestsTimeout: 1000 });
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  cors: { origin: "*" },
  adapter,
  connectionStateRecovery: flags.includes("--recovery") ? { maxDisconnectionDuration: 10000 } : undefined,
});
io.on("ping", (_from, cb) => cb(`pong from ${name}`));
io.on("connection", (socket) => {
  if (!socket.recovered) socket.data = { name };
  const room = socket.handshake.auth?.room;
  if (room && !socket.recovered) socket.join(room);
  socket.emit("hello", name);
  socket.on("broadcast", (...args) => io.emit("broadcast-back", ...args));
  socket.on("broadcast-acked", (...args) => {
    const ack = args.pop();
    io.emit("broadcast-back", ...args);
    ack(true);
  });
  socket.on("drop", () => socket.conn.close());
  socket.on("to-room", (room, ...args) => io.to(room).emit("room-back", ...args));
  socket.on("except-room", (room, ...args) => io.except(room).emit("except-back", ...args));
  socket.on("fetch", async (ack) => {
    const sockets = await io.fetchSockets();
    ack(
      sockets.map((s) => ({ id: s.id, name: s.data.name, rooms: [...s.rooms].sort() }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
  });
  socket.on("sse", (ack) => {
    io.serverSideEmit(
      "ping",
      name,
      (err, responses) => ack({ err: err ? err.message : null, responses: [...responses].sort() }),
    );
  });
  socket.on("ask-all", (ack) => {
    io.timeout(2000).emit(
      "question",
      (err, responses) => ack({ err: err ? err.message : null, responses: [...responses].sort() }),
    );
  });
  socket.on("disconnect-room", (room, ack) => {
    io.in(room).disconnectSockets();
    ack(true);
  });
  socket.on("join-all", (room, ack) => {
    io.socketsJoin(room);
    ack(true);
  });
  socket.on("leave-all", (room, ack) => {
    io.socketsLeave(room);
    ack(true);
  });
  socket.on(
    "whoami",
    (ack) => ack({ id: socket.id, name, recovered: socket.recovered, rooms: [...socket.rooms].sort() }),
  );
});
httpServer.listen(Number(portArg), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});
function stop() {
  io.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
