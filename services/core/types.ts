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
  /** Calibrated anomaly score in [0, 1]; 0 while learning or when the value is a finding. */
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
  findings: QualityFinding[];
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
  /** Readings in the rolling window (multiple of 4, 8..65536). Default 256. */
  windowSize: number;
  /** Half-life, readings, of the robust location/scale estimates. Default 240. */
  robustHalfLifeReadings: number;
  /** Readings before a sensor's scores count (scores are 0 and `learning` true). Default 120. */
  learningReadings: number;
  /** |z| inside this many spreads scores zero (sparse scoring). Default 3. */
  sparseZ: number;
  /** CUSUM slack and decision interval, in spreads (level shifts, slow drift). Defaults 0.5, 12. */
  cusumK: number;
  cusumH: number;
  /** Half-life, readings, of the short average of raw scores (likelihood numerator). Default 3. */
  shortHalfLifeReadings: number;
  /** Half-life, readings, of the long-run raw score distribution. Default 2880. */
  longHalfLifeReadings: number;
  /**
   * Floor of the long-run variance of raw scores (raw-score units², i.e. spreads²) in the
   * likelihood: on a sensor whose raw scores are nearly always 0 the long-run variance is
   * tiny, and without a floor one reading just past the sparse threshold would score near 1.
   */
  likelihoodVarFloor: number;
  /**
   * Half-life, readings, of the high-water mark of the short average of raw scores, which
   * the likelihood compares against (with the long-run mean): a deviation that recurs within
   * about this many readings (every fill, every spin) scores little. Default 720.
   */
  extremeHalfLifeReadings: number;
  /** Identical consecutive values that make a sensor `stuck` (with stuckMinutes). Default 20. */
  stuckReadings: number;
  stuckMinutes: number;
  /** A sensor absent for longer than this many sample periods is `stale`. Default 10. */
  staleAfterPeriods: number;
  /** Gaps longer than this many sample periods do not age the failure trackers. Default 5. */
  gapCapPeriods: number;
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
