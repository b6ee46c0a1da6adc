// socket.io's "Get started" chat (https://socket.io/docs/v4/tutorial/), server and clients as the
// tutorial writes them; the harness gives the port and reads the JSON line printed at the end.
import express from "express";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";

const app = express();
const server = createServer(app);
const io = new Server(server);

app.get("/", (_req, res) => {
  res.send("<h1>Hello world</h1>");
});

io.on("connection", (socket) => {
  socket.on("chat message", (msg) => {
    io.emit("chat message", msg);
  });
});

server.listen(process.env.PORT, async () => {
  const url = `http://localhost:${process.env.PORT}`;
  const page = await (await fetch(url)).text();
  const alice = connect(url);
  const bob = connect(url);
  await Promise.all([alice, bob].map((socket) => new Promise((resolve) => socket.on("connect", resolve))));
  const heard = (socket) => new Promise((resolve) => socket.once("chat message", resolve));
  const [toAlice, toBob] = await Promise.all([heard(alice), heard(bob), alice.emit("chat message", "hello")]);
  alice.disconnect();
  bob.disconnect();
  io.close();
  console.log(JSON.stringify({ page, toAlice, toBob }));
});
