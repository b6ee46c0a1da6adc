/**
 * Starts a handler on a free port of 127.0.0.1 on the runtime running the tests.
 * Deno for now; Bun, Node and workerd come with the runtimes issue.
 */

import type { ConnInfo, Upgrader } from "../src/runtime/types.ts";
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
export async function serve(handle: Handle, onClose?: () => unknown): Promise<Running> {
  if (g.Deno?.serve) {
    let port = 0;
    const ready = Promise.withResolvers<void>();
    const server = g.Deno.serve(
      {
        port: 0,
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
  throw new Error("not supported yet on this runtime");
}

/** Serves an io `Server` (anything with `handler({ upgrade })` and `close()`). */
export function startServer(
  io: {
    handler(options?: { upgrade?: Upgrader }): (request: Request, info?: ConnInfo) => Promise<Response>;
    close(): unknown;
  },
): Promise<Running> {
  const handler = io.handler({ upgrade: denoUpgrader });
  return serve((request, info) => handler(request, info), () => io.close());
}
