/**
 * One Engine.IO connection seen by the io layer: it decodes frames into packets, routes them to the
 * socket of each namespace, and writes encoded packets back.
 *
 * @module
 */

import { type Decoder, type Packet, PacketType } from "../parser/socket_io.ts";
import type { EngineCloseReason } from "../engine/types.ts";
import type { EngineSocket } from "../engine/socket.ts";
import type { Server } from "./server.ts";
import type { DisconnectReason, Socket } from "./socket.ts";
import type { EventsMap } from "../util/typed_events.ts";
import { reportListenerError } from "./_util.ts";
import { createDebug } from "../util/debug.ts";
import { receivedBinary } from "../util/platform.ts";
import { splitNamespaceQuery, toV4Packet } from "../parser/socket_io_v4.ts";

const debug = createDebug("sio:io:client");

/**
 * Options of one write.
 *
 * @example
 * ```ts
 * import type { PacketWriteOptions } from "./client.ts";
 * const opts: PacketWriteOptions = { volatile: true };
 * ```
 */
export interface PacketWriteOptions {
  /** Drop the packet if the transport cannot take it right now. */
  volatile?: boolean;
  /** Ask the transport to compress. */
  compress?: boolean;
}

/**
 * @internal The client of an Engine.IO session, once the io server made one for it.
 */
// deno-lint-ignore no-explicit-any
export function clientOf(conn: EngineSocket): Client<any, any, any, any> | undefined {
  const consumer = conn._consumer;
  return consumer instanceof Client ? consumer : undefined;
}

/**
 * The io side of one Engine.IO session, shared by the sockets of its namespaces.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * const io = new Server();
 * io.on("connection", (socket) => {
 *   console.log(socket.client.conn.id, socket.client.conn.transportName);
 * });
 * ```
 */
export class Client<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  // deno-lint-ignore no-explicit-any
  SocketData = any,
