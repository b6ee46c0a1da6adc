/**
 * The client's Socket.IO v4 over Engine.IO v3 (`protocol: 4`), for socket.io 1.x/2.x,
 * python-socketio 4.x and Flask-SocketIO 4.x servers:
 * - Engine.IO v3 (`_v3_transports.ts`): `EIO=3`, length-prefixed polling payloads (asked for as
 *   text with `b64=1`, binary as base64), binary WebSocket frames with a type byte; the client
 *   pings every pingInterval and the server answers.
 * - Socket.IO v4: the server joins the connection to `/` by itself, so `/`'s CONNECT is not sent
 *   (unless the client left `/` and joins it again); another namespace's CONNECT carries the auth
 *   as its query (`0/nsp?token=abc,`); the answer has no payload and the socket id is the
 *   Engine.IO id (`nsp#` + it outside `/`); a CONNECT_ERROR's payload is the server's error data
 *   or message.
 *
 * The browser bundles leave this module out (their size budget); everything else is in the core.
 *
 * @module
 */

import { type Packet, PacketType, type Parser } from "../parser/socket_io.ts";
import { clientDefaultParser } from "./default_parser.ts";
import { namespaceWithQuery, socketIdV4 } from "../parser/socket_io_v4.ts";
import { toParser } from "../parser/parser_module.ts";
import type { Engine } from "./engine.ts";
import type { Manager } from "./manager.ts";
import type { ClientWire } from "./wire.ts";
import { legacyFetch, legacyWebSocket } from "./_v3_transports.ts";
import { unrefTimer } from "./_runtime_features.ts";

/**
 * Where `/` stands on each connection: its implicit CONNECT came, the client left `/`, or joined
 * it again (absent: the CONNECT is awaited).
 */
const roots = new WeakMap<Engine, "connected" | "left" | "rejoined">();

/** The longest delay a timer takes (2^31 - 1 ms). */
const MAX_DELAY = 2 ** 31 - 1;

/** Each connection's heartbeat: sends a ping, and counts the pings sent and answered. */
interface Beat {
  ping(): void;
  sent: number;
  answered: number;
}
const beats = new WeakMap<Engine, Beat>();

/** Hands the sockets a CONNECT for `/` (the server's, or one it does not send). */
function connectRoot(manager: Manager, engine: Engine): void {
  if (manager.engine === engine && engine.readyState === "open") {
    manager.emitReserved("packet", { type: PacketType.CONNECT, nsp: "/", data: { sid: engine.id } });
  }
}

/** A packet on its way out, as a v4 server expects it; `undefined` drops it. */
function send(manager: Manager, packet: Packet): Packet | undefined {
  const engine = manager.engine!;
  if (packet.nsp !== "/") {
    return packet.type === PacketType.CONNECT
      ? { type: PacketType.CONNECT, nsp: namespaceWithQuery(packet.nsp, packet.data) }
      : packet;
  }
  const root = roots.get(engine);
  if (packet.type === PacketType.DISCONNECT) roots.set(engine, "left");
  if (packet.type !== PacketType.CONNECT) return packet;
  if (root === undefined) return undefined; // the server's implicit CONNECT is on its way
  if (root !== "left") {
    // It came before this socket asked (a Manager shared by namespaces).
    queueMicrotask(() => connectRoot(manager, engine));
    return undefined;
  }
  // Joining `/` again after leaving it: socket.io 2 answers only when `/` has middlewares, so the
  // answer to a ping sent after the CONNECT shows that the server has the socket (an answer that
  // comes is dropped).
  roots.set(engine, "rejoined");
  const beat = beats.get(engine);
  queueMicrotask(() => {
    if (!beat) return;
    beat.ping();
    const fence = beat.sent;
    const check = () => {
      if (beat.answered < fence) return;
      engine.off("ping", check);
      connectRoot(manager, engine);
    };
    engine.on("ping", check);
  });
  return { type: PacketType.CONNECT, nsp: "/" };
}

/** A packet that arrived, as the sockets expect it; `undefined` drops it. */
function receive(manager: Manager, packet: Packet): Packet | undefined {
  const engine = manager.engine!;
  const data = packet.data;
  if (packet.type === PacketType.CONNECT) {
    if (packet.nsp === "/") {
      const rejoined = roots.get(engine) === "rejoined";
      roots.set(engine, "connected");
      if (rejoined) return undefined;
    }
    return { type: PacketType.CONNECT, nsp: packet.nsp, data: { sid: socketIdV4(packet.nsp, engine.id!) } };
  }
  if (packet.type === PacketType.DISCONNECT && packet.nsp === "/") roots.set(engine, "left");
  if (packet.type === PacketType.CONNECT_ERROR && data !== null && typeof data === "object") {
    // The server sent the error's data: it becomes the error's `data`, with a message if it has one.
    const message = typeof data.message === "string" ? data.message : "Connection refused";
    return { type: PacketType.CONNECT_ERROR, nsp: packet.nsp, data: { message, data } };
  }
  return packet;
}

/**
 * Socket.IO v4 over Engine.IO v3, the wire the Manager's `protocol: 4` selects.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000", { protocol: 4 }); // a socket.io 2.x server
 * socket.on("connect", () => console.log(socket.id)); // the Engine.IO id, as socket.io-client 2 has it
 * ```
 */
export const protocolV4: ClientWire = {
  attach(manager) {
    const opts = manager.opts;
    opts.wire = protocolV4;
    opts.fetch = legacyFetch(opts.fetch);
    opts.WebSocket = legacyWebSocket(opts.WebSocket);
    const base = toParser(opts.parser ?? clientDefaultParser);
    return {
      createEncoder() {
        const encoder = base.createEncoder();
        return {
          encode(packet) {
            const out = send(manager, packet);
            return out === undefined ? [] : encoder.encode(out);
          },
        };
      },
      createDecoder(options) {
        const decoder = base.createDecoder(options);
        const wrapper = {
          ondecoded: (_packet: Packet) => {},
          add: (frame: string | Uint8Array) => decoder.add(frame),
          destroy: () => decoder.destroy(),
        };
        decoder.ondecoded = (packet) => {
          const received = receive(manager, packet);
          if (received !== undefined) wrapper.ondecoded(received);
        };
        return wrapper;
      },
    } satisfies Parser;
  },
  open(engine, ping) {
    const beat: Beat = {
      ping() {
        beat.sent++;
        ping();
      },
      sent: 0,
      answered: 0,
    };
    beats.set(engine, beat);
    // The engine sees each answer as the server's ping (see _v3_transports.ts).
    engine.on("ping", () => beat.answered++);
    const timer = setInterval(beat.ping, Math.min(engine.handshake!.pingInterval, MAX_DELAY));
    // The connection, not its heartbeat, keeps a process alive (or not, with autoUnref).
    unrefTimer(timer);
    engine.once("close", () => clearInterval(timer));
  },
};
