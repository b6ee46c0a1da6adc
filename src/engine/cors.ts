/**
 * CORS for the engine's HTTP responses, with the semantics of the `cors` package that socket.io uses:
 * no headers unless configured, `*` or a fixed origin, or the request's origin echoed when an allow
 * list, a pattern or a function accepts it.
 *
 * @module
 */

import type { EngineRequest } from "./exchange.ts";

/** A function deciding whether an origin is allowed (callback or promise style). */
export type CorsOriginFunction = (
  origin: string | undefined,
  callback: (err: Error | null, allow?: boolean | string) => void,
) => void | boolean | string | Promise<boolean | string>;

/** CORS options, as socket.io's `cors` option. */
export interface CorsOptions {
  /** Allowed origins: `*`, one origin, a list, a pattern, `true` (reflect), or a function. */
  origin?: boolean | string | RegExp | Array<string | RegExp> | CorsOriginFunction;
  /** Methods allowed in preflight answers (default `GET,HEAD,PUT,PATCH,POST,DELETE`). */
  methods?: string | string[];
  /** Headers allowed in preflight answers (default: those the request asks for). */
  allowedHeaders?: string | string[];
  /** Headers the browser may read. */
  exposedHeaders?: string | string[];
  /** Whether to send `Access-Control-Allow-Credentials: true`. */
  credentials?: boolean;
  /** Preflight cache lifetime in seconds. */
  maxAge?: number;
  /** Status of preflight answers (default 204). */
  optionsSuccessStatus?: number;
}

function join(value: string | string[]): string {
  return Array.isArray(value) ? value.join(",") : value;
}

function matches(origin: string, allowed: string | RegExp | Array<string | RegExp>): boolean {
  if (Array.isArray(allowed)) return allowed.some((a) => matches(origin, a));
  if (typeof allowed === "string") return origin === allowed;
  allowed.lastIndex = 0;
  return allowed.test(origin);
}

async function resolveOrigin(
  option: NonNullable<CorsOptions["origin"]>,
  origin: string | undefined,
): Promise<string | false> {
  if (option === false) return false;
  if (option === "*") return "*";
  if (option === true) return origin ?? false;
  if (typeof option === "string") return option;
  if (typeof option === "function") {
    const verdict = await new Promise<boolean | string>((resolve, reject) => {
      const maybe = option(origin, (err, allow) => err ? reject(err) : resolve(allow ?? false));
      if (maybe !== undefined) Promise.resolve(maybe).then(resolve, reject);
    });
    if (verdict === true) return origin ?? false;
    return typeof verdict === "string" ? verdict : false;
  }
  return origin !== undefined && matches(origin, option) ? origin : false;
}

/**
 * Adds the CORS headers for `request` to `headers`; for a preflight, also the method, header and
 * max-age headers.
 *
 * @example
 * ```ts
 * import { applyCors } from "./cors.ts";
 * import { fromWebRequest } from "./web_exchange.ts";
 * const headers = new Headers();
 * const request = fromWebRequest(new Request("http://x/", { headers: { origin: "http://a" } }));
 * await applyCors({ origin: "*" }, request, headers, false);
 * headers.get("access-control-allow-origin"); // "*"
 * ```
 */
export async function applyCors(
  options: CorsOptions,
  request: EngineRequest,
  headers: Headers,
  preflight: boolean,
): Promise<void> {
  const requestOrigin = request.header("origin") ?? undefined;
  const option = options.origin ?? "*";
  const origin = await resolveOrigin(option, requestOrigin);
  if (origin === false) return;
  headers.set("Access-Control-Allow-Origin", origin);
  if (origin !== "*") headers.append("Vary", "Origin");
  if (options.credentials) headers.set("Access-Control-Allow-Credentials", "true");
  if (options.exposedHeaders) {
    headers.set("Access-Control-Expose-Headers", join(options.exposedHeaders));
  }
  if (!preflight) return;
  headers.set("Access-Control-Allow-Methods", join(options.methods ?? "GET,HEAD,PUT,PATCH,POST,DELETE"));
  const allowed = options.allowedHeaders ?? request.header("access-control-request-headers");
  if (allowed) {
    headers.set("Access-Control-Allow-Headers", join(allowed));
    if (options.allowedHeaders === undefined) headers.append("Vary", "Access-Control-Request-Headers");
  }
  if (options.maxAge !== undefined) headers.set("Access-Control-Max-Age", String(options.maxAge));
}

/**
 * Whether `request`'s `Origin` may open a WebSocket: no Origin (not a browser) is allowed; with
 * `cors` configured, its `origin` option decides (`*` allows all); without, only the same origin as
 * the request's `Host`.
 *
 * @example
 * ```ts
 * import { isWebSocketOriginAllowed } from "./cors.ts";
 * import { fromWebRequest } from "./web_exchange.ts";
 * const req = new Request("http://a.test/", { headers: { origin: "http://evil.test", host: "a.test" } });
 * await isWebSocketOriginAllowed(undefined, fromWebRequest(req)); // false
 * ```
 */
export async function isWebSocketOriginAllowed(
  options: CorsOptions | undefined,
  request: EngineRequest,
): Promise<boolean> {
  const origin = request.header("origin");
  if (origin === null) return true;
  if (options === undefined) {
    try {
      return new URL(origin).host === (request.header("host") ?? URL.parse(request.url)?.host);
    } catch {
      return false;
    }
  }
  try {
    return (await resolveOrigin(options.origin ?? "*", origin)) !== false;
  } catch {
    return false;
  }
}
