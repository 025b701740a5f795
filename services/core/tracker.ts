/**
 * Failure prediction per (failure mode, sensor) tracker: a smoothed level of the active
 * values, its healthy envelope (learned, frozen while a failure is suspected), the trend of
 * the level (exponentially weighted regression) and the time to the limit, plus the cycle's
 * trough (values followed fast away from the limit, slowly toward it) with its own healthy
 * envelope: a signal that cycles with use shows a degradation at its low point too, and
 * there more steadily. Probability = progress beyond the envelope toward the limit (the
 * larger of the level's and the trough's) × weight of the time-to-limit against the
 * horizon. Two more kinds of evidence count with the weight of the trend alone: the level's
 * significance beyond the envelope, and its departure from the healthy baseline (both in units
 * of the level's healthy deviation), so a quiet signal or one held near a set point shows a
 * degradation before it has covered a share of the way to the limit.
 * The level and the regression forget with wall time as well as with activity
 * time, so a sparse signal (a valve's flow, a few minutes a day) is not days behind.
 * A mode with a covariate (a sensor of the asset that drives the mode's sensor: the motor's
 * temperature, which follows the ambient, for a battery's) has its trackers follow the value
 * minus what a healthy least-squares fit on the covariate attributes to the covariate's
 * departure from its mean, so the weather's cycle does not hide a degradation at its low phase.
 * A reading without a valid covariate value is tracked as if the covariate sat at its mean.
 */
import {
  COV_COV_CX,
  COV_MEAN_C,
  COV_MEAN_X,
  COV_VAR_C,
  HOUR_MS,
  TRACKER_ACTIVE_HOURS,
  TRACKER_BASELINE,
  TRACKER_BASELINE_DEV,
  TRACKER_ENVELOPE,
  TRACKER_FIRST_TS,
  TRACKER_LAST_TS,
  TRACKER_LEVEL,
  TRACKER_PROBABILITY,
  TRACKER_SCATTER,
  TRACKER_SLOPE_PER_HOUR,
  TRACKER_TREND_MEAN_HOURS,
  TRACKER_TREND_MEAN_LEVEL,
  TRACKER_TREND_STT,
  TRACKER_TREND_STX,
  TRACKER_TREND_SXX,
  TRACKER_TREND_WEIGHT,
  TRACKER_TROUGH,
  TRACKER_TROUGH_ENVELOPE,
  TRACKER_VALUES,
} from './layout.ts';
import type { CompiledConfig, CompiledFailureMode } from './types.ts';

/**
 * A tracker learns for `hours` of wall time after its first active value and for at least
 * MIN_TRACKER_SAMPLES active values (intermittent signals such as a valve's flow need both).
 */
export function trackerLearning(f: Float64Array, o: number, ts: number, hours: number): boolean {
  return ts - f[o + TRACKER_FIRST_TS]! < hours * HOUR_MS || f[o + TRACKER_VALUES]! < MIN_TRACKER_SAMPLES;
}
const MIN_TRACKER_SAMPLES = 30;
/**
 * Active values after which a covariate-conditioned tracker's envelopes start: its values are
 * adjusted only from MIN_TRACKER_SAMPLES on, and the fit's slope settles over as many again,
 * so the levels before would set an envelope that the adjusted signal never comes near.
 */
const COV_ENVELOPE_SAMPLES = 3 * MIN_TRACKER_SAMPLES;
/** Floor of the departure evidence's deviation, as a share of the values' scatter (TRACKER_SCATTER). */
const DEPARTURE_SCATTER_FLOOR = 0.5;

/** Deviations of the covariate (its own) at which its departure from the mean is clipped. */
const COV_CLIP = 3;

/**
 * The value of a covariate-conditioned tracker: x minus what the healthy fit attributes to
 * the covariate's departure from its typical value, x − b·(c − mean c), with b the
 * exponentially weighted least-squares slope of x on c (from the state before this value).
 * The fit then learns (c, x), unless the tracker suspects a failure (`frozen`), so a
 * degradation is not explained away. A slope is used only once the fit has MIN_TRACKER_SAMPLES
 * values and the covariate has varied by more than a thousandth of its range.
 */
