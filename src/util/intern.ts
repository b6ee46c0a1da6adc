/**
 * One copy of strings that many connections repeat (header values such as `user-agent` or
 * `sec-websocket-extensions`, the handshake URL, query values, the peer's address): each session
 * would otherwise keep its own copy for its whole life. The table is bounded: past
 * {@linkcode INTERN_MAX_ENTRIES} distinct strings it starts over, so unique values (tokens, ids)
 * cost a lookup and nothing more.
 *
 * @module
 */

/** Distinct strings kept at most (then the table is cleared). */
export const INTERN_MAX_ENTRIES = 1024;
/** Longer strings are not interned. */
export const INTERN_MAX_LENGTH = 256;

const table = new Map<string, string>();

/**
 * The shared copy of `value` (itself the first time it is seen).
 *
 * @example
 * ```ts
 * import { intern } from "./intern.ts";
 * const a = intern(["web", "socket"].join(""));
 * intern("websocket") === a; // true (and the same string object)
 * ```
 */
export function intern(value: string): string {
  if (value.length > INTERN_MAX_LENGTH) return value;
  const found = table.get(value);
  if (found !== undefined) return found;
  if (table.size >= INTERN_MAX_ENTRIES) table.clear();
  table.set(value, value);
  return value;
}

/** Headers whose values are unique per connection: not worth a table entry. */
const UNIQUE_HEADERS = new Set(["sec-websocket-key", "cookie", "authorization", "x-request-id"]);

/**
 * Replaces the values of a header record by their shared copies, in place (unique ones, such as
 * `sec-websocket-key`, are left alone).
 *
 * @example
 * ```ts
 * import { internHeaderValues } from "./intern.ts";
 * const record = internHeaderValues({ upgrade: "websocket", "sec-websocket-key": "abc" });
 * ```
 */
export function internHeaderValues(record: Record<string, string>): Record<string, string> {
  for (const name in record) {
    if (!Object.hasOwn(record, name) || name === "__proto__" || UNIQUE_HEADERS.has(name)) continue;
    // Always written: `===` compares string contents, so it cannot tell the copies apart.
    record[name] = intern(record[name]);
  }
  return record;
}
