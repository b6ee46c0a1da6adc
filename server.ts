/**
 * The Socket.IO v5 server (Engine.IO v4), on web standards: the same code serves on Deno, Bun,
 * Node and Cloudflare Workers.
 *
 * ```ts
 * import { Server } from "./server.ts";
 *
 * const io = new Server({ cors: { origin: "*" } });
 * io.on("connection", (socket) => {
 *   socket.on("hello", (name, ack) => ack(`hi ${name}`));
 * });
 * const server = Deno.serve({ port: 0, onListen() {} }, io.handler());
 * await io.close();
 * await server.shutdown();
 * ```
 *
 * @module
 */

export { Server } from "./src/runtime/server.ts";
export type { AttachTarget } from "./src/runtime/server.ts";
export { Server as CoreServer } from "./src/io/server.ts";
export type {
  AnyServer,
  HandlerOptions,
  ParentNspNameMatchFn,
  RequestHandler,
  RequestInfo,
  ServerOptions,
} from "./src/io/server.ts";
export { Namespace } from "./src/io/namespace.ts";
export type { ExtendedError, NamespaceMiddleware } from "./src/io/namespace.ts";
export { ParentNamespace } from "./src/io/parent_namespace.ts";
export { Socket } from "./src/io/socket.ts";
export type { DisconnectReason, Event, Handshake } from "./src/io/socket.ts";
export { BroadcastOperator, RemoteSocket } from "./src/io/broadcast.ts";
export type { BroadcastAckError } from "./src/io/broadcast.ts";
export { Adapter, InMemoryAdapter } from "./src/io/adapter.ts";
export { SessionAwareAdapter } from "./src/io/recovery.ts";
export type { ConnectionStateRecoveryOptions } from "./src/io/recovery.ts";
export type {
  AdapterConstructor,
  BroadcastFlags,
  BroadcastOptions,
  Room,
  Session,
  SessionToPersist,
  SocketDetails,
  SocketId,
} from "./src/io/adapter.ts";
export type { DefaultEventsMap, EventNames, EventParams, EventsMap } from "./src/util/typed_events.ts";
export { Engine, EngineSocket } from "./src/engine/server.ts";
export type { EngineOptions } from "./src/engine/options.ts";
export type {
  RestoredSession,
  RestoreSessionOptions,
  SessionSnapshot,
  SessionSnapshotOptions,
  SnapshotRequest,
} from "./src/engine/server.ts";
export type { ConnectionSnapshot, ConnectionSnapshotOptions, SocketSnapshot } from "./src/io/connection_snapshot.ts";
export type { CorsOptions } from "./src/engine/cors.ts";
export type { HandshakeRequest } from "./src/engine/types.ts";
export { defaultParser, PacketType } from "./src/parser/socket_io.ts";
export type { Decoder, Encoder, Packet, Parser } from "./src/parser/socket_io.ts";
export type { ParserModule } from "./src/parser/parser_module.ts";
export type { TopicPublisher, Upgrader, WebSocketHandlers, WebSocketLike } from "./src/engine/websocket_like.ts";
export type {
  ConnInfo,
  EngineRequest,
  EngineResponse,
  Fallback,
  Handle,
  HandleOptions,
} from "./src/engine/exchange.ts";
export { fromWebFallback, fromWebRequest, toWebResponse, WebEngineRequest } from "./src/engine/web_exchange.ts";
export { denoUpgrader } from "./src/runtime/deno.ts";
export { workersUpgrader } from "./src/runtime/workers.ts";
export { bunOptions, bunServeOptions, bunUpgrader, bunWebSocketHandler } from "./src/runtime/bun.ts";
export { serve } from "./src/runtime/serve.ts";
export { createDebug, enableDebug, setDebugSink } from "./src/util/debug.ts";
export type { Debugger } from "./src/util/debug.ts";
export type { Listening, ServeOptions } from "./src/runtime/serve.ts";

// Types the public API above refers to, exported so that the generated docs can link them.
export { Client } from "./src/io/client.ts";
export type { PacketWriteOptions } from "./src/io/client.ts";
export type { AnyFn, SocketReservedEventsMap } from "./src/io/socket.ts";
export type { NamespaceReservedEventsMap } from "./src/io/namespace.ts";
export type { StrictEventEmitter } from "./src/io/_typed_emitter.ts";
export type { OperatorFlags } from "./src/io/broadcast.ts";
export type { AdapterEvents, AnyNamespace, AnySocket, FetchedSocket } from "./src/io/adapter.ts";
export type {
  AckTakesError,
  AllButLast,
  AnyFunction,
  Collect,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  EndsWithAck,
  EndsWithoutAck,
  EventNamesWithAck,
  EventNamesWithError,
  EventNamesWithoutAck,
  FirstNonErrorArg,
  IsAny,
  Last,
  ManyResponses,
  PrependError,
  RemoveAcknowledgements,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
  TypedEventBroadcaster,
  UntypedIfNever,
} from "./src/util/typed_events.ts";
export type { CorsOriginFunction } from "./src/engine/cors.ts";
export type {
  AllowRequest,
  CookieOptions,
  DefaultedOption,
  HttpCompressionOptions,
  PerMessageDeflateOptions,
  ResolvedEngineOptions,
  TransportName,
} from "./src/engine/options.ts";
export type { EngineEvents, HeadersObject } from "./src/engine/server.ts";
export { MiddlewareResponse } from "./src/engine/middlewares.ts";
export type { EngineMiddleware, MiddlewareResponseEvents } from "./src/engine/middlewares.ts";
export { EngineErrorCode } from "./src/engine/errors.ts";
export type { EngineConnectionError } from "./src/engine/errors.ts";
export type {
  EngineCloseReason,
  EngineReadyState,
  EngineSocketEvents,
  ObservedPacket,
  WriteOptions,
} from "./src/engine/types.ts";
export type { EngineProtocol } from "./src/engine/protocol_v3.ts";
export type { Transport as EngineTransport, TransportEvents } from "./src/engine/transports/transport.ts";
export type {
  BunServeLimits,
  BunServeOptions,
  BunServer,
  BunServerWebSocket,
  BunWebSocketHandler,
} from "./src/runtime/bun.ts";
export type { NodeHttpServer } from "./src/runtime/node_http.ts";
export type { NodeListener } from "./src/runtime/node_exchange.ts";
