/**
 * python-socketio's API in TypeScript, for apps ported from python-socketio 5 and for servers that
 * join a python-socketio cluster:
 *
 * - {@linkcode AsyncServer}: handlers that take the client's `sid` and return their
 *   acknowledgement, the sid-addressed methods (`emit` with `to`/`skipSid`/`callback`, `call`,
 *   rooms by sid, sessions, `disconnect`, `transport`, `getEnviron`), `alwaysConnect`, `"*"`
 *   events and namespaces; {@linkcode AsyncNamespace} for class-based namespaces;
 * - {@linkcode AsyncClient} and {@linkcode AsyncClientNamespace}: the client side, with several
 *   namespaces per connection, `wait()`, `retry` and `waitTimeout`;
 * - {@linkcode PubSubManager}: python-socketio's pub/sub message format (JSON of 5.14+, and the
 *   pickles of older versions read by a plain-data reader), as an adapter or a write-only manager;
 *   `./python/redis` puts it on Redis.
 *
 * Python's tuples (several arguments) are written {@linkcode tuple}`(a, b)`; an array is one
 * argument, as a Python list is. Times are in milliseconds.
 *
 * ```ts
 * import { AsyncNamespace, AsyncServer } from "./mod.ts"; // "@sio/socket.io/python"
 * import { serve } from "../../server.ts"; // "@sio/socket.io/server"
 *
 * class Echo extends AsyncNamespace {
 *   onEcho(sid: string, data: unknown) {
 *     return data;
 *   }
 * }
 * const sio = new AsyncServer({ cors: { origin: "*" } });
 * sio.registerNamespace(new Echo("/"));
 * await serve(sio.io, { port: 3000 });
 * ```
 *
 * @module
 */

export { AsyncServer } from "./server.ts";
export type { AsyncServerOptions, CallOptions, EmitOptions, PythonDisconnectReason } from "./server.ts";
export { AsyncNamespace } from "./namespace.ts";
export { AsyncClient } from "./client.ts";
export type {
  AsyncClientOptions,
  ClientCallOptions,
  ClientDisconnectReason,
  ClientEmitOptions,
  ConnectOptions,
} from "./client.ts";
export { AsyncClientNamespace } from "./client_namespace.ts";
export { BadNamespaceError, ConnectionRefusedError } from "./errors.ts";
export { ConnectionError, TimeoutError } from "../client/simple_client.ts";
export { fromArgs, toArgs, Tuple, tuple } from "./tuple.ts";
export { NOT_HANDLED } from "./_handlers.ts";
export type { Handler } from "./_handlers.ts";
export type { Environ } from "./environ.ts";
export { PubSubAdapter, PubSubManager } from "./pubsub_manager.ts";
export type { ManagerEmitOptions, PubSubManagerOptions } from "./pubsub_manager.ts";
export { decodeMessage, encodeMessage, MessageError } from "./pubsub_message.ts";
export type {
  CallbackMessage,
  CloseRoomMessage,
  DecodeLimits,
  DisconnectMessage,
  EmitMessage,
  PubSubFormat,
  PubSubMessage,
  RoomMessage,
} from "./pubsub_message.ts";
export { PickleError, readPickle, writePickle } from "./pickle.ts";
export type { PickleReadOptions } from "./pickle.ts";
