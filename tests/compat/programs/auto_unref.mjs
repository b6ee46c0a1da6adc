// socket.io-client's autoUnref (https://socket.io/docs/v4/client-options/#autounref): a Node script
// whose only work left is a connected client exits by itself. The harness serves URL.
import { io } from "socket.io-client";

const socket = io(process.env.URL, { autoUnref: true });

// Something else keeps the script alive until it connects (the client alone would not).
const giveUp = setTimeout(() => console.log(JSON.stringify({ connected: false })), 5000);

socket.on("connect", () => {
  clearTimeout(giveUp);
  console.log(JSON.stringify({ connected: true, id: typeof socket.id }));
});
