/**
 * Handler lookup shared by the python-style server and client: python-socketio's resolution order
 * for function handlers (`on(event, handler, namespace)`, with `"*"` for any event or namespace)
 * and the method a class-based namespace uses for an event.
 *
 * @module
 */

/**
 * What a handler returns when it did not handle the event: no acknowledgement is sent (python's
 * `sio.not_handled`).
 *
 * @example
 * ```ts
 * import { NOT_HANDLED } from "./_handlers.ts";
 * const handler = (sid: string, data: unknown) => (data ? "ok" : NOT_HANDLED);
 * ```
 */
export const NOT_HANDLED: unique symbol = Symbol("python-socketio not_handled");

/**
 * A function handler: its arguments depend on the event (see `AsyncServer.on`).
 *
 * @example
 * ```ts
 * import type { Handler } from "./_handlers.ts";
 * const onMessage: Handler = (sid: string, data: unknown) => `got ${data} from ${sid}`;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type Handler = (...args: any[]) => unknown;

/**
 * Handlers by namespace (`"*"`: any), then by event (`"*"`: any).
 *
 * @example
 * ```ts
 * import type { HandlerTable } from "./_handlers.ts";
 * const table: HandlerTable = new Map([["/", new Map([["message", (sid: string) => sid]])]]);
 * ```
 */
export type HandlerTable = Map<string, Map<string, Handler>>;

/**
 * The handler for `event` in `namespace` and the arguments it takes, in python-socketio's order:
 * the namespace's own handler, its `"*"` handler (event name first), then the `"*"` namespace's
 * handler (namespace first) and its `"*"` handler (event, then namespace). `clientRules`: the
 * client looks at the `"*"` namespace only when the namespace has no handler at all.
 *
 * @example
 * ```ts
 * import { findHandler, type HandlerTable } from "./_handlers.ts";
 * const table: HandlerTable = new Map();
 * const found = findHandler(table, "message", "/chat", ["sid", "data"], new Set(["connect", "disconnect"]), false);
 * ```
 */
export function findHandler(
  table: HandlerTable,
  event: string,
  namespace: string,
  args: unknown[],
  reserved: ReadonlySet<string>,
  clientRules: boolean,
): { handler: Handler; args: unknown[] } | undefined {
  const own = table.get(namespace);
  if (own) {
    const handler = own.get(event);
    if (handler) return { handler, args };
    const any = own.get("*");
    if (any && !reserved.has(event)) return { handler: any, args: [event, ...args] };
    if (clientRules) return undefined;
  }
  const wildcard = table.get("*");
  if (wildcard) {
    const handler = wildcard.get(event);
    if (handler) return { handler, args: [namespace, ...args] };
    const any = wildcard.get("*");
    if (any && !reserved.has(event)) return { handler: any, args: [event, namespace, ...args] };
  }
  return undefined;
}

/**
 * Adds `handler` for `event` in `namespace`.
 *
 * @example
 * ```ts
 * import { type HandlerTable, setHandler } from "./_handlers.ts";
 * const table: HandlerTable = new Map();
 * setHandler(table, "message", "/", (sid: string, data: unknown) => data);
 * ```
 */
export function setHandler(table: HandlerTable, event: string, namespace: string, handler: Handler): void {
  let events = table.get(namespace);
  if (!events) table.set(namespace, events = new Map());
  events.set(event, handler);
}

/**
 * The method names a class-based namespace may use for `event`, in order: `on` and the event in
 * PascalCase (`my_event`, `my-event`, `my event` and `myEvent` all give `onMyEvent`), then
 * python's own spelling `on_<event>` (`on_my_event`).
 *
 * @example
 * ```ts
 * import { methodNames } from "./_handlers.ts";
 * methodNames("chat_message"); // ["onChatMessage", "on_chat_message"]
 * ```
 */
export function methodNames(event: string): string[] {
  const words = event.split(/[^A-Za-z0-9]+/).filter((word) => word.length > 0);
  const pascal = words.map((word) => word[0].toUpperCase() + word.slice(1)).join("");
  return pascal ? ["on" + pascal, "on_" + event] : ["on_" + event];
}

/**
 * The method of `target` that handles `event` (see {@linkcode methodNames}), if any.
 *
 * @example
 * ```ts
 * import { findMethod } from "./_handlers.ts";
 * class Chat { onMessage(data: string) { return data; } }
 * findMethod(new Chat(), "message"); // Chat.prototype.onMessage
 * ```
 */
export function findMethod(target: object, event: string): Handler | undefined {
  for (const name of methodNames(event)) {
    if (name in Object.prototype) continue;
    const method = (target as Record<string, unknown>)[name];
    if (typeof method === "function") return method as Handler;
  }
  return undefined;
}
