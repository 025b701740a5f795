/**
 * The contract of the scoring core: what the stream processors, the CLI, the simulator,
 * the evaluation and the benchmarks see of it. The core is pure: no I/O, no clock, no
 * unseeded randomness; time always arrives inside a reading (epoch milliseconds, UTC).
 */

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
