// The Redis adapter's sharded mode, as socket.io's docs set it up
// (https://socket.io/docs/v4/redis-adapter/#sharded-redis-pubsub): two servers (PORT, PORT2) on one
// Redis (REDIS_URL), a broadcast from one reaching the clients of both.
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import { createClient } from "redis";
import { createShardedAdapter } from "@socket.io/redis-adapter";

async function startServer(port) {
  const pubClient = createClient({ url: process.env.REDIS_URL });
  const subClient = pubClient.duplicate();

  await Promise.all([pubClient.connect(), subClient.connect()]);

  const io = new Server({
    adapter: createShardedAdapter(pubClient, subClient),
  });

  io.on("connection", (socket) => {
    socket.join("room1");
    socket.on("shout", (text) => io.to("room1").emit("heard", text, port));
  });

  io.listen(port);
  return { io, close: () => io.close().then(() => Promise.all([pubClient.quit(), subClient.quit()])) };
}

const ports = [Number(process.env.PORT), Number(process.env.PORT2)];
const servers = await Promise.all(ports.map(startServer));
const clients = ports.map((port) => connect(`http://localhost:${port}`));
await Promise.all(clients.map((socket) => new Promise((resolve) => socket.on("connect", resolve))));
const heard = clients.map((socket) => new Promise((resolve) => socket.once("heard", (...args) => resolve(args))));
// The sharded adapter subscribes to a room's channel as its first socket joins: shout until the
// other server has, and both clients heard it.
const shouting = setInterval(() => clients[0].emit("shout", "hello"), 50);
const results = await Promise.all(heard);
clearInterval(shouting);
for (const socket of clients) socket.disconnect();
await Promise.all(servers.map((server) => server.close()));
console.log(JSON.stringify({ heard: results.map(([text, port]) => [text, port === ports[0] ? "first" : "second"]) }));
