/**
 * Calibration of an evidence statistic against its own history: a peaks-over-threshold
 * model of its upper tail, kept in three slots of the asset state. This is what gives a
 * score one meaning on every series: a value is scored by how rare it is for this
 * statistic of this sensor, not by a fixed number of deviations.
 *
 * The threshold t follows a high quantile of the statistic (the (1 − share) quantile, by
 * stochastic approximation in steps of a twentieth of the mean excess while young, a fiftieth
 * once steady); the excesses over t
 * are taken as exponential with their running mean σ, and the rate p̂ at which the statistic
 * passes t is counted. So P(U > u) ≈ p̂ · exp(−(u − t) / σ) for u above t (Pickands: the
 * excesses over a high threshold are generalized Pareto; the exponential is its light-tail
 * member, measured here to be the best single choice: a fitted shape made noisy series
 * raise more false alarms and quiet ones fewer detections). A score is the log of that
 * probability against the log of the probability that scores 0.5: 0.5 means "as rare as
 * the configured tail probability", 1 means its square.
 *
 * O(1) per value; learning never allocates. Its three numbers are 32-bit floats (rounded as
 * they are written: the state stores them so, layout.ts).
 */

/** Slots of one tail model: threshold, mean excess, rate of passing the threshold. */
export const TAIL_SLOTS = 3;
const TAIL_THRESHOLD = 0;
const TAIL_EXCESS = 1;
const TAIL_RATE = 2;

/** Mean excess's smoothing factor per excess while the model is young (about 50 excesses of memory). */
const EXCESS_ALPHA = 0.02;
/** Step of the threshold while young, in mean excesses (five times larger for the first values). */
const THRESHOLD_STEP = 0.05;
const WARM_VALUES = 200;
/** From here on (and once 50 passes are expected) the learning rates are fixed: the fast path. */
const STEADY_VALUES = WARM_VALUES;
/**
 * The steady model's memory: about 130 excesses for the mean excess and 200 expected passes
 * for the rate (10,000 values at a 2% share), and a threshold that moves a fiftieth of a mean
 * excess per pass. The calibration is the sensor's long-run tail, so it must not follow a
 * change that lasts a few hundred values: with the young model's rates (50 excesses, 50
 * passes, a twentieth of an excess per pass) the threshold climbed with a slow drift (up one
 * mean excess every 20 values above it) and the drift's evidence never stood out. Measured on
 * `npm run eval:anomaly`, seeds 20261207, 1 and 2 averaged: detected 71.2% → 72.5% at 0.92 →
 * 0.88 false alarms per 10k. A memory of 200 excesses (0.005) detected 73.1% at 0.94, 100
 * (0.01) 71.7% at 0.85: 0.0075 keeps the false alarms below the old rates on every seed.
 */
const STEADY_EXCESS_ALPHA = 0.0075;
const STEADY_THRESHOLD_STEP = 0.02;
const STEADY_RATE_PASSES = 200;
/** Magnitude a statistic is learned at most as: the model's numbers are 32-bit floats (range 3.4e38). */
const LEARN_MAX = 1e30;
/** The rate is counted over about 50 expected passes, and never taken below this. */
const RATE_FLOOR = 1e-6;

/**
 * ln P(U > u) under the tail model at offset `o` (0 at or below the threshold: P = 1). Reads
 * the state before `u` is learned, so a value never explains itself.
 */
export function tailLogProbability(f: Float64Array, o: number, u: number): number {
  const over = u - f[o + TAIL_THRESHOLD]!;
  if (!(over > 0)) return 0;
  const sigma = f[o + TAIL_EXCESS]!;
  return Math.log(f[o + TAIL_RATE]!) - over / (sigma > 1e-300 ? sigma : 1e-300);
}

/**
 * tailLogProbability with the mean excess taken as at least `minExcess`: for a bounded
 * statistic whose tail has seen almost no excesses, so that a hair above the threshold is not
 * a certainty. Not the body of tailLogProbability with a floor of 1e-300: that one runs five
 * times per sensor value, and calling through this one measured 4.5% slower in the core.
 */
export function tailLogProbabilityFloored(f: Float64Array, o: number, u: number, minExcess: number): number {
  const over = u - f[o + TAIL_THRESHOLD]!;
  if (!(over > 0)) return 0;
  const sigma = f[o + TAIL_EXCESS]!;
  return Math.log(f[o + TAIL_RATE]!) - over / (sigma > minExcess ? sigma : minExcess);
}

