/**
 * The layout of an asset state: one Float64Array holding, in this order, the asset header,
 * one block per sensor (stuck-run bookkeeping, anomaly evidence, value histogram), one block
 * per failure tracker (failure mode × sensor), one per failure mode's episode, and one per
 * covariate fit. Slot names say what each number is; every module of the core reads the
 * state through them. Creating a state, adopting a changed configuration's layout and
 * adding a generic sensor live here too, since they are the only code that moves blocks.
 *
 * Some sensor slots hold 32-bit numbers (SENSOR_FLOAT32_SLOTS: scales, averages, the tail
 * models and the histogram, where relative precision is all that matters): the core rounds
 * them where it writes them (Math.fround), and the encoding stores them in 4 bytes
 * instead of 8, so an 8-sensor asset's state has room for more evidence under 4 KiB and a
 * decoded state still continues exactly as the one that never stopped.
 *
 * Bump STATE_VERSION on any change of the slots or their precision, and give state-codec.ts
 * a path for the previous version (or a stated re-learn rule).
 */
import { UnknownAssetTypeError } from './errors.ts';
import { HISTOGRAM_SLOTS } from './histogram.ts';
import { RUN_SLOTS, TAIL_SLOTS } from './tail.ts';
import type { AssetState, CompiledAssetType, CompiledConfig } from './types.ts';

/** Layout version of AssetState.f; bump on any change of the slots below. */
export const STATE_VERSION = 8;

// Header slots: the asset as a whole.
export const ASSET_LAST_TS = 0;
export const ASSET_READINGS = 1;
export const ASSET_HEALTH = 2;
export const ASSET_SCORE = 3;
export const HEADER_SLOTS = 4;

// Sensor block slots: data-quality bookkeeping first, then the anomaly evidence (see
// sensor-score.ts for what each statistic is for). Version 5 replaced the rolling window,
// the robust location and the likelihood of version 4 with these; version 6 has 7 histogram
// bins instead of 8 and adds the level's extremes and breaks; version 7 stores 32 of the 46
// numbers as 32-bit floats and adds the jump run; version 8 adds the shift's run model and the
// step agreement.
/** Values folded into the anomaly statistics (not findings, not stuck runs). */
export const SENSOR_READINGS = 0;
/** Time of the last valid value (stale detection). */
export const SENSOR_LAST_VALID_TS = 1;
/** The last valid value, and the value of the current run of identical values (stuck detection). */
export const SENSOR_RUN_VALUE = 2;
export const SENSOR_RUN_LENGTH = 3;
export const SENSOR_RUN_START_TS = 4;
/** Exponentially weighted interval between values, ms (a generic sensor's sampling period). */
export const SENSOR_MEAN_INTERVAL_MS = 5;
/** The last anomaly score (the evidence of a prediction quotes it). */
export const SENSOR_SCORE = 6;
/** Exponentially weighted value with weight ½: the smoothed predictor of the next value. */
export const SENSOR_SMOOTHED = 7;
/** Mean absolute error of the smoothed predictor, and of the previous value as predictor. */
export const SENSOR_SPREAD_SMOOTHED = 8;
export const SENSOR_SPREAD_STEP = 9;
/** Mean absolute step over a ten times longer memory (the scale sustained evidence is measured in). */
export const SENSOR_SPREAD_STEP_SLOW = 10;
/** Tail model (tail.ts) of the jump: the larger of the two predictors' errors in their spreads. */
export const SENSOR_JUMP_TAIL = 11;
/** Short average of the steps in the slow spread (a burst of surprises, a change of variance), and its tail. */
export const SENSOR_SURPRISE = 14;
export const SENSOR_SURPRISE_TAIL = 15;
/** Fast and slow levels (a shift or a drift parts them), and the tail of their distance. */
export const SENSOR_SHIFT_FAST = 18;
export const SENSOR_SHIFT_SLOW = 19;
export const SENSOR_SHIFT_TAIL = 20;
/** All-time range of the values (it spans the histogram) and how many values extended it. */
export const SENSOR_MIN = 23;
export const SENSOR_MAX = 24;
export const SENSOR_RANGE_EXTENSIONS = 25;
/** Short average of the values' rarity in the histogram, and its tail. */
export const SENSOR_RARITY = 26;
export const SENSOR_RARITY_TAIL = 27;
/** The value histogram over [SENSOR_MIN, SENSOR_MAX] (histogram.ts: its bins, then the next value's weight). */
export const SENSOR_HISTOGRAM = 30;
/**
 * The extremes the fast level has reached, each following the level past it with a short
 * half-life (a level that creeps beyond everything the sensor has shown is measured against
 * where it was, not where it crept to), and how many values had the fast level beyond them.
 */
