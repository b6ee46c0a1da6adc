/**
 * Options of the Engine.IO server, with socket.io's names and defaults.
 *
 * @module
 */

import type { CorsOptions } from "./cors.ts";

/** The transports a session may use. */
export type TransportName = "polling" | "websocket";

/** Options of the session cookie (`cookie: true` uses the defaults). */
export interface CookieOptions {
  /** Cookie name (default `io`). */
  name?: string;
  /** Path (default `/`). */
  path?: string | false;
  /** HttpOnly (default `true` unless `path` is false). */
  httpOnly?: boolean;
  /** SameSite (default `Lax`). */
  sameSite?: "Strict" | "Lax" | "None" | "strict" | "lax" | "none" | boolean;
  /** Secure. */
  secure?: boolean;
  /** Domain. */
  domain?: string;
  /** Max-Age in seconds. */
  maxAge?: number;
}

/**
 * Compression of long-polling answers (socket.io's `httpCompression`): answers of at least
 * `threshold` bytes are compressed with gzip or deflate, as the request's `Accept-Encoding`
 * prefers, unless every message in them was sent with `compress(false)`. engine.io's zlib tuning
 * fields (`level`, `chunkSize`...) are not read: `CompressionStream` has none.
 *
 * @example
 * ```ts
 * import type { HttpCompressionOptions } from "./options.ts";
 * const httpCompression: HttpCompressionOptions = { threshold: 4096 };
 * ```
 */
export interface HttpCompressionOptions {
  /** The smallest answer compressed, in bytes (default 1024). */
  threshold?: number;
}

/**
 * permessage-deflate for WebSockets (socket.io's `perMessageDeflate`), where the runtime's server
 * can negotiate it: the `ws` package behind `io.attach` / `io.listen` on Node, Deno and Bun (which
 * takes the other fields as its own `perMessageDeflate` options: `zlibDeflateOptions`,
 * `serverNoContextTakeover`...) and Bun's own server. Deno's own server does not offer the
 * extension; on Workers the platform decides.
 *
 * @example
 * ```ts
 * import type { PerMessageDeflateOptions } from "./options.ts";
 * const perMessageDeflate: PerMessageDeflateOptions = { threshold: 2048, serverNoContextTakeover: true };
 * ```
 */
export interface PerMessageDeflateOptions {
  /** The smallest message compressed, in bytes (default 1024). */
  threshold?: number;
  /** Further options of the runtime's WebSocket server (the `ws` package's, on Node). */
  [option: string]: unknown;
}

/**
 * Decides whether a handshake or upgrade request is allowed: return (or resolve) `true`, or call the
 * callback with `(null, true)`; anything else refuses it with HTTP 403 `Forbidden` (or with the
 * error message given).
 */
export type AllowRequest = (
  request: Request,
  callback: (err: string | null | undefined, success: boolean) => void,
) => void | boolean | Promise<boolean | void>;

/** Options of the Engine.IO server. */
export interface EngineOptions {
  /** Path the engine answers on (default `/engine.io`; `/socket.io` for the io server). */
  path?: string;
  /**
   * socket.io's option, taken for compatibility (default `true`): the engine answers its path with
   * and without a trailing slash, and every URL under it, either way.
   */
  addTrailingSlash?: boolean;
  /** Milliseconds between server pings (default 25000). */
  pingInterval?: number;
  /** Milliseconds to wait for a pong (default 20000). */
  pingTimeout?: number;
  /** Milliseconds an upgrade may take (default 10000). */
  upgradeTimeout?: number;
  /** Largest message or POST body, in bytes (default 1e6). */
  maxHttpBufferSize?: number;
  /**
   * Back-pressure: the most bytes a session may have waiting to be sent (in the session's buffer
   * while a polling client is between polls, or queued in its WebSocket). A client that does not
   * keep up is disconnected with `transport full` instead of growing memory (default 16 MiB).
   */
  maxBufferedBytes?: number;
  /** Allowed transports (default both). */
  transports?: TransportName[];
  /**
   * Compresses long-polling answers by `Accept-Encoding` (gzip, deflate) from `threshold` bytes
   * (default on, threshold 1024, as in socket.io; `false` turns it off). On Workers the platform
   * compresses HTTP answers itself, by the client's `Accept-Encoding`, and this has no say.
   */
  httpCompression?: boolean | HttpCompressionOptions;
  /**
   * Offers permessage-deflate to WebSocket clients where the runtime can (Node's `ws`, Bun), for
   * messages from `threshold` bytes (default off, as in socket.io; `true` means threshold 1024).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Whether polling sessions may upgrade to WebSocket (default `true`). */
  allowUpgrades?: boolean;
  /** Accept or refuse handshakes and upgrades. */
  allowRequest?: AllowRequest;
  /** CORS; off unless set. */
  cors?: CorsOptions;
  /**
   * Cross-site WebSocket hijacking protection (off by default, like socket.io): WebSocket
   * handshakes and upgrades whose `Origin` is not allowed by `cors.origin` (or, without `cors`, is
   * not the server's own origin) are refused with 403. Requests without `Origin` (not browsers)
   * are let through.
   */
  checkWebSocketOrigin?: boolean;
  /** Sets a cookie holding the sid on the handshake response. */
  cookie?: boolean | CookieOptions;
  /** A message sent right after the open packet. */
  initialPacket?: string | Uint8Array;
  /** Edits the headers of the handshake response. */
  onInitialHeaders?: (headers: Headers, request: Request) => void;
  /** Edits the headers of every HTTP response. */
  onHeaders?: (headers: Headers, request: Request) => void;
  /** Generates session ids (default: 15 random bytes, base64url). */
  generateId?: (request: Request) => string | Promise<string>;
  /**
   * Also accept Engine.IO v3 clients (`EIO=3`: socket.io-client 1.x/2.x, the Java 1.x and Swift
   * 15.x clients...), as socket.io does with the same option (default false: they get
   * `Unsupported protocol version`). Their sessions speak Engine.IO v3 on both transports (and JSONP
   * polling), and the io server Socket.IO v4 to them. As that protocol has it, their socket ids are
   * the Engine.IO session ids (`nsp#` + it outside `/`), which also let whoever holds one use the
   * session: do not hand a v3 client's socket id to other clients. In browsers their polling sends
   * cookies, so cross-origin pages need `cors` with `credentials: true` and a list of origins.
   */
  allowEIO3?: boolean;
}