> {
  /** The Engine.IO session. */
  readonly conn: EngineSocket;
  /** The server. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO session id. */
  readonly id: string;

  #decoder: Decoder;
  /**
   * The connected sockets, one per namespace. An array, not maps by id and by namespace: nearly every
   * connection has one or two, and two maps cost some 400 bytes per idle connection.
   */
  #sockets: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Wraps a new Engine.IO session (the server does this on every engine `connection`). */
  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, conn: EngineSocket) {
    this.server = server;
    this.conn = conn;
    this.id = conn.id;
    this.#decoder = server._parser.createDecoder({
      maxAttachments: server._opts.maxAttachments,
      binary: receivedBinary,
    });
    this.#decoder.ondecoded = (packet) => {
      // Errors past this point are ours or the user's, not the peer's: log them, keep the connection.
      try {
        this.#ondecoded(packet);
      } catch (err) {
        reportListenerError(err, "packet handling");
      }
    };
    // Its messages and its close come straight here (no listeners, no closures per connection).
    conn._consume(this);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#sockets.length === 0) {
        debug("session %s joined no namespace within %d ms: closing it", this.id, server._connectTimeout);
        this.close();
      }
    }, server._connectTimeout);
  }

  /**
   * @internal Joins `/` without a CONNECT, as Socket.IO v4 (Engine.IO v3 sessions) has it; the
   * server does it for each new v3 connection.
   */
  _connectRoot(): void {
    this.#connect("/", {});
  }

  /**
   * The request that opened the session: the runtime's own where it is not a web `Request`
   * (Node's `IncomingMessage`), else the session's `HandshakeRequest` (see
   * `Socket.request`).
   */
  // deno-lint-ignore no-explicit-any
  get request(): any {
    return this.conn.nativeRequest ?? this.conn.request;
  }

  /** @internal Whether the session can still carry packets. */
  get _isOpen(): boolean {
    const state = this.conn.readyState;
    return !this.#closed && state !== "closing" && state !== "closed";
  }

  /** @internal A message from the session. */
  _ondata(data: string | Uint8Array): void {
    try {
      this.#decoder.add(data);
    } catch (err) {
      this.#onerror(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #ondecoded(packet: Packet): void {
    if (packet.type === PacketType.CONNECT && this.conn.protocol === 3) {
      // v4: no payload; the namespace's query is the auth (`0/nsp?token=abc,`).
      const { name, query } = splitNamespaceQuery(packet.nsp);
      packet = { type: PacketType.CONNECT, nsp: name, data: query };
    }
    const socket = this.#socketOf(packet.nsp);
    if (packet.type === PacketType.CONNECT) {
      // Again for a namespace this connection is in, or is being answered for: socket.io-client
      // sends that for `manager.socket(nsp)` then `socket.connect()`, or connect() twice. The
      // first answer serves both (socket.io closed the whole connection, or made a second socket
      // there that got every broadcast twice).
      if (socket || this.#connecting?.has(packet.nsp)) {
        debug("session %s: CONNECT to %s again: dropped", this.id, packet.nsp);
      } else this.#connect(packet.nsp, (packet.data as Record<string, unknown> | undefined) ?? {});
    } else if (socket && packet.type !== PacketType.CONNECT_ERROR) {
      socket._onpacket(packet);
    } else {
      debug(
        "session %s sent packet type %d for namespace %s in the wrong state: closing it",
        this.id,
        packet.type,
        packet.nsp,
      );
      this.close();
    }
  }

  #socketOf(nsp: string): Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | undefined {
    const sockets = this.#sockets;
    for (let i = 0; i < sockets.length; i++) if (sockets[i].nsp.name === nsp) return sockets[i];
    return undefined;
  }

  /**
   * Namespaces whose CONNECT is still being answered (a dynamic namespace's check, middlewares, a
   * session lookup): a second CONNECT for one of them is dropped, and they count against
   * maxNamespacesPerConnection.
   * Kept by the name the client sent; dropped when empty (an idle connection keeps nothing).
   */
  #connecting: Set<string> | undefined;

  #connected(name: string): void {
    const connecting = this.#connecting;
    if (connecting === undefined) return;
    connecting.delete(name);
    if (connecting.size === 0) this.#connecting = undefined;
  }

  #connect(name: string, auth: Record<string, unknown>): void {
    if (this.#sockets.length + (this.#connecting?.size ?? 0) >= (this.server._opts.maxNamespacesPerConnection ?? 100)) {
      debug("session %s: CONNECT to %s refused, too many namespaces", this.id, name);
      this._packet({ type: PacketType.CONNECT_ERROR, nsp: name, data: { message: "Too many namespaces" } });
      return;
    }
    (this.#connecting ??= new Set()).add(name);
    if (this.server._nsps.has(name)) return this.#doConnect(name, auth);
    this.server._checkNamespace(name, auth, (nsp) => {
      if (this.#closed) {
        // A child made for this CONNECT goes again if nothing else is in it.
        if (nsp) nsp._releaseIfEmpty();
        return;
      }
      if (nsp) this.#doConnect(name, auth);
      else {
        this.#connected(name);
        debug("session %s: CONNECT to unknown namespace %s", this.id, name);
        this._packet({ type: PacketType.CONNECT_ERROR, nsp: name, data: { message: "Invalid namespace" } });
      }
    });
  }

  #doConnect(name: string, auth: Record<string, unknown>): void {
    const nsp = this.server.of(name);
    nsp._add(this, auth, (socket) => {
      this.#connected(name);
      this._attach(socket);
    }, () => this.#connected(name));
  }

  /** @internal Routes this connection's packets for the socket's namespace to it. */
  _attach(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    // The first socket gets an array of one: pushing onto an empty array reserves 17 slots (some
    // 130 bytes per idle connection for nothing).
    if (this.#sockets.length === 0) this.#sockets = [socket];
    else this.#sockets.push(socket);
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** @internal The sockets connected over this connection, one per namespace. */
  get _sockets(): readonly Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] {
    return this.#sockets;
  }

  /** @internal Disconnects every socket of this connection, then closes it. */
  _disconnect(): void {
    for (const socket of this.#sockets.slice()) socket.disconnect();
    this.#sockets = [];
    this.close();
  }

  /** @internal Forgets a socket that disconnected. */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    const i = this.#sockets.indexOf(socket);
    if (i !== -1) this.#sockets.splice(i, 1);
  }

  /** Closes the Engine.IO session; the sockets disconnect with `forced server close`. */
  close(): void {
    if (!this._isOpen) return;
    this._onclose("forced server close");
    this.conn.close();
  }

  /** @internal Encodes and writes one packet. */
  _packet(packet: Packet, opts: PacketWriteOptions = {}): void {
    if (!this._isOpen) return;
    if (this.conn.protocol === 3) packet = toV4Packet(packet);
    this._writeFrames(this.server.encoder.encode(packet), opts);
  }

  /** @internal Writes already encoded frames (one packet: a text frame and its attachments). */
  _writeFrames(frames: Array<string | Uint8Array>, opts: PacketWriteOptions = {}): void {
    if (!this._isOpen) return;
    if (opts.volatile && !this.conn.takesVolatile()) return;
    const conn = this.conn;
    for (let i = 0; i < frames.length; i++) conn.write(frames[i], opts);
  }

  #onerror(err: Error): void {
    debug("session %s sent a malformed packet (%s): closing it", this.id, err.message);
    for (const socket of this.#sockets.slice()) socket._onerror(err);
    const open = this._isOpen;
    this._onclose("parse error");
    if (open) this.conn.close();
  }

  /** @internal The session closed (or this client is closing it). */
  _onclose(reason: DisconnectReason | EngineCloseReason, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.conn._consumer === this) this.conn._consume(null);
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const sockets = this.#sockets;
    this.#sockets = [];
    for (const socket of sockets) socket._onclose(reason, description);
    this.#decoder.destroy();
  }
}
