/**
 * Starts a handler on a free port of 127.0.0.1 on the runtime running the tests: Deno.serve on Deno,
 * Bun.serve on Bun, node:http with `ws` on Node.
 */

import type { ConnInfo, Upgrader } from "../src/engine/websocket_like.ts";
import { denoConnInfo, denoUpgrader } from "../src/runtime/deno.ts";

/** A request handler in the engine's shape. */
export type Handle = (
  request: Request,
  info: ConnInfo,
  upgrade: Upgrader,
) => Promise<Response | undefined> | Response | undefined;

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

/** Serves `handle` on a free port. */
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
        const response = await handle(request, denoConnInfo(info as never), denoUpgrader);
        return response ?? new Response(null, { status: 500 });
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
  const { attachToNodeServer } = await import("../src/runtime/node.ts");
  const server = createServer();
  const detach = attachToNodeServer(server, handle, { matches: () => true });
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

/** Serves an io `Server` (anything with `handler({ upgrade })` and `close()`). */
export function startServer(
  io: {
    handler(options?: { upgrade?: Upgrader }): (request: Request, info?: ConnInfo) => Promise<Response>;
    close(): unknown;
  },
): Promise<Running> {
  return serve((request, info, upgrade) => io.handler({ upgrade })(request, info), () => io.close());
}
