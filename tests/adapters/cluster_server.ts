/**
 * One of our servers in a Redis cluster, for the cluster tests, on whichever runtime runs it:
 *
 *   deno run -A tests/adapters/cluster_server.ts PORT REDIS_URL NAME [--recovery]
 *     [--adapter=classic|sharded|streams] [--ioredis]
 *   bun run tests/adapters/cluster_server.ts ...      node tests/adapters/cluster_server.ts ...
 *
 * Prints `listening on http://127.0.0.1:PORT`; exits on SIGTERM. Scenarios: _scenarios.ts.
 *
 * @module
 */
import process from "node:process";
import { Server } from "../../server.ts";
import { serve } from "../_server.ts";
import { type AdapterKind, adapterOf, ioredisClient, redisClient } from "./_redis.ts";
import { installScenarios } from "./_scenarios.ts";

const [portArg, url, name = "ours", ...flags] = process.argv.slice(2);
const kind = (flags.find((f) => f.startsWith("--adapter="))?.slice("--adapter=".length) ?? "classic") as AdapterKind;
const connect = flags.includes("--ioredis") ? ioredisClient : redisClient;
const pub = await connect(url);
const sub = await connect(url);
const io = new Server({
  pingInterval: 300,
  pingTimeout: 200,
  cors: { origin: "*" },
  adapter: adapterOf(kind, pub, sub),
  connectionStateRecovery: flags.includes("--recovery") ? { maxDisconnectionDuration: 10000 } : undefined,
});
installScenarios(io, name);
const server = await serve(
  (request, options) => io.handle(request, options),
  () => io.close(),
  Number(portArg),
);
console.log(`listening on ${server.url}`);

function stop(): void {
  setTimeout(() => process.exit(0), 300);
  server.close().finally(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
