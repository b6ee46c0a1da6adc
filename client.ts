/**
 * A Socket.IO client (protocol v5 over Engine.IO v4) built on web standards only — `fetch` for
 * long-polling, `WebSocket` for the upgrade — so the same code runs in browsers, Deno, Bun, Node 22+
 * and Workers. It speaks to socket.io 4.x, python-socketio 5 and this package's own server, with the
 * socket.io-client 4.x API: {@linkcode io}, {@linkcode Manager}, {@linkcode Socket}, plus a promise
 * based {@linkcode SimpleClient}.
 *
 * Received binary data arrives as `ArrayBuffer` in browsers, as with socket.io-client, and as
 * `Uint8Array` on Deno, Bun, Node and Workers, where bytes usually are `Uint8Array`s (a Node
 * `Buffer` is one too). The `binaryType` option (`"arraybuffer"` or `"uint8array"`) picks either
 * everywhere.
 *
 * @example
 * ```ts
 * import { io } from "./client.ts";
 *
 * interface ServerToClient { message: (text: string) => void }
 * interface ClientToServer { join: (room: string, ack: (ok: boolean) => void) => void }
 *
 * const socket = io<ServerToClient, ClientToServer>("http://localhost:3000");
 * socket.on("connect", () => console.log("connected as", socket.id));
 * socket.on("message", (text) => console.log(text));
 * const ok = await socket.timeout(1000).emitWithAck("join", "lobby");
 * ```
 *
 * @module
 */

export { io, io as connect, protocol } from "./src/client/lookup.ts";
export type { ClientOptions } from "./src/client/lookup.ts";
export { Manager } from "./src/client/manager.ts";
export type { BinaryType, ManagerCloseReason, ManagerEvents, ManagerOptions } from "./src/client/manager.ts";
export { Socket } from "./src/client/socket.ts";
export type {
  DisconnectDescription,
  DisconnectReason,
  SocketAuth,
  SocketOptions,
  SocketReservedEvents,
} from "./src/client/socket.ts";
export { Engine } from "./src/client/engine.ts";
export type {
  EngineCloseReason,
  EngineEvents,
  EngineOptions,
  EngineState,
  HandshakeData,
  OutgoingPacket,
  TransportClass,
  TransportName,
  TransportOverrides,
  WriteOptions,
} from "./src/client/engine.ts";
export { Transport, TransportError } from "./src/client/transports/transport.ts";
// The transport classes under socket.io-client 4.8's names, for its `transports: [WebSocket]` form.
export {
  PollingTransport,
  PollingTransport as Fetch,
  PollingTransport as NodeXHR,
  PollingTransport as XHR,
} from "./src/client/transports/polling_fetch.ts";
export {
  WebSocketTransport,
  WebSocketTransport as NodeWebSocket,
  WebSocketTransport as WebSocket,
} from "./src/client/transports/websocket.ts";
export type {
  CloseDetails,
  FetchLike,
  TlsOptions,
  TransportEvents,
  TransportOptions,
  TransportState,
  WebSocketConstructor,
} from "./src/client/transports/transport.ts";
export type { TimerId, TimerOptions, Timers } from "./src/client/timers.ts";
export type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "./src/util/typed_events.ts";
export type { CookieJar } from "./src/client/cookie_jar.ts";
export type { BinaryData, EnginePacket, EnginePacketType } from "./src/parser/engine_io.ts";
export type { Decoder, DecoderOptions, Encoder, Packet, PacketType, Parser } from "./src/parser/socket_io.ts";
export type { ParserModule } from "./src/parser/parser_module.ts";
export type { AnyListener, Emitter, EventsMap as EmitterEventsMap, ListenerOf } from "./src/util/emitter.ts";
export { ConnectionError, DisconnectedError, SimpleClient, TimeoutError } from "./src/client/simple_client.ts";
export type { SimpleClientOptions, WaitOptions } from "./src/client/simple_client.ts";