export const SENSOR_LEVEL_LOW = SENSOR_HISTOGRAM + HISTOGRAM_SLOTS;
export const SENSOR_LEVEL_HIGH = SENSOR_LEVEL_LOW + 1;
export const SENSOR_LEVEL_BREAKS = SENSOR_LEVEL_LOW + 2;
/**
 * The jump run (version 7): the jump's longer average, its tail, and how many values its tail
 * has learned (its own count, so that a state of an older version, which has none, warms it up
 * from its next value while every other evidence goes on).
 */
export const SENSOR_JUMP_RUN = SENSOR_LEVEL_LOW + 3;
export const SENSOR_JUMP_RUN_TAIL = SENSOR_JUMP_RUN + 1;
export const SENSOR_JUMP_RUN_VALUES = SENSOR_JUMP_RUN_TAIL + TAIL_SLOTS;
/**
 * The shift's run model (version 8, tail.ts): the shift's excursions above its tail's
 * threshold, one number per run (the current run's peak, start threshold and length; the
 * finished runs' mean peak excess, mean length and count). A state of an older version starts
 * it empty: it scores once a run has finished.
 */
export const SENSOR_SHIFT_RUNS = SENSOR_JUMP_RUN_VALUES + 1;
/**
 * The step agreement (version 8): the last step in slow spreads (capped at ±1), the average
 * of the products of consecutive such steps, its tail, and how many values its tail has
 * learned (its own count, as the jump run's: a state of version 7 warms it up).
 */
export const SENSOR_STEP_LAST = SENSOR_SHIFT_RUNS + RUN_SLOTS;
export const SENSOR_STEP_AGREEMENT = SENSOR_STEP_LAST + 1;
export const SENSOR_STEP_AGREEMENT_TAIL = SENSOR_STEP_AGREEMENT + 1;
export const SENSOR_STEP_AGREEMENT_VALUES = SENSOR_STEP_AGREEMENT_TAIL + TAIL_SLOTS;
/** Numbers per sensor. */
export const SENSOR_SLOTS = SENSOR_STEP_AGREEMENT_VALUES + 1;

/**
 * Sensor slots kept at 32-bit float precision (since state version 7): the mean interval and the
 * last score, the spreads, the averages of surprise, rarity and jumps, the five tail models, the
 * shift's run model, the step agreement and the histogram (its weights stay below 1e30, histogram.ts). Levels, extremes, times, the last
 * value (compared exactly for repeats and stuck runs) and counts that may pass 2^24 stay
 * 64-bit: their absolute precision matters on a sensor whose values sit far from 0.
 */
export const SENSOR_FLOAT32_SLOTS: readonly number[] = Object.freeze([
  SENSOR_MEAN_INTERVAL_MS,
  SENSOR_SCORE,
  SENSOR_SPREAD_SMOOTHED,
  SENSOR_SPREAD_STEP,
  SENSOR_SPREAD_STEP_SLOW,
  SENSOR_JUMP_TAIL,
  SENSOR_JUMP_TAIL + 1,
  SENSOR_JUMP_TAIL + 2,
  SENSOR_SURPRISE,
  SENSOR_SURPRISE_TAIL,
  SENSOR_SURPRISE_TAIL + 1,
  SENSOR_SURPRISE_TAIL + 2,
  SENSOR_SHIFT_TAIL,
  SENSOR_SHIFT_TAIL + 1,
  SENSOR_SHIFT_TAIL + 2,
  SENSOR_RARITY,
  SENSOR_RARITY_TAIL,
  SENSOR_RARITY_TAIL + 1,
  SENSOR_RARITY_TAIL + 2,
  ...Array.from({ length: HISTOGRAM_SLOTS }, (_, k) => SENSOR_HISTOGRAM + k),
  SENSOR_JUMP_RUN,
  SENSOR_JUMP_RUN_TAIL,
  SENSOR_JUMP_RUN_TAIL + 1,
  SENSOR_JUMP_RUN_TAIL + 2,
  // A count that stops at 2^24 (16.8 M values), long after its tail has reached its steady rates.
  SENSOR_JUMP_RUN_VALUES,
  // The run model's peaks, excesses, lengths and counts (its counts stop below 2^24, tail.ts).
  ...Array.from({ length: RUN_SLOTS }, (_, k) => SENSOR_SHIFT_RUNS + k),
  // The step agreement: its last step, average, tail and count (as the jump run's).
  SENSOR_STEP_LAST,
  SENSOR_STEP_AGREEMENT,
  SENSOR_STEP_AGREEMENT_TAIL,
  SENSOR_STEP_AGREEMENT_TAIL + 1,
  SENSOR_STEP_AGREEMENT_TAIL + 2,
  SENSOR_STEP_AGREEMENT_VALUES,
]);
const FLOAT32_SLOTS = Int32Array.from(SENSOR_FLOAT32_SLOTS);

