/**
 * The scoring core's hot path: per-sensor anomaly scores, data-quality findings and failure
 * prediction for one reading of one asset, from the asset's state. Pure: no clock, no I/O,
 * no randomness; time comes inside the reading. `score` mutates the state in place (the hot
 * path allocates no state) and returns the same object in `step.state`.
 *
 * Anomaly score of a sensor (causal: from the state before the reading and the reading):
 *  1. z = (x − robust location) / spread, spread = max(robust scale, ½·window std, floor);
 *  2. sparse raw score: |z| beyond `sparseZ` spreads, or a CUSUM (level shift, slow drift)
 *     beyond its decision interval; 0 inside the usual spread;
 *  3. likelihood calibration: the short average of raw scores against the larger of their
 *     long-run mean and their recent high-water mark (learned from past excursions, so the
 *     deviations a sensor shows in every cycle score little), in units of their long-run
 *     spread, mapped to a tail probability 2Φ(z)−1 ∈ [0, 1], so a score means the same on a
 *     noisy sensor and a quiet one.
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
 * Episodes open after `minDurationMinutes` and `minRaiseReadings` active values above the
 * threshold, escalate by severity, and clear with hysteresis.
 */
import { GENERIC_TYPE } from './config.ts';
import { UnknownAssetTypeError } from './errors.ts';
import { decay, erf, windowAdd, windowSampleStd, WINDOW_SLOTS } from './rolling.ts';
import type {
  AssetState,
  CompiledAssetType,
  CompiledConfig,
  CompiledFailureMode,
  Evidence,
  MaintenanceEvent,
  PredictionEvent,
  QualityFinding,
  Reading,
  SensorScore,
  Severity,
  Step,
} from './types.ts';

/** Layout version of AssetState.f; bump on any change of the slots below. */
export const STATE_VERSION = 4;

// Header slots.
const H_LAST_TS = 0;
const H_N = 1;
const H_HEALTH = 2;
const H_SCORE = 3;
const HB = 4;

// Sensor block slots. (Version 4 dropped the first-value time, which nothing read.)
const S_N = 0;
const S_LAST_TS = 1;
const S_SEEN_TS = 2;
const S_RUN_VAL = 3;
const S_RUN_LEN = 4;
const S_RUN_START = 5;
const S_EW_DT = 6;
const S_MED = 7;
const S_MAD = 8;
const S_CPOS = 9;
const S_CNEG = 10;
const S_RSHORT = 11;
const S_RMEAN = 12;
const S_RVAR = 13;
const S_SCORE = 14;
/** Decaying high-water mark of the short average of raw scores (see scoreSensor). */
const S_HW = 15;
/** Peak of the short average during the current excursion (readings with raw score > 0). */
const S_EXC = 16;
const S_WIN = 17;
/** Numbers per sensor. */
export const SB = S_WIN + WINDOW_SLOTS;

// Failure tracker slots (one per failure mode × sensor).
const M_LVL = 0;
const M_N = 1;
const M_T = 2;
const M_LAST_TS = 3;
const M_PEAK = 4;
const M_BASE = 5;
const M_DEV = 6;
const M_W = 7;
const M_MT = 8;
const M_MX = 9;
const M_CTT = 10;
const M_CTX = 11;
const M_CXX = 12;
const M_P = 13;
// Hours to the limit are not stored: hoursToLimit() derives them from the level and slope.
const M_SLOPE = 14;
const M_XDEV = 15;
const M_T0 = 16;
const M_LOW = 17;
const M_LOW_ENV = 18;
/** Numbers per failure tracker. */
export const MB = 19;

// Episode slots (one per failure mode).
const E_OPEN = 0;
const E_START = 1;
const E_SEV = 2;
const E_ABOVE = 3;
const E_BELOW = 4;
const E_LASTP = 5;
/** Readings with fresh (active) evidence since p last rose to the threshold. */
const E_NACT = 6;
/** Numbers per failure mode episode. */
export const EB = 7;

// Covariate fit slots (one block per tracker whose mode has a covariate, after the episodes):
// exponentially weighted means of the covariate and the value, the covariate's variance and
// the covariance, learned while the tracker is healthy.
const C_MC = 0;
const C_MX = 1;
const C_VCC = 2;
const C_VCX = 3;
/** Numbers per covariate fit. */
export const CB = 4;

/** Magnitude beyond which a generic sensor's value is a finding: folding it would overflow. */
export const GENERIC_ABS_MAX = 1e15;
const DEFAULT_PERIOD_MS = 60_000;
const HOUR_MS = 3_600_000;
const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

const sensorOffset = (i: number): number => HB + i * SB;
const pairOffset = (nSensors: number, j: number): number => HB + nSensors * SB + j * MB;
const episodeOffset = (nSensors: number, nPairs: number, m: number): number => HB + nSensors * SB + nPairs * MB + m * EB;
const covOffset = (nSensors: number, nPairs: number, nModes: number, k: number): number =>
  HB + nSensors * SB + nPairs * MB + nModes * EB + k * CB;

function initSensor(f: Float64Array, o: number): void {
  f.fill(0, o, o + SB);
  f[o + S_LAST_TS] = NaN;
  f[o + S_SEEN_TS] = NaN;
  f[o + S_RUN_VAL] = NaN;
  f[o + S_RUN_START] = NaN;
}

function initPair(f: Float64Array, o: number): void {
  f.fill(0, o, o + MB);
  f[o + M_LAST_TS] = NaN;
}

function initEpisode(f: Float64Array, o: number): void {
  f.fill(0, o, o + EB);
  f[o + E_START] = NaN;
  f[o + E_ABOVE] = NaN;
  f[o + E_BELOW] = NaN;
}

function lookupType(cfg: CompiledConfig, assetType: string): CompiledAssetType {
  const at = cfg.assetTypes.get(assetType);
  if (!at) throw new UnknownAssetTypeError(assetType, [...cfg.assetTypes.keys()]);
  return at;
}

