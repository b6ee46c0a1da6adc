/**
 * A connection's sockets as plain data: for each namespace the socket joined, its id, auth,
 * handshake time, rooms and `socket.data`, beside the engine's snapshot of the session. With it
 * `io.restoreConnection` carries an open connection on over the same WebSocket in another server
 * instance (a Durable Object that woke from hibernation, or one that takes sessions over).
 * Structured-clonable as long as `socket.data` and `auth` are; versioned; checked field by field
 * when read back ({@linkcode readConnectionSnapshot}).
 *
 * @module
 */

import { isPlainRecord, type SessionSnapshot } from "../engine/session_snapshot.ts";
import type { RestoredSession, RestoreSessionOptions } from "../engine/server.ts";
import type { WebSocketLike } from "../engine/websocket_like.ts";
import { Client, clientOf } from "./client.ts";
import type { AnyServer } from "./server.ts";
import type { Namespace } from "./namespace.ts";

/**
 * The version of {@linkcode ConnectionSnapshot} this code writes and reads.
 *
 * @example
 * ```ts
 * import { CONNECTION_SNAPSHOT_VERSION } from "./connection_snapshot.ts";
 * CONNECTION_SNAPSHOT_VERSION; // 1
 * ```
 */
export const CONNECTION_SNAPSHOT_VERSION = 1;

/**
 * One socket of a snapshotted connection.
 *
 * @example
 * ```ts
 * import type { SocketSnapshot } from "./connection_snapshot.ts";
 * const socket: SocketSnapshot = {
 *   nsp: "/chat",
 *   id: "kq9vU2pLr8AaBcDeFXh3",
 *   auth: { token: "abc" },
 *   issued: 1767225600000,
 *   rooms: ["lobby"],
 *   data: { user: "ann" },
 * };
 * ```
 */
export interface SocketSnapshot {
  /** Its namespace. */
  nsp: string;
  /** The socket id. */
  id: string;
  /** The auth payload of its CONNECT (`socket.handshake.auth`). */
  auth: Record<string, unknown>;
  /** When it connected (`socket.handshake.issued`, ms since the epoch). */
  issued: number;
  /** Its rooms, without the one named after its id. */
  rooms: string[];
  /** Its `socket.data`. */
  data: unknown;
  /** Its private session id (connection state recovery), when it has one. */
  pid?: string;
}

/**
 * An open connection (its Engine.IO session and its sockets) as plain data
 * (`io.snapshotConnection(sid)`).
 *
 * @example
 * ```ts
 * import type { ConnectionSnapshot } from "./connection_snapshot.ts";
 * function socketIds(snapshot: ConnectionSnapshot): string[] {
 *   return snapshot.sockets.map((socket) => socket.id);
 * }
 * ```
 */
export interface ConnectionSnapshot {
  /** The format's version ({@linkcode CONNECTION_SNAPSHOT_VERSION}). */
  v: number;
  /** The engine's snapshot of the session. */
  session: SessionSnapshot;
  /** One per namespace the connection joined. */
  sockets: SocketSnapshot[];
}

/** The longest socket id, namespace name or room name a snapshot may carry. */
const MAX_NAME_LENGTH = 4096;

function isName(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}

function isRoom(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_NAME_LENGTH;
}

/**
 * Checks the io part of `value` (its version and sockets; the session part is the engine's to
 * check): returns it typed, or the sentence-case reason it is refused. At most `maxSockets`
 * sockets, one per namespace.
 *
 * @example
 * ```ts
 * import { readConnectionSnapshot } from "./connection_snapshot.ts";
 * readConnectionSnapshot({ v: 1, session: {}, sockets: "x" }, 100); // "Its sockets are not a list"
 * ```
 */
export function readConnectionSnapshot(value: unknown, maxSockets: number): ConnectionSnapshot | string {
  if (!isPlainRecord(value)) return "It is not an object";
  if (value.v !== CONNECTION_SNAPSHOT_VERSION) {
    return `Its version is ${String(value.v)}, not ${CONNECTION_SNAPSHOT_VERSION}`;
  }
  const sockets = value.sockets;
  if (!Array.isArray(sockets)) return "Its sockets are not a list";
  if (sockets.length > maxSockets) return `It has more than ${maxSockets} sockets`;
  const namespaces = new Set<string>();
  for (const socket of sockets) {
    if (!isPlainRecord(socket)) return "One of its sockets is not an object";
    const { nsp, id, auth, issued, rooms, pid } = socket;
    if (!isName(nsp) || !nsp.startsWith("/")) return "One of its sockets has no namespace";
    if (namespaces.has(nsp)) return `It has two sockets in namespace ${nsp}`;
    namespaces.add(nsp);
    if (!isName(id)) return "One of its sockets has no id";
    if (!isPlainRecord(auth)) return "One of its sockets has an auth that is not an object";
    if (typeof issued !== "number" || !Number.isFinite(issued)) return "One of its sockets has no handshake time";
    if (!Array.isArray(rooms) || !rooms.every(isRoom)) return "One of its sockets has rooms that are not names";
    if (pid !== undefined && !isName(pid)) return "One of its sockets has a private id that is not one";
  }
  return value as unknown as ConnectionSnapshot;
}

