/**
 * Statistics the benchmarks share.
 *
 * @module
 */

/**
 * The median of the finite numbers in `values` (the mean of the middle two for an even count);
 * `NaN` when there are none.
 *
 * @example
 * ```ts
 * import { median } from "./_stats.ts";
 * median([3, 1, 2, 10]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
