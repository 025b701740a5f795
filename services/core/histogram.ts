/**
 * The distribution of a sensor's values, in HISTOGRAM_BINS equal bins over the sensor's
 * own all-time range [min, max], with weights that forget exponentially (half of their weight
 * every `windowSize` values). It answers "how usual is this value for this sensor": a
 * machine that switches among a few operating levels, a sparse signal that idles at 0, a
 * quantised or a count signal all have values they keep returning to, and a value far from
 * all of them is rare even when it is no jump from the previous one.
 *
 * Forgetting is lazy: instead of decaying every bin at every value, each new value weighs
 * 1/decay times the one before (HISTOGRAM_WEIGHT holds the next value's weight), and only the
 * ratios of weights mean anything; when the weights grow past 1e30 they are all scaled back (the
 * state holds them as 32-bit floats, whose range ends at 3.4e38).
 * When the range widens, the weights move to the bins their old bins' centres fall in (the
 * mass is kept exactly; the shape is kept to within one old bin). O(1) per value but for a
 * widening of the range or a rescale, which are O(HISTOGRAM_BINS); no allocation. Its numbers
 * are 32-bit floats, rounded as they are written (the state stores them so, layout.ts).
 */

/**
 * Bins per sensor. Measured on the corpus of `npm run eval:anomaly`: 16 bins detected 1–3
 * points more of its anomalies at twice the slots; 7 instead of 8 (state version 6, to make
 * room for the level's extremes within 4 KiB an asset) 0.6 points fewer.
 */
export const HISTOGRAM_BINS = 7;
/** Slots of a histogram: the bins, then the weight the next value adds. */
export const HISTOGRAM_SLOTS = HISTOGRAM_BINS + 1;
const WEIGHT = HISTOGRAM_BINS;
/** Weight past which the weights are scaled back: far below float32's 3.4e38 (a bin holds at most a window's worth of weights). */
const RESCALE_ABOVE = 1e30;

/** Bin of x in [lo, hi] (0 when the range is a single value). */
export function binOf(x: number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0;
  const b = Math.floor(((x - lo) / (hi - lo)) * HISTOGRAM_BINS);
  return b >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : b < 0 ? 0 : b;
}

/** Total weight of the histogram at offset `o`, in units of the next value's weight. */
export function histogramTotal(f: Float64Array, o: number): number {
  const w = f[o + WEIGHT]!;
  if (!(w > 0)) return 0;
  let t = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) t += f[o + b]!;
  return t / w;
}

/**
 * Weight of the bin of `x` (0 outside [lo, hi]), in units of the next value's weight: a value
 * added `age` values before the next one weighs decay^age.
 */
export function histogramBinWeight(f: Float64Array, o: number, x: number, lo: number, hi: number): number {
  const w = f[o + WEIGHT]!;
  return w > 0 && hi > lo && x >= lo && x <= hi ? f[o + binOf(x, lo, hi)]! / w : 0;
}

/**
 * Share of the histogram's weight in the bin of `x`, with half a value of prior weight per
 * bin; a value outside [lo, hi] gets the prior alone. `total` from histogramTotal.
 */
export function histogramShare(f: Float64Array, o: number, x: number, lo: number, hi: number, total: number): number {
  return (histogramBinWeight(f, o, x, lo, hi) + 0.5) / (total + 0.5 * HISTOGRAM_BINS);
}

/**
 * Adds `x` to the histogram at `o` whose range was [lo, hi] (NaN, NaN before the first value),
 * first re-binning onto the widened range [min(lo, x), max(hi, x)]; the next value will weigh
 * `growth` (1 / decay) times this one. The caller stores the new range.
 */
export function histogramAdd(f: Float64Array, o: number, x: number, lo: number, hi: number, growth: number): void {
  if (!(lo === lo)) {
    f[o] = 1;
    f[o + WEIGHT] = Math.fround(growth);
    return;
  }
  if (x < lo || x > hi) {
    const nlo = x < lo ? x : lo;
    const nhi = x > hi ? x : hi;
    if (hi > lo) {
      // Bins move only upward in index when the range widens downward and only downward when
      // it widens upward, so a pass in the right direction needs no copy.
      const w = (hi - lo) / HISTOGRAM_BINS;
      if (x < lo) {
        for (let b = HISTOGRAM_BINS - 1; b >= 0; b--) {
          const c = f[o + b]!;
          f[o + b] = 0;
          f[o + binOf(lo + (b + 0.5) * w, nlo, nhi)] = Math.fround(f[o + binOf(lo + (b + 0.5) * w, nlo, nhi)]! + c);
        }
      } else {
        for (let b = 0; b < HISTOGRAM_BINS; b++) {
          const c = f[o + b]!;
          f[o + b] = 0;
          f[o + binOf(lo + (b + 0.5) * w, nlo, nhi)] = Math.fround(f[o + binOf(lo + (b + 0.5) * w, nlo, nhi)]! + c);
        }
      }
    } else {
      // Every earlier value was `lo`: it is now the bottom or the top of the range.
      let all = 0;
      for (let b = 0; b < HISTOGRAM_BINS; b++) {
        all += f[o + b]!;
        f[o + b] = 0;
      }
      f[o + (x < lo ? HISTOGRAM_BINS - 1 : 0)] = all;
    }
    lo = nlo;
    hi = nhi;
  }
  histogramGrow(f, o, binOf(x, lo, hi), growth);
}

/**
 * Scales the histogram at `o` so that the next value weighs 1 (only the ratios of weights mean
 * anything), when its weights have grown past what 32-bit floats hold comfortably: a state of
 * version 6 or older let them grow to 1e100.
 */
export function histogramRescale(f: Float64Array, o: number): void {
  const w = f[o + WEIGHT]!;
  if (!(w > RESCALE_ABOVE)) return;
  for (let k = 0; k < HISTOGRAM_BINS; k++) f[o + k] = Math.fround(f[o + k]! / w);
  f[o + WEIGHT] = 1;
}

/** Adds a value to bin `b` of the histogram at `o` (its range unchanged) and grows the next weight. */
export function histogramGrow(f: Float64Array, o: number, b: number, growth: number): void {
  const w = f[o + WEIGHT]!;
  f[o + b] = Math.fround(f[o + b]! + w);
  if (w > RESCALE_ABOVE) {
    for (let k = 0; k < HISTOGRAM_BINS; k++) f[o + k] = Math.fround(f[o + k]! / w);
    f[o + WEIGHT] = Math.fround(growth);
  } else f[o + WEIGHT] = Math.fround(w * growth);
}
