/**
 * A tiny round-robin TCP proxy on 127.0.0.1: each new connection goes to the next backend in turn
 * (a WebSocket is one connection, so each reconnection lands on the next server).
 *
 * @module
 */
import { connect, createServer, type Socket } from "node:net";

/** A running proxy. */
export interface Proxy {
  url: string;
  /** How many connections went to each backend. */
  counts: number[];
  close(): Promise<void>;
}

/** Starts a proxy in front of `ports`. */
export function startProxy(ports: number[]): Promise<Proxy> {
  let next = 0;
  const counts = ports.map(() => 0);
  const open = new Set<Socket>();
  const server = createServer((downstream) => {
    const i = next++ % ports.length;
    counts[i]++;
    const upstream = connect(ports[i], "127.0.0.1");
    open.add(downstream);
    open.add(upstream);
    const closeBoth = () => {
      downstream.destroy();
      upstream.destroy();
      open.delete(downstream);
      open.delete(upstream);
    };
    downstream.on("error", closeBoth).on("close", closeBoth);
    upstream.on("error", closeBoth).on("close", closeBoth);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        counts,
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