function covariateAdjust(
  f: Float64Array,
  o: number,
  co: number,
  x: number,
  c: number,
  cRange: number,
  ts: number,
  n: number,
  frozen: boolean,
  baseDecay: number,
  learningHours: number,
): number {
  const mc = f[co + COV_MEAN_C]!;
  const mx = f[co + COV_MEAN_X]!;
  const vcc = f[co + COV_VAR_C]!;
  const vcx = f[co + COV_COV_CX]!;
  const floor = (cRange * 1e-3) ** 2;
  // The covariate's departure is clipped at COV_CLIP deviations: a rare excursion (a drive
  // heating the motor while the pack barely warms) must not dominate the slope learned from
  // the covariate's everyday swing (the weather's), nor shift the value by a wild amount.
  const sd = Math.sqrt(vcc);
  const lim = COV_CLIP * sd;
  const dc = c - mc > lim ? lim : c - mc < -lim ? -lim : c - mc;
  const adj = n >= MIN_TRACKER_SAMPLES && vcc > floor ? x - (vcx / vcc) * dc : x;
  if (n === 0 || trackerLearning(f, o, ts, learningHours) || !frozen) {
    const a = n < MIN_TRACKER_SAMPLES ? 1 / (n + 1) : 1 - baseDecay;
    const dx = x - mx;
    const dcf = n < MIN_TRACKER_SAMPLES ? c - mc : dc;
    f[co + COV_MEAN_C] = mc + a * dcf;
    f[co + COV_MEAN_X] = mx + a * dx;
    f[co + COV_VAR_C] = (1 - a) * (vcc + a * dcf * dcf);
    f[co + COV_COV_CX] = (1 - a) * (vcx + a * dcf * dx);
  }
  return adj;
}

/**
 * Whether a sensor value counts as the machine working for `mode` (above `activeAbove`, below
 * `activeBelow`; any value when neither is set). Only such values feed the mode's trackers.
 */
export function isActive(mode: CompiledFailureMode, x: number): boolean {
  return !(mode.activeAbove !== undefined && !(x > mode.activeAbove)) && !(mode.activeBelow !== undefined && !(x < mode.activeBelow));
}

/**
 * Updates the failure tracker at offset `o` with sensor value `x` at `ts` (ignored unless
 * active for `mode`); its probability and slope stay in its slots. `frozen`: a failure is
 * suspected, so the healthy baseline, envelopes and covariate fit do not learn. `co`: offset
 * of the tracker's covariate fit (−1 for none), `c` the covariate's valid value or NaN,
 * `cRange` its physical range.
 */
