// The client suite against the real npm socket.io 4.8 server on Node (tests/client/node_server.mjs).
import { bin, spawnServer } from "./client/_spawn.ts";
import { clientSuite } from "./client/_suite.ts";

clientSuite({
  name: "socket.io 4.8 (Node)",
  recoveryPath: "/recovery",
  start: () => spawnServer(bin("node"), (port) => ["tests/client/node_server.mjs", String(port)]),
});
