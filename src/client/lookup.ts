/**
 * `io()`: finds or creates the Manager of a server and returns the socket of the namespace named in
 * the URL.
 *
 * @module
 */

import type { DefaultEventsMap, EventsMap } from "../util/typed_events.ts";
import { isBrowser } from "./env.ts";
import { Manager } from "./manager.ts";
import type { ManagerOptions } from "./manager.ts";
import type { Socket, SocketOptions } from "./socket.ts";

/**
 * The options `io()` accepts: those of the Manager and of the socket.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * import type { ClientOptions } from "../../client.ts";
 * const options: ClientOptions = { transports: ["websocket"], auth: { token: "abc" }, ackTimeout: 5000, retries: 3 };
 * io("http://localhost:3000", options);
 * ```
 */
export type ClientOptions = ManagerOptions & SocketOptions;

/**
 * The Socket.IO protocol revision the client speaks (as socket.io-client's `protocol` export).
 *
 * @example
 * ```ts
 * import { protocol } from "../../client.ts";
 * console.log(protocol); // 5
 * ```
 */
export const protocol: number = 5;

const cache: Record<string, Manager> = {};

/** Resolves `uri` against the page's location: the absolute URL, the namespace and a cache key. */
function parse(
  uri: string | undefined,
  path: string,
  opts: ClientOptions,
): { source: string | undefined; id: string; nsp: string } {
  const loc = globalThis.location;
  if (uri == null) {
    if (!isBrowser && !loc) {
      // Outside browsers the URL parts may come as options: the Manager makes the URL of them.
      if (!opts.hostname && !opts.host) {
        throw new TypeError("io() needs a URL, or the hostname option, outside browsers");
      }
      return { source: undefined, id: [opts.secure, opts.hostname, opts.host, opts.port, path].join(), nsp: "/" };
    }
    uri = loc.protocol + "//" + loc.host;
  }
  if (uri[0] === "/") uri = uri[1] === "/" ? loc.protocol + uri : loc.host + uri;
  if (!/^(https?|wss?):\/\//.test(uri)) uri = (loc ? loc.protocol + "//" : "https://") + uri;
  const url = new URL(uri);
  const secure = url.protocol === "https:" || url.protocol === "wss:";
  const id = url.protocol.replace(/^ws/, "http") + "//" + url.hostname + ":" + (url.port || (secure ? 443 : 80)) +
    path;
  return { source: uri, id, nsp: url.pathname };
}

/**
 * Connects to a Socket.IO server: `uri` names the server and the namespace
 * (`http://host:port/admin`, `/admin` in a browser for the page's origin, or nothing at all).
 * Sockets of several namespaces on the same server share one connection (one {@linkcode Manager})
 * unless `forceNew` or `multiplex: false` is given, or that namespace already has a socket there.
 *
 * @example
 * ```ts
 * import { io } from "../../client.ts";
 * const socket = io("http://localhost:3000", { auth: { token: "abc" }, transports: ["websocket"] });
 * socket.on("connect", () => socket.emit("hello", "world"));
 * const admin = io("http://localhost:3000/admin"); // same connection, another namespace
 * ```
 */
export function io<ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
  uri?: string | ClientOptions,
  opts?: ClientOptions,
): Socket<ListenEvents, EmitEvents> {
  if (typeof uri === "object") {
    opts = uri;
    uri = undefined;
  }
  opts ??= {};
  const { source, id, nsp } = parse(uri, opts.path || "/socket.io", opts);
  const cached = cache[id];
  let manager: Manager;
  if (opts.forceNew || opts.multiplex === false || (cached && nsp in cached.nsps)) {
    manager = new Manager(source, opts);
  } else {
    manager = cached ?? (cache[id] = new Manager(source, opts));
  }
  return manager.socket(nsp, opts) as unknown as Socket<ListenEvents, EmitEvents>;
}