export function updateTracker(
  f: Float64Array,
  o: number,
  x: number,
  ts: number,
  mode: CompiledFailureMode,
  periodMs: number,
  frozen: boolean,
  cfg: CompiledConfig,
  co: number,
  c: number,
  cRange: number,
): void {
  if (!isActive(mode, x)) return;
  const det = cfg.detector;
  const sgn = mode.direction === 'rising' ? 1 : -1;
  const n = f[o + TRACKER_VALUES]!;
  // Time since the tracker's last active value, capped at `gapCapPeriods` periods: the
  // tracker's statistics learn per hour of activity, and an idle night is no evidence.
  // The statistics learn from a value at most maxActivityHoursPerValue of activity: a machine
  // read once a cycle (a day) must still have its level and trend averaged over several
  // values, not be taken at its last one. The trend's time axis keeps the true activity time
  // (TrackerStep, derived.ts: `time` the activity hours, `dt` the hours the statistics learn by).
  const cap = det.gapCapPeriods * periodMs;
  const dtMs = n === 0 ? 0 : ts - f[o + TRACKER_LAST_TS]!;
  // Wall-time forgetting is for the idle time between values (a sparse signal's hours off),
  // so it counts only the gap beyond the expected sampling period.
  const step = cfg.derived.trackerStep.set(dtMs < cap ? dtMs : cap, dtMs > periodMs ? dtMs - periodMs : 0);
  const dt = step.dt;
  if (co >= 0 && c === c) x = covariateAdjust(f, o, co, x, c, cRange, ts, n, frozen, step.baseDecay, det.modeLearningHours);
  let lvl: number;
  let T: number;
  if (n === 0) {
    lvl = x;
    T = 0;
    f[o + TRACKER_SCATTER] = 0;
    f[o + TRACKER_FIRST_TS] = ts;
    f[o + TRACKER_BASELINE] = x;
    f[o + TRACKER_ENVELOPE] = x;
    f[o + TRACKER_BASELINE_DEV] = 0;
    f[o + TRACKER_TROUGH] = x;
    f[o + TRACKER_TROUGH_ENVELOPE] = x;
  } else {
    lvl = f[o + TRACKER_LEVEL]!;
    // Huber-clipped level: a single spike (an inrush current, a bump) moves it by at most
    // 3 typical deviations' worth, while a sustained drift passes through unchanged.
    // A sparse signal (a valve's flow, seen a few minutes a day) gains little activity time
    // per day, so a half-life in activity hours alone would let its level lag by days of
    // wall time; the level therefore also forgets with wall time (whichever is faster).
    let al = 1 - step.levelDecay;
    if (step.levelByWall && al > det.levelMaxWeight) al = det.levelMaxWeight;
    const xdev = f[o + TRACKER_SCATTER]!;
    const learningX = n < 30;
    const clip = 3 * xdev;
    const dx = x - lvl;
    const dxc = learningX ? dx : dx > clip ? clip : dx < -clip ? -clip : dx;
    lvl += al * dxc;
    const adx = Math.abs(dx);
    // The scatter learns at the activity pace only: after an idle spell the level may jump to
    // the new values, but one odd value must not also widen the clip that bounds the next.
    const ax = 1 - step.scatterDecay;
    f[o + TRACKER_SCATTER] = xdev + (learningX ? 1 / n : ax) * ((learningX || adx < 4 * xdev ? adx : 4 * xdev) - xdev);
    T = f[o + TRACKER_ACTIVE_HOURS]! + step.time;
    // Trough of the cycle (the far side from the limit): follows values away from the limit
    // quickly and toward it slowly, so it sits near the cycle's low point (an idle motor's
    // temperature, a thermostat's cut-out). A spike away from the limit only lowers it, and
    // one toward the limit barely moves it; a degradation lifts every part of the cycle,
    // and the trough, steadier than the highs, shows it sooner.
    const low = f[o + TRACKER_TROUGH]!;
    const dl = x - low;
    f[o + TRACKER_TROUGH] = low + (1 - (sgn * dl < 0 ? step.troughFastDecay : step.troughSlowDecay)) * dl;
    // Exponentially weighted regression of the level on activity time (weighted Welford).
    // Forgets with wall time as well, for the same reason as the level: a sparse signal's
    // regression would otherwise average over weeks and miss a trend of days.
    const d = step.trendDecay;
    const W = d * f[o + TRACKER_TREND_WEIGHT]! + 1;
    const dT = T - f[o + TRACKER_TREND_MEAN_HOURS]!;
    const mt = f[o + TRACKER_TREND_MEAN_HOURS]! + dT / W;
    const dX = lvl - f[o + TRACKER_TREND_MEAN_LEVEL]!;
    const mx = f[o + TRACKER_TREND_MEAN_LEVEL]! + dX / W;
    f[o + TRACKER_TREND_WEIGHT] = W;
    f[o + TRACKER_TREND_MEAN_HOURS] = mt;
    f[o + TRACKER_TREND_MEAN_LEVEL] = mx;
    f[o + TRACKER_TREND_STT] = d * f[o + TRACKER_TREND_STT]! + dT * (T - mt);
    f[o + TRACKER_TREND_STX] = d * f[o + TRACKER_TREND_STX]! + dT * (lvl - mx);
    f[o + TRACKER_TREND_SXX] = d * f[o + TRACKER_TREND_SXX]! + dX * (lvl - mx);
    // Healthy baseline and envelope: learned fast at first, then slowly, and not at all
    // while a failure is suspected, so a degradation never becomes the new normal.
    const learning = trackerLearning(f, o, ts, det.modeLearningHours);
    if (learning || !frozen) {
      const base = f[o + TRACKER_BASELINE]!;
      const ab = learning ? 1 / (n + 1) : 1 - step.baseDecay;
      f[o + TRACKER_BASELINE] = base + ab * (lvl - base);
      f[o + TRACKER_BASELINE_DEV] = f[o + TRACKER_BASELINE_DEV]! + ab * (Math.abs(lvl - base) - f[o + TRACKER_BASELINE_DEV]!);
      const peak = f[o + TRACKER_ENVELOPE]!;
      // The envelope starts once the level has settled (early levels rest on few values, and
      // a covariate-conditioned level also waits for its fit).
      const settle = co >= 0 ? COV_ENVELOPE_SAMPLES : MIN_TRACKER_SAMPLES;
      // The trough's envelope: its healthy extreme toward the limit, with the peak's dynamics.
      const lw = f[o + TRACKER_TROUGH]!;
      const le = f[o + TRACKER_TROUGH_ENVELOPE]!;
      if (n < settle) f[o + TRACKER_TROUGH_ENVELOPE] = lw;
      else if (learning) f[o + TRACKER_TROUGH_ENVELOPE] = sgn * (lw - le) > 0 ? lw : le;
      else {
        const dv = f[o + TRACKER_BASELINE_DEV]!;
        if (sgn * (lw - le) > 0) {
          const np = le + sgn * det.peakRisePerHour * dv * dt;
          f[o + TRACKER_TROUGH_ENVELOPE] = sgn * (np - lw) > 0 ? lw : np;
        } else {
          const np = le - sgn * det.peakFallPerHour * dv * dt;
          f[o + TRACKER_TROUGH_ENVELOPE] = sgn * (np - lw) < 0 ? lw : np;
        }
      }
      if (n < settle) f[o + TRACKER_ENVELOPE] = lvl;
      else if (learning) f[o + TRACKER_ENVELOPE] = sgn > 0 ? (lvl > peak ? lvl : peak) : lvl < peak ? lvl : peak;
      else {
        const dv = f[o + TRACKER_BASELINE_DEV]!;
        if (sgn * (lvl - peak) > 0) {
          const np = peak + sgn * det.peakRisePerHour * dv * dt;
          f[o + TRACKER_ENVELOPE] = sgn * (np - lvl) > 0 ? lvl : np;
        } else {
          const np = peak - sgn * det.peakFallPerHour * dv * dt;
          f[o + TRACKER_ENVELOPE] = sgn * (np - lvl) < 0 ? lvl : np;
        }
      }
    }
  }
  f[o + TRACKER_LEVEL] = lvl;
  f[o + TRACKER_ACTIVE_HOURS] = T;
  f[o + TRACKER_VALUES] = n + 1;
  f[o + TRACKER_LAST_TS] = ts;

  // Probability of failure within the horizon.
  if (trackerLearning(f, o, ts, det.modeLearningHours)) {
    f[o + TRACKER_PROBABILITY] = 0;
    f[o + TRACKER_SLOPE_PER_HOUR] = 0;
    return;
  }
  const ctt = f[o + TRACKER_TREND_STT]!;
  const slope = ctt > 1e-12 ? f[o + TRACKER_TREND_STX]! / ctt : 0;
  // The margin is the level's own scatter around its healthy baseline: the envelope is a
  // high-water mark of the level, so what may push the level past it is the level's swing,
  // not the raw values' scatter (which counts a warm-up's or a fill's transients that the
  // level averages away, and would hide a degradation behind a margin of several degrees).
  const envelope = f[o + TRACKER_ENVELOPE]! + sgn * det.peakMarginDev * f[o + TRACKER_BASELINE_DEV]!;
  const rem = sgn * (mode.limit - lvl);
  let gap = sgn * (mode.limit - envelope);
  const minGap = 1e-9 * (Math.abs(mode.limit) + 1);
  if (!(gap > minGap)) gap = minGap;
  let progress = (sgn * (lvl - envelope)) / gap;
  // The same progress measured on the cycle's trough against the trough's healthy envelope;
  // the stronger of the two counts.
  const troughEnv = f[o + TRACKER_TROUGH_ENVELOPE]! + sgn * det.troughMarginDev * f[o + TRACKER_SCATTER]!;
  let troughGap = sgn * (mode.limit - troughEnv);
  if (!(troughGap > minGap)) troughGap = minGap;
  const troughProgress = (sgn * (f[o + TRACKER_TROUGH]! - troughEnv)) / troughGap;
  if (troughProgress > progress) progress = troughProgress;
  let pprog = (progress - det.progressStart) / (det.progressFull - det.progressStart);
  pprog = pprog > 1 ? 1 : pprog < 0 || !(pprog === pprog) ? 0 : pprog;
  // Significance: a level far beyond its healthy envelope in units of its own healthy
  // deviation, and trending toward the limit within the horizon, is evidence even while it
  // is a small share of the way to the limit (a quiet signal: a clean valve flow, a steady
  // bearing). Starts at `significanceDev` deviations beyond the envelope, full at twice that.
  const dv = f[o + TRACKER_BASELINE_DEV]!;
  const zs = det.significanceDev;
  let pz = dv > 0 ? ((sgn * (lvl - envelope)) / dv - zs) / zs : 0;
  pz = pz > 1 ? 1 : pz < 0 || !(pz === pz) ? 0 : pz;
  // Departure: the level far from its healthy baseline in units of the baseline's own
  // deviation, while beyond the healthy envelope and trending toward the limit. A signal held
  // near a set point (a thermostat's coolant, a compressor's current) whose envelope was
  // widened once by a hot day or a full load shows its degradation here well before it has
  // covered a share of the way to the limit. The deviation is floored at half the values'
  // scatter: a sparse signal's level rests on few values and its deviation learns slowly.
  let pd = 0;
  if (sgn * (lvl - envelope) > 0) {
    const xs = DEPARTURE_SCATTER_FLOOR * f[o + TRACKER_SCATTER]!;
    const sd = dv > xs ? dv : xs;
    const d0 = det.departureDevStart;
    pd = sd > 0 ? ((sgn * (lvl - f[o + TRACKER_BASELINE]!)) / sd - d0) / (det.departureDevFull - d0) : 0;
    pd = pd > 1 ? 1 : pd < 0 || !(pd === pd) ? 0 : pd;
  }
  let p: number;
  if (rem <= 0) p = 1;
  // A healthy tracker (nearly every one, nearly always) has none of the three: no trend weight to compute.
  else if (pprog === 0 && pz === 0 && pd === 0) p = 0;
  else {
    // Each kind of evidence counts as far as the trend reaches the limit within the horizon.
    const toward = sgn * slope;
    const htl = toward > 0 ? rem / toward : NaN;
    const ptrend = htl === htl ? 1 / (1 + (htl / mode.horizonHours) ** 2) : 0;
    p = pprog * (0.5 + 0.5 * ptrend);
    if (pz * ptrend > p) p = pz * ptrend;
    if (pd * ptrend > p) p = pd * ptrend;
  }
  f[o + TRACKER_PROBABILITY] = p;
  f[o + TRACKER_SLOPE_PER_HOUR] = slope;
}

/**
 * Hours to the limit at the trend of the tracker's last update (NaN while it learns or when
 * the trend does not approach the limit; 0 at or beyond the limit): the same numbers the
 * probability used, from the stored level and slope.
 */
export function hoursToLimit(f: Float64Array, o: number, mode: CompiledFailureMode, cfg: CompiledConfig): number {
  if (trackerLearning(f, o, f[o + TRACKER_LAST_TS]!, cfg.detector.modeLearningHours)) return NaN;
  const sgn = mode.direction === 'rising' ? 1 : -1;
  const rem = sgn * (mode.limit - f[o + TRACKER_LEVEL]!);
  const toward = sgn * f[o + TRACKER_SLOPE_PER_HOUR]!;
  return rem <= 0 ? 0 : toward > 0 ? rem / toward : NaN;
}
