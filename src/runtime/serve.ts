/**
 * One `serve(io, { port })` for every runtime that can listen: Deno (`Deno.serve`), Bun
 * (`Bun.serve` with its native WebSocket) and Node (`node:http` with `ws`; import the Node entry
 * point first, as for `io.attach`). Workers do not listen: use the Durable Object host.
 *
 * @module
 */

import { detectRuntime } from "./auto.ts";
import { bunOptions } from "./bun.ts";
import { denoConnInfo, denoUpgrader } from "./deno.ts";
import { getAttacher } from "./attacher.ts";
import type { ConnInfo, Upgrader } from "../engine/websocket_like.ts";

/** What `serve` needs of an io server. */
export interface ServableServer {
  /** Its engine's options. */
  engine: { options: { maxHttpBufferSize: number } };
  /** Its request handler. */
  handler(options: {
    upgrade?: Upgrader;
    fallback?: (request: Request) => Response | Promise<Response>;
  }): (request: Request, info?: ConnInfo) => Promise<Response | undefined>;
  /** Answers one request (see `Server._handle`). */
  _handle(
    request: Request,
    info: ConnInfo | undefined,
    upgrade: Upgrader | undefined,
    fallback?: (request: Request) => Response | Promise<Response>,
  ): Promise<Response | undefined>;
  /** Registers what `close()` stops after the sessions. */
  _onClose(stop: () => unknown): void;
}

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** Port (default 3000; 0 picks a free one). */
  port?: number;
  /** Interface (default `0.0.0.0`). */
  hostname?: string;
  /** Answers requests outside the server's path (default 404). Deno and Bun; on Node, `attach` to your own server instead. */
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
      handler: (request: Request, info: unknown) => Promise<Response>,
    ): { shutdown(): Promise<void> };
  };
  Bun?: {
    serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): Promise<void> | void };
  };
};

/**
 * Serves `io` on this runtime; resolves once it listens.
 *
 * @example
 * ```ts ignore
 * import { Server, serve } from "./server.ts";
 * const io = new Server();
 * const { port } = await serve(io, { port: 3000 });
 * // later: await io.close(); // closes every session, then stops listening
 * ```
 */
export async function serve(io: ServableServer, options: ServeOptions = {}): Promise<Listening> {
  const port = options.port ?? 3000;
  const hostname = options.hostname ?? "0.0.0.0";
  const fallback = options.fallback;
  const g = globalThis as ServeGlobals;
  const runtime = detectRuntime();

  if (runtime === "deno" && g.Deno) {
    let bound = port;
    const ready = Promise.withResolvers<void>();
    const handle = io.handler({ upgrade: denoUpgrader, fallback });
    const server = g.Deno.serve({
      port,
      hostname,
      onListen(addr) {
        bound = addr.port;
        ready.resolve();
      },
    }, async (request, info) => {
      const response = await handle(request, denoConnInfo(info as never));
      return response ?? new Response(null, { status: 500 });
    });
    await ready.promise;
    return listening(io, "deno", bound, hostname, () => server.shutdown());
  }

  if (runtime === "bun" && g.Bun) {
    const server = g.Bun.serve({
      port,
      hostname,
      ...bunOptions(io, { fallback }),
    });
    // Graceful first (the last poll answers are still being written), forced after a grace period.
    return listening(io, "bun", server.port, hostname, () => {
      const timer = setTimeout(() => server.stop(true), 1000);
      return Promise.resolve(server.stop(false)).finally(() => clearTimeout(timer));
    });
  }

  if (runtime === "node") {
    const { listen } = getAttacher();
    if (!listen) throw new Error('serve() on Node needs the Node entry point: import "@sio/socket.io/node" first');
    const server = await listen(io, port, hostname) as { address(): { port: number } };
    // listen() registered the (graceful) stop with io.close() already.
    return listening(io, "node", server.address().port, hostname, () => {});
  }

  throw new Error(`serve() cannot listen on ${runtime}: on Workers, host the server in a Durable Object`);
}

function listening(
  io: ServableServer,
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