function allocate(sensors: number, pairs: number, modes: number, covs: number): Float64Array {
  const f = new Float64Array(HB + sensors * SB + pairs * MB + modes * EB + covs * CB);
  f[H_LAST_TS] = NaN;
  f[H_HEALTH] = 1;
  for (let i = 0; i < sensors; i++) initSensor(f, sensorOffset(i));
  for (let j = 0; j < pairs; j++) initPair(f, pairOffset(sensors, j));
  for (let m = 0; m < modes; m++) initEpisode(f, episodeOffset(sensors, pairs, m));
  return f;
}

/**
 * A fresh state for an asset (everything learning).
 * @throws UnknownAssetTypeError when `assetType` is neither configured nor "generic".
 */
export function newState(assetId: string, assetType: string, cfg: CompiledConfig): AssetState {
  const at = lookupType(cfg, assetType);
  return {
    version: STATE_VERSION,
    assetId,
    assetType,
    sensors: at.sensorNames,
    modes: at.modeNames,
    pairs: at.pairNames,
    f: allocate(at.sensorNames.length, at.pairNames.length, at.modeNames.length, at.covFits),
  };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Makes the state's layout match the asset type's (a decoded state carries its own name
 * lists; a changed configuration may add or drop sensors and modes). Blocks are kept by
 * name, new ones start learning, dropped ones are discarded.
 */
function adoptLayout(state: AssetState, at: CompiledAssetType): void {
  const ns = at.sensorNames.length;
  const np = at.pairNames.length;
  const nm = at.modeNames.length;
  if (
    sameList(state.sensors, at.sensorNames) &&
    sameList(state.modes, at.modeNames) &&
    sameList(state.pairs, at.pairNames) &&
    state.f.length === covOffset(ns, np, nm, at.covFits)
  ) {
    state.sensors = at.sensorNames;
    state.modes = at.modeNames;
    state.pairs = at.pairNames;
    return;
  }
  // Covariate fits are not carried over (the state does not record which trackers had one):
  // after a configuration change a tracker with a covariate re-learns with its fit, since a
  // baseline learned on other values (or without the fit) does not fit what it now follows.
  const old = state.f;
  const f = allocate(ns, np, nm, at.covFits);
  f.set(old.subarray(0, HB), 0);
  const os = state.sensors.length;
  const op = state.pairs.length;
  at.sensorNames.forEach((n, i) => {
    const k = state.sensors.indexOf(n);
    if (k >= 0) f.set(old.subarray(sensorOffset(k), sensorOffset(k) + SB), sensorOffset(i));
  });
  at.pairNames.forEach((n, j) => {
    const k = state.pairs.indexOf(n);
    if (k >= 0 && at.pairCovSlots[j]! < 0) f.set(old.subarray(pairOffset(os, k), pairOffset(os, k) + MB), pairOffset(ns, j));
  });
  at.modeNames.forEach((n, m) => {
    const k = state.modes.indexOf(n);
    if (k >= 0) f.set(old.subarray(episodeOffset(os, op, k), episodeOffset(os, op, k) + EB), episodeOffset(ns, np, m));
  });
  state.sensors = at.sensorNames;
  state.modes = at.modeNames;
  state.pairs = at.pairNames;
  state.f = f;
}

/** Adds a discovered sensor to a generic asset's state. */
function addGenericSensor(state: AssetState, name: string): number {
  const n = state.sensors.length;
  const f = new Float64Array(state.f.length + SB);
  f.set(state.f, 0);
  initSensor(f, sensorOffset(n));
  state.f = f;
  state.sensors = [...state.sensors, name];
  return n;
}

/** Per-reading smoothing factors derived from a config once (they never change). */
interface Alphas {
  short: number;
  long: number;
  robust: number;
  /** Decay per reading (not a smoothing factor) of the raw scores' high-water mark. */
  extreme: number;
}
const alphaCache = new WeakMap<CompiledConfig, Alphas>();
// The last config's factors: a process scores with one config, so the WeakMap lookup (a
// hash probe per reading) is skipped on the hot path.
let lastAlphaCfg: CompiledConfig | undefined;
let lastAlphas: Alphas | undefined;
function alphas(cfg: CompiledConfig): Alphas {
  if (cfg === lastAlphaCfg) return lastAlphas!;
  let a = alphaCache.get(cfg);
  if (!a) {
    const d = cfg.detector;
    a = {
      short: 1 - decay(1 / d.shortHalfLifeReadings),
      long: 1 - decay(1 / d.longHalfLifeReadings),
      robust: 1 - decay(1 / d.robustHalfLifeReadings),
      extreme: decay(1 / d.extremeHalfLifeReadings),
    };
    alphaCache.set(cfg, a);
  }
  lastAlphaCfg = cfg;
  lastAlphas = a;
  return a;
}

/**
 * decay() remembering its last argument. Readings mostly arrive at a fixed period, so the
 * trackers of a reading (and of consecutive readings) see the same time step again and again:
 * the same argument gives the same bits without another Math.exp. One memo per half-life,
 * since each tracker update asks for three different ones in turn.
 */
class DecayMemo {
  private arg = NaN;
  private val = NaN;
  of(halfLives: number): number {
    // ±0 compare equal here, and decay(+0) === decay(−0) === 1, so the memo is exact.
    if (halfLives !== this.arg) {
      this.arg = halfLives;
      this.val = decay(halfLives);
    }
    return this.val;
  }
}
const levelDecay = new DecayMemo();
const scatterDecay = new DecayMemo();
const trendDecay = new DecayMemo();
const baseDecay = new DecayMemo();
const lowFastDecay = new DecayMemo();
const lowSlowDecay = new DecayMemo();

/**
 * Scores value `x` of the sensor at offset `o` and folds it into the state. Returns the
 * calibrated score in [0, 1] (0 while learning). `min`, `max`: the sensor's physical range
 * (±GENERIC_ABS_MAX for generic sensors), passed as numbers so configured and generic
 * sensors share one monomorphic call.
 */
function scoreSensor(f: Float64Array, o: number, x: number, ts: number, min: number, max: number, cfg: CompiledConfig, alpha: Alphas): number {
  const det = cfg.detector;
  const n = f[o + S_N]!;
  const med = f[o + S_MED]!;
  const mad = f[o + S_MAD]!;
  const wsd = windowSampleStd(f, o + S_WIN);
  const range = max - min;
  // A physical range bounds how fine a spread can be; generic sensors have none (their
  // ±GENERIC_ABS_MAX bounds only keep arithmetic finite) and must not get a range floor.
  const floor = Math.max(range < 2 * GENERIC_ABS_MAX ? range * 1e-5 : 0, Math.abs(med) * 1e-9, 1e-12);
  const robust = 1.2533 * mad; // mean absolute deviation → standard deviation (normal)
  const spread = Math.max(robust, 0.5 * wsd, floor);
  const learning = n < det.learningReadings;

  let z = (x - med) / spread;
  if (!(z === z)) z = 0; // NaN only from ∞/∞, impossible with bounded inputs; kept as a guard
  if (z > 1e6) z = 1e6;
  else if (z < -1e6) z = -1e6;
  const rp = Math.abs(z) > det.sparseZ ? Math.abs(z) - det.sparseZ : 0;
  const zc = z > 4 ? 4 : z < -4 ? -4 : z;
  let cpos = f[o + S_CPOS]! + zc - det.cusumK;
  let cneg = f[o + S_CNEG]! - zc - det.cusumK;
  if (cpos < 0) cpos = 0;
  if (cneg < 0) cneg = 0;
  const cmax = cpos > cneg ? cpos : cneg;
  const rc = cmax > det.cusumH ? 2 * (cmax / det.cusumH - 1) : 0;
  // After a shift is signalled, restart the sums so the alarm does not latch forever
  // while the robust location catches up with the new level.
  if (cmax > 2 * det.cusumH) {
    cpos = 0;
    cneg = 0;
  }
  const r = rp > rc ? rp : rc;

  const as = alpha.short;
  const rshort = f[o + S_RSHORT]! + as * (r - f[o + S_RSHORT]!);
  const rmean = f[o + S_RMEAN]!;
  const rvar = f[o + S_RVAR]!;
  // The short average is compared with the larger of its long-run mean and its recent
  // high-water mark (decaying with `extremeHalfLifeReadings`): deviations the sensor shows in every
  // cycle (a valve's fills, a drum's spins, a thermostat's swings) reach the mark again and
  // again and score little, while a new extreme scores high.
  const hw = f[o + S_HW]! * alpha.extreme;
  const zl = (rshort - (hw > rmean ? hw : rmean)) / Math.sqrt(rvar + det.likelihoodVarFloor);
  let s = learning || !(zl > 0) ? 0 : erf(zl * Math.SQRT1_2);
  if (!(s >= 0)) s = 0;
  else if (s > 1) s = 1;
  if (learning) {
    // Raw scores before the location and spread settle are meaningless (the first values
    // deviate hugely from a location of 0): the long-run distribution starts after learning,
    // from a prior of mean 0 and variance 1 raw-score units, and adapts from there.
    f[o + S_RMEAN] = 0;
    f[o + S_RVAR] = 1;
    f[o + S_HW] = 0;
    f[o + S_EXC] = 0;
  } else {
    // The mark learns an excursion (a run of readings with a raw score) when it ends, so a
    // lasting shift keeps scoring against the mark from before it; and by at most a quarter
    // of a long-run deviation per excursion, so a deviation that recurs (a cycle) lifts it
    // over a few occurrences while a one-off spike barely moves it and the next spike still
    // scores high.
    const exc = f[o + S_EXC]!;
    if (r > 0) {
      f[o + S_HW] = hw;
      f[o + S_EXC] = rshort > exc ? rshort : exc;
    } else {
      const cap = hw + 0.25 * Math.sqrt(rvar + det.likelihoodVarFloor);
      f[o + S_HW] = exc > hw ? (exc < cap ? exc : cap) : hw;
      f[o + S_EXC] = 0;
    }
    const al = alpha.long;
    const dr = r - rmean;
    f[o + S_RMEAN] = rmean + al * dr;
    f[o + S_RVAR] = (1 - al) * (rvar + al * dr * dr);
  }
  f[o + S_RSHORT] = rshort;
  f[o + S_CPOS] = cpos;
  f[o + S_CNEG] = cneg;
  f[o + S_SCORE] = s;

  // Robust location (Huber-type exponentially weighted M-estimate) and scale (clipped mean
  // absolute deviation). Plain running averages while learning, so they start unbiased.
  const ar = learning ? 1 / (n + 1) : alpha.robust;
  const dev = x - med;
  const clip = learning ? Infinity : 3 * spread;
  const step = dev > clip ? clip : dev < -clip ? -clip : dev;
  f[o + S_MED] = med + ar * step;
  const ad = n === 0 ? 0 : Math.abs(dev); // the first value has no location to deviate from
  f[o + S_MAD] = mad + ar * ((ad > 4 * spread && !learning ? 4 * spread : ad) - mad);
  windowAdd(f, o + S_WIN, x, cfg.detector.windowSize / 4);

  const last = f[o + S_LAST_TS]!;
  if (last === last) f[o + S_EW_DT] = n < 2 ? ts - last : f[o + S_EW_DT]! + 0.05 * (ts - last - f[o + S_EW_DT]!);
  f[o + S_LAST_TS] = ts;
  f[o + S_N] = n + 1;
  return s;
}

/**
 * A tracker learns for `hours` of wall time after its first active value and for at least
 * MIN_TRACKER_SAMPLES active values (intermittent signals such as a valve's flow need both).
 */
function trackerLearning(f: Float64Array, o: number, ts: number, hours: number): boolean {
  return ts - f[o + M_T0]! < hours * HOUR_MS || f[o + M_N]! < MIN_TRACKER_SAMPLES;
}
const MIN_TRACKER_SAMPLES = 30;
/**
 * Active values after which a covariate-conditioned tracker's envelopes start: its values are
 * adjusted only from MIN_TRACKER_SAMPLES on, and the fit's slope settles over as many again,
 * so the levels before would set an envelope that the adjusted signal never comes near.
 */
const COV_ENVELOPE_SAMPLES = 3 * MIN_TRACKER_SAMPLES;
/** Floor of the departure evidence's deviation, as a share of the values' scatter (M_XDEV). */
const DEPARTURE_SCATTER_FLOOR = 0.5;

const covDecay = new DecayMemo();
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
  dtH: number,
  n: number,
  frozen: boolean,
  halfLifeHours: number,
  learningHours: number,
): number {
  const mc = f[co + C_MC]!;
  const mx = f[co + C_MX]!;
  const vcc = f[co + C_VCC]!;
  const vcx = f[co + C_VCX]!;
  const floor = (cRange * 1e-3) ** 2;
  // The covariate's departure is clipped at COV_CLIP deviations: a rare excursion (a drive
  // heating the motor while the pack barely warms) must not dominate the slope learned from
  // the covariate's everyday swing (the weather's), nor shift the value by a wild amount.
  const sd = Math.sqrt(vcc);
  const lim = COV_CLIP * sd;
  const dc = c - mc > lim ? lim : c - mc < -lim ? -lim : c - mc;
  const adj = n >= MIN_TRACKER_SAMPLES && vcc > floor ? x - (vcx / vcc) * dc : x;
  if (n === 0 || trackerLearning(f, o, ts, learningHours) || !frozen) {
    const a = n < MIN_TRACKER_SAMPLES ? 1 / (n + 1) : 1 - covDecay.of(dtH / halfLifeHours);
    const dx = x - mx;
    const dcf = n < MIN_TRACKER_SAMPLES ? c - mc : dc;
    f[co + C_MC] = mc + a * dcf;
    f[co + C_MX] = mx + a * dx;
    f[co + C_VCC] = (1 - a) * (vcc + a * dcf * dcf);
    f[co + C_VCX] = (1 - a) * (vcx + a * dcf * dx);
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

/** Updates a failure tracker with a sensor value; returns nothing (results stay in slots). */
function updateTracker(
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
  const n = f[o + M_N]!;
  // Time since the tracker's last active value, capped at `gapCapPeriods` periods: the
  // tracker's statistics learn per hour of activity, and an idle night is no evidence.
  const cap = det.gapCapPeriods * periodMs;
  const dtMs = n === 0 ? 0 : ts - f[o + M_LAST_TS]!;
  const dt = (dtMs < cap ? dtMs : cap) / HOUR_MS;
  if (co >= 0 && c === c) x = covariateAdjust(f, o, co, x, c, cRange, ts, dt, n, frozen, det.baseHalfLifeHours, det.modeLearningHours);
  let lvl: number;
  let T: number;
  if (n === 0) {
    lvl = x;
    T = 0;
    f[o + M_XDEV] = 0;
    f[o + M_T0] = ts;
    f[o + M_BASE] = x;
    f[o + M_PEAK] = x;
    f[o + M_DEV] = 0;
    f[o + M_LOW] = x;
    f[o + M_LOW_ENV] = x;
  } else {
    lvl = f[o + M_LVL]!;
    // Huber-clipped level: a single spike (an inrush current, a bump) moves it by at most
    // 3 typical deviations' worth, while a sustained drift passes through unchanged.
    // A sparse signal (a valve's flow, seen a few minutes a day) gains little activity time
    // per day, so a half-life in activity hours alone would let its level lag by days of
    // wall time; the level therefore also forgets with wall time (whichever is faster).
    const wall = dtMs / HOUR_MS / det.levelWallHalfLifeHours;
    const act = dt / det.levelHalfLifeHours;
    let al = 1 - levelDecay.of(wall > act ? wall : act);
    if (wall > act && al > det.levelMaxWeight) al = det.levelMaxWeight;
    const xdev = f[o + M_XDEV]!;
    const learningX = n < 30;
    const clip = 3 * xdev;
    const dx = x - lvl;
    const dxc = learningX ? dx : dx > clip ? clip : dx < -clip ? -clip : dx;
    lvl += al * dxc;
    const adx = Math.abs(dx);
    // The scatter learns at the activity pace only: after an idle spell the level may jump to
    // the new values, but one odd value must not also widen the clip that bounds the next.
    const ax = 1 - scatterDecay.of(act);
    f[o + M_XDEV] = xdev + (learningX ? 1 / n : ax) * ((learningX || adx < 4 * xdev ? adx : 4 * xdev) - xdev);
    T = f[o + M_T]! + dt;
    // Trough of the cycle (the far side from the limit): follows values away from the limit
    // quickly and toward it slowly, so it sits near the cycle's low point (an idle motor's
    // temperature, a thermostat's cut-out). A spike away from the limit only lowers it, and
    // one toward the limit barely moves it; a degradation lifts every part of the cycle,
    // and the trough, steadier than the highs, shows it sooner.
    const low = f[o + M_LOW]!;
    const dl = x - low;
    const lh = sgn * dl < 0 ? det.troughFastHalfLifeHours : det.troughSlowHalfLifeHours;
    f[o + M_LOW] = low + (1 - (sgn * dl < 0 ? lowFastDecay : lowSlowDecay).of(dt / lh)) * dl;
    // Exponentially weighted regression of the level on activity time (weighted Welford).
    // Forgets with wall time as well, for the same reason as the level: a sparse signal's
    // regression would otherwise average over weeks and miss a trend of days.
    const tWall = dtMs / HOUR_MS / det.trendWallHalfLifeHours;
    const tAct = dt / det.trendHalfLifeHours;
    const d = trendDecay.of(tWall > tAct ? tWall : tAct);
    const W = d * f[o + M_W]! + 1;
    const dT = T - f[o + M_MT]!;
    const mt = f[o + M_MT]! + dT / W;
    const dX = lvl - f[o + M_MX]!;
    const mx = f[o + M_MX]! + dX / W;
    f[o + M_W] = W;
    f[o + M_MT] = mt;
    f[o + M_MX] = mx;
    f[o + M_CTT] = d * f[o + M_CTT]! + dT * (T - mt);
    f[o + M_CTX] = d * f[o + M_CTX]! + dT * (lvl - mx);
    f[o + M_CXX] = d * f[o + M_CXX]! + dX * (lvl - mx);
    // Healthy baseline and envelope: learned fast at first, then slowly, and not at all
    // while a failure is suspected, so a degradation never becomes the new normal.
    const learning = trackerLearning(f, o, ts, det.modeLearningHours);
    if (learning || !frozen) {
      const base = f[o + M_BASE]!;
      const ab = learning ? 1 / (n + 1) : 1 - baseDecay.of(dt / det.baseHalfLifeHours);
      f[o + M_BASE] = base + ab * (lvl - base);
      f[o + M_DEV] = f[o + M_DEV]! + ab * (Math.abs(lvl - base) - f[o + M_DEV]!);
      const peak = f[o + M_PEAK]!;
      // The envelope starts once the level has settled (early levels rest on few values, and
      // a covariate-conditioned level also waits for its fit).
      const settle = co >= 0 ? COV_ENVELOPE_SAMPLES : MIN_TRACKER_SAMPLES;
      // The trough's envelope: its healthy extreme toward the limit, with the peak's dynamics.
      const lw = f[o + M_LOW]!;
      const le = f[o + M_LOW_ENV]!;
      if (n < settle) f[o + M_LOW_ENV] = lw;
      else if (learning) f[o + M_LOW_ENV] = sgn * (lw - le) > 0 ? lw : le;
      else {
        const dv = f[o + M_DEV]!;
        if (sgn * (lw - le) > 0) {
          const np = le + sgn * det.peakRisePerHour * dv * dt;
          f[o + M_LOW_ENV] = sgn * (np - lw) > 0 ? lw : np;
        } else {
          const np = le - sgn * det.peakFallPerHour * dv * dt;
          f[o + M_LOW_ENV] = sgn * (np - lw) < 0 ? lw : np;
        }
      }
      if (n < settle) f[o + M_PEAK] = lvl;
      else if (learning) f[o + M_PEAK] = sgn > 0 ? (lvl > peak ? lvl : peak) : lvl < peak ? lvl : peak;
      else {
        const dv = f[o + M_DEV]!;
        if (sgn * (lvl - peak) > 0) {
          const np = peak + sgn * det.peakRisePerHour * dv * dt;
          f[o + M_PEAK] = sgn * (np - lvl) > 0 ? lvl : np;
        } else {
          const np = peak - sgn * det.peakFallPerHour * dv * dt;
          f[o + M_PEAK] = sgn * (np - lvl) < 0 ? lvl : np;
        }
      }
    }
  }
  f[o + M_LVL] = lvl;
  f[o + M_T] = T;
  f[o + M_N] = n + 1;
  f[o + M_LAST_TS] = ts;

  // Probability of failure within the horizon.
  if (trackerLearning(f, o, ts, det.modeLearningHours)) {
    f[o + M_P] = 0;
    f[o + M_SLOPE] = 0;
    return;
  }
  const ctt = f[o + M_CTT]!;
  const slope = ctt > 1e-12 ? f[o + M_CTX]! / ctt : 0;
  // The margin is the level's own scatter around its healthy baseline: the envelope is a
  // high-water mark of the level, so what may push the level past it is the level's swing,
  // not the raw values' scatter (which counts a warm-up's or a fill's transients that the
  // level averages away, and would hide a degradation behind a margin of several degrees).
  const envelope = f[o + M_PEAK]! + sgn * det.peakMarginDev * f[o + M_DEV]!;
  const rem = sgn * (mode.limit - lvl);
  let gap = sgn * (mode.limit - envelope);
  const minGap = 1e-9 * (Math.abs(mode.limit) + 1);
  if (!(gap > minGap)) gap = minGap;
  let progress = (sgn * (lvl - envelope)) / gap;
  // The same progress measured on the cycle's trough against the trough's healthy envelope;
  // the stronger of the two counts.
  const troughEnv = f[o + M_LOW_ENV]! + sgn * det.troughMarginDev * f[o + M_XDEV]!;
  let troughGap = sgn * (mode.limit - troughEnv);
  if (!(troughGap > minGap)) troughGap = minGap;
  const troughProgress = (sgn * (f[o + M_LOW]! - troughEnv)) / troughGap;
  if (troughProgress > progress) progress = troughProgress;
  const toward = sgn * slope;
  const htl = rem <= 0 ? 0 : toward > 0 ? rem / toward : NaN;
  const ptrend = htl === htl ? 1 / (1 + (htl / mode.horizonHours) ** 2) : 0;
  let pprog = (progress - det.progressStart) / (det.progressFull - det.progressStart);
  pprog = pprog > 1 ? 1 : pprog < 0 || !(pprog === pprog) ? 0 : pprog;
  let p = rem <= 0 ? 1 : pprog * (0.5 + 0.5 * ptrend);
  // Significance: a level far beyond its healthy envelope in units of its own healthy
  // deviation, and trending toward the limit within the horizon, is evidence even while it
  // is a small share of the way to the limit (a quiet signal: a clean valve flow, a steady
  // bearing). Starts at `significanceDev` deviations beyond the envelope, full at twice that.
  const dv = f[o + M_DEV]!;
  const zs = det.significanceDev;
  let pz = dv > 0 ? ((sgn * (lvl - envelope)) / dv - zs) / zs : 0;
  pz = pz > 1 ? 1 : pz < 0 || !(pz === pz) ? 0 : pz;
  if (pz * ptrend > p) p = pz * ptrend;
  // Departure: the level far from its healthy baseline in units of the baseline's own
  // deviation, while beyond the healthy envelope and trending toward the limit. A signal held
  // near a set point (a thermostat's coolant, a compressor's current) whose envelope was
  // widened once by a hot day or a full load shows its degradation here well before it has
  // covered a share of the way to the limit. The deviation is floored at half the values'
  // scatter: a sparse signal's level rests on few values and its deviation learns slowly.
  if (sgn * (lvl - envelope) > 0) {
    const xs = DEPARTURE_SCATTER_FLOOR * f[o + M_XDEV]!;
    const sd = dv > xs ? dv : xs;
    const d0 = det.departureDevStart;
    let pd = sd > 0 ? ((sgn * (lvl - f[o + M_BASE]!)) / sd - d0) / (det.departureDevFull - d0) : 0;
    pd = pd > 1 ? 1 : pd < 0 || !(pd === pd) ? 0 : pd;
    if (pd * ptrend > p) p = pd * ptrend;
  }
  f[o + M_P] = p;
  f[o + M_SLOPE] = slope;
}

/**
 * Hours to the limit at the trend of the tracker's last update (NaN while it learns or when
 * the trend does not approach the limit; 0 at or beyond the limit): the same numbers the
 * probability used, from the stored level and slope.
 */
function hoursToLimit(f: Float64Array, o: number, mode: CompiledFailureMode, cfg: CompiledConfig): number {
  if (trackerLearning(f, o, f[o + M_LAST_TS]!, cfg.detector.modeLearningHours)) return NaN;
  const sgn = mode.direction === 'rising' ? 1 : -1;
  const rem = sgn * (mode.limit - f[o + M_LVL]!);
  const toward = sgn * f[o + M_SLOPE]!;
  return rem <= 0 ? 0 : toward > 0 ? rem / toward : NaN;
}

function severityOf(p: number, threshold: number): number {
  const q = threshold >= 1 ? 1 : (p - threshold) / (1 - threshold);
  return q < 0.25 ? 0 : q < 0.5 ? 1 : q < 0.8 ? 2 : 3;
}

/** Deterministic episode id: FNV-1a (two 32-bit lanes) of asset, mode and start time. */
export function episodeId(assetId: string, failureMode: string, episodeStartTs: number): string {
  const s = `${assetId}\u0000${failureMode}\u0000${episodeStartTs}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  const hex = (h: number): string => (h >>> 0).toString(16).padStart(8, '0');
  return `ep-${hex(h1)}${hex(h2)}`;
}

function buildEvent(
  kind: PredictionEvent['kind'],
  state: AssetState,
  at: CompiledAssetType,
  m: number,
  ts: number,
  p: number,
  cfg: CompiledConfig,
): PredictionEvent {
  const f = state.f;
  const ns = state.sensors.length;
  const np = state.pairs.length;
  const mode = at.failureModes[m]!;
  const eo = episodeOffset(ns, np, m);
  const start = f[eo + E_START]!;
  const evidence: Evidence[] = [];
  let best = -1;
  let bestP = -1;
  at.pairs.forEach((pr, j) => {
    if (pr.mode !== m) return;
    const po = pairOffset(ns, j);
    const so = sensorOffset(pr.sensor);
    const htl = hoursToLimit(f, po, mode, cfg);
    const pp = f[po + M_P]!;
    if (pp > bestP) {
      bestP = pp;
      best = j;
    }
    evidence.push({
      sensor: at.sensors[pr.sensor]!.name,
      value: f[so + S_RUN_VAL]!,
      score: f[so + S_SCORE]!,
      trendPerHour: f[po + M_SLOPE]!,
      limit: mode.limit,
      hoursToLimit: htl === htl ? htl : null,
    });
  });
  let predictedFailureTs: number | null = null;
  let predictedFailureLowTs: number | null = null;
  let predictedFailureHighTs: number | null = null;
  if (best >= 0) {
    const po = pairOffset(ns, best);
    const htl = hoursToLimit(f, po, mode, cfg);
    if (htl === htl) {
      const sgn = mode.direction === 'rising' ? 1 : -1;
      const toward = sgn * f[po + M_SLOPE]!;
      const rem = sgn * (mode.limit - f[po + M_LVL]!);
      const W = f[po + M_W]!;
      const ctt = f[po + M_CTT]!;
      const ctx = f[po + M_CTX]!;
      const resid = W > 2 && ctt > 0 ? Math.max(0, f[po + M_CXX]! - (ctx * ctx) / ctt) / (W - 2) : 0;
      const se = ctt > 0 ? Math.sqrt(resid / ctt) : 0;
      predictedFailureTs = Math.round(ts + htl * HOUR_MS);
      if (rem <= 0 || toward <= 0) {
        predictedFailureLowTs = predictedFailureTs;
        predictedFailureHighTs = predictedFailureTs;
      } else {
        predictedFailureLowTs = Math.round(ts + (rem / (toward + 2 * se)) * HOUR_MS);
        const slow = toward - 2 * se;
        // A trend not clearly above zero bounds nothing: report 10× the estimate as the far end.
        predictedFailureHighTs = Math.round(ts + (slow > toward * 0.1 ? rem / slow : 10 * htl) * HOUR_MS);
      }
    }
  }
  const sev = kind === 'cleared' ? f[eo + E_SEV]! : severityOf(p, mode.threshold);
  return {
    kind,
    episodeId: episodeId(state.assetId, mode.name, start),
    assetId: state.assetId,
    assetType: state.assetType,
    failureMode: mode.name,
    episodeStartTs: start,
    ts,
    severity: SEVERITIES[sev]!,
    probability: p < 0 ? 0 : p > 1 ? 1 : p,
    horizonHours: mode.horizonHours,
    predictedFailureTs,
    predictedFailureLowTs,
    predictedFailureHighTs,
    evidence,
    configVersion: cfg.version,
  };
}

/**
 * Runs the episode state machine of mode m at time ts with probability p. `fresh`: whether
 * one of the mode's trackers took an active value with this reading (p is recomputed only
 * then, and held between; a raise needs `minRaiseReadings` fresh values at or above the
 * threshold as well as `minDurationMinutes`, so one odd value of a sparse signal, held for
 * hours until the next active value, cannot raise alone).
 */
function stepEpisode(
  state: AssetState,
  at: CompiledAssetType,
  m: number,
  ts: number,
  p: number,
  fresh: boolean,
  cfg: CompiledConfig,
  out: PredictionEvent[],
): void {
  const f = state.f;
  const det = cfg.detector;
  const mode = at.failureModes[m]!;
  const eo = episodeOffset(state.sensors.length, state.pairs.length, m);
  const thr = mode.threshold;
  if (f[eo + E_OPEN] === 0) {
    if (p >= thr) {
      if (!(f[eo + E_ABOVE]! === f[eo + E_ABOVE]!)) {
        f[eo + E_ABOVE] = ts;
        f[eo + E_NACT] = 0;
      }
      if (fresh) f[eo + E_NACT] = f[eo + E_NACT]! + 1;
      if (ts - f[eo + E_ABOVE]! >= det.minDurationMinutes * 60_000 && f[eo + E_NACT]! >= det.minRaiseReadings) {
        f[eo + E_OPEN] = 1;
        f[eo + E_START] = ts;
        f[eo + E_SEV] = severityOf(p, thr);
        f[eo + E_LASTP] = p;
        f[eo + E_BELOW] = NaN;
        out.push(buildEvent('raised', state, at, m, ts, p, cfg));
      }
    } else f[eo + E_ABOVE] = NaN;
    return;
  }
  if (p < thr * det.clearRatio) {
    if (!(f[eo + E_BELOW]! === f[eo + E_BELOW]!)) f[eo + E_BELOW] = ts;
    if (ts - f[eo + E_BELOW]! >= det.clearMinutes * 60_000) {
      out.push(buildEvent('cleared', state, at, m, ts, p, cfg));
      initEpisode(f, eo);
    }
    return;
  }
  f[eo + E_BELOW] = NaN;
  const sev = severityOf(p, thr);
  if (sev > f[eo + E_SEV]!) {
    f[eo + E_SEV] = sev;
    f[eo + E_LASTP] = p;
    out.push(buildEvent('escalated', state, at, m, ts, p, cfg));
  } else if (Math.abs(p - f[eo + E_LASTP]!) >= det.updateDelta) {
    f[eo + E_LASTP] = p;
    out.push(buildEvent('updated', state, at, m, ts, p, cfg));
  }
}

function rejected(state: AssetState, kind: 'out_of_order' | 'duplicate', detail: string): Step<AssetState> {
  return {
    state,
    score: 0,
    health: state.f[H_HEALTH]!,
    sensors: [],
    findings: [{ kind, detail }],
    predictions: [],
    accepted: false,
  };
}

/**
 * Scores one reading of an asset and folds it into the asset's state.
 *
 * Mutates `state` in place (for speed) and returns it as `step.state`; callers that need the
 * previous state must `encodeState` it first. Pure otherwise: the same state and reading
 * always give the same step. Readings older than or as old as the last accepted one are
 * findings (`out_of_order`, `duplicate`) and leave the state unchanged. Non-finite,
 * out-of-range and stuck values are findings and are not folded into the state.
 * @throws UnknownAssetTypeError when the state's asset type is not in `cfg`.
 */
export function score(state: AssetState, reading: Reading, cfg: CompiledConfig): Step<AssetState> {
  const at = lookupType(cfg, state.assetType);
  if (!at.generic && state.sensors !== at.sensorNames) adoptLayout(state, at);
  const ts = reading.ts;
  const last = state.f[H_LAST_TS]!;
  if (!Number.isFinite(ts)) return rejected(state, 'out_of_order', `timestamp ${ts} is not a finite epoch-ms time`);
  if (ts < last) return rejected(state, 'out_of_order', `timestamp ${ts} is older than the last accepted ${last}`);
  if (ts === last) return rejected(state, 'duplicate', `timestamp ${ts} was already accepted`);

  const det = cfg.detector;
  const alpha = alphas(cfg);
  const values = reading.values;
  const findings: QualityFinding[] = [];
  const sensors: SensorScore[] = [];
  let known = 0;
  let assetScore = 0;
  // Generic assets discover sensors first, so the slot loop below covers them all.
  if (at.generic) {
    for (const k in values) {
      if (state.sensors.indexOf(k) >= 0) continue;
      if (state.sensors.length >= det.maxGenericSensors) {
        findings.push({ kind: 'unknown_sensor', sensor: k, detail: `generic asset already has ${det.maxGenericSensors} sensors (detector.maxGenericSensors); "${k}" ignored` });
        continue;
      }
      addGenericSensor(state, k);
    }
  }
  const f = state.f;
  const n = state.sensors.length;
  const np = state.pairs.length;
  const nm = state.modes.length;
  for (let i = 0; i < n; i++) {
    const name = state.sensors[i]!;
    const sc = at.generic ? undefined : at.sensors[i]!;
    const o = sensorOffset(i);
    const v = values[name];
    const periodMs = sc ? sc.samplePeriodSec * 1000 : f[o + S_EW_DT]! > 0 ? f[o + S_EW_DT]! : DEFAULT_PERIOD_MS;
    if (v === undefined) {
      const seen = f[o + S_SEEN_TS]!;
      if (ts - seen > det.staleAfterPeriods * periodMs)
        findings.push({ kind: 'stale', sensor: name, detail: `no valid value for ${Math.round((ts - seen) / 1000)} s (expected every ${Math.round(periodMs / 1000)} s)` });
      continue;
    }
    known++;
    const min = sc ? sc.min : -GENERIC_ABS_MAX;
    const max = sc ? sc.max : GENERIC_ABS_MAX;
    if (typeof v !== 'number' || v !== v) {
      findings.push({ kind: 'nan', sensor: name, detail: `value ${String(v)} is not a number` });
      continue;
    }
    if (v === Infinity || v === -Infinity) {
      findings.push({ kind: 'infinite', sensor: name, detail: `value ${v} is not finite` });
      continue;
    }
    if (v < min || v > max) {
      findings.push({
        kind: 'out_of_range',
        sensor: name,
        detail: sc
          ? `value ${v} outside physical range [${min}, ${max}] ${sc.unit}`
          : `value ${v} beyond ±${GENERIC_ABS_MAX}, the largest magnitude a generic sensor may have`,
      });
      continue;
    }
    f[o + S_SEEN_TS] = ts;
    // Stuck: the same exact value for many readings and minutes, on a sensor that has moved.
    // Values pinned at a range end (a closed valve's 0 flow, a saturated probe) are exempt.
    if (v === f[o + S_RUN_VAL] && v !== min && v !== max) {
      f[o + S_RUN_LEN] = f[o + S_RUN_LEN]! + 1;
      if (
        f[o + S_RUN_LEN]! >= det.stuckReadings &&
        ts - f[o + S_RUN_START]! >= det.stuckMinutes * 60_000 &&
        f[o + S_MAD]! > 0
      ) {
        findings.push({ kind: 'stuck', sensor: name, detail: `value ${v} unchanged for ${f[o + S_RUN_LEN]} readings since ${new Date(f[o + S_RUN_START]!).toISOString()}` });
        sensors.push({ sensor: name, value: v, score: 0, learning: f[o + S_N]! < det.learningReadings });
        continue;
      }
    } else {
      f[o + S_RUN_VAL] = v;
      f[o + S_RUN_LEN] = 1;
      f[o + S_RUN_START] = ts;
    }
    const learning = f[o + S_N]! < det.learningReadings;
    const s = scoreSensor(f, o, v, ts, min, max, cfg, alpha);
    if (s > assetScore) assetScore = s;
    sensors.push({ sensor: name, value: v, score: s, learning });
    if (!at.generic && np > 0) {
      const sp = at.sensorPairs[i]!;
      for (let q = 0; q < sp.length; q++) {
        const j = sp[q]!;
        const pr = at.pairs[j]!;
        const mode = at.failureModes[pr.mode]!;
        const eo = episodeOffset(n, np, pr.mode);
        const po = pairOffset(n, j);
        const frozen = f[eo + E_OPEN] === 1 || f[po + M_P]! >= mode.threshold * det.clearRatio * 0.5;
        const ck = at.pairCovSlots[j]!;
        let co = -1;
        let c = NaN;
        let cRange = 0;
        if (ck >= 0) {
          // The covariate's value in this reading, if it is a valid one (findings are not fitted).
          const cs = at.sensors[mode.covariates[0]!]!;
          const cv = values[cs.name];
          co = covOffset(n, np, nm, ck);
          cRange = cs.max - cs.min;
          if (typeof cv === 'number' && cv >= cs.min && cv <= cs.max) c = cv;
        }
        updateTracker(f, po, v, ts, mode, periodMs, frozen, cfg, co, c, cRange);
      }
    }
  }
  if (!at.generic) {
    let total = 0;
    // Counting keys is the cheapest way to notice an extra one; names are looked up only then.
    for (const _k in values) total++;
    if (total > known)
      for (const k in values)
        if (!at.sensorIndex.has(k))
          findings.push({ kind: 'unknown_sensor', sensor: k, detail: `sensor "${k}" is not configured for asset type ${at.name}` });
  }

  const predictions: PredictionEvent[] = [];
  let pmax = 0;
  for (let m = 0; m < nm; m++) {
    let p = 0;
    let fresh = false;
    const mp = at.modePairs[m]!;
    for (let q = 0; q < mp.length; q++) {
      const po = pairOffset(n, mp[q]!);
      const pp = f[po + M_P]!;
      if (pp > p) p = pp;
      // A tracker stamps the time of each active value it takes.
      if (f[po + M_LAST_TS] === ts) fresh = true;
    }
    if (p > pmax) pmax = p;
    stepEpisode(state, at, m, ts, p, fresh, cfg, predictions);
  }
  const health = (1 - pmax) * (1 - 0.5 * assetScore);
  f[H_LAST_TS] = ts;
  f[H_N] = f[H_N]! + 1;
  f[H_HEALTH] = health;
  f[H_SCORE] = assetScore;
  return { state, score: assetScore, health, sensors, findings, predictions, accepted: true };
}

/**
 * Applies a maintenance event: the repaired failure mode's open episode ends (a `cleared`
 * event) and the sensors the repair invalidates (the event's `sensors`, else the mode's,
 * else all) re-learn, with every failure tracker reading them. Mutates `state` in place.
 */
export function maintain(
  state: AssetState,
  event: MaintenanceEvent,
  cfg: CompiledConfig,
): { state: AssetState; predictions: PredictionEvent[] } {
  const at = lookupType(cfg, state.assetType);
  if (!at.generic && state.sensors !== at.sensorNames) adoptLayout(state, at);
  const f = state.f;
  const n = state.sensors.length;
  const np = state.pairs.length;
  const predictions: PredictionEvent[] = [];
  const modeIdx = event.failureMode === undefined ? -1 : state.modes.indexOf(event.failureMode);
  const sensorNames =
    event.sensors ?? (modeIdx >= 0 ? at.failureModes[modeIdx]!.sensors : event.failureMode === undefined ? state.sensors : []);
  for (let m = 0; m < state.modes.length; m++) {
    if (modeIdx >= 0 ? m !== modeIdx : event.failureMode !== undefined) continue;
    const eo = episodeOffset(n, np, m);
    if (f[eo + E_OPEN] === 1) predictions.push(buildEvent('cleared', state, at, m, event.ts, 0, cfg));
    initEpisode(f, eo);
  }
  for (const name of sensorNames) {
    const i = state.sensors.indexOf(name);
    if (i < 0) continue;
    initSensor(f, sensorOffset(i));
    // The repaired sensor's trackers re-learn, and so do the trackers that use it as their
    // covariate: their fit learned how this sensor drove theirs before the repair (during its
    // degradation, too), and that no longer holds.
    at.pairs.forEach((pr, j) => {
      if (pr.sensor === i || at.failureModes[pr.mode]!.covariates[0] === i) initPair(f, pairOffset(n, j));
    });
  }
  return { state, predictions };
}

/** Internal accessors for tests and tools (not part of the stable contract). */
export const internals = {
  sensorOffset,
  pairOffset,
  episodeOffset,
  S_WIN,
  S_N,
  M_P,
  M_LVL,
  M_PEAK,
  M_SLOPE,
};
