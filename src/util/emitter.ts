/**
 * A small, typed event emitter used by every layer (engine, io, client).
 *
 * It is deliberately tiny: listeners are kept as is (one) or in arrays (several), `emitReserved` dispatches locally and never
 * throws because of a missing listener. Subclasses that send events elsewhere (the io `Socket`) keep
 * `emit` for that and dispatch their own events with `emitReserved`.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
export type AnyListener = (...args: any[]) => void;

/** Maps event names to listener signatures. */
// deno-lint-ignore no-explicit-any
export type EventsMap = { [event: string]: any };

/** The listener type of one event of a map. */
export type ListenerOf<M extends EventsMap, E extends keyof M> = M[E] extends AnyListener ? M[E]
  : AnyListener;

/**
 * The listeners of one event: the listener itself while there is one (most events of a connection
 * have one: an array would cost 32 bytes more per event and emitter), an array from two on.
 */
type Listeners = AnyListener | AnyListener[];

/**
 * Listeners by event name: a fast-properties object whose prototype has no members, so any
 * name (`toString`, `__proto__`) is just a key. Much smaller than a `Map` for the few events an
 * emitter has (a Map costs some 200 bytes even with two entries; idle connections hold several).
 * An event whose last listener is removed keeps its key with `undefined` (deleting keys would turn
 * the object into a slow dictionary); past {@linkcode MAX_VACANT} such keys the table is rebuilt
 * with the live ones, so per-request names (`once("reply:" + id)`) do not pile up.
 */
const ListenerTable = function ListenerTable() {} as unknown as new () => Record<string, Listeners | undefined>;
ListenerTable.prototype = Object.create(null);

/** How many emptied keys a table keeps before it is rebuilt. */
const MAX_VACANT = 32;

/**
 * A typed event emitter.
 *
 * @example
 * ```ts
 * import { Emitter } from "./emitter.ts";
 * const e = new Emitter<{ ping: (n: number) => void }>();
 * e.on("ping", (n) => console.log(n));
 * e.emitReserved("ping", 1);
 * ```
 */
export class Emitter<M extends EventsMap> {
  /** @internal Type only (nothing at run time): lets functions infer the event map of an emitter. */
  declare readonly _events?: M;
  #listeners: Record<string, Listeners | undefined> | undefined;
  #vacant = 0;

  /** Adds a listener for `event`. */
  on<E extends keyof M & string>(event: E, listener: ListenerOf<M, E>): this {
    const table = this.#listeners ??= new ListenerTable();
    const list = table[event];
    if (list === undefined) table[event] = listener;
    else if (typeof list === "function") table[event] = [list, listener];
    else list.push(listener);
    return this;
  }

  /** Alias of {@linkcode Emitter.on}. */
  addListener<E extends keyof M & string>(event: E, listener: ListenerOf<M, E>): this {
    return this.on(event, listener);
  }

  /** Adds a listener called at most once. */
  once<E extends keyof M & string>(event: E, listener: ListenerOf<M, E>): this {
    const wrapper = (...args: unknown[]) => {
      this.off(event, wrapper as ListenerOf<M, E>);
      (listener as AnyListener).apply(this, args);
    };
    (wrapper as { listener?: AnyListener }).listener = listener;
    return this.on(event, wrapper as ListenerOf<M, E>);
  }

  /** Removes one listener, or every listener of `event`, or every listener at all. */
  off<E extends keyof M & string>(event?: E, listener?: ListenerOf<M, E>): this {
    const table = this.#listeners;
    if (table === undefined) return this;
    if (event === undefined) {
      this.#listeners = undefined;
      this.#vacant = 0;
      return this;
    }
    const list = table[event];
    if (list === undefined) return this;
    if (listener !== undefined) {
      if (typeof list === "function") {
        if (list !== listener && (list as { listener?: AnyListener }).listener !== listener) return this;
      } else {
        for (let i = list.length - 1; i >= 0; i--) {
          const l = list[i] as AnyListener & { listener?: AnyListener };
          if (l === listener || l.listener === listener) {
            list.splice(i, 1);
            break;
          }
        }
        // Back to the listener itself when one is left (emits in progress iterate over a copy).
        if (list.length === 1) table[event] = list[0];
        if (list.length > 0) return this;
      }
    }
    table[event] = undefined;
    if (++this.#vacant > MAX_VACANT) this.#compact(table);
    return this;
  }

  /** Rebuilds the table without its emptied keys. */
  #compact(table: Record<string, Listeners | undefined>): void {
    let live: Record<string, Listeners | undefined> | undefined;
    for (const key in table) {
      const list = table[key];
      if (list !== undefined) (live ??= new ListenerTable())[key] = list;
    }
    this.#listeners = live;
    this.#vacant = 0;
  }

  /** Alias of {@linkcode Emitter.off}. */
  removeListener<E extends keyof M & string>(event: E, listener: ListenerOf<M, E>): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners<E extends keyof M & string>(event?: E): this {
    return this.off(event);
  }

  /** The listeners of `event`, in call order. */
  listeners<E extends keyof M & string>(event: E): ListenerOf<M, E>[] {
    const list = this.#listeners?.[event];
    if (list === undefined) return [];
    return (typeof list === "function" ? [list] : list.slice()) as ListenerOf<M, E>[];
  }

  /**
   * @internal The listeners of `event` themselves: the one listener, or the array of several (no
   * copy: do not modify), or `undefined`.
   */
  _list<E extends keyof M & string>(event: E): AnyListener | readonly AnyListener[] | undefined {
    return this.#listeners?.[event];
  }

  /** How many listeners `event` has. */
  listenerCount<E extends keyof M & string>(event: E): number {
    const list = this.#listeners?.[event];
    return list === undefined ? 0 : typeof list === "function" ? 1 : list.length;
  }

  /** Whether `event` has any listener. */
  hasListeners<E extends keyof M & string>(event: E): boolean {
    return this.#listeners?.[event] !== undefined;
  }

  /** Calls the listeners of `event` with `args`; returns whether there were any. */
  emitReserved<E extends keyof M & string>(event: E, ...args: Parameters<ListenerOf<M, E>>): boolean {
    const list = this.#listeners?.[event];
    if (list === undefined) return false;
    if (typeof list === "function") {
      list.apply(this, args);
      return true;
    }
    for (const l of list.slice()) l.apply(this, args);
    return true;
  }
}
