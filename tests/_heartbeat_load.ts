/**
 * The load of issue 19, for the heartbeat tests and `bench/heartbeat_lateness.ts`: N clients of
 * socket.io-client 4.8 from npm (default transports: polling, then the upgrade to WebSocket)
 * connect to the fixture at once and each emits M `message` events, which the fixture echoes as
 * `message-back`; the clients then stay connected through a whole heartbeat (pingInterval +
 * pingTimeout and a little more) and leave. Records why clients were disconnected and, for every
 * ping a client received, how late it came: the time since the client's previous ping (or since
 * its handshake, for the first) minus pingInterval, 0 when it came early. Only node: built-ins and
 * socket.io-client, so it runs under deno test, bun test and node --test.
 *
 * @module
 */
import { io, type Socket } from "socket.io-client";

/** What one run of {@linkcode heartbeatLoadRun} saw. */
export interface HeartbeatLoadResult {
  /** Disconnections the clients did not ask for, by reason (`ping timeout`, `transport close`...). */
  disconnects: Record<string, number>;
  /** Connection errors (a client that never connected). */
  connectErrors: number;
  /** `message-back` events received, of clients x messages. */
  echoed: number;
  /** Clients that ended on WebSocket (after the upgrade). */
  upgraded: number;
  /** Pings the clients received. */
  pings: number;
  /** For every ping: how many ms past its schedule it came (0: on time or early). */
  lateness: number[];
  /** How long the run took, in ms. */
  ms: number;
}

/** Options of {@linkcode heartbeatLoadRun}. */
export interface HeartbeatLoadOptions {
  /** Clients (default 50). */
  clients?: number;
  /** `message` events per client (default 20). */
  messages?: number;
  /** The server's pingInterval (default 300, the fixture's). */
  pingInterval?: number;
  /** How long the clients stay after the last echo (default 600 ms: pingInterval + pingTimeout + 100). */
  holdMs?: number;
  /** Gives up waiting for the echoes after this long (default 10 s). */
  timeoutMs?: number;
}

/** One run of the load against `url` (the fixture's `http://127.0.0.1:PORT`). */
export async function heartbeatLoadRun(url: string, options: HeartbeatLoadOptions = {}): Promise<HeartbeatLoadResult> {
  const { clients = 50, messages = 20, pingInterval = 300, holdMs = 600, timeoutMs = 10_000 } = options;
  const started = performance.now();
  const result: HeartbeatLoadResult = {
    disconnects: {},
    connectErrors: 0,
    echoed: 0,
    upgraded: 0,
    pings: 0,
    lateness: [],
    ms: 0,
  };
  const sockets: Socket[] = [];
  let settled = 0; // clients that got every echo back, or that are gone
  const done = Promise.withResolvers<void>();
  const settle = () => {
    if (++settled === clients) done.resolve();
  };
  for (let i = 0; i < clients; i++) {
    const socket = io(url, { forceNew: true, reconnection: false, timeout: timeoutMs });
    sockets.push(socket);
    let last = 0;
    let backs = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      settle();
    };
    socket.io.on("open", () => (last = performance.now()));
    socket.io.on("ping", () => {
      const now = performance.now();
      result.pings++;
      result.lateness.push(Math.max(0, now - last - pingInterval));
      last = now;
    });
    socket.on("connect", () => {
      for (let m = 0; m < messages; m++) socket.emit("message", m);
    });
    socket.on("message-back", () => {
      result.echoed++;
      if (++backs === messages) finish();
    });
    socket.on("disconnect", (reason: string) => {
      if (reason !== "io client disconnect") result.disconnects[reason] = (result.disconnects[reason] ?? 0) + 1;
      finish();
    });
    socket.on("connect_error", () => {
      result.connectErrors++;
      finish();
    });
  }
  const timer = setTimeout(() => done.resolve(), timeoutMs);
  await done.promise;
  clearTimeout(timer);
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  for (const socket of sockets) {
    if (socket.io.engine?.transport?.name === "websocket") result.upgraded++;
    socket.disconnect();
  }
  result.ms = performance.now() - started;
  return result;
}

/** The `q` quantile (0..1) of `values`, sorted in place. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))];
}

/**
 * Runs the load once against `url` and fails unless no client was dropped, every echo came back,
 * every client was pinged (the heartbeat ran) and every client upgraded.
 */
export async function assertHeartbeatsHeld(url: string, options: HeartbeatLoadOptions = {}): Promise<void> {
  const clients = options.clients ?? 50;
  const messages = options.messages ?? 20;
  const r = await heartbeatLoadRun(url, options);
  const dropped = Object.entries(r.disconnects).map(([reason, n]) => `${n} x ${reason}`);
  if (dropped.length > 0 || r.connectErrors > 0 || r.echoed !== clients * messages) {
    throw new Error(
      `clients dropped under load: ${dropped.join(", ") || "no disconnect"}, ${r.connectErrors} connect errors, ` +
        `${r.echoed}/${clients * messages} echoes`,
    );
  }
  // Each client stays more than pingInterval + pingTimeout: at least one ping each.
  if (r.pings < clients) throw new Error(`only ${r.pings} pings for ${clients} clients`);
  if (r.upgraded < clients) throw new Error(`only ${r.upgraded} of ${clients} clients upgraded`);
}
