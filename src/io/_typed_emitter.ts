/**
 * A strictly typed emitter base for `Socket`, `Namespace` and `Server`: listeners are typed from an
 * events map of user events plus a map of reserved events, and every dispatch isolates listeners, so
 * an error thrown (or a promise rejected) by one is logged and never escapes.
 *
 * @module
 */

import { type AnyListener, Emitter } from "../util/emitter.ts";
import { reportListenerError } from "./_util.ts";
import type {
  EventNames,
  EventParams,
  EventsMap,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../util/typed_events.ts";

/**
 * An emitter whose `on`/`once`/`off` are typed from `ListenEvents` and `ReservedEvents`.
 *
 * @example
 * ```ts
 * import { StrictEventEmitter } from "./_typed_emitter.ts";
 * class Room extends StrictEventEmitter<{ msg: (text: string) => void }, { closed: () => void }> {}
 * const room = new Room();
 * room.on("msg", (text) => console.log(text.toUpperCase()));
 * room.emitUntyped("msg", "hi");
 * ```
 */
export class StrictEventEmitter<ListenEvents extends EventsMap, ReservedEvents extends EventsMap>
  extends Emitter<EventsMap> {
  /** Adds a listener. */
  override on<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: E,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, E>,
  ): this {
    return super.on(event, listener as AnyListener);
  }

  /** Alias of `on`. */
  override addListener<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: E,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, E>,
  ): this {
    return this.on(event, listener);
  }

  /** Adds a listener called at most once. */
  override once<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: E,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, E>,
  ): this {
    return super.once(event, listener as AnyListener);
  }

  /** Removes one listener, every listener of `event`, or every listener. */
  override off<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event?: E,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, E>,
  ): this {
    return super.off(event, listener as AnyListener | undefined);
  }

  /** Alias of `off` with a listener. */
  override removeListener<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: E,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, E>,
  ): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  override removeAllListeners<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(event?: E): this {
    return super.off(event);
  }

  /** The listeners of `event`, in call order. */
  override listeners<E extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    event: E,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, E>[] {
    return super.listeners(event) as ReservedOrUserListener<ReservedEvents, ListenEvents, E>[];
  }

  /** How many listeners `event` has. */
  override listenerCount(event: string): number {
    return super.listenerCount(event);
  }

  /** Whether `event` has any listener. */
  override hasListeners(event: string): boolean {
    return super.hasListeners(event);
  }

  /**
   * Calls the listeners of a reserved event (internal: the library emits these, users listen).
   * Errors thrown by listeners are logged.
   */
  override emitReserved<E extends EventNames<ReservedEvents>>(
    event: E,
    ...args: EventParams<ReservedEvents, E>
  ): boolean {
    return this.emitUntyped(event, ...args);
  }

  /** Calls the listeners of any event locally, without type checks; errors are logged. */
  emitUntyped(event: string, ...args: unknown[]): boolean {
    return this._dispatchArgs(event, args, 0);
  }

  /**
   * @internal Calls the listeners of `event` with `args` from index `start` on (without copying
   * them for up to three arguments); errors are logged. The hot path of every incoming event.
   */
  _dispatchArgs(event: string, args: unknown[], start: number): boolean {
    const list = this._list(event);
    if (list === undefined) return false;
    if (typeof list === "function") invoke(this, list, event, args, start);
    else for (const listener of list.slice()) invoke(this, listener, event, args, start);
    return true;
  }
}

function invoke(self: unknown, listener: AnyListener, event: string, args: unknown[], start: number): void {
  try {
    const n = args.length - start;
    const result: unknown = n === 0
      ? listener.call(self)
      : n === 1
      ? listener.call(self, args[start])
      : n === 2
      ? listener.call(self, args[start], args[start + 1])
      : n === 3
      ? listener.call(self, args[start], args[start + 1], args[start + 2])
      : listener.apply(self, start === 0 ? args : args.slice(start));
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      (result as PromiseLike<unknown>).then(undefined, (err) => reportListenerError(err, `"${event}" listener`));
    }
  } catch (err) {
    reportListenerError(err, `"${event}" listener`);
  }
}
