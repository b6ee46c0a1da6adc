/**
 * What the client needs to know of the runtime it runs on, found without touching runtime globals.
 *
 * @module
 */

const ua: unknown = typeof navigator !== "undefined" ? navigator.userAgent : undefined;

/**
 * Whether the code runs in a browser (or a browser worker) rather than Deno, Bun, Node or Workers,
 * which all name themselves in `navigator.userAgent`.
 *
 * @example
 * ```ts
 * import { isBrowser } from "./env.ts";
 * console.log(isBrowser ? "browser" : "server runtime");
 * ```
 */
export const isBrowser: boolean = typeof ua === "string" &&
  !/^(Node\.js|Deno|Bun|Cloudflare-Workers)\b/.test(ua);

/**
 * Whether the code runs on Cloudflare Workers (workerd), whose `WebSocket` constructor takes no
 * headers.
 *
 * @example
 * ```ts
 * import { isWorkers } from "./env.ts";
 * console.log(isWorkers ? "Workers" : "elsewhere");
 * ```
 */
export const isWorkers: boolean = typeof ua === "string" && /^Cloudflare-Workers\b/.test(ua);
