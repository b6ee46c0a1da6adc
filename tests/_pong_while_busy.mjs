// A raw Engine.IO v4 WebSocket client (Node, `ws`) whose pongs reach the server while its event
// loop is busy: on each ping it asks the server for a busy request (`BUSY_URL`, whose handler holds
// the server's loop past the pong deadline), and answers the ping 30 ms later, while the server is
// still busy. After PINGS pings it leaves.
//
//   node tests/_pong_while_busy.mjs WS_URL BUSY_URL PINGS
//
// Prints `ping` for every ping and `closed CODE` if the server closes the connection first.
import WebSocket from "ws";

const [url, busyUrl, pings = "2"] = process.argv.slice(2);
const ws = new WebSocket(url);
let count = 0;
ws.on("message", (data) => {
  if (String(data) !== "2") return;
  console.log("ping");
  if (++count > Number(pings)) {
    ws.close();
    return;
  }
  fetch(busyUrl).then((response) => response.arrayBuffer(), () => {});
  setTimeout(() => ws.readyState === WebSocket.OPEN && ws.send("3"), 30);
});
ws.on("close", (code) => {
  if (count <= Number(pings)) console.log(`closed ${code}`);
  process.exit(0);
});
