/**
 * The anomaly score of one sensor value, causal (from the state before the value and the
 * value), folded into the sensor's block of the asset state. A score of 0.5 or more means
 * "rarer than this sensor has been", on a noisy sensor and on a quiet one, on a cycle and on
 * a random walk, with no per-sensor setting: each kind of evidence is calibrated against its
 * own history on this sensor (tail.ts), and the score is the strongest of them.
 *
 * The evidence, each measured on the corpus of `npm run eval:anomaly` (benchmarks/README.md
 * has the ablations):
 *  - jump: the larger error, in its own spread, of two predictors of the value (the value
 *    smoothed with weight ½, and the previous value) — spikes, dips, steps. A jump from another
 *    bin to a value the sensor often takes (its histogram bin holds rarityGateShare of the
 *    weight) is no evidence: a machine switching to one of its usual levels.
 *  - jump run: the jump (capped at 10 spreads) averaged over a longer stretch (half-life 30
 *    values) — a run of moderate jumps none of which stands alone: an oscillation that appears,
 *    a cycle that changes its shape or frequency, a drift that keeps outrunning the predictors.
 *  - step agreement: the product of consecutive steps, each in the slow spread and capped at
 *    ±1, averaged over the jump run's stretch — steps that keep agreeing in direction more than
 *    this sensor's do: an oscillation that appears on a walk, a trend or a regime signal (its
 *    steps agree for half a period, then all turn together), a cycle whose shape changes. On
 *    a noisy sensor consecutive steps disagree (the average is below 0) and its tail's
 *    threshold rests at 0 (a tail's threshold never goes below 0, tail.ts), so the evidence
 *    starts where steps agree at all, scored by how rarely they have on this sensor; the
 *    tail's mean excess is floored at STEP_AGREEMENT_MIN_EXCESS, so on a sensor whose steps
 *    have almost never agreed a hair above 0 is not a certainty.
 *  - surprise: the short average of the steps measured in a ten times slower spread — a burst
 *    of spikes, a change of variance or of frequency, which the fast spreads would absorb.
 *  - shift: the distance between a fast and a slow level (the fast one Huber-clipped, so an
 *    outlier moves it little) — a level shift, the onset of a drift.
 *  - shift run: the same distance calibrated by its runs rather than its values (tail.ts, the
 *    run model): how rare an excursion this high is among the shift's excursions, each counted
 *    once — a drift, one long excursion, which the per-value tail weighs against the long
 *    healthy ones.
 *  - rarity: the short average of −ln of the value's share in the sensor's value histogram —
 *    a level the sensor does not take (off the regimes of a machine, off a sparse signal's 0).
 *  - range: a value beyond the sensor's all-time range by a margin, scored by how often the
 *    sensor has extended its range at all (a record on a stable sensor is strong evidence; on
 *    one still exploring its range, a trend, or a cycle longer than its history, weak).
 *  - level break: the fast level beyond the extremes it has reached by the same margin, scored
 *    by how often it has been. The extremes follow the level past them with a short half-life,
 *    so a drift that creeps beyond everything the sensor has shown (extending the range by a
 *    little at every value, so that no value ever breaks it) is measured against where the
 *    level was, not where it crept to; the fast level, not the value, so a heavy-tailed
 *    sensor's outliers do not count.
 * The scales, short averages, tail models and histogram are 32-bit floats, rounded as they are
 * written (layout.ts, SENSOR_FLOAT32_SLOTS).
 * Repeated identical values carry no information about spreads and jumps (an idle sparse
 * signal reads 0 for hours; a quantised one repeats its steps), so they do not teach them;
 * long repeats are `stuck` findings and never reach this code (score.ts).
 */
