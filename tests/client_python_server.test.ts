// The client suite against python-socketio 5 (AsyncServer on aiohttp, tests/client/python_server.py).
import { spawnServer } from "./client/_spawn.ts";
import { clientSuite } from "./client/_suite.ts";

clientSuite({
  name: "python-socketio 5 (aiohttp)",
  start: () => spawnServer("/usr/bin/python3", (port) => ["tests/client/python_server.py", String(port)]),
});
