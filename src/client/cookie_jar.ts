/**
 * A small cookie jar for runtimes without one (Deno, Bun, Node, Workers): it keeps the cookies a
 * server sets on polling responses, such as a load balancer's sticky-session cookie, and sends them
 * back with the following requests. Browsers keep cookies themselves; there the jar stays empty.
 *
 * @module
 */

interface Cookie {
  value: string;
  expires?: number;
}

/**
 * Stores cookies by name (domain and path are not tracked: one jar serves one server).
 *
 * @example
 * ```ts
 * import { CookieJar } from "./cookie_jar.ts";
 * const jar = new CookieJar();
 * jar.parse(["io=abc; Path=/; HttpOnly", "lb=node-2; Max-Age=60"]);
 * jar.header(); // "io=abc; lb=node-2"
 * ```
 */
export class CookieJar {
  #cookies: Map<string, Cookie> = new Map();

  /** Stores the cookies of `Set-Cookie` header values; an expired one is removed. */
  parse(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const parts = line.split(";");
      const eq = parts[0].indexOf("=");
      if (eq < 1) continue;
      const name = parts[0].slice(0, eq).trim();
      let value = parts[0].slice(eq + 1).trim();
      if (value.length > 1 && value[0] === '"' && value[value.length - 1] === '"') value = value.slice(1, -1);
      const cookie: Cookie = { value };
      for (let i = 1; i < parts.length; i++) {
        const attr = parts[i].split("=");
        const key = attr[0].trim().toLowerCase();
        const arg = (attr[1] ?? "").trim();
        if (key === "max-age") cookie.expires = Date.now() + Number(arg) * 1000;
        else if (key === "expires" && cookie.expires === undefined) cookie.expires = Date.parse(arg);
      }
      this.#cookies.set(name, cookie);
    }
  }

  /** The `Cookie` header value for a request, or `""` when the jar is empty. */
  header(): string {
    const now = Date.now();
    const out: string[] = [];
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expires !== undefined && !(cookie.expires > now)) this.#cookies.delete(name);
      else out.push(name + "=" + cookie.value);
    }
    return out.join("; ");
  }
}
