/**
 * The server side of the Socket.IO Admin UI (`@socket.io/admin-ui`, https://admin.socket.io):
 * {@linkcode instrument} opens the `/admin` namespace and speaks the UI's protocol — `config`,
 * `server_stats` every 2 s, `all_sockets`, `socket_connected`, `socket_updated`,
 * `socket_disconnected`, `room_joined`, `room_left`, `event_received`, `event_sent`, and the
 * actions `emit`, `join`, `leave` and `_disconnect` (unless `readonly`), with optional basic
 * authentication against a bcrypt hash.
 *
 * @example
 * ```ts
 * import { serve, Server } from "../../server.ts"; // "@sio/socket.io/server"
 * import { instrument } from "./mod.ts"; // "@sio/socket.io/admin"
 * const io = new Server({ cors: { origin: "https://admin.socket.io", credentials: true } });
 * instrument(io, { auth: { type: "basic", username: "admin", password: "$2b$10$..." } });
 * await serve(io, { port: 3000 }); // on Deno, Bun or Node
 * ```
 *
 * @module
 */

import type { Server } from "../io/server.ts";
import type { Namespace } from "../io/namespace.ts";
import type { Socket } from "../io/socket.ts";
import type { EngineSocket } from "../engine/socket.ts";
import { Adapter, InMemoryAdapter } from "../io/adapter.ts";
import { SessionAwareAdapter } from "../io/recovery.ts";
import { utf8Length } from "../util/utf8_length.ts";
import { processId, unrefTimer } from "../util/platform.ts";

/**
 * Basic authentication: the UI's login form sends `username` and `password`; `password` here is a
 * bcrypt hash of the expected password.
 *
 * @example
 * ```ts
 * import type { BasicAuth } from "./mod.ts";
 * const auth: BasicAuth = { type: "basic", username: "admin", password: "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS" };
 * ```
 */
export interface BasicAuth {
  /** Always `"basic"`. */
  type: "basic";
  /** The expected user name. */
  username: string;
  /** A bcrypt hash of the expected password. */
  password: string;
}

/**
 * Where the sessions of logged-in admins are kept (so that a reconnecting UI need not log in again).
 *
 * @example
 * ```ts
 * import { InMemoryStore, type AdminSessionStore } from "./mod.ts";
 * const store: AdminSessionStore = new InMemoryStore();
 * ```
 */
export interface AdminSessionStore {
  /** Whether `sessionId` belongs to a logged-in admin. */
  doesSessionExist(sessionId: string): Promise<boolean>;
  /** Remembers a new session. */
  saveSession(sessionId: string): void | Promise<void>;
}

/**
 * Sessions kept in this process's memory (the default store).
 *
 * @example
 * ```ts
 * import { InMemoryStore } from "./mod.ts";
 * const store = new InMemoryStore();
 * store.saveSession("abc");
 * await store.doesSessionExist("abc"); // true
 * ```
 */
export class InMemoryStore implements AdminSessionStore {
  #sessions: Set<string> = new Set();

