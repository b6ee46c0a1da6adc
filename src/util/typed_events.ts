/**
 * Type-level helpers for strongly typed events, matching the generics of socket.io 4.x: an events
 * map names each event and gives its listener signature; emit, listen and ack types follow from it.
 *
 * @example
 * ```ts
 * import type { EventNames, EventParams } from "./typed_events.ts";
 * interface Events { hello: (name: string, age: number) => void }
 * type Names = EventNames<Events>; // "hello"
 * type Args = EventParams<Events, "hello">; // [name: string, age: number]
 * ```
 *
 * @module
 */

/**
 * Maps event names to listener signatures.
 *
 * @example
 * ```ts
 * import type { EventsMap } from "./typed_events.ts";
 * const events: EventsMap = { ping: () => {} };
 * ```
 */
export interface EventsMap {
  /** The listener signature of each event. */
  // deno-lint-ignore no-explicit-any
  [event: string]: any;
}

/**
 * The map used when none is given: any event name, any arguments.
 *
 * @example
 * ```ts
 * import type { DefaultEventsMap } from "./typed_events.ts";
 * const handlers: DefaultEventsMap = { anything: (...args) => console.log(args) };
 * ```
 */
export interface DefaultEventsMap {
  /** Any event, any arguments. */
  // deno-lint-ignore no-explicit-any
  [event: string]: (...args: any[]) => void;
}

/**
 * The event names of a map.
 *
 * @example
 * ```ts
 * import type { EventNames } from "./typed_events.ts";
 * type N = EventNames<{ a: () => void; b: () => void }>; // "a" | "b"
 * ```
 */
export type EventNames<M extends EventsMap> = keyof M & string;

/**
 * The parameters of one event's listener.
 *
 * @example
 * ```ts
 * import type { EventParams } from "./typed_events.ts";
 * type P = EventParams<{ a: (x: number) => void }, "a">; // [x: number]
 * ```
 */
export type EventParams<M extends EventsMap, E extends EventNames<M>> = Parameters<M[E]>;

/**
 * Whether `T` is `any`.
 *
 * @example
 * ```ts
 * import type { IsAny } from "./typed_events.ts";
 * type T = IsAny<any>; // true
 * ```
 */
export type IsAny<T> = 0 extends (1 & T) ? true : false;

/**
 * Any function.
 *
 * @example
 * ```ts
 * import type { AnyFunction } from "./typed_events.ts";
 * const f: AnyFunction = () => 1;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/**
 * The type of the last element of a tuple (the element type for plain arrays).
 *
 * @example
 * ```ts
 * import type { Last } from "./typed_events.ts";
 * type L = Last<[string, number]>; // number
 * ```
 */
export type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L] ? L
  : T extends readonly (infer E)[] ? E
  : never;

/**
 * A tuple without its last element (`any[]` when that is unknown).
 *
 * @example
 * ```ts
 * import type { AllButLast } from "./typed_events.ts";
 * type H = AllButLast<[string, number, () => void]>; // [string, number]
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AllButLast<T extends any[]> = T extends [...infer Head, unknown] ? Head : any[];

/**
 * The first argument of an ack callback that is not the timeout error.
 *
 * @example
 * ```ts
 * import type { FirstNonErrorArg } from "./typed_events.ts";
 * type V = FirstNonErrorArg<(err: Error, value: string) => void>; // string
 * ```
 */
// deno-lint-ignore no-explicit-any
export type FirstNonErrorArg<F> = F extends (...args: infer P) => any ? (P[0] extends Error ? P[1] : P[0])
  // deno-lint-ignore no-explicit-any
  : any;

/**
 * Whether a listener type ends with an acknowledgement callback (`true` for `any`).
 *
 * @example
 * ```ts
 * import type { EndsWithAck } from "./typed_events.ts";
 * type T = EndsWithAck<(cb: () => void) => void>; // true
 * ```
 */
export type EndsWithAck<F> = IsAny<F> extends true ? true
  : F extends (...args: infer P) => unknown ? (
      P extends [] ? false
        : IsAny<Last<P>> extends true ? true
        : Last<P> extends AnyFunction ? true
        : false
    )
  : false;

