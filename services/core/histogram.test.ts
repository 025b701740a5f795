/**
 * The value histogram (histogram.ts) against a naive recompute: its total weight is the sum
 * of decay^age over every value added (age counted to the next value), however often the
 * range widened (mass is moved, never lost) and however long the series (the lazy weights
 * rescale); while the range stays put, each bin holds exactly the decayed weight of the values
 * that fall in it; and a widening moves each old bin whole to the bin its centre falls in.
 * Its numbers are 32-bit floats (state version 7), so "exactly" means to within float32's
 * relative precision, accumulated over the values (1e-5 relative).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_BINS, HISTOGRAM_SLOTS, histogramAdd, histogramBinWeight, histogramRescale, histogramShare, histogramTotal } from './histogram.ts';

/** Relative tolerance of the float32 weights against a float64 recompute (a few hundred roundings). */
const F32_TOL = 1e-5;

/** Adds values one by one, tracking the range as the sensor block does; returns the histogram, its range and its bins' weights. */
function build(xs: readonly number[], decay: number): { f: Float64Array; lo: number; hi: number; bins: number[] } {
  const f = new Float64Array(HISTOGRAM_SLOTS);
  let lo = NaN;
  let hi = NaN;
  for (const x of xs) {
    histogramAdd(f, 0, x, lo, hi, 1 / decay);
    if (!(x >= lo)) lo = x;
    if (!(x <= hi)) hi = x;
  }
  // Each bin's weight, read as histogramBinWeight reads it (units of the next value's weight).
  const bins = Array.from({ length: HISTOGRAM_BINS }, (_, b) => f[b]! / f[HISTOGRAM_BINS]!);
  return { f, lo, hi, bins };
}

const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 400 });
const decays = fc.constantFrom(1, 0.999, 0.99, 0.5);

describe('value histogram', () => {
  it('keeps the total weight of Σ decay^age through every widening of the range', () => {
    fc.assert(
      fc.property(values, decays, (xs, d) => {
        const { f } = build(xs, d);
        const naive = xs.reduce((s, _, i) => s + d ** (xs.length - i), 0);
        expect(Math.abs(histogramTotal(f, 0) - naive)).toBeLessThanOrEqual(F32_TOL * naive);
      }),
      { numRuns: 300 },
    );
  });

  it('equals the naive decayed count per bin while the range stays put', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 300 }), decays, (inner, d) => {
        const xs = [0, 1, ...inner];
        const { bins } = build(xs, d);
        const naive = new Array<number>(HISTOGRAM_BINS).fill(0);
        xs.forEach((x, i) => {
          if (i < 2) return; // the first two set the range; the second one's widening moved the first
          naive[Math.min(HISTOGRAM_BINS - 1, Math.floor(x * HISTOGRAM_BINS))]! += d ** (xs.length - i);
        });
        // The first two values: 0 in bin 0, 1 in the top bin.
        naive[0]! += d ** xs.length;
        naive[HISTOGRAM_BINS - 1]! += d ** (xs.length - 1);
        naive.forEach((w, b) => expect(Math.abs(bins[b]! - w)).toBeLessThanOrEqual(F32_TOL * (1 + w)));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    // [values, bins after]. Over [0, 7] the bins hold [1, 1, 0, 1, 0, 1, 2]; widening down to
    // [-7, 7] doubles their width: their centres land in bins 3, 4, 4, 5, 5, 6, 6, and -7 in
    // the bottom one.
    [[0, 7, 1, 3, 5, 6, -7], [1, 0, 0, 1, 1, 1, 3]],
    // upward to [0, 14]: the centres land in bins 0, 0, 1, 1, 2, 2, 3, and 14 in the top one
    [[0, 7, 1, 3, 5, 6, 14], [2, 1, 1, 2, 0, 0, 1]],
    // a single repeated value, then a larger one: all of it goes to the bottom bin
    [[5, 5, 5, 9], [3, 0, 0, 0, 0, 0, 1]],
  ])('re-bins %j into %j (no decay)', (xs, bins) => {
    expect(build(xs, 1).bins).toEqual(bins);
  });

  it('rescales its weights on a long series without changing what they say', () => {
    const xs = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 101);
    const d = 0.9;
    const { f, lo, hi } = build(xs, d);
    // Below 1e30 a growth of 1/0.9 at a time: within float32's range (the state stores it so).
    expect(f[HISTOGRAM_BINS]!).toBeLessThan(1e31);
    const bin40 = Math.floor(0.4 * HISTOGRAM_BINS);
    const naive = xs.reduce((s, x, i) => s + (Math.min(HISTOGRAM_BINS - 1, Math.floor((x / 100) * HISTOGRAM_BINS)) === bin40 ? d ** (xs.length - i) : 0), 0);
    expect(Math.abs(histogramBinWeight(f, 0, 40, lo, hi) - naive)).toBeLessThanOrEqual(F32_TOL * naive);
  });

  it('gives a value the share of its bin, and a value outside the range only the prior', () => {
    // Over [0, 7] the three 1s share bin 1 (each bin one unit wide).
    const { f, lo, hi } = build([0, 7, 1, 1, 1, 6], 1);
    const total = histogramTotal(f, 0);
    expect(histogramShare(f, 0, 1.5, lo, hi, total)).toBeCloseTo((3 + 0.5) / (6 + 0.5 * HISTOGRAM_BINS), 12);
    expect(histogramShare(f, 0, 9, lo, hi, total)).toBeCloseTo(0.5 / (6 + 0.5 * HISTOGRAM_BINS), 12);
  });

  it('scales back the weights of an older state (grown to 1e100) to within float32, keeping every share', () => {
    const f = Float64Array.from([...Array.from({ length: HISTOGRAM_BINS }, (_, b) => (b + 1) * 1e99), 1e100]);
    const before = Array.from({ length: HISTOGRAM_BINS }, (_, b) => f[b]! / f[HISTOGRAM_BINS]!);
    histogramRescale(f, 0);
    expect(f[HISTOGRAM_BINS]).toBe(1);
    Array.from({ length: HISTOGRAM_BINS }, (_, b) => expect(f[b]).toBe(Math.fround(before[b]!)));
    // Weights within range are left alone.
    const g = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    histogramRescale(g, 0);
    expect(Array.from(g)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