import { binOf, HISTOGRAM_BINS, histogramAdd, histogramGrow } from './histogram.ts';
import {
  SENSOR_HISTOGRAM,
  SENSOR_JUMP_RUN,
  SENSOR_JUMP_RUN_TAIL,
  SENSOR_JUMP_RUN_VALUES,
  SENSOR_JUMP_TAIL,
  SENSOR_LEVEL_BREAKS,
  SENSOR_LEVEL_HIGH,
  SENSOR_LEVEL_LOW,
  SENSOR_MAX,
  SENSOR_MEAN_INTERVAL_MS,
  SENSOR_MIN,
  SENSOR_RANGE_EXTENSIONS,
  SENSOR_RARITY,
  SENSOR_RARITY_TAIL,
  SENSOR_READINGS,
  SENSOR_SCORE,
  SENSOR_SHIFT_FAST,
  SENSOR_SHIFT_RUNS,
  SENSOR_SHIFT_SLOW,
  SENSOR_SHIFT_TAIL,
  SENSOR_SMOOTHED,
  SENSOR_SPREAD_SMOOTHED,
  SENSOR_SPREAD_STEP,
  SENSOR_SPREAD_STEP_SLOW,
  SENSOR_STEP_AGREEMENT,
  SENSOR_STEP_AGREEMENT_TAIL,
  SENSOR_STEP_AGREEMENT_VALUES,
  SENSOR_STEP_LAST,
  SENSOR_SURPRISE,
  SENSOR_SURPRISE_TAIL,
} from './layout.ts';
import { runLearn, runLogProbability, runOpen, tailLearn, tailLogProbability, tailLogProbabilityFloored, tailScore, tailThreshold } from './tail.ts';
import type { CompiledConfig } from './types.ts';

/** Cap of one step's surprise, in slow spreads, and of one jump in the jump run, in spreads (one huge spike must not dominate an average). */
const SURPRISE_CAP = 10;
/**
 * Cap of one step in the step agreement, in slow spreads: a switch of levels or a spike is one
 * step among others there, not a product that dominates the average. Measured on the corpus
 * (three seeds): a cap of 10 or 3 let regime switches and healthy bursts raise false alarms
 * (1.6 and 1.3 per 10k), 1 and 2 did not.
 */
const STEP_AGREEMENT_CAP = 1;
/**
 * Floor of the step agreement tail's mean excess (the statistic is within ±1). Without it a
 * daily cycle whose steps had agreed a handful of times scored 1 at the next hair above 0
 * (1.08 false alarms per 10k on one corpus seed). 0.03 detected 0.4 points more of the corpus
 * at the same false alarms, but put 0.95% of the healthy simulated fleet's readings at 0.5 or
 * more (0.87% without the evidence, 0.92% with 0.05): a tyre warming after a drive is a long
 * run of agreeing steps on a sensor that is otherwise noise.
 */
const STEP_AGREEMENT_MIN_EXCESS = 0.05;
/** Values before the rarity counts: the histogram needs some mass first. */
const RARITY_MIN_VALUES = 50;
/** Prior count of range extensions (a sensor with none yet is not infinitely sure of its range). */
const RANGE_PRIOR = 0.5;
/** Histogram weight before the gate applies (the usual levels must be known first). */
const GATE_MIN_WEIGHT = 100;
/** Values over which the spreads start as plain averages (then exponential). */
const SPREAD_WARM_VALUES = 50;

/**
 * Scores value `x` of the sensor whose block starts at `o` and folds it in. `prev` is the
 * sensor's previous valid value and `last` its time (NaN for none). Returns the score in
 * [0, 1] (0 while learning).
 */
