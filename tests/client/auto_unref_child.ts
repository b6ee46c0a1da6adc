// A process whose only work is a connected client (the test for autoUnref spawns it on the
// runtime running the tests):
//
//   deno run -A | bun | node tests/client/auto_unref_child.ts URL TRANSPORTS_JSON [ref | v4]
//
// Holds itself up until the client is connected (and upgraded, with two transports), prints
// `connected over TRANSPORT`, then leaves only the client: with autoUnref (not with `ref`) the
// process exits by itself. `v4`: with `protocol: 4` (a socket.io 2 server).
import process from "node:process";
import { io } from "../../client.ts";

const [url, transports, mode] = process.argv.slice(2);
const list = JSON.parse(transports);
const socket = io(url, { autoUnref: mode !== "ref", transports: list, protocol: mode === "v4" ? 4 : 5 });
const keep = setInterval(() => {}, 1000);
socket.on("disconnect", (reason) => console.log("disconnect: " + reason));
socket.on("connect_error", (err) => console.log("connect_error: " + err.message));
let upgraded = list.length === 1;
const ready = () => {
  if (!socket.connected || !upgraded) return;
  console.log("connected over " + socket.io.engine!.transport!.name);
  clearInterval(keep);
};
socket.on("connect", ready);
socket.io.engine!.once("upgrade", () => {
  upgraded = true;
  ready();
});
