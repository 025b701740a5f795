/**
 * The contract of the scoring core: what the stream processors, the CLI, the simulator,
 * the evaluation and the benchmarks see of it. The core is pure: no I/O, no clock, no
 * unseeded randomness; time always arrives inside a reading (epoch milliseconds, UTC).
 */
import type { DerivedParams } from './derived.ts';

/** One telemetry reading of one asset: several sensors sampled at one instant. */
export interface Reading {
  assetId: string;
  /** Asset type name from configuration (e.g. "passenger_ev"); "generic" scores from data alone. */
  assetType: string;
  /** Sample time, epoch milliseconds UTC. */
  ts: number;
  /** Sensor name → value in the sensor's configured unit. NaN/±Infinity may arrive and are findings. */
  values: Readonly<Record<string, number>>;
}

/** A maintenance action on an asset: a repaired or replaced part. */
export interface MaintenanceEvent {
  assetId: string;
  ts: number;
  /** Failure mode the repair addresses; its open episode ends and its sensors re-learn. */
  failureMode?: string;
  /** Sensors whose baselines the repair invalidates; all sensors of the mode when omitted. */
  sensors?: string[];
}

export type QualityKind =
  | 'nan'
  | 'infinite'
  | 'out_of_range'
  | 'stuck'
  | 'stale'
  | 'out_of_order'
  | 'duplicate'
  | 'unknown_sensor'
  | 'missing';

/** A data-quality finding: never scored as a machine anomaly, never folded into the state. */
export interface QualityFinding {
  kind: QualityKind;
  /** The sensor concerned; absent for reading-level findings (out_of_order, duplicate). */
  sensor?: string;
  /** Human-readable reason, e.g. "value 912 outside physical range [-40, 80] degC". */
  detail: string;
}

