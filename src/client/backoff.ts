/**
 * Exponential back-off with randomization, for the delays between reconnection attempts.
 *
 * @module
 */

/**
 * Settings of a {@linkcode Backoff}.
 *
 * @example
 * ```ts
 * import type { BackoffOptions } from "./backoff.ts";
 * const options: BackoffOptions = { min: 500, max: 10000, factor: 2, jitter: 0.5 };
 * ```
 */
export interface BackoffOptions {
  /** The first delay, in milliseconds (default 100). */
  min?: number;
  /** The longest delay, in milliseconds (default 10000). */
  max?: number;
  /** How much each delay grows (default 2). */
  factor?: number;
  /** How much a delay may deviate from its nominal value, 0 to 1 (default 0: none). */
  jitter?: number;
}

/**
 * Computes the delay of each successive attempt: `min * factor ** attempt`, moved up or down by at
 * most `jitter` of itself at random, and never above `max`.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ min: 1000, max: 5000, jitter: 0.5 });
 * backoff.duration(); // between 500 and 1500
 * backoff.duration(); // between 1000 and 3000
 * backoff.reset();
 * ```
 */
export class Backoff {
  /** The first delay. */
  min: number;
  /** The longest delay. */
  max: number;
  /** The growth factor. */
  factor: number;
  /** The randomization factor. */
  jitter: number;
  /** How many delays were handed out since the last reset. */
  attempts = 0;

  /** Creates a back-off with the given settings. */
  constructor(options: BackoffOptions = {}) {
    this.min = options.min ?? 100;
    this.max = options.max ?? 10000;
    this.factor = options.factor ?? 2;
    const jitter = options.jitter ?? 0;
    this.jitter = jitter > 0 && jitter <= 1 ? jitter : 0;
  }

  /** The delay before the next attempt, in milliseconds; counts the attempt. */
  duration(): number {
    // Past some 1,000 attempts the product is Infinity, and with jitter Infinity - Infinity is
    // NaN, whose `| 0` is a delay of 0: the largest finite number keeps it at max.
    let ms = Math.min(this.min * Math.pow(this.factor, this.attempts++), Number.MAX_VALUE);
    if (this.jitter) {
      const deviation = Math.floor(Math.random() * this.jitter * ms);
      ms = Math.random() < 0.5 ? ms - deviation : ms + deviation;
    }
    return Math.min(ms, this.max) | 0;
  }

  /** Starts counting attempts from zero again. */
  reset(): void {
    this.attempts = 0;
  }
}
