// The client suite against our own server (src/io/server.ts) on Deno (tests/client/our_server.ts).
import { bin, spawnServer } from "./client/_spawn.ts";
import { clientSuite } from "./client/_suite.ts";

clientSuite({
  name: "our server (Deno)",
  recoveryPath: "/recovery",
  start: () => spawnServer(bin("deno"), (port) => ["run", "-A", "tests/client/our_server.ts", String(port)]),
});
