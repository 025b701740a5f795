/**
 * The naive reference for the core's rolling statistics: recompute everything from the raw
 * window with simple-statistics. O(w) (O(w log w) for the median) per reading, so it is
 * the baseline the benchmark times and the oracle the property tests compare against,
 * never the hot path.
 */
import { mean, median, medianAbsoluteDeviation, sampleVariance, variance } from 'simple-statistics';

/** Statistics of one window, recomputed from scratch. */
export interface NaiveStats {
  n: number;
  mean: number;
  /** Population variance (M2 / n). */
  variance: number;
  /** Sample variance (M2 / (n − 1)); 0 for n < 2. */
  sampleVariance: number;
  median: number;
  /** Median absolute deviation from the median. */
  mad: number;
}

/** Recomputes the statistics of `window` (all of it) with simple-statistics. */
export function naiveWindowStats(window: readonly number[]): NaiveStats {
  const w = window as number[];
  return {
    n: w.length,
    mean: mean(w),
    variance: variance(w),
    sampleVariance: w.length > 1 ? sampleVariance(w) : 0,
    median: median(w),
    mad: medianAbsoluteDeviation(w),
  };
}

/**
 * For every position i of `values`, recomputes the statistics over the last `window` values
 * up to and including i. O(n·w): the naive rolling recompute the benchmark compares with.
 */
export function naiveRollingStats(values: readonly number[], window: number): NaiveStats[] {
  const out: NaiveStats[] = [];
  for (let i = 0; i < values.length; i++) out.push(naiveWindowStats(values.slice(Math.max(0, i - window + 1), i + 1)));
  return out;
}