/**
 * Whether a listener type takes no acknowledgement callback (`true` for `any`).
 *
 * @example
 * ```ts
 * import type { EndsWithoutAck } from "./typed_events.ts";
 * type T = EndsWithoutAck<(x: number) => void>; // true
 * ```
 */
export type EndsWithoutAck<F> = IsAny<F> extends true ? true
  : F extends (...args: infer P) => unknown ? (
      P extends [] ? true
        : IsAny<Last<P>> extends true ? true
        : Last<P> extends AnyFunction ? false
        : true
    )
  : true;

/**
 * Whether a listener's acknowledgement callback takes an error first.
 *
 * @example
 * ```ts
 * import type { AckTakesError } from "./typed_events.ts";
 * type T = AckTakesError<(cb: (err: Error) => void) => void>; // true
 * ```
 */
export type AckTakesError<F> = IsAny<F> extends true ? true
  : F extends (...args: infer P) => unknown ? (
      IsAny<Last<P>> extends true ? true
        // deno-lint-ignore no-explicit-any
        : Last<P> extends (err: infer E, ...rest: any[]) => unknown ? (E extends Error ? true : false)
        : false
    )
  : false;

/**
 * The events whose last parameter is an acknowledgement callback.
 *
 * @example
 * ```ts
 * import type { EventNamesWithAck } from "./typed_events.ts";
 * type N = EventNamesWithAck<{ a: (cb: () => void) => void; b: (x: number) => void }>; // "a"
 * ```
 */
export type EventNamesWithAck<M extends EventsMap> = {
  [K in EventNames<M>]: EndsWithAck<M[K]> extends true ? K : never;
}[EventNames<M>];

/**
 * The events that take no acknowledgement callback.
 *
 * @example
 * ```ts
 * import type { EventNamesWithoutAck } from "./typed_events.ts";
 * type N = EventNamesWithoutAck<{ a: (cb: () => void) => void; b: (x: number) => void }>; // "b"
 * ```
 */
export type EventNamesWithoutAck<M extends EventsMap> = {
  [K in EventNames<M>]: EndsWithoutAck<M[K]> extends true ? K : never;
}[EventNames<M>];

/**
 * The events whose acknowledgement callback takes an error first (after `timeout()`).
 *
 * @example
 * ```ts
 * import type { EventNamesWithError } from "./typed_events.ts";
 * type N = EventNamesWithError<{ a: (cb: (err: Error, v: number) => void) => void }>; // "a"
 * ```
 */
export type EventNamesWithError<M extends EventsMap> = {
  [K in EventNames<M>]: AckTakesError<M[K]> extends true ? K : never;
}[EventNames<M>];

/**
 * The map without the events that need an acknowledgement (what a broadcast may emit).
 *
 * @example
 * ```ts
 * import type { RemoveAcknowledgements } from "./typed_events.ts";
 * type M = RemoveAcknowledgements<{ a: (cb: () => void) => void; b: () => void }>; // { b: () => void }
 * ```
 */
export type RemoveAcknowledgements<M extends EventsMap> = {
  [K in EventNamesWithoutAck<M>]: M[K];
};

/**
 * Adds the timeout error in front of each callback's parameters in a parameter list.
 *
 * @example
 * ```ts
 * import type { PrependError } from "./typed_events.ts";
 * type T = PrependError<[(v: number) => void]>; // [(err: Error, v: number) => void]
 * ```
 */
export type PrependError<P extends unknown[]> = {
  [I in keyof P]: P[I] extends (...args: infer A) => infer R
    ? (A[0] extends Error ? P[I] : (err: Error, ...args: A) => R)
    : P[I];
};

/**
 * Adds the timeout error as the first argument of every acknowledgement callback.
 *
 * @example
 * ```ts
 * import type { DecorateAcknowledgements } from "./typed_events.ts";
 * type M = DecorateAcknowledgements<{ a: (cb: (v: number) => void) => void }>;
 * // { a: (cb: (err: Error, v: number) => void) => void }
 * ```
 */
export type DecorateAcknowledgements<M> = {
  [K in keyof M]: M[K] extends (...args: infer P) => infer R ? (...args: PrependError<P>) => R : M[K];
};

