// The msgpack parser of socket.io's docs ("Custom parser"): socket.io-msgpack-parser on both sides.
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import customParser from "socket.io-msgpack-parser";

const io = new Server(Number(process.env.PORT), { parser: customParser });

const kind = (value) =>
  Object.prototype.toString.call(value).slice(8, -1) + (Buffer.isBuffer(value) ? " (Buffer)" : "");

io.on("connection", (socket) => {
  socket.on("echo", (value, callback) => {
    callback({ ...value, serverGot: [kind(value.buffer), kind(value.arrayBuffer)] });
  });
});

const socket = connect(`http://localhost:${process.env.PORT}`, { parser: customParser });
const reply = await socket.emitWithAck("echo", {
  text: "hé",
  n: 42,
  buffer: Buffer.from([1, 2, 3]),
  arrayBuffer: new Uint8Array([4, 5]).buffer,
  date: new Date(0),
});
socket.disconnect();
io.close();
console.log(JSON.stringify({
  ...reply,
  buffer: [...new Uint8Array(reply.buffer)],
  arrayBuffer: [...new Uint8Array(reply.arrayBuffer)],
}));
