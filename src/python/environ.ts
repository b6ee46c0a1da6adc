/**
 * The connect environment python-socketio hands to `connect` handlers (`environ`), built from a
 * socket's handshake in the shape of a WSGI environ.
 *
 * @module
 */

import type { Handshake } from "../io/socket.ts";

/**
 * A WSGI-style view of the request that opened the connection: `REQUEST_METHOD`, `PATH_INFO`,
 * `QUERY_STRING`, `REMOTE_ADDR`, `wsgi.url_scheme`, and each header as `HTTP_<NAME>` (upper case,
 * dashes as underscores: `HTTP_AUTHORIZATION`, `HTTP_X_FORWARDED_FOR`), plus the socket's
 * `handshake` itself.
 *
 * @example
 * ```ts
 * import { AsyncServer, type Environ } from "./mod.ts";
 * const sio = new AsyncServer();
 * sio.on("connect", (sid: string, environ: Environ) => {
 *   console.log(environ.REMOTE_ADDR, environ.HTTP_USER_AGENT, environ.handshake.query);
 * });
 * ```
 */
export interface Environ {
  /** Always `GET` (the handshake request). */
  REQUEST_METHOD: string;
  /** The request path (`/socket.io/`). */
  PATH_INFO: string;
  /** The query string, without `?`. */
  QUERY_STRING: string;
  /** The peer's address (`""` when the runtime does not tell). */
  REMOTE_ADDR: string;
  /** `http` or `https`. */
  "wsgi.url_scheme": string;
  /** The socket's handshake (headers, query, auth, address...). */
  handshake: Handshake;
  /** The headers, as `HTTP_<NAME>`. */
  [header: string]: unknown;
}

/**
 * The environ of a handshake.
 *
 * @example
 * ```ts
 * import { buildEnviron } from "./environ.ts";
 * import type { Socket } from "../io/socket.ts";
 * declare const socket: Socket;
 * const environ = buildEnviron(socket.handshake);
 * environ.HTTP_HOST; // "localhost:3000"
 * ```
 */
export function buildEnviron(handshake: Handshake): Environ {
  const [path, query = ""] = handshake.url.split("?", 2);
  const environ: Environ = {
    REQUEST_METHOD: "GET",
    PATH_INFO: path,
    QUERY_STRING: query,
    REMOTE_ADDR: handshake.address,
    "wsgi.url_scheme": handshake.secure ? "https" : "http",
    handshake,
  };
  for (const [name, value] of Object.entries(handshake.headers)) {
    if (value === undefined) continue;
    const key = "HTTP_" + name.toUpperCase().replace(/-/g, "_");
    Object.defineProperty(environ, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return environ;
}
