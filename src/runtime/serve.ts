/**
 * One `serve(io, { port })` for every runtime that can listen: Deno (`Deno.serve`), Bun
 * (`Bun.serve` with its native WebSocket) and Node (`node:http` with `ws`). Workers do not listen:
 * host the server in a Durable Object.
 *
 * @module
 */

import { detectRuntime, nodeBuiltinModule } from "../util/platform.ts";
import { bunOptions } from "./bun.ts";
import { denoUpgrader } from "./deno.ts";
import type { Server } from "./server.ts";
import { type NodeHttpServer, stopNodeServer } from "./node_http.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** Port (default 3000; 0 picks a free one). */
  port?: number;
  /** Interface (default `0.0.0.0`). */
  hostname?: string;
  /** Answers requests outside the server's path (default 404). Deno and Bun; on Node, `io.attach` to your own server instead. */
  fallback?: (request: Request) => Response | Promise<Response>;
}

/** A listening server. */
export interface Listening {
  /** The runtime it runs on. */
  runtime: "deno" | "bun" | "node";
  /** The port it listens on. */
  port: number;
  /** The interface it listens on. */
  hostname: string;
  /** Stops listening (`io.close()` does this too, after closing every session). */
  stop(): Promise<void>;
}

type ServeGlobals = {
  Deno?: {
    serve(
      options: { port: number; hostname: string; onListen(addr: { port: number }): void },
      handler: (request: Request, info: { remoteAddr?: { hostname: string; port: number } }) => Promise<Response>,
    ): { shutdown(): Promise<void> };
  };
  Bun?: {
    serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): Promise<void> | void };
  };
};

/**
 * Serves `io` on this runtime; resolves once it listens. `io.close()` closes every session, then
 * stops listening.
 *
 * @example
 * ```ts
 * import { serve, Server } from "../../server.ts";
 * const io = new Server();
 * const { port } = await serve(io, { port: 0, hostname: "127.0.0.1" });
 * await io.close(); // closes every session, then stops listening
 * ```
 */
// deno-lint-ignore no-explicit-any
export async function serve(io: Server<any, any, any, any>, options: ServeOptions = {}): Promise<Listening> {
  const port = options.port ?? 3000;
  const hostname = options.hostname ?? "0.0.0.0";
  const fallback = options.fallback;
  const g = globalThis as ServeGlobals;
  const runtime = detectRuntime();

  if (runtime === "deno" && g.Deno) {
    let bound = port;
    const ready = Promise.withResolvers<void>();
    const handler = io.handler({ upgrade: denoUpgrader, fallback });
    const server = g.Deno.serve({
      port,
      hostname,
      onListen(addr) {
        bound = addr.port;
        ready.resolve();
      },
    }, async (request, info) => (await handler(request, info)) ?? new Response(null, { status: 500 }));
    await ready.promise;
    return listening(io, "deno", bound, hostname, () => server.shutdown());
  }

  if (runtime === "bun" && g.Bun) {
    const server = g.Bun.serve({ port, hostname, ...bunOptions(io, { fallback }) });
    // Graceful first (the last poll answers are still being written), forced after a grace period.
    return listening(io, "bun", server.port, hostname, () => {
      const timer = setTimeout(() => server.stop(true), 1000);
      return Promise.resolve(server.stop(false)).finally(() => clearTimeout(timer));
    });
  }

  if (runtime === "node") {
    // From the runtime, not an import: bundles for other runtimes (Workers) need no node:http.
    const http = nodeBuiltinModule("http") as { createServer(): NodeHttpServer };
    const server = http.createServer();
    io.attach(server); // io.close() stops it from now on
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, hostname, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    const bound = typeof address === "object" && address !== null ? address.port : port;
    let stopped: Promise<void> | undefined;
    const stop = () => stopped ??= stopNodeServer(server).then(() => {});
    return { runtime: "node", port: bound, hostname, stop };
  }

  throw new Error(`serve() cannot listen on ${runtime}: on Workers, host the server in a Durable Object`);
}

function listening(
  // deno-lint-ignore no-explicit-any
  io: Server<any, any, any, any>,
  runtime: Listening["runtime"],
  port: number,
  hostname: string,
  close: () => unknown,
): Listening {
  let stopped: Promise<void> | undefined;
  const stop = () => stopped ??= Promise.resolve(close()).then(() => {});
  io._onClose(stop);
  return { runtime, port, hostname, stop };
}