export interface SensorScore {
  sensor: string;
  value: number;
  /**
   * Anomaly score in [0, 1], calibrated on this sensor's own history: 0.5 or more means
   * "rarer than this sensor has been"; 0 while learning or when the value is a finding.
   */
  score: number;
  /** True while the sensor is still in its learning period (score is then 0). */
  learning: boolean;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface Evidence {
  sensor: string;
  value: number;
  score: number;
  /** Trend toward the limit in sensor units per hour (sign as measured). */
  trendPerHour: number;
  /** The failure mode's limit for this sensor, in sensor units. */
  limit: number;
  /** Estimated hours until the limit is reached at the current trend; null if not approaching. */
  hoursToLimit: number | null;
}

export type PredictionKind = 'raised' | 'escalated' | 'updated' | 'cleared';

/** A failure-prediction event of one episode (asset × failure mode × episode start). */
export interface PredictionEvent {
  kind: PredictionKind;
  /** Deterministic: derived from assetId, failureMode and episodeStartTs only. */
  episodeId: string;
  assetId: string;
  assetType: string;
  failureMode: string;
  /** Epoch ms of the reading that opened the episode. */
  episodeStartTs: number;
  /** Epoch ms of the reading that produced this event. */
  ts: number;
  severity: Severity;
  /** Probability of failure within horizonHours, in [0, 1]. */
  probability: number;
  horizonHours: number;
  /** Predicted failure time (epoch ms) with an interval; null when no trend toward the limit. */
  predictedFailureTs: number | null;
  predictedFailureLowTs: number | null;
  predictedFailureHighTs: number | null;
  evidence: Evidence[];
  configVersion: string;
}

/** Everything one reading produces. */
export interface Step<S> {
  state: S;
  /** Asset anomaly score in [0, 1]: the combination of the sensor scores. */
  score: number;
  /** Asset health in [0, 1]: 1 healthy, 0 failing. */
  health: number;
  sensors: SensorScore[];
  /** Data-quality findings of the reading (a shared, frozen empty list when there are none). */
  findings: readonly QualityFinding[];
  predictions: PredictionEvent[];
  /** False when the reading was not folded into the state (duplicate, out of order). */
  accepted: boolean;
}

// ---------------------------------------------------------------------------------------
// Added by the core (issue 3): compiled configuration and the per-asset state.
// ---------------------------------------------------------------------------------------

/** A sensor of an asset type after validation. */
export interface CompiledSensor {
  name: string;
  unit: string;
  /** Physical range; a value outside is an `out_of_range` finding. ±Infinity for generic sensors. */
  min: number;
  max: number;
  /** Expected sampling period, seconds (default 60). Drives the stale and gap rules. */
  samplePeriodSec: number;
}

/** A failure mode of an asset type after validation. */
export interface CompiledFailureMode {
  name: string;
  description: string;
  /** Sensors whose trend toward the limit signals the mode (any one suffices). */
  sensors: readonly string[];
  direction: 'rising' | 'falling';
  /** Limit in the sensors' unit. */
  limit: number;
  /** Horizon of the failure probability, hours. */
  horizonHours: number;
  /** Probability at which a prediction is raised, in (0, 1]. */
  threshold: number;
  /**
   * Only values above this count as "the machine is working" for this mode (e.g. water
   * flow while a valve is open, vibration while the drum spins); idle values are ignored
   * by the mode's tracker. Undefined: every value counts.
   */
  activeAbove: number | undefined;
  /** Only values below this count as activity for this mode. Undefined: no upper bound. */
  activeBelow: number | undefined;
  /**
   * Sensor indexes (into the asset type's sensors) of the covariates that drive the mode's
   * sensors (ambient temperature, load): the trackers follow the value the healthy fit on
   * them predicts at their typical value, so a degradation shows at every phase of the
   * covariate's cycle. Empty: the trackers follow the raw values. At most one.
   */
  covariates: readonly number[];
}

/** Detector and predictor parameters; see DEFAULT_DETECTOR in config.ts for defaults and units. */
export interface DetectorParams {
  /**
   * Memory of a sensor's value histogram, in values: its counts lose half their weight every
   * this many values (any integer 8..65536; the cost per value does not depend on it). Default 4096.
   */
  windowSize: number;
  /** Values before a sensor's scores count (scores are 0 and `learning` true). Default 300. */
  learningReadings: number;
  /** Half-life, values, of the predictors' mean absolute errors (their spreads). Default 35. */
  spreadHalfLifeReadings: number;
  /** Half-life, values, of the slow spread of the steps (scale of the sustained evidence). Default 350. */
  slowSpreadHalfLifeReadings: number;
  /** Half-life, values, of the short average of surprises (bursts, changes of variance). Default 7. */
  surpriseHalfLifeReadings: number;
  /** Half-lives, values, of the fast and the slow level whose distance shows shifts and drifts. Defaults 7, 230. */
  shiftFastHalfLifeReadings: number;
  shiftSlowHalfLifeReadings: number;
  /** Half-life, values, of the short average of the values' rarity in the histogram. Default 3. */
  rarityHalfLifeReadings: number;
  /** Tail share each evidence's calibration threshold aims at (its (1 − share) quantile). Default 0.02. */
  tailShare: number;
  /**
   * Probability per value at which each evidence scores 0.5 ("rarer than this sensor has
   * been"; the square of it scores 1): a jump and a rare value, which stand alone (default
   * 1e-5 each), and the sustained evidence, an average surprise and a level shift, which come
   * in runs of values (default 1e-4 each). A tiny value (1e-300) turns an evidence off.
   */
  jumpTailProbability: number;
  rarityTailProbability: number;
  surpriseTailProbability: number;
  shiftTailProbability: number;
  /**
   * A value beyond the sensor's all-time range by this share of the range (and by
   * rangeMarginSpreads of its steps' spread) breaks the range. Defaults 0.05 and 3.
   */
  rangeMarginShare: number;
  rangeMarginSpreads: number;
  /**
   * Rate of range breaks per value at which a break scores 0.5 (the sensor's own record of
   * breaks sets how rare the next one is). Default 3e-3.
   */
  rangeBreakProbability: number;
  /**
   * Half-life, values, with which the fast level's extremes follow it when it goes past them.
   * The fast level beyond them by the range margin is a level break (a drift or a shift
   * reaching a level the sensor has not held before, however slowly it crept there). Default 30.
   */
  levelBreakHalfLifeReadings: number;
  /** Rate of level breaks per value at which one scores 0.5 (as rangeBreakProbability). Default 0.01. */
  levelBreakProbability: number;
  /**
   * Half-life, values, of the jump run: the average of the jumps (each capped at 10 spreads)
   * over a longer stretch than one value, which shows a run of moderate jumps none of which
   * stands alone (an oscillation that appears, a cycle that changes its frequency, a drift
   * that keeps outrunning the predictors). Default 30.
   */
  jumpRunHalfLifeReadings: number;
  /** Probability per value at which the jump run scores 0.5 (as the other evidence; it comes in runs). Default 3e-4. */
  jumpRunTailProbability: number;
  /**
   * Expected number of the shift's runs per value (its excursions above its tail's threshold,
   * counted once each: tail.ts, the run model) reaching a value at which the shift's run
   * evidence scores 0.5. Default 1e-6 (measured on `npm run eval:anomaly`, three seeds, and
   * the demo's fleet, seeds 1–20: 3e-6 detected a point more of the corpus but put up to 1.1%
   * of the demo's readings at 0.5 or more, against at most 1%; 1e-5 took the corpus's false
   * alarms past 1 per 10k on one seed; benchmarks/README.md).
   */
  shiftRunTailProbability: number;
  /**
   * Values a sensor has learned before the shift's run evidence scores (its run model learns
   * from the first value, but few runs fit in the first thousands). Default 3000 (from the
   * 1,000th value the demo's fleet put up to 1.02% of its readings at 0.5 or more).
   */
  shiftRunLearningReadings: number;
  /**
   * Probability per value at which the step agreement (consecutive steps agreeing in
   * direction, averaged over the jump run's half-life: an oscillation that appears, a cycle
   * that changes its shape) scores 0.5 (as the jump run: it comes in runs). Default 3e-4.
   */
  stepAgreementTailProbability: number;
  /**
   * A jump to a value whose histogram bin holds at least this share of the weight is no
   * evidence (a machine switching to one of its usual levels). Default 0.2.
   */
  rarityGateShare: number;
  /** The fast level follows a step of at most this many slow spreads (one outlier moves it little). Default 5. */
  shiftClipSpreads: number;
  /** Identical consecutive values that make a sensor `stuck` (with stuckMinutes). Default 20. */
  stuckReadings: number;
  stuckMinutes: number;
  /** A sensor absent for longer than this many sample periods is `stale`. Default 10. */
  staleAfterPeriods: number;
  /** Gaps longer than this many sample periods do not age the failure trackers. Default 5. */
  gapCapPeriods: number;
  /**
   * Most hours of activity one value stands for in the failure trackers: a machine read once
   * a cycle (hours or a day apart) has its level, trend and baseline learned per value at this
   * pace, so they average over several values. Default 1 (binding only for sampling periods
   * over 12 minutes, since gapCapPeriods already caps a value's time at 5 periods).
   */
  maxActivityHoursPerValue: number;
  /** Failure tracker: level half-life, trend half-life, hours of activity. Defaults 0.5, 8. */
  levelHalfLifeHours: number;
  trendHalfLifeHours: number;
  /**
   * Failure tracker: half-life, hours of wall time, of the level between active values. A
   * sparse signal (active minutes a day) would otherwise lag by days. Default 2.
   */
  levelWallHalfLifeHours: number;
  /**
   * Largest weight one value may have in the level when the wall-time half-life is the
   * faster one (after an idle spell), so one odd value after a pause cannot set the level.
   * Default 0.25.
   */
  levelMaxWeight: number;
  /**
   * Failure tracker: half-life, hours of wall time, of the trend regression's memory (as
   * above). Default 24: a degradation of one to six days must show in the trend within a day,
   * not be averaged with two days of healthy level.
   */
  trendWallHalfLifeHours: number;
  /** Failure tracker: half-life, hours, of the healthy baseline. Default 48. */
  baseHalfLifeHours: number;
  /** Hours after its first value before a failure tracker may predict (and after a repair). Default 168. */
  modeLearningHours: number;
  /** Healthy envelope: rise and fall per activity hour, in units of the tracker's deviation. */
  peakRisePerHour: number;
  peakFallPerHour: number;
  /** Envelope margin, in units of the level's deviation from its healthy baseline. Default 1. */
  peakMarginDev: number;
  /**
   * Failure tracker's cycle trough (the low point of a signal that cycles with use, on the
   * side away from the limit): half-lives, hours of activity, with which it follows values
   * away from the limit (fast) and toward it (slow). Defaults 0.1 and 1.5.
   */
  troughFastHalfLifeHours: number;
  troughSlowHalfLifeHours: number;
  /** Margin of the trough's healthy envelope, in units of the raw values' scatter. Default 0.5. */
  troughMarginDev: number;
  /**
   * Deviations of the level beyond its healthy envelope (in units of the level's healthy
   * deviation) where the significance evidence starts; it is full at twice this, and counts
   * only with the weight of the trend toward the limit. Default 4.
   */
  significanceDev: number;
  /**
   * Departure evidence: deviations of the level from its healthy baseline (in units of the
   * level's healthy deviation, floored at half the values' scatter) where it starts and where
   * it is full. It counts only while the level is beyond its healthy envelope, and only with
   * the weight of the trend toward the limit. Defaults 2.5 and 4.
   */
  departureDevStart: number;
  departureDevFull: number;
  /** Progress (share of the gap from the healthy envelope to the limit) where probability starts / saturates. */
  progressStart: number;
  progressFull: number;
  /** Default raise threshold for modes without one, in (0, 1]. Default 0.5. */
  raiseThreshold: number;
  /**
   * An episode clears when probability < threshold × clearRatio for clearMinutes. Defaults
   * 0.5 and 1080 (18 h): a degradation that a daily cycle hides for half a day (a battery
   * while it charges overnight) must not end its episode and open a second case when it
   * shows again.
   */
  clearRatio: number;
  clearMinutes: number;
  /**
   * Fresh (active) values below the clear level an open episode needs, besides clearMinutes,
   * before it clears: silence (a machine switched off) shows no recovery. Default 10.
   */
  minClearReadings: number;
  /** Probability must stay ≥ threshold this long before raising. Default 15 minutes. */
  minDurationMinutes: number;
  /**
   * Active values (ones a failure tracker takes) at or above the threshold needed before
   * raising, besides minDurationMinutes: a sparse signal's probability is held between its
   * active values, so the duration alone could be met by one value. Default 3.
   */
  minRaiseReadings: number;
  /** Probability change that emits an `updated` event. Default 0.15. */
  updateDelta: number;
  /** Most sensors a generic asset may discover (bounds the state). Default 32. */
  maxGenericSensors: number;
}

/** An asset type after validation, with the slot layout its states use. */
export interface CompiledAssetType {
  name: string;
  description: string;
  /** Sensors in state-slot order; empty for "generic" (discovered per asset). */
  sensors: readonly CompiledSensor[];
  sensorIndex: ReadonlyMap<string, number>;
  failureModes: readonly CompiledFailureMode[];
  /** (mode index, sensor index) pairs, one failure tracker each, in state-slot order. */
  pairs: readonly { mode: number; sensor: number }[];
  /** For each sensor, the indexes of its trackers in `pairs` (hot-path lookup). */
  sensorPairs: readonly (readonly number[])[];
  /** For each failure mode, the indexes of its trackers in `pairs`. */
  modePairs: readonly (readonly number[])[];
  /**
   * For each tracker, the slot of its covariate fit (trackers of modes with covariates, in
   * tracker order) or -1 when its mode has none.
   */
  pairCovSlots: readonly number[];
  /** Number of covariate fits (trackers whose mode has covariates). */
  covFits: number;
  /** Shared name lists (states reference them instead of copying). */
  sensorNames: readonly string[];
  modeNames: readonly string[];
  pairNames: readonly string[];
  generic: boolean;
}

/** A validated, frozen configuration. */
export interface CompiledConfig {
  version: string;
  assetTypes: ReadonlyMap<string, CompiledAssetType>;
  detector: Readonly<DetectorParams>;
  /** Factors and memos the hot path derives from `detector` once (derived.ts); not configuration. */
  derived: DerivedParams;
}

/**
 * The rolling state of one asset. Opaque to callers: pass it back to `score`/`maintain`,
 * persist it with `encodeState`. `score` mutates it in place and returns the same object.
 */
export interface AssetState {
  /** State layout version (see STATE_VERSION). */
  readonly version: number;
  readonly assetId: string;
  readonly assetType: string;
  /** Sensor names in slot order. */
  sensors: readonly string[];
  /** Failure-mode names in episode-slot order. */
  modes: readonly string[];
  /** "mode/sensor" names of the failure trackers, in slot order. */
  pairs: readonly string[];
  /** All numbers of the state (header, sensor blocks, trackers, episodes). */
  f: Float64Array;
}