/** Per sensor slot, whether it is stored as a 32-bit float (see SENSOR_FLOAT32_SLOTS). */
export const SENSOR_SLOT_IS_FLOAT32: readonly boolean[] = Object.freeze(Array.from({ length: SENSOR_SLOTS }, (_, k) => SENSOR_FLOAT32_SLOTS.includes(k)));

/**
 * Rounds the 32-bit slots of the sensor block at `o` to their precision: for a block converted
 * from an older version (the core rounds each slot as it writes it, which costs nothing
 * measurable; rounding the whole block after every value cost 15–25% of the core's time).
 */
export function roundSensorFloat32(f: Float64Array, o: number): void {
  for (let k = 0; k < FLOAT32_SLOTS.length; k++) f[o + FLOAT32_SLOTS[k]!] = Math.fround(f[o + FLOAT32_SLOTS[k]!]!);
}

// Failure tracker slots (one per failure mode × sensor).
export const TRACKER_LEVEL = 0;
export const TRACKER_VALUES = 1;
export const TRACKER_ACTIVE_HOURS = 2;
export const TRACKER_LAST_TS = 3;
export const TRACKER_ENVELOPE = 4;
export const TRACKER_BASELINE = 5;
export const TRACKER_BASELINE_DEV = 6;
export const TRACKER_TREND_WEIGHT = 7;
export const TRACKER_TREND_MEAN_HOURS = 8;
export const TRACKER_TREND_MEAN_LEVEL = 9;
export const TRACKER_TREND_STT = 10;
export const TRACKER_TREND_STX = 11;
export const TRACKER_TREND_SXX = 12;
export const TRACKER_PROBABILITY = 13;
// Hours to the limit are not stored: hoursToLimit() derives them from the level and slope.
export const TRACKER_SLOPE_PER_HOUR = 14;
export const TRACKER_SCATTER = 15;
export const TRACKER_FIRST_TS = 16;
export const TRACKER_TROUGH = 17;
export const TRACKER_TROUGH_ENVELOPE = 18;
/** Numbers per failure tracker. */
export const TRACKER_SLOTS = 19;

// Episode slots (one per failure mode).
export const EPISODE_OPEN = 0;
/** Start of the open episode, or of the last one that cleared without a repair (a relapse within the horizon resumes it). */
export const EPISODE_START_TS = 1;
export const EPISODE_SEVERITY = 2;
export const EPISODE_ABOVE_SINCE_TS = 3;
/** While open: since when p has been below the clear level. While closed: when the last episode cleared (NaN after a repair). */
export const EPISODE_BELOW_SINCE_TS = 4;
export const EPISODE_REPORTED_P = 5;
/**
 * Fresh (active) values counted toward a change of the episode: while none is open, those at
 * or above the threshold since p last reached it (a raise needs minRaiseReadings); while one
 * is open, those below the clear level since p last fell below it (a clear needs minClearReadings).
 */
export const EPISODE_FRESH_COUNT = 6;
/** Numbers per failure mode episode. */
export const EPISODE_SLOTS = 7;

// Covariate fit slots (one block per tracker whose mode has a covariate, after the episodes):
// exponentially weighted means of the covariate and the value, the covariate's variance and
// the covariance, learned while the tracker is healthy.
export const COV_MEAN_C = 0;
export const COV_MEAN_X = 1;
export const COV_VAR_C = 2;
export const COV_COV_CX = 3;
/** Numbers per covariate fit. */
export const COV_SLOTS = 4;

/**
 * The largest magnitude a sensor value may have: beyond it a generic sensor's value is a
 * finding, and a configured sensor's range, limits and activity bounds must lie within it
 * (config.ts). The state keeps spreads and tail statistics as 32-bit floats (range 3.4e38),
 * and squared deviations of larger values would overflow them.
 */
export const SENSOR_ABS_MAX = 1e15;
/** Sampling period assumed for a generic sensor before its mean interval is known, ms. */
export const DEFAULT_PERIOD_MS = 60_000;
export const HOUR_MS = 3_600_000;

export const sensorOffset = (i: number): number => HEADER_SLOTS + i * SENSOR_SLOTS;
export const trackerOffset = (nSensors: number, j: number): number => HEADER_SLOTS + nSensors * SENSOR_SLOTS + j * TRACKER_SLOTS;
export const episodeOffset = (nSensors: number, nPairs: number, m: number): number => HEADER_SLOTS + nSensors * SENSOR_SLOTS + nPairs * TRACKER_SLOTS + m * EPISODE_SLOTS;
export const covOffset = (nSensors: number, nPairs: number, nModes: number, k: number): number =>
  HEADER_SLOTS + nSensors * SENSOR_SLOTS + nPairs * TRACKER_SLOTS + nModes * EPISODE_SLOTS + k * COV_SLOTS;

