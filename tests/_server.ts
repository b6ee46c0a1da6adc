/**
 * Starts a handler on a free port of 127.0.0.1 on the runtime running the tests: Deno.serve on Deno,
 * Bun.serve on Bun, node:http with `ws` on Node.
 */

import type { Handle } from "../src/engine/exchange.ts";
import { toWebResponse, WebEngineRequest } from "../src/engine/web_exchange.ts";
import { denoConnInfo, denoUpgrader } from "../src/runtime/deno.ts";

export type { Handle };

/** A running test server. */
export interface Running {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT` */
  wsUrl: string;
  /** Port. */
  port: number;
  /** Stops listening (and runs `onClose` first, if given). */
  close(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** Serves `handle` (in the engine's terms: `io.handle`, `engine.handle`) on a free port. */
export async function serve(handle: Handle, onClose?: () => unknown, listenPort = 0): Promise<Running> {
  if (g.Deno?.serve) {
    let port = 0;
    const ready = Promise.withResolvers<void>();
    const server = g.Deno.serve(
      {
        port: listenPort,
        hostname: "127.0.0.1",
        onListen(addr: { port: number }) {
          port = addr.port;
          ready.resolve();
        },
      },
      async (request: Request, info: unknown) => {
        const engineRequest = new WebEngineRequest(request, denoConnInfo(info as never));
        const response = await handle(engineRequest, { upgrade: denoUpgrader });
        return response === undefined ? new Response(null, { status: 500 }) : toWebResponse(response);
      },
    );
    await ready.promise;
    return {
      url: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}`,
      port,
      async close() {
        await onClose?.();
        await server.shutdown();
      },
    };
  }
  if (g.Bun?.serve) {
    const { bunServeOptions } = await import("../src/runtime/bun.ts");
    const server = g.Bun.serve({ port: listenPort, hostname: "127.0.0.1", ...bunServeOptions(handle) });
    const port = server.port as number;
    return {
      url: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}`,
      port,
      async close() {
        await onClose?.();
        server.stop(true);
      },
    };
  }
  const { createServer } = await import("node:http");
  const { attachToNodeServer } = await import("../src/runtime/node_http.ts");
  const server = createServer();
  const detach = attachToNodeServer(server, handle);
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    async close() {
      await onClose?.();
      detach();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves an io `Server` (through `io.handle`, as every runtime shim does). */
export function startServer(
  io: { handle: Handle; close(): unknown },
): Promise<Running> {
  return serve((request, options) => io.handle(request, options), () => io.close());
}

/** Hands a web `Request` straight to `handle` (no network): its answer as a web `Response`. */
export async function answer(
  handle: { handle: Handle },
  request: Request,
  options?: Parameters<Handle>[1],
): Promise<Response> {
  const response = await handle.handle(new WebEngineRequest(request), options);
  if (response === undefined) throw new Error("no answer (the runtime took the request over)");
  return toWebResponse(response);
}
