/**
 * Incremental statistics on slices of a Float64Array (the asset state), O(1) per value.
 *
 * The rolling window of `w` readings is kept as 4 blocks of w/4 readings, each with its
 * count, mean and sum of squared deviations (Welford), plus the merged totals of the three
 * most recent complete blocks (Chan et al.'s pairwise merge, recomputed once per block
 * rotation: amortized O(1), and numerically stable because nothing is ever subtracted).
 * So the window covers the most recent readings in whole blocks: between 3w/4 and w of
 * them (see windowSpan), and the cost does not depend on w. Memory: 16 numbers per sensor
 * whatever the window size, which is what keeps an 8-sensor state under 4 KiB.
 */

/** Number of blocks the window is split into. */
export const WINDOW_BLOCKS = 4;
/** Slots a window occupies: [blockIndex, totals(n, mean, M2), blocks × (n, mean, M2)]. */
export const WINDOW_SLOTS = 1 + 3 + WINDOW_BLOCKS * 3;

/**
 * How many of the most recent values the window holds after `count` values were added with
 * window size `windowSize`: whole complete blocks (at most 3) plus the partial one.
 */
export function windowSpan(count: number, windowSize: number): number {
  const bs = windowSize / WINDOW_BLOCKS;
  const complete = Math.floor(count / bs);
  return Math.min(complete, WINDOW_BLOCKS - 1) * bs + (count % bs);
}

/** Adds `x` to the window stored at f[o .. o+WINDOW_SLOTS). `blockSize` = windowSize / 4. */
export function windowAdd(f: Float64Array, o: number, x: number, blockSize: number): void {
  const idx = f[o]!;
  const b = o + 4 + idx * 3;
  const n = f[b]! + 1;
  const d = x - f[b + 1]!;
  const mean = f[b + 1]! + d / n;
  f[b] = n;
  f[b + 1] = mean;
  f[b + 2] = f[b + 2]! + d * (x - mean);
  if (n >= blockSize) {
    // Rotate: the oldest block becomes the current one; totals = the other three blocks.
    const next = (idx + 1) % WINDOW_BLOCKS;
    f[o] = next;
    const nb = o + 4 + next * 3;
    f[nb] = 0;
    f[nb + 1] = 0;
    f[nb + 2] = 0;
    let tn = 0;
    let tm = 0;
    let tM2 = 0;
    // Merge oldest to newest so the order of operations is fixed (reproducible bits).
    for (let k = 1; k < WINDOW_BLOCKS; k++) {
      const q = o + 4 + ((next + k) % WINDOW_BLOCKS) * 3;
      const bn = f[q]!;
      if (bn === 0) continue;
      const nn = tn + bn;
      const delta = f[q + 1]! - tm;
      tm += (delta * bn) / nn;
      tM2 += f[q + 2]! + (delta * delta * tn * bn) / nn;
      tn = nn;
    }
    f[o + 1] = tn;
    f[o + 2] = tm;
    f[o + 3] = tM2;
  }
}

/** Window statistics: count, mean and M2 (sum of squared deviations from the mean). */
export interface WindowStats {
  n: number;
  mean: number;
  m2: number;
}

/** Merges totals and the current block into `out` (reused to avoid allocation). */
export function windowStats(f: Float64Array, o: number, out: WindowStats): WindowStats {
  const tn = f[o + 1]!;
  const b = o + 4 + f[o]! * 3;
  const bn = f[b]!;
  if (bn === 0) {
    out.n = tn;
    out.mean = f[o + 2]!;
    out.m2 = f[o + 3]!;
  } else if (tn === 0) {
    out.n = bn;
    out.mean = f[b + 1]!;
    out.m2 = f[b + 2]!;
  } else {
    const nn = tn + bn;
    const delta = f[b + 1]! - f[o + 2]!;
    out.n = nn;
    out.mean = f[o + 2]! + (delta * bn) / nn;
    out.m2 = f[o + 3]! + f[b + 2]! + (delta * delta * tn * bn) / nn;
  }
  return out;
}

/**
 * Sample standard deviation of the window at f[o ..]: sqrt(M2 / (n − 1)), 0 for n < 2. The
 * scorer's hot path needs only this, so it skips the mean and the `out` object of
 * windowStats; n and M2 are merged with the same operations in the same order, so the result
 * has exactly the bits of sqrt(windowStats(...).m2 / (n − 1)).
 */
export function windowSampleStd(f: Float64Array, o: number): number {
  const tn = f[o + 1]!;
  const b = o + 4 + f[o]! * 3;
  const bn = f[b]!;
  let n: number;
  let m2: number;
  if (bn === 0) {
    n = tn;
    m2 = f[o + 3]!;
  } else if (tn === 0) {
    n = bn;
    m2 = f[b + 2]!;
  } else {
    n = tn + bn;
    const delta = f[b + 1]! - f[o + 2]!;
    m2 = f[o + 3]! + f[b + 2]! + (delta * delta * tn * bn) / n;
  }
  return n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
}

/** 2^(-x), the decay of an exponential average after x half-lives (exp is cheaper than pow). */
export function decay(halfLives: number): number {
  return Math.exp(-halfLives * Math.LN2);
}

/** erf(x) (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7); used to map z to a tail probability. */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