/**
 * The options that always have a value once defaults are applied.
 *
 * @example
 * ```ts
 * import type { DefaultedOption } from "./options.ts";
 * const key: DefaultedOption = "pingInterval";
 * ```
 */
export type DefaultedOption =
  | "path"
  | "addTrailingSlash"
  | "pingInterval"
  | "pingTimeout"
  | "upgradeTimeout"
  | "maxHttpBufferSize"
  | "maxBufferedBytes"
  | "transports"
  | "allowUpgrades"
  | "httpCompression"
  | "perMessageDeflate";

/**
 * Options with every default applied (`httpCompression` and `perMessageDeflate` as `false` or an
 * object with its `threshold`).
 */
export type ResolvedEngineOptions =
  & Required<Pick<EngineOptions, Exclude<DefaultedOption, "httpCompression" | "perMessageDeflate">>>
  & Omit<EngineOptions, DefaultedOption>
  & {
    httpCompression: false | (HttpCompressionOptions & { threshold: number });
    perMessageDeflate: false | (PerMessageDeflateOptions & { threshold: number });
  };

/**
 * Applies the defaults to `options`.
 *
 * @example
 * ```ts
 * import { resolveEngineOptions } from "./options.ts";
 * resolveEngineOptions({ pingInterval: 300 }).pingTimeout; // 20000
 * ```
 */
export function resolveEngineOptions(options: EngineOptions = {}): ResolvedEngineOptions {
  let path = options.path ?? "/engine.io";
  if (!path.startsWith("/")) path = "/" + path;
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return {
    ...options,
    path,
    addTrailingSlash: options.addTrailingSlash ?? true,
    pingInterval: options.pingInterval ?? 25000,
    pingTimeout: options.pingTimeout ?? 20000,
    upgradeTimeout: options.upgradeTimeout ?? 10000,
    maxHttpBufferSize: options.maxHttpBufferSize ?? 1e6,
    maxBufferedBytes: options.maxBufferedBytes ?? 16 * 1024 * 1024,
    transports: options.transports ?? ["polling", "websocket"],
    allowUpgrades: options.allowUpgrades ?? true,
    httpCompression: withThreshold(options.httpCompression ?? true),
    perMessageDeflate: withThreshold(options.perMessageDeflate ?? false),
  };
}

/** `false`, or the options (`true`: none) with a threshold, 1024 bytes unless given. */
function withThreshold<T extends { threshold?: number }>(option: boolean | T): false | (T & { threshold: number }) {
  if (!option) return false; // false, or a JavaScript caller's null or 0, as engine.io reads them
  const given = option === true ? undefined : option;
  return { ...given, threshold: given?.threshold ?? 1024 } as T & { threshold: number };
}

/**
 * Serialises the session cookie.
 *
 * @example
 * ```ts
 * import { serializeCookie } from "./options.ts";
 * serializeCookie(true, "abc"); // "io=abc; Path=/; HttpOnly; SameSite=Lax"
 * ```
 */
export function serializeCookie(option: true | CookieOptions, sid: string): string {
  const o: CookieOptions = option === true ? {} : option;
  const parts = [`${o.name ?? "io"}=${encodeURIComponent(sid)}`];
  const path = o.path === undefined ? "/" : o.path;
  if (path !== false) parts.push(`Path=${path}`);
  if (o.domain) parts.push(`Domain=${o.domain}`);
  if (o.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(o.maxAge)}`);
  if (o.httpOnly ?? path !== false) parts.push("HttpOnly");
  if (o.secure) parts.push("Secure");
  const sameSite = o.sameSite ?? "Lax";
  if (sameSite !== false) {
    const v = sameSite === true ? "Strict" : String(sameSite);
    parts.push(`SameSite=${v[0].toUpperCase()}${v.slice(1).toLowerCase()}`);
  }
  return parts.join("; ");
}
