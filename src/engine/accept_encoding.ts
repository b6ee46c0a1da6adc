/**
 * Content negotiation on `Accept-Encoding`, with the semantics socket.io and engine.io get from the
 * `accepts` / `negotiator` packages: the client's quality values decide, an exact name beats `*`,
 * ties go to the coding the client listed first, then to the server's order.
 *
 * @module
 */

interface Spec {
  /** The coding's name, lower case. */
  coding: string;
  /** Its quality. */
  q: number;
  /** Its place in the header. */
  order: number;
}

/** How a server's coding matched the header: quality, specificity, place in the header. */
interface Priority {
  q: number;
  /** 1 for the coding's own name, 0 for `*`. */
  exact: number;
  order: number;
  /** Its place in the server's list. */
  index: number;
}

function parse(header: string): Spec[] {
  const specs: Spec[] = [];
  const parts = header.split(",");
  for (let i = 0; i < parts.length; i++) {
    const [name, ...params] = parts[i].split(";");
    const coding = name.trim().toLowerCase();
    if (coding === "" || /\s/.test(coding)) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split("=");
      if (key === "q") {
        q = Number.parseFloat(value ?? "");
        break;
      }
    }
    specs.push({ coding, q, order: i });
  }
  return specs;
}

/**
 * The coding of `provided` (lower-case names, in the server's order of preference) that the
 * `Accept-Encoding` header `header` prefers, or `undefined` when it accepts none of them (no
 * header, `identity` only, or `q=0`).
 *
 * @example
 * ```ts
 * import { preferredEncoding } from "./accept_encoding.ts";
 * preferredEncoding("gzip, deflate, br", ["br", "gzip", "deflate"]); // "gzip" (listed first)
 * preferredEncoding("gzip;q=0.5, br", ["br", "gzip"]); // "br"
 * preferredEncoding("identity", ["gzip"]); // undefined
 * ```
 */
export function preferredEncoding(header: string | null | undefined, provided: readonly string[]): string | undefined {
  if (!header) return undefined;
  const specs = parse(header);
  let best: Priority | undefined;
  let bestCoding: string | undefined;
  for (let index = 0; index < provided.length; index++) {
    const coding = provided[index];
    let priority: Priority | undefined;
    for (const spec of specs) {
      const exact = spec.coding === coding ? 1 : spec.coding === "*" ? 0 : -1;
      if (exact < 0) continue;
      // The most specific match counts, then the higher quality, then the later one in the header.
      if (
        priority === undefined ||
        (priority.exact - exact || priority.q - spec.q || priority.order - spec.order) < 0
      ) {
        priority = { q: spec.q, exact, order: spec.order, index };
      }
    }
    if (priority === undefined || !(priority.q > 0)) continue;
    if (best === undefined || compare(priority, best) < 0) {
      best = priority;
      bestCoding = coding;
    }
  }
  return bestCoding;
}

function compare(a: Priority, b: Priority): number {
  return (b.q - a.q) || (b.exact - a.exact) || (a.order - b.order) || (a.index - b.index);
}