/** The tail model's threshold at `o`: values at or below it score 0 (tailLogProbability is 0). */
export function tailThreshold(f: Float64Array, o: number): number {
  return f[o + TAIL_THRESHOLD]!;
}

/**
 * Score in [0, 1] of ln P against ln of the probability that scores 0.5 (`lnHalf` < 0):
 * 0.5 · lnP / lnHalf, clamped.
 */
export function tailScore(lnP: number, lnHalf: number): number {
  // At or below the threshold (lnP = 0, nearly every value) the score is 0: no division.
  if (!(lnP < 0)) return 0;
  const s = (0.5 * lnP) / lnHalf;
  return s > 1 ? 1 : s > 0 ? s : 0;
}

/** What a tail model learns by: `tailShare`, the share the threshold aims at (e.g. 0.02: the 98th percentile). */
export interface TailSettings {
  readonly tailShare: number;
}

/**
 * Learns `u` into the tail model at `o`; `n` is how many values it learned before. A
 * statistic beyond ±LEARN_MAX (1e30) is learned as ±LEARN_MAX, so the 32-bit numbers stay
 * finite. The share comes inside an object (the detector settings) rather than as a number:
 * a double argument of a call that is not inlined is boxed into a new heap number at every
 * call, and this one runs five times per sensor value (measured: 3.6% of the core's time).
 */
export function tailLearn(f: Float64Array, o: number, u: number, n: number, settings: TailSettings): void {
  const share = settings.tailShare;
  if (u > LEARN_MAX) u = LEARN_MAX;
  else if (u < -LEARN_MAX) u = -LEARN_MAX;
  const t = f[o + TAIL_THRESHOLD]!;
  const sigma = f[o + TAIL_EXCESS]!;
  const rate = f[o + TAIL_RATE]!;
  if (n >= STEADY_VALUES && n * share >= 50) {
    // Steady state (nearly every value): fixed rates, no warm-up factors.
    const ar = share * (1 / STEADY_RATE_PASSES);
    if (u > t) {
      const s = sigma + STEADY_EXCESS_ALPHA * (u - t - sigma);
      f[o + TAIL_EXCESS] = Math.fround(s);
      f[o + TAIL_THRESHOLD] = Math.fround(t + STEADY_THRESHOLD_STEP * s * (1 - share));
      f[o + TAIL_RATE] = Math.fround(rate + ar * (1 - rate));
    } else {
      const next = t - STEADY_THRESHOLD_STEP * sigma * share;
      f[o + TAIL_THRESHOLD] = Math.fround(next > 0 ? next : 0);
      const r = rate - ar * rate;
      f[o + TAIL_RATE] = Math.fround(r < RATE_FLOOR ? RATE_FLOOR : r);
    }
    return;
  }
  if (n === 0) {
    f[o + TAIL_THRESHOLD] = Math.fround(u);
    f[o + TAIL_EXCESS] = Math.fround(Math.abs(u) * 0.1 + 1e-12);
    f[o + TAIL_RATE] = Math.fround(share);
    return;
  }
  const over = u > t;
  const ar = share / 50 > 1 / (n + 1) ? share / 50 : 1 / (n + 1);
  const r = rate + ar * ((over ? 1 : 0) - rate);
  f[o + TAIL_RATE] = Math.fround(r < RATE_FLOOR ? RATE_FLOOR : r);
  let s = sigma;
  if (over) {
    const warm = 1 / (n * share + 1);
    const a = n < WARM_VALUES && warm > EXCESS_ALPHA ? warm : EXCESS_ALPHA;
    s += a * (u - t - s);
    f[o + TAIL_EXCESS] = Math.fround(s);
  }
  const next = t + THRESHOLD_STEP * s * (n < WARM_VALUES ? 5 : 1) * ((over ? 1 : 0) - share);
  f[o + TAIL_THRESHOLD] = Math.fround(next > 0 ? next : 0);
}

