/**
 * The distribution of a sensor's values, in HISTOGRAM_BINS equal bins over the sensor's
 * own all-time range [min, max], with counts that forget exponentially (half of their weight
 * every `windowSize` values). It answers "how usual is this value for this sensor": a
 * machine that switches among a few operating levels, a sparse signal that idles at 0, a
 * quantised or a count signal all have values they keep returning to, and a value far from
 * all of them is rare even when it is no jump from the previous one.
 *
 * When the range widens, the counts move to the bins their old bins' centres fall in (the
 * mass is kept exactly; the shape is kept to within one old bin). O(HISTOGRAM_BINS) per
 * value, no allocation.
 */

/** Bins per sensor: 8 slots of the state (measured: 16 bins detected 3 points more of the corpus's anomalies, at twice the slots). */
export const HISTOGRAM_BINS = 8;

/** Bin of x in [lo, hi] (0 when the range is a single value). */
function binOf(x: number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0;
  const b = Math.floor(((x - lo) / (hi - lo)) * HISTOGRAM_BINS);
  return b >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : b < 0 ? 0 : b;
}

/** Total weight of the histogram at offset `o`. */
export function histogramTotal(f: Float64Array, o: number): number {
  let t = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) t += f[o + b]!;
  return t;
}

/** Weight of the bin of `x` (0 outside [lo, hi]). */
export function histogramBinWeight(f: Float64Array, o: number, x: number, lo: number, hi: number): number {
  return hi > lo && x >= lo && x <= hi ? f[o + binOf(x, lo, hi)]! : 0;
}

/**
 * Share of the histogram's weight in the bin of `x`, with half a value of prior weight per
 * bin; a value outside [lo, hi] gets the prior alone.
 */
export function histogramShare(f: Float64Array, o: number, x: number, lo: number, hi: number, total: number): number {
  const inside = hi > lo && x >= lo && x <= hi;
  return ((inside ? f[o + binOf(x, lo, hi)]! : 0) + 0.5) / (total + 0.5 * HISTOGRAM_BINS);
}

/**
 * Adds `x` to the histogram at `o` whose range was [lo, hi] (NaN, NaN before the first value),
 * first re-binning onto the widened range [min(lo, x), max(hi, x)] and decaying every count by
 * `decay`. The caller stores the new range.
 */
export function histogramAdd(f: Float64Array, o: number, x: number, lo: number, hi: number, decay: number): void {
  if (lo === lo && (x < lo || x > hi)) {
    const nlo = x < lo ? x : lo;
    const nhi = x > hi ? x : hi;
    if (hi > lo) {
      // Bins move only upward in index when the range widens downward and only downward when
      // it widens upward, so a pass in the right direction needs no copy.
      const w = (hi - lo) / HISTOGRAM_BINS;
      const map = (b: number): number => binOf(lo + (b + 0.5) * w, nlo, nhi);
      if (x < lo) {
        for (let b = HISTOGRAM_BINS - 1; b >= 0; b--) {
          const c = f[o + b]!;
          f[o + b] = 0;
          f[o + map(b)]! += c;
        }
      } else {
        for (let b = 0; b < HISTOGRAM_BINS; b++) {
          const c = f[o + b]!;
          f[o + b] = 0;
          f[o + map(b)]! += c;
        }
      }
    } else {
      // Every earlier value was `lo`: it is now the bottom or the top of the range.
      const all = histogramTotal(f, o);
      for (let b = 0; b < HISTOGRAM_BINS; b++) f[o + b] = 0;
      f[o + (x < lo ? HISTOGRAM_BINS - 1 : 0)] = all;
    }
    lo = nlo;
    hi = nhi;
  }
  for (let b = 0; b < HISTOGRAM_BINS; b++) f[o + b]! *= decay;
  f[o + binOf(x, lo === lo ? lo : x, hi === hi ? hi : x)]! += 1;
}