  /** Whether `sessionId` was saved. */
  doesSessionExist(sessionId: string): Promise<boolean> {
    return Promise.resolve(this.#sessions.has(sessionId));
  }

  /** Saves `sessionId`. */
  saveSession(sessionId: string): void {
    this.#sessions.add(sessionId);
  }
}

/**
 * Options of {@linkcode instrument}.
 *
 * @example
 * ```ts
 * import type { InstrumentOptions } from "./mod.ts";
 * const options: InstrumentOptions = { auth: false, mode: "production", readonly: true };
 * ```
 */
export interface InstrumentOptions {
  /** Basic authentication, or `false` for none (must be given: no default, as in socket.io). */
  auth: BasicAuth | false;
  /** The namespace the UI connects to (default `/admin`). */
  namespaceName?: string;
  /** Only observe: no emit, join, leave or disconnect from the UI (default `false`). */
  readonly?: boolean;
  /** This server's id in the UI (default: a random one per process). */
  serverId?: string;
  /**
   * `development` (default) also sends every socket and every event to the UI; `production` only
   * aggregated statistics.
   */
  mode?: "development" | "production";
  /** Where admin sessions are kept (default: an {@linkcode InMemoryStore}). */
  store?: AdminSessionStore;
  /** Milliseconds between two `server_stats` (default 2000, as socket.io). */
  statsInterval?: number;
}

/**
 * What {@linkcode instrument} returns: a way to stop the statistics timer.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { instrument } from "./mod.ts";
 * const admin = instrument(new Server(), { auth: false });
 * admin.close();
 * ```
 */
export interface Instrumentation {
  /** The admin namespace. */
  namespace: Namespace;
  /**
   * Stops the statistics and the per-event messages and takes the server's hooks off (the
   * namespace stays).
   */
  close(): void;
}

/** The features the UI enables, as `@socket.io/admin-ui` names them. */
const Feature = {
  EMIT: "EMIT",
  JOIN: "JOIN",
  LEAVE: "LEAVE",
  DISCONNECT: "DISCONNECT",
  MJOIN: "MJOIN",
  MLEAVE: "MLEAVE",
  MDISCONNECT: "MDISCONNECT",
  AGGREGATED_EVENTS: "AGGREGATED_EVENTS",
  ALL_EVENTS: "ALL_EVENTS",
} as const;

const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * A server of any event types, as {@linkcode instrument} takes it.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import type { InstrumentedServer } from "./mod.ts";
 * interface MyEvents {
 *   hello: (name: string) => void;
 * }
 * const server: InstrumentedServer = new Server<MyEvents>();
 * ```
 */
// deno-lint-ignore no-explicit-any
export type InstrumentedServer = Server<any, any, any, any>;
type AnyServer = InstrumentedServer;
// deno-lint-ignore no-explicit-any
type AnyNamespace = Namespace<any, any, any, any>;
// deno-lint-ignore no-explicit-any
type AnySocket = Socket<any, any, any, any>;

/** 16 hex characters (64 bits), the shape of @socket.io/admin-ui's session and server ids. */
function hexId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `value` is a plain object or an array: the only values whose writes are watched. */
function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Counters per second and type, as the UI's charts want them. */
class EventBuffer {
  #buffer: Map<string, { timestamp: number; type: string; subType?: string; count: number }> = new Map();

  push(type: string, subType?: string, count = 1): void {
    const timestamp = Math.floor(Date.now() / 1000) * 1000;
    const key = `${timestamp};${type};${subType}`;
    const entry = this.#buffer.get(key);
    if (entry) entry.count += count;
    else this.#buffer.set(key, { timestamp, type, subType, count });
  }

  drain(): Array<{ timestamp: number; type: string; subType?: string; count: number }> {
    const values = [...this.#buffer.values()];
    this.#buffer.clear();
    return values;
  }
}

/** `socket.data` without the UI's own `_admin` part. */
function serializeData(data: unknown): Record<string, unknown> {
  if (!data || typeof data !== "object") return {};
  const { _admin: _, ...rest } = data as Record<string, unknown>;
  return rest;
}

interface SocketLike {
  id: string;
  data: unknown;
  handshake: AnySocket["handshake"];
  rooms: Set<string>;
}

function serialize(
  socket: SocketLike,
  nsp: string,
  own?: { clientId: string; transport: string },
): Record<string, unknown> {
  const admin = own ?? (socket.data as { _admin?: { clientId?: string; transport?: string } } | undefined)?._admin;
  const headers = socket.handshake.headers;
  return {
    id: socket.id,
    clientId: admin?.clientId,
    transport: admin?.transport,
    nsp,
    data: serializeData(socket.data),
    handshake: {
      address: headers["cf-connecting-ip"] || headers["x-forwarded-for"] || socket.handshake.address,
      headers,
      query: socket.handshake.query,
      issued: socket.handshake.issued,
      secure: socket.handshake.secure,
      time: socket.handshake.time,
      url: socket.handshake.url,
      xdomain: socket.handshake.xdomain,
    },
    rooms: [...socket.rooms],
  };
}

async function fetchAllSockets(io: AnyServer): Promise<Record<string, unknown>[]> {
  const lists = await Promise.all(
    [...io._nsps.values()].map(async (nsp) =>
      (await nsp.fetchSockets()).map((socket) => serialize(socket as unknown as SocketLike, nsp.name))
    ),
  );
  return lists.flat();
}

function initAuth(nsp: AnyNamespace, auth: BasicAuth | false | undefined, store: AdminSessionStore): void {
  if (auth === undefined) throw new Error("The `auth` option must be given, or explicitly set to `false`");
  if (auth === false) return;
  if (auth?.type !== "basic") throw new Error('Invalid `auth` option: expected `false` or `{ type: "basic", ... }`');
  if (typeof auth.password !== "string" || !BCRYPT_HASH.test(auth.password)) {
    throw new Error("The `password` field must be a valid bcrypt hash");
  }
  nsp.use(async (socket, next) => {
    try {
      const given = socket.handshake.auth as { sessionId?: unknown; username?: unknown; password?: unknown };
      if (typeof given.sessionId === "string" && await store.doesSessionExist(given.sessionId)) return next();
      if (given.username === auth.username && typeof given.password === "string") {
        const { compare } = await import("bcryptjs");
        if (await compare(given.password, auth.password)) {
          const sessionId = hexId();
          await store.saveSession(sessionId);
          socket.emit("session", sessionId);
          return next();
        }
      }
      next(new Error("invalid credentials"));
    } catch (err) {
      next(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

function registerActions(io: AnyServer, socket: AnySocket): void {
  const target = (nsp: string, filter: unknown) =>
    typeof filter === "string" || Array.isArray(filter) ? io.of(nsp).in(filter as string | string[]) : io.of(nsp);
  socket.on("emit", (nsp: string, filter: unknown, event: string, ...args: unknown[]) => {
    target(nsp, filter).emit(event, ...args);
  });
  socket.on("join", (nsp: string, room: string, filter: unknown) => target(nsp, filter).socketsJoin(room));
  socket.on("leave", (nsp: string, room: string, filter: unknown) => target(nsp, filter).socketsLeave(room));
  socket.on("_disconnect", (nsp: string, close: boolean, filter: unknown) => {
    target(nsp, filter).disconnectSockets(close === true);
  });
}

/** Hooks removed by {@linkcode Instrumentation.close}. */
type Disposers = Array<() => void>;

function watchNamespace(admin: AnyNamespace, nsp: AnyNamespace, watched: () => boolean, disposers: Disposers): void {
  const onConnection = (socket: AnySocket) => {
    const conn = socket.client.conn;
    const update = () => {
      if (!watched()) return;
      try {
        admin.emit("socket_updated", { id: socket.id, nsp: nsp.name, data: serializeData(socket.data) });
      } catch (err) {
        // Data that cannot be sent (a cycle): the UI misses this update; the user's write stands.
        console.error("[socket.io admin] cannot send the socket's data:", err);
      }
    };
    // `socket.data` changes show in the UI: writes to it and to the plain objects and arrays in it
    // are watched (as socket.io's). The object itself is kept (the proxy writes through to it);
    // Maps, Sets, Dates and class instances are left alone (a proxy breaks their methods).
    // One proxy per object, made on first read: `data.user === data.user`, no allocation per read.
    const proxies = new WeakMap<object, unknown>();
    const handler: ProxyHandler<Record<string, unknown>> = {
      get(target, key) {
        return watch(target[key as string]);
      },
      set(target, key, v) {
        target[key as string] = v;
        update();
        return true;
      },
      deleteProperty(target, key) {
        delete target[key as string];
        update();
        return true;
      },
    };
    const watch = (value: unknown): unknown => {
      if (!isPlain(value)) return value;
      let proxy = proxies.get(value);
      if (proxy === undefined) proxies.set(value, proxy = new Proxy(value, handler));
      return proxy;
    };
    const admin_: { clientId: string; transport: string } = {
      clientId: socket.client.id.slice(0, 12),
      transport: conn.transportName,
    };
    if (socket.data === undefined || socket.data === null) socket.data = {};
    if (isPlain(socket.data)) {
      (socket.data as Record<string, unknown>)._admin = admin_;
      socket.data = watch(socket.data);
    }
    if (watched()) admin.emit("socket_connected", serialize(socket, nsp.name, admin_), new Date());
    const onUpgrade = ({ name: transport }: { name: string }) => {
      admin_.transport = transport;
      if (watched()) admin.emit("socket_updated", { id: socket.id, nsp: nsp.name, transport });
    };
    conn.on("upgrade", onUpgrade);
    if (nsp !== admin) {
      socket.onAny((...args: unknown[]) => {
        if (!watched()) return;
        if (typeof args[args.length - 1] === "function") args = args.slice(0, -1);
        admin.emit("event_received", nsp.name, socket.id, args, new Date());
      });
      socket.onAnyOutgoing((...args: unknown[]) => {
        if (watched()) admin.emit("event_sent", nsp.name, socket.id, args, new Date());
      });
    }
    socket.on("disconnect", (reason: string) => {
      conn.off("upgrade", onUpgrade);
      if (watched()) admin.emit("socket_disconnected", nsp.name, socket.id, reason, new Date());
    });
  };
  const onJoin = (room: string, id: string) => {
    if (watched()) admin.emit("room_joined", nsp.name, room, id, new Date());
  };
  const onLeave = (room: string, id: string) => {
    // After the leave is done (socket.io waits a tick too).
    if (watched()) queueMicrotask(() => admin.emit("room_left", nsp.name, room, id, new Date()));
  };
  nsp.on("connection", onConnection);
  nsp.adapter.on("join-room", onJoin);
  nsp.adapter.on("leave-room", onLeave);
  disposers.push(() => {
    nsp.off("connection", onConnection);
    nsp.adapter.off("join-room", onJoin);
    nsp.adapter.off("leave-room", onLeave);
  });
}

/**
 * Opens the admin namespace of `io` for the Socket.IO Admin UI (`@socket.io/admin-ui` 0.5).
 * Throws when `auth` is missing or its password is not a bcrypt hash.
 *
 * @example
 * ```ts
 * import { Server } from "../../server.ts";
 * import { instrument } from "./mod.ts";
 * const io = new Server({ cors: { origin: ["https://admin.socket.io"], credentials: true } });
 * instrument(io, { auth: false, mode: "development" });
 * ```
 */
export function instrument(io: InstrumentedServer, options: InstrumentOptions): Instrumentation {
  const namespaceName = options.namespaceName ?? "/admin";
  const mode = options.mode ?? "development";
  const store = options.store ?? new InMemoryStore();
  const admin = io.of(namespaceName);
  initAuth(admin, options.auth, store);

  const features: string[] = options.readonly ? [] : [
    Feature.EMIT,
    Feature.JOIN,
    Feature.LEAVE,
    Feature.DISCONNECT,
    Feature.MJOIN,
    Feature.MLEAVE,
    Feature.MDISCONNECT,
  ];
  features.push(Feature.AGGREGATED_EVENTS);
  const development = mode === "development";
  if (development) features.push(Feature.ALL_EVENTS);

  admin.on("connection", async (socket: AnySocket) => {
    if (!options.readonly) registerActions(io, socket);
    socket.emit("config", { supportedFeatures: features });
    if (development) socket.emit("all_sockets", await fetchAllSockets(io));
  });

  // Engine statistics: connections, polling clients, packets and bytes each way.
  const events = new EventBuffer();
  const disposers: Disposers = [];
  let closed = false;
  // Per-event messages only while someone can read them: an admin connected here, or elsewhere in
  // a cluster (the in-memory adapter has no elsewhere). Without them a broadcast to N sockets was
  // encoded N more times for nobody.
  const kind = admin.adapter.constructor;
  const local = kind === Adapter || kind === InMemoryAdapter || kind === SessionAwareAdapter;
  const watched = () => !closed && (admin.sockets.size > 0 || !local);
  let pollingClients = 0;
  const onEngineConnection = (conn: EngineSocket) => {
    events.push("rawConnection");
    if (conn.transportName === "polling") {
      pollingClients++;
      let counted = true;
      const uncount = () => {
        if (counted) pollingClients--;
        counted = false;
      };
      conn.on("upgrade", uncount);
      conn.on("close", uncount);
    }
    conn.on("message", (data: string | Uint8Array) => {
      if (closed) return;
      events.push("packetsIn");
      events.push("bytesIn", undefined, utf8Length(data));
    });
    const write = conn.write;
    conn.write = function (data, writeOptions) {
      if (!closed) {
        events.push("packetsOut");
        events.push("bytesOut", undefined, utf8Length(data));
      }
      return write.call(this, data, writeOptions);
    };
    conn.on("close", (reason: string) => events.push("rawDisconnection", reason));
  };
  io.engine.on("connection", onEngineConnection);
  disposers.push(() => io.engine.off("connection", onEngineConnection));

  if (development) {
    for (const nsp of io._nsps.values()) watchNamespace(admin, nsp, watched, disposers);
    const onNamespace = (nsp: AnyNamespace) => watchNamespace(admin, nsp, watched, disposers);
    io.on("new_namespace", onNamespace);
    disposers.push(() => io.off("new_namespace", onNamespace));
  }

  const started = Date.now();
  const serverId = options.serverId ?? `sio-${hexId().slice(0, 8)}`;
  const emitStats = () => {
    admin.emit("server_stats", {
      serverId,
      hostname: options.serverId ?? serverId,
      pid: processId(),
      uptime: (Date.now() - started) / 1000,
      clientsCount: io.engine.clientsCount,
      pollingClientsCount: pollingClients,
      aggregatedEvents: events.drain(),
      namespaces: [...io._nsps.values()].map((nsp) => ({ name: nsp.name, socketsCount: nsp.sockets.size })),
    });
  };
  const timer = setInterval(emitStats, options.statsInterval ?? 2000);
  // Do not keep a process alive for the statistics alone.
  unrefTimer(timer);
  emitStats();
  return {
    namespace: admin,
    close() {
      closed = true;
      clearInterval(timer);
      for (const dispose of disposers.splice(0)) dispose();
      events.drain();
    },
  };
}
