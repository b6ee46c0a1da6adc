/**
 * A small, typed event emitter used by every layer (engine, io, client).
 *
 * It is deliberately tiny: listeners are kept in arrays, `emitReserved` dispatches locally and never
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
  #listeners: Map<keyof M, AnyListener[]> = new Map();

  /** Adds a listener for `event`. */
  on<E extends keyof M & string>(event: E, listener: ListenerOf<M, E>): this {
    const list = this.#listeners.get(event);
    if (list) list.push(listener);
    else this.#listeners.set(event, [listener]);
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
    if (event === undefined) {
      this.#listeners.clear();
      return this;
    }
    if (listener === undefined) {
      this.#listeners.delete(event);
      return this;
    }
    const list = this.#listeners.get(event);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      const l = list[i] as AnyListener & { listener?: AnyListener };
      if (l === listener || l.listener === listener) {
        list.splice(i, 1);
        break;
      }
    }
    if (list.length === 0) this.#listeners.delete(event);
    return this;
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
    return (this.#listeners.get(event)?.slice() ?? []) as ListenerOf<M, E>[];
  }

  /** @internal The listeners of `event` themselves (no copy: do not modify), or `undefined`. */
  _list<E extends keyof M & string>(event: E): readonly AnyListener[] | undefined {
    return this.#listeners.get(event);
  }

  /** How many listeners `event` has. */
  listenerCount<E extends keyof M & string>(event: E): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Whether `event` has any listener. */
  hasListeners<E extends keyof M & string>(event: E): boolean {
    return this.#listeners.has(event);
  }

  /** Calls the listeners of `event` with `args`; returns whether there were any. */
  emitReserved<E extends keyof M & string>(event: E, ...args: Parameters<ListenerOf<M, E>>): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    if (list.length === 1) {
      list[0].apply(this, args);
      return true;
    }
    for (const l of list.slice()) l.apply(this, args);
    return true;
  }
}