/**
 * Calibration by runs: how rare an excursion of a slow statistic is, counted once per
 * excursion rather than once per value. A statistic that moves slowly (a long average, the
 * distance between two levels) passes its tail model's threshold in runs of many values, and
 * the tail model above, learned per value, weighs each run by its length: a long healthy
 * excursion teaches it as much as many short ones, and a drift, one long excursion, is measured
 * against the long ones. The run model learns one number per run instead, the run's peak above
 * the threshold it started at, and the runs' mean length, so the rate of runs is the tail's
 * rate of passes over the mean length. A value above the threshold is scored by the expected
 * number of runs per value that reach it: (rate / mean length) · exp(−(u − t) / σ), σ the
 * runs' mean peak excess (shrunk toward the per-value tail's mean excess by two runs' weight,
 * so a young run model borrows the tail's scale). Measured on `npm run eval:anomaly` for the
 * shift (three seeds averaged, README): peaks have a mean excess about half the per-value one,
 * since the per-value one is length-biased toward the long excursions.
 *
 * Six slots, read with the tail model at `tailO` (its threshold, mean excess and rate), which
 * must be learned after runLearn at each value.
 */
export const RUN_SLOTS = 6;
/** The current run's peak (0 outside a run) and the threshold it started at. */
const RUN_PEAK = 0;
const RUN_START = 1;
/** Values in the current run so far (0 outside a run). */
const RUN_VALUES = 2;
/** Mean peak excess and mean length of the finished runs, and how many have finished. */
const RUN_EXCESS = 3;
const RUN_MEAN_LENGTH = 4;
const RUN_COUNT = 5;
/** Runs whose mean is a plain average; then exponential with this weight (a memory of about 50 runs). */
const RUN_ALPHA = 0.02;
/** Weight, in runs, of the per-value tail's mean excess in the run's scale. */
const RUN_PRIOR_RUNS = 2;
/** The run count stops here: a 32-bit float counts exactly to 2^24, and the count only weighs the prior and the warm-up. */
const RUN_COUNT_MAX = 1e6;

/**
 * ln of the expected number of runs per value whose peak passes `u`, under the run model at
 * `runO` and the tail model at `tailO` (0 at or below the threshold, and before the first run
 * has finished). Reads the state before `u` is learned.
 */
export function runLogProbability(f: Float64Array, tailO: number, runO: number, u: number): number {
  const over = u - f[tailO + TAIL_THRESHOLD]!;
  const runs = f[runO + RUN_COUNT]!;
  if (!(over > 0) || !(runs > 0)) return 0;
  const len = f[runO + RUN_MEAN_LENGTH]!;
  const sigma = (RUN_PRIOR_RUNS * f[tailO + TAIL_EXCESS]! + runs * f[runO + RUN_EXCESS]!) / (RUN_PRIOR_RUNS + runs);
  return Math.log(f[tailO + TAIL_RATE]! / (len > 1 ? len : 1)) - over / (sigma > 1e-300 ? sigma : 1e-300);
}

/** Whether the run model at `runO` is inside a run (runLearn has nothing to do for a value at or below the threshold otherwise). */
export function runOpen(f: Float64Array, runO: number): boolean {
  return f[runO + RUN_VALUES]! !== 0;
}

/**
 * Learns `u` into the run model at `runO` against the threshold of the tail model at `tailO`
 * (before the tail learns `u`): a value above it starts or extends a run, the first value at
 * or below it ends one, whose peak excess and length are learned.
 */
export function runLearn(f: Float64Array, tailO: number, runO: number, u: number): void {
  const t = f[tailO + TAIL_THRESHOLD]!;
  const values = f[runO + RUN_VALUES]!;
  if (u > t) {
    const peak = Math.fround(u > LEARN_MAX ? LEARN_MAX : u);
    if (values === 0) {
      f[runO + RUN_START] = t;
      f[runO + RUN_PEAK] = peak;
    } else if (peak > f[runO + RUN_PEAK]!) f[runO + RUN_PEAK] = peak;
    f[runO + RUN_VALUES] = Math.fround(values + 1);
    return;
  }
  if (values === 0) return;
  const runs = f[runO + RUN_COUNT]!;
  const a = runs < 1 / RUN_ALPHA ? 1 / (runs + 1) : RUN_ALPHA;
  const excess = f[runO + RUN_PEAK]! - f[runO + RUN_START]!;
  f[runO + RUN_EXCESS] = Math.fround(f[runO + RUN_EXCESS]! + a * ((excess > 0 ? excess : 0) - f[runO + RUN_EXCESS]!));
  f[runO + RUN_MEAN_LENGTH] = Math.fround(f[runO + RUN_MEAN_LENGTH]! + a * (values - f[runO + RUN_MEAN_LENGTH]!));
  f[runO + RUN_COUNT] = runs < RUN_COUNT_MAX ? runs + 1 : runs;
  f[runO + RUN_PEAK] = 0;
  f[runO + RUN_START] = 0;
  f[runO + RUN_VALUES] = 0;
}