/**
 * An acknowledgement callback that receives an array of responses instead of one value.
 *
 * @example
 * ```ts
 * import type { Collect } from "./typed_events.ts";
 * type T = Collect<[number], void>; // (responses: number[]) => void
 * ```
 */
export type Collect<A extends unknown[], R> = A extends [] ? () => R
  : A extends [Error] ? (err: Error) => R
  : A extends [Error, infer V, ...unknown[]] ? (err: Error, responses: V[]) => R
  : A extends [infer V, ...unknown[]] ? (responses: V[]) => R
  : (...args: A) => R;

/**
 * Turns each callback of a parameter list into one that receives an array of responses.
 *
 * @example
 * ```ts
 * import type { ManyResponses } from "./typed_events.ts";
 * type T = ManyResponses<[(v: number) => void]>; // [(responses: number[]) => void]
 * ```
 */
export type ManyResponses<P extends unknown[]> = {
  [I in keyof P]: P[I] extends (...args: infer A) => infer R ? Collect<A, R> : P[I];
};

/**
 * Turns each acknowledgement value into an array of responses (a broadcast gets one per client).
 *
 * @example
 * ```ts
 * import type { DecorateAcknowledgementsWithMultipleResponses } from "./typed_events.ts";
 * type M = DecorateAcknowledgementsWithMultipleResponses<{ a: (cb: (v: number) => void) => void }>;
 * // { a: (cb: (responses: number[]) => void) => void }
 * ```
 */
export type DecorateAcknowledgementsWithMultipleResponses<M> = {
  [K in keyof M]: M[K] extends (...args: infer P) => infer R ? (...args: ManyResponses<P>) => R : M[K];
};

/**
 * Both decorations: the timeout error first, then an array of responses.
 *
 * @example
 * ```ts
 * import type { DecorateAcknowledgementsWithTimeoutAndMultipleResponses } from "./typed_events.ts";
 * type M = DecorateAcknowledgementsWithTimeoutAndMultipleResponses<{ a: (cb: (v: number) => void) => void }>;
 * // { a: (cb: (err: Error, responses: number[]) => void) => void }
 * ```
 */
export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<M> = {
  [K in keyof M]: M[K] extends (...args: infer P) => infer R ? (...args: ManyResponses<PrependError<P>>) => R
    : M[K];
};

/**
 * The names of reserved and user events together.
 *
 * @example
 * ```ts
 * import type { ReservedOrUserEventNames } from "./typed_events.ts";
 * type N = ReservedOrUserEventNames<{ disconnect: () => void }, { hi: () => void }>; // "disconnect" | "hi"
 * ```
 */
export type ReservedOrUserEventNames<R extends EventsMap, U extends EventsMap> =
  | EventNames<R>
  | EventNames<U>;

/**
 * The listener type of an event: the reserved one wins; an unknown event gets an untyped listener.
 *
 * @example
 * ```ts
 * import type { ReservedOrUserListener } from "./typed_events.ts";
 * type L = ReservedOrUserListener<{ disconnect: (r: string) => void }, {}, "disconnect">; // (r: string) => void
 * ```
 */
export type ReservedOrUserListener<
  R extends EventsMap,
  U extends EventsMap,
  E extends ReservedOrUserEventNames<R, U>,
> = UntypedIfNever<
  E extends EventNames<R> ? R[E]
    : E extends EventNames<U> ? U[E]
    : never
>;

/**
 * An untyped listener when `T` is `never` (an event no map names), `T` otherwise.
 *
 * @example
 * ```ts
 * import type { UntypedIfNever } from "./typed_events.ts";
 * type T = UntypedIfNever<never>; // (...args: any[]) => void | Promise<void>
 * ```
 */
// deno-lint-ignore no-explicit-any
export type UntypedIfNever<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

/**
 * Something with a strictly typed `emit` that is not an event emitter itself.
 *
 * @example
 * ```ts
 * import type { TypedEventBroadcaster } from "./typed_events.ts";
 * const b: TypedEventBroadcaster<{ hi: (n: number) => void }> = { emit: () => true };
 * b.emit("hi", 1);
 * ```
 */
export interface TypedEventBroadcaster<M extends EventsMap> {
  /** Emits an event. */
  emit<E extends EventNames<M>>(event: E, ...args: EventParams<M, E>): boolean;
}
