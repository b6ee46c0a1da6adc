/**
 * Small helpers for the client tests: waits with deadlines (a test fails instead of hanging) and a
 * registry of sockets closed after each test.
 *
 * @module
 */
import { io } from "../../client.ts";
import type { ClientOptions, Socket } from "../../client.ts";

import { deadline } from "../_helpers.ts";

export { deadline, sleep } from "../_helpers.ts";

interface Listenable {
  // deno-lint-ignore no-explicit-any
  once(event: any, listener: (...args: any[]) => void): unknown;
}

/** The arguments of the next `event` of `emitter`. */
// deno-lint-ignore no-explicit-any
export function next(emitter: Listenable, event: string, ms = 4000): Promise<any[]> {
  return deadline(new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args))), ms, event);
}

const open: Socket[] = [];

/** Options that make reconnection fast and deterministic in tests. */
export const FAST: ClientOptions = {
  forceNew: true,
  reconnectionDelay: 50,
  reconnectionDelayMax: 200,
  randomizationFactor: 0,
  timeout: 3000,
};

/** `io(url, { ...FAST, ...opts })`, closed by {@linkcode closeAll}. */
export function connect(url: string, opts: ClientOptions = {}): Socket {
  const socket = io(url, { ...FAST, ...opts });
  open.push(socket);
  return socket;
}

/** Keeps `socket` for {@linkcode closeAll}. */
export function track<T extends Socket>(socket: T): T {
  open.push(socket as unknown as Socket);
  return socket;
}

/** Disconnects every tracked socket and closes its Manager. */
export function closeAll(): void {
  for (const socket of open.splice(0)) {
    socket.disconnect();
    socket.io.disconnect();
  }
}

/** Resolves once `socket` is connected. */
export async function connected(socket: Socket, ms = 4000): Promise<void> {
  if (!socket.connected) await next(socket, "connect", ms);
}