export function scoreSensor(f: Float64Array, o: number, x: number, prev: number, ts: number, last: number, cfg: CompiledConfig): number {
  const det = cfg.detector;
  const dp = cfg.derived;
  const n = f[o + SENSOR_READINGS]!;
  const lo = f[o + SENSOR_MIN]!;
  const hi = f[o + SENSOR_MAX]!;
  let s = 0;
  let bin = -1;
  if (n === 0 || !(prev === prev)) {
    f[o + SENSOR_SMOOTHED] = x;
    f[o + SENSOR_SHIFT_FAST] = x;
    f[o + SENSOR_SHIFT_SLOW] = x;
    if (!(f[o + SENSOR_LEVEL_LOW]! === f[o + SENSOR_LEVEL_LOW]!)) {
      f[o + SENSOR_LEVEL_LOW] = x;
      f[o + SENSOR_LEVEL_HIGH] = x;
    }
  } else {
    const learning = n < det.learningReadings;
    const repeat = x === prev;
    const e1 = x - f[o + SENSOR_SMOOTHED]!;
    const e2 = x - prev;
    const s1 = f[o + SENSOR_SPREAD_SMOOTHED]!;
    const s2 = f[o + SENSOR_SPREAD_STEP]!;
    const slow = f[o + SENSOR_SPREAD_STEP_SLOW]!;
    const a1 = Math.abs(e1);
    const a2 = Math.abs(e2);
    const z1 = s1 > 0 ? a1 / s1 : 0;
    const z2 = s2 > 0 ? a2 / s2 : 0;
    const jump = z1 > z2 ? z1 : z2;
    const zr = slow > 0 ? a2 / slow : 0;
    const zs = zr < SURPRISE_CAP ? zr : SURPRISE_CAP;
    const jumpRun = f[o + SENSOR_JUMP_RUN]! + dp.jumpRunAlpha * ((jump < SURPRISE_CAP ? jump : SURPRISE_CAP) - f[o + SENSOR_JUMP_RUN]!);
    const jumpRunValues = f[o + SENSOR_JUMP_RUN_VALUES]!;
    const surprise = f[o + SENSOR_SURPRISE]! + dp.surpriseAlpha * (zs - f[o + SENSOR_SURPRISE]!);
    // Step agreement: this step times the last one, each in slow spreads capped at ±1 (the
    // step in slow spreads is the surprise's |e2| / slow with e2's sign: no second division).
    const step = e2 < 0 ? -zr : zr;
    const stepCapped = step > STEP_AGREEMENT_CAP ? STEP_AGREEMENT_CAP : step < -STEP_AGREEMENT_CAP ? -STEP_AGREEMENT_CAP : step;
    const agreement = f[o + SENSOR_STEP_AGREEMENT]! + dp.jumpRunAlpha * (stepCapped * f[o + SENSOR_STEP_LAST]! - f[o + SENSOR_STEP_AGREEMENT]!);
    const agreementValues = f[o + SENSOR_STEP_AGREEMENT_VALUES]!;
    // Shift: the fast level follows the values, clipped to shiftClipSpreads slow spreads a step.
    const clip = det.shiftClipSpreads * slow;
    const dfast = x - f[o + SENSOR_SHIFT_FAST]!;
    const fast = f[o + SENSOR_SHIFT_FAST]! + dp.shiftFastAlpha * (clip > 0 ? (dfast > clip ? clip : dfast < -clip ? -clip : dfast) : dfast);
    const shift = Math.abs(fast - f[o + SENSOR_SHIFT_SLOW]!);
    // Above its tail's threshold as it stands before this value: where the shift's run
    // evidence scores, and what its run model learns against.
    const shiftAbove = shift > tailThreshold(f, o + SENSOR_SHIFT_TAIL);
    // Rarity of the value in the histogram over the all-time range (histogram.ts, inlined:
    // this is the hot path): its bin's share of the weight, with half a value of prior a bin.
    const ho = o + SENSOR_HISTOGRAM;
    const hw = f[ho + HISTOGRAM_BINS]!;
    let sum = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) sum += f[ho + b]!;
    bin = hi > lo && x >= lo && x <= hi ? binOf(x, lo, hi) : -1;
    const binWeight = bin >= 0 ? f[ho + bin]! / hw : 0;
    const total = sum / hw;
    const share = (binWeight + 0.5) / (total + 0.5 * HISTOGRAM_BINS);
    const rarity = f[o + SENSOR_RARITY]! + dp.rarityAlpha * (-Math.log(share) - f[o + SENSOR_RARITY]!);

    const margin = det.rangeMarginShare * (hi - lo) > det.rangeMarginSpreads * s2 ? det.rangeMarginShare * (hi - lo) : det.rangeMarginSpreads * s2;
    const levelLow = f[o + SENSOR_LEVEL_LOW]!;
    const levelHigh = f[o + SENSOR_LEVEL_HIGH]!;
    const levelBreak = fast > levelHigh + margin || fast < levelLow - margin;
    if (!learning) {
      // A jump to a usual level from another bin is a machine switching levels; a jump within
      // one bin (a step of a walk, a cycle's fast edge) is still a jump.
      const gate = total > GATE_MIN_WEIGHT && binWeight >= det.rarityGateShare * total && binOf(prev, lo, hi) !== bin ? 0 : 1;
      const sj = gate * tailScore(tailLogProbability(f, o + SENSOR_JUMP_TAIL, jump), dp.lnJumpHalf);
      const ss = tailScore(tailLogProbability(f, o + SENSOR_SURPRISE_TAIL, surprise), dp.lnSurpriseHalf);
      const sh = tailScore(tailLogProbability(f, o + SENSOR_SHIFT_TAIL, shift), dp.lnShiftHalf);
      const sr = n > RARITY_MIN_VALUES ? tailScore(tailLogProbability(f, o + SENSOR_RARITY_TAIL, rarity), dp.lnRarityHalf) : 0;
      s = sj > ss ? sj : ss;
      if (sh > s) s = sh;
      if (sr > s) s = sr;
      if (jumpRunValues >= det.learningReadings) {
        const sq = tailScore(tailLogProbability(f, o + SENSOR_JUMP_RUN_TAIL, jumpRun), dp.lnJumpRunHalf);
        if (sq > s) s = sq;
      }
      if (shiftAbove && n >= det.shiftRunLearningReadings) {
        const sw = tailScore(runLogProbability(f, o + SENSOR_SHIFT_TAIL, o + SENSOR_SHIFT_RUNS, shift), dp.lnShiftRunHalf);
        if (sw > s) s = sw;
      }
      const agreementOver = agreement - tailThreshold(f, o + SENSOR_STEP_AGREEMENT_TAIL);
      if (agreementOver > 0 && agreementValues >= det.learningReadings) {
        const sa = tailScore(tailLogProbabilityFloored(f, o + SENSOR_STEP_AGREEMENT_TAIL, agreement, STEP_AGREEMENT_MIN_EXCESS), dp.lnStepAgreementHalf);
        if (sa > s) s = sa;
      }
      if (x > hi + margin || x < lo - margin) {
        // How rare a break is: the rate at which this sensor has extended its range at all.
        const sb = tailScore(Math.log((f[o + SENSOR_RANGE_EXTENSIONS]! + RANGE_PRIOR) / n), dp.lnRangeHalf);
        if (sb > s) s = sb;
      }
      if (levelBreak) {
        // The same for the level: how often it has been beyond its own extremes.
        const sl = tailScore(Math.log((f[o + SENSOR_LEVEL_BREAKS]! + RANGE_PRIOR) / n), dp.lnLevelBreakHalf);
        if (sl > s) s = sl;
      }
    }
    // Counted while learning too, as range extensions are: a sensor still exploring its levels
    // makes its later breaks less rare.
    if (levelBreak) f[o + SENSOR_LEVEL_BREAKS] = f[o + SENSOR_LEVEL_BREAKS]! + 1;
    // The level's extremes follow it past them, with a short half-life.
    if (fast > levelHigh) f[o + SENSOR_LEVEL_HIGH] = levelHigh + dp.levelBreakAlpha * (fast - levelHigh);
    else if (fast < levelLow) f[o + SENSOR_LEVEL_LOW] = levelLow + dp.levelBreakAlpha * (fast - levelLow);
    // Learn: the tails first (from the state before this value), then the statistics.
    if (!repeat) {
      tailLearn(f, o + SENSOR_JUMP_TAIL, jump, n - 1, det);
      tailLearn(f, o + SENSOR_JUMP_RUN_TAIL, jumpRun, jumpRunValues, det);
      f[o + SENSOR_JUMP_RUN_VALUES] = Math.fround(jumpRunValues + 1);
      // A repeat is no step: the agreement, like the jump run, learns from moves only. Its
      // average moves little from one value to the next (half-life 30), so its tail learns from
      // every other one: the same detections on the corpus, and the call costs the core half.
      if ((agreementValues & 1) === 0) tailLearn(f, o + SENSOR_STEP_AGREEMENT_TAIL, agreement, agreementValues * 0.5, det);
      f[o + SENSOR_STEP_AGREEMENT_VALUES] = Math.fround(agreementValues + 1);
      f[o + SENSOR_STEP_AGREEMENT] = Math.fround(agreement);
      f[o + SENSOR_STEP_LAST] = Math.fround(stepCapped);
    }
    f[o + SENSOR_JUMP_RUN] = Math.fround(jumpRun);
    tailLearn(f, o + SENSOR_SURPRISE_TAIL, surprise, n - 1, det);
    // The run model first: its tail's threshold must still be the one before this value.
    if (shiftAbove || runOpen(f, o + SENSOR_SHIFT_RUNS)) runLearn(f, o + SENSOR_SHIFT_TAIL, o + SENSOR_SHIFT_RUNS, shift);
    tailLearn(f, o + SENSOR_SHIFT_TAIL, shift, n - 1, det);
    tailLearn(f, o + SENSOR_RARITY_TAIL, rarity, n - 1, det);
    f[o + SENSOR_SURPRISE] = Math.fround(surprise);
    f[o + SENSOR_SHIFT_FAST] = fast;
    // A plain average until it would learn slower than the exponential one.
    const as = (n + 1) * dp.shiftSlowAlpha < 1 ? 1 / (n + 1) : dp.shiftSlowAlpha;
    f[o + SENSOR_SHIFT_SLOW] = f[o + SENSOR_SHIFT_SLOW]! + as * (x - f[o + SENSOR_SHIFT_SLOW]!);
    f[o + SENSOR_RARITY] = Math.fround(rarity);
    if (!repeat) {
      const a = n < SPREAD_WARM_VALUES ? 1 / n : dp.spreadAlpha;
      f[o + SENSOR_SPREAD_SMOOTHED] = Math.fround(s1 + a * (a1 - s1));
      f[o + SENSOR_SPREAD_STEP] = Math.fround(s2 + a * (a2 - s2));
      const b = n < SPREAD_WARM_VALUES ? 1 / n : dp.slowSpreadAlpha;
      f[o + SENSOR_SPREAD_STEP_SLOW] = Math.fround(slow + b * (a2 - slow));
    }
    f[o + SENSOR_SMOOTHED] = f[o + SENSOR_SMOOTHED]! + 0.5 * e1;
  }
  if (x < lo || x > hi) f[o + SENSOR_RANGE_EXTENSIONS] = f[o + SENSOR_RANGE_EXTENSIONS]! + 1;
  // Inside the range the value goes to its bin; a new extreme re-bins first.
  if (bin >= 0) histogramGrow(f, o + SENSOR_HISTOGRAM, bin, dp.histogramGrowth);
  else histogramAdd(f, o + SENSOR_HISTOGRAM, x, lo, hi, dp.histogramGrowth);
  if (!(x >= lo)) f[o + SENSOR_MIN] = x;
  if (!(x <= hi)) f[o + SENSOR_MAX] = x;
  f[o + SENSOR_SCORE] = Math.fround(s);
  if (last === last) f[o + SENSOR_MEAN_INTERVAL_MS] = Math.fround(n < 2 ? ts - last : f[o + SENSOR_MEAN_INTERVAL_MS]! + 0.05 * (ts - last - f[o + SENSOR_MEAN_INTERVAL_MS]!));
  f[o + SENSOR_READINGS] = n + 1;
  return s;
}