/** Resets a sensor block: the sensor learns again from its next value. */
export function initSensor(f: Float64Array, o: number): void {
  f.fill(0, o, o + SENSOR_SLOTS);
  f[o + SENSOR_LAST_VALID_TS] = NaN;
  f[o + SENSOR_RUN_VALUE] = NaN;
  f[o + SENSOR_RUN_START_TS] = NaN;
  f[o + SENSOR_MIN] = NaN;
  f[o + SENSOR_MAX] = NaN;
  f[o + SENSOR_LEVEL_LOW] = NaN;
  f[o + SENSOR_LEVEL_HIGH] = NaN;
}

/** Resets a failure tracker: it learns again (modeLearningHours) from its next active value. */
export function initTracker(f: Float64Array, o: number): void {
  f.fill(0, o, o + TRACKER_SLOTS);
  f[o + TRACKER_LAST_TS] = NaN;
}

/** Resets an episode slot: no episode open, no raise pending. */
export function initEpisode(f: Float64Array, o: number): void {
  f.fill(0, o, o + EPISODE_SLOTS);
  f[o + EPISODE_START_TS] = NaN;
  f[o + EPISODE_ABOVE_SINCE_TS] = NaN;
  f[o + EPISODE_BELOW_SINCE_TS] = NaN;
}

/**
 * The compiled asset type of a state or reading.
 * @throws UnknownAssetTypeError when the configuration does not define it.
 */
export function lookupType(cfg: CompiledConfig, assetType: string): CompiledAssetType {
  const at = cfg.assetTypes.get(assetType);
  if (!at) throw new UnknownAssetTypeError(assetType, [...cfg.assetTypes.keys()]);
  return at;
}

function allocate(sensors: number, pairs: number, modes: number, covs: number): Float64Array {
  const f = new Float64Array(HEADER_SLOTS + sensors * SENSOR_SLOTS + pairs * TRACKER_SLOTS + modes * EPISODE_SLOTS + covs * COV_SLOTS);
  f[ASSET_LAST_TS] = NaN;
  f[ASSET_HEALTH] = 1;
  for (let i = 0; i < sensors; i++) initSensor(f, sensorOffset(i));
  for (let j = 0; j < pairs; j++) initTracker(f, trackerOffset(sensors, j));
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

/** Whether the state's slots are laid out as the asset type's (its lists may still be copies of the type's). */
export function hasLayoutOf(state: AssetState, at: CompiledAssetType): boolean {
  return (
    sameList(state.sensors, at.sensorNames) &&
    sameList(state.modes, at.modeNames) &&
    sameList(state.pairs, at.pairNames) &&
    state.f.length === covOffset(at.sensorNames.length, at.pairNames.length, at.modeNames.length, at.covFits)
  );
}

/**
 * Makes the state's layout match the asset type's (a decoded state carries its own name
 * lists; a changed configuration may add or drop sensors and modes). Blocks are kept by
 * name, new ones start learning, dropped ones are discarded.
 */
export function adoptLayout(state: AssetState, at: CompiledAssetType): void {
  const ns = at.sensorNames.length;
  const np = at.pairNames.length;
  const nm = at.modeNames.length;
  if (hasLayoutOf(state, at)) {
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
  f.set(old.subarray(0, HEADER_SLOTS), 0);
  const os = state.sensors.length;
  const op = state.pairs.length;
  at.sensorNames.forEach((n, i) => {
    const k = state.sensors.indexOf(n);
    if (k >= 0) f.set(old.subarray(sensorOffset(k), sensorOffset(k) + SENSOR_SLOTS), sensorOffset(i));
  });
  at.pairNames.forEach((n, j) => {
    const k = state.pairs.indexOf(n);
    if (k >= 0 && at.pairCovSlots[j]! < 0) f.set(old.subarray(trackerOffset(os, k), trackerOffset(os, k) + TRACKER_SLOTS), trackerOffset(ns, j));
  });
  at.modeNames.forEach((n, m) => {
    const k = state.modes.indexOf(n);
    if (k >= 0) f.set(old.subarray(episodeOffset(os, op, k), episodeOffset(os, op, k) + EPISODE_SLOTS), episodeOffset(ns, np, m));
  });
  state.sensors = at.sensorNames;
  state.modes = at.modeNames;
  state.pairs = at.pairNames;
  state.f = f;
}

/** Adds a discovered sensor to a generic asset's state. */
export function addGenericSensor(state: AssetState, name: string): number {
  const n = state.sensors.length;
  const f = new Float64Array(state.f.length + SENSOR_SLOTS);
  f.set(state.f, 0);
  initSensor(f, sensorOffset(n));
  state.f = f;
  state.sensors = [...state.sensors, name];
  return n;
}
