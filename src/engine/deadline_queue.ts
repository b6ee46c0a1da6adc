/**
 * Deadlines of many sessions on one timer: a list in deadline order, and a single timer armed for
 * its head. Every session of an engine waits for the same delays (the ping interval, then the pong
 * timeout), so nearly every deadline goes to the tail and the timer is re-armed only when the head
 * changes. A timer per session costs from about 200 bytes (Node) to 650 bytes (Deno) of heap for
 * each idle connection, and a new one every heartbeat.
 *
 * @module
 */

/** A place in a {@linkcode DeadlineQueue}, in at most one queue at a time. */
export class DeadlineEntry<T> {
  /** What the deadline is for. */
  readonly owner: T;
  /** When it is due (`performance.now()` time). */
  at = 0;
  /** The queue it is in, if any. */
  queue: DeadlineQueue<T> | null = null;
  /** Neighbours in the queue. */
  prev: DeadlineEntry<T> | null = null;
  next: DeadlineEntry<T> | null = null;

  /** An entry for `owner`, in no queue yet. */
  constructor(owner: T) {
    this.owner = owner;
  }
}

/**
 * Entries in deadline order; `onDue(owner, at)` runs for each when its time comes, after it left
 * the queue.
 *
 * @example
 * ```ts
 * import { DeadlineEntry, DeadlineQueue } from "./deadline_queue.ts";
 * const queue = new DeadlineQueue<string>((name) => console.log(name, "is due"));
 * const entry = new DeadlineEntry("a");
 * queue.add(entry, performance.now() + 1000);
 * queue.remove(entry); // nothing runs, no timer is left
 * ```
 */
export class DeadlineQueue<T> {
  readonly #onDue: (owner: T, at: number) => void;
  #head: DeadlineEntry<T> | null = null;
  #tail: DeadlineEntry<T> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  /** A queue calling `onDue` for each entry that comes due. */
  constructor(onDue: (owner: T, at: number) => void) {
    this.#onDue = onDue;
  }

  /** Puts `entry` in this queue, due at `at` (taking it out of the queue it was in). */
  add(entry: DeadlineEntry<T>, at: number): void {
    entry.queue?.remove(entry);
    entry.at = at;
    entry.queue = this;
    // From the tail: deadlines of one delay arrive in order, so this is one step.
    let before = this.#tail;
    while (before !== null && before.at > at) before = before.prev;
    entry.prev = before;
    entry.next = before === null ? this.#head : before.next;
    if (entry.next === null) this.#tail = entry;
    else entry.next.prev = entry;
    if (before === null) this.#head = entry;
    else before.next = entry;
    if (this.#head === entry) this.#arm();
  }

  /** Takes `entry` out of this queue (nothing if it is not in it). */
  remove(entry: DeadlineEntry<T>): void {
    if (entry.queue !== this) return;
    if (entry.prev === null) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === null) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = null;
    entry.queue = null;
    // The timer stays armed for a later head (it finds nothing due and re-arms), but never for an
    // empty queue: no timer outlives the last session.
    if (this.#head === null) this.#disarm();
  }

  /** Whether no entry waits. */
  get empty(): boolean {
    return this.#head === null;
  }

  /**
   * Runs the entries that are due now, as the timer would: for hosts whose timers run late while
   * they are busy (workerd fires a Durable Object's timers only when its event loop is idle).
   */
  runDue(): void {
    const head = this.#head;
    if (head !== null && head.at <= performance.now()) DeadlineQueue.#fire(this);
  }

  #arm(): void {
    const head = this.#head;
    if (head === null) return this.#disarm();
    if (this.#timer !== undefined && this.#armedFor <= head.at) return;
    clearTimeout(this.#timer);
    this.#armedFor = head.at;
    this.#timer = setTimeout(DeadlineQueue.#fire, Math.max(0, Math.ceil(head.at - performance.now())), this);
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  static #fire<T>(queue: DeadlineQueue<T>): void {
    clearTimeout(queue.#timer);
    queue.#timer = undefined;
    queue.#armedFor = Infinity;
    const now = performance.now();
    for (let head = queue.#head; head !== null && head.at <= now; head = queue.#head) {
      queue.remove(head);
      try {
        queue.#onDue(head.owner, head.at);
      } catch (err) {
        // One owner's failure (a session's close listener that throws) must not stop the others'
        // deadlines, nor leave the queue without a timer.
        console.error("[engine.io] error in a heartbeat deadline:", err);
      }
    }
    queue.#arm();
  }
}
