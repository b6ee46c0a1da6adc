// CommonJS, as socket.io's docs show it: the module is a function of the HTTP server.
const { createServer } = require("node:http");

const httpServer = createServer();
const io = require("socket.io")(httpServer, { pingInterval: 10000 });
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");

io.on("connection", (socket) => {
  socket.on("ping", (callback) => callback("pong"));
});

httpServer.listen(process.env.PORT, async () => {
  const socket = connect(`http://localhost:${process.env.PORT}`);
  const reply = await socket.emitWithAck("ping");
  socket.disconnect();
  io.close();
  console.log(JSON.stringify({ isServer: io instanceof Server, reply }));
});