/**
 * Options of `io.snapshotConnection`.
 *
 * @example
 * ```ts
 * import type { ConnectionSnapshotOptions } from "./connection_snapshot.ts";
 * const lean: ConnectionSnapshotOptions = { headers: false, data: false };
 * ```
 */
export interface ConnectionSnapshotOptions {
  /** Keep the opening request's headers (default true). */
  headers?: boolean;
  /** Keep each socket's `socket.data` (default true); without it, restored sockets have `{}`. */
  data?: boolean;
}

/**
 * The snapshot of connection `sid` of `io` (see `Server.snapshotConnection`). It shares `auth` and
 * `socket.data` with the live sockets: clone it (storing it does) before they change.
 *
 * @example
 * ```ts
 * import { snapshotConnection } from "./connection_snapshot.ts";
 * import { Server } from "./server.ts";
 * snapshotConnection(new Server(), "no-such-sid"); // undefined
 * ```
 */
export function snapshotConnection(
  io: AnyServer,
  sid: string,
  options: ConnectionSnapshotOptions = {},
): ConnectionSnapshot | undefined {
  const session = io.engine.snapshotSession(sid, { headers: options.headers });
  if (session === undefined) return undefined;
  const client = clientOf(io.engine.clients.get(sid)!);
  if (client === undefined || !client._isOpen) return undefined;
  const withData = options.data !== false;
  const sockets: SocketSnapshot[] = [];
  for (const socket of client._sockets) {
    if (!socket.connected) continue;
    const rooms: string[] = [];
    for (const room of socket.rooms) if (room !== socket.id) rooms.push(room);
    const entry: SocketSnapshot = {
      nsp: socket.nsp.name,
      id: socket.id,
      auth: socket.handshake.auth,
      issued: socket.handshake.issued,
      rooms,
      data: withData ? socket.data : {},
    };
    if (socket.pid !== undefined) entry.pid = socket.pid;
    sockets.push(entry);
  }
  return { v: CONNECTION_SNAPSHOT_VERSION, session, sockets };
}

/**
 * Brings a connection back into `io` from its snapshot, over its WebSocket `socket` (see
 * `Server.restoreConnection`).
 *
 * @example
 * ```ts
 * import { restoreConnection } from "./connection_snapshot.ts";
 * import { Server } from "./server.ts";
 * const socket = { send() {}, close() {} };
 * restoreConnection(new Server(), { v: 1 }, socket); // undefined, and a log line
 * ```
 */
export function restoreConnection(
  io: AnyServer,
  snapshot: unknown,
  socket: WebSocketLike,
  options: RestoreSessionOptions = {},
): RestoredSession | undefined {
  const checked = readConnectionSnapshot(snapshot, io._opts.maxNamespacesPerConnection ?? 100);
  if (typeof checked === "string") {
    console.warn(`[socket.io] refused a connection snapshot: ${checked}`);
    return undefined;
  }
  const restored = io.engine.restoreSession(checked.session, socket, options);
  if (restored === undefined) return undefined;
  const client = new Client(io, restored.session);
  for (const entry of checked.sockets) restoreSocket(io, client, entry);
  return restored;
}

// deno-lint-ignore no-explicit-any
type AnyClient = Client<any, any, any, any>;
// deno-lint-ignore no-explicit-any
type AnyNamespace = Namespace<any, any, any, any>;

/**
 * Puts one socket back in its namespace (a dynamic one is asked first, as for a CONNECT): its
 * rooms, then `connection` with `socket.recovered === true`. A namespace that is gone, or an id
 * taken there, leaves this socket out, with a log line: the client's next packet for that
 * namespace then closes the connection (as any packet for a namespace it is not in does), and the
 * client connects again.
 */
function restoreSocket(io: AnyServer, client: AnyClient, entry: SocketSnapshot): void {
  const put = (nsp: AnyNamespace | false) => {
    if (!client._isOpen) return;
    if (!nsp) {
      console.warn(`[socket.io] restoring a connection: namespace ${entry.nsp} is gone; socket ${entry.id} left out`);
      return;
    }
    if (nsp.sockets.has(entry.id)) {
      console.warn(`[socket.io] restoring a connection: socket id ${entry.id} is taken in ${entry.nsp}; left out`);
      return;
    }
    try {
      nsp._restore(
        client,
        entry.auth,
        { id: entry.id, issued: entry.issued, data: entry.data, pid: entry.pid },
        entry.rooms,
      );
    } catch (err) {
      console.error("[socket.io] restoring a socket failed:", err);
    }
  };
  const existing = io._nsps.get(entry.nsp);
  if (existing) put(existing);
  else io._checkNamespace(entry.nsp, entry.auth, put);
}
