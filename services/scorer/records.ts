/**
 * Mapping between the core's values and the Avro records the scorer writes (anomaly
 * scores, failure predictions, state changelog). Pure; the field names and units are the
 * ones documented in schemas/.
 */
import type { AssetState, MaintenanceEvent, PredictionEvent, Reading, Step } from '../core/types.ts';
import { MAINTENANCE_SCHEMA, type ScoreRecord } from '../kafka/records.ts';

export type { ScoreRecord };

export function scoreRecord(reading: Reading, step: Step<unknown>, configVersion: string): ScoreRecord {
  return {
    assetId: reading.assetId,
    assetType: reading.assetType,
    ts: reading.ts,
    score: step.score,
    health: step.health,
    sensors: step.sensors.map((s) => ({ sensor: s.sensor, value: s.value, score: s.score, learning: s.learning })),
    findings: step.findings.map((f) => ({ kind: f.kind, sensor: f.sensor ?? null, detail: f.detail })),
    configVersion,
  };
}

export type PredictionRecord = PredictionEvent;

export function predictionRecord(p: PredictionEvent): PredictionRecord {
  return {
    ...p,
    evidence: p.evidence.map((e) => ({ ...e, hoursToLimit: e.hoursToLimit ?? null })),
  };
}

export interface StateRecord {
  assetId: string;
  assetType: string;
  state: Buffer;
  sourceOffset: number;
  /** Kafka timestamp of the asset's last record folded into the state, epoch ms; 0 unknown. */
  lastSeenMs: number;
}

/**
 * What one record may carry, checked at the door (a record past a limit is dead-lettered with
 * the limit named): every output the scorer writes for a record then has a bounded size, so
 * no single record can make a transaction too large for the broker, nor an asset state
 * impossible to checkpoint, and stop the stream behind it.
 */
export const RECORD_LIMITS = Object.freeze({
  /** Characters of an asset id (a serial number; Salesforce keeps it in a 255-character field). */
  assetIdChars: 128,
  /** Characters of an asset type or failure mode name. */
  nameChars: 64,
  /** Sensor values in one reading (and sensors named by one repair). */
  values: 256,
  /** Characters of a sensor name. */
  sensorNameChars: 64,
  /** Earliest sample time accepted, epoch ms: 2000-01-01. An epoch-seconds time reads as 1970. */
  minTsMs: Date.UTC(2000, 0, 1),
  /**
   * How far a sample's time may be ahead of its Kafka record's timestamp, ms (1 day). A
   * reading from the future would make every later reading of the asset out of order until
   * that time. Compared with the record's timestamp, not the scorer's clock, so that a replay
   * decides exactly as the first run did.
   */
  maxAheadOfRecordMs: 86_400_000,
});

/**
 * Reading as decoded from Avro (telemetry.reading.avsc), checked for what Avro cannot express
 * and against RECORD_LIMITS. `recordTsMs`: the Kafka record's timestamp, when known.
 */
export function validReading(value: unknown, recordTsMs?: number): Reading | string {
  const v = value as Partial<Reading> | null;
  if (!v || typeof v !== 'object') return 'not a record';
  const idProblem = assetIdProblem(v.assetId);
  if (idProblem) return idProblem;
  if (typeof v.assetType !== 'string' || v.assetType.trim() === '') return 'assetType is empty';
  if (v.assetType.length > RECORD_LIMITS.nameChars) return `assetType of ${v.assetType.length} characters exceeds the limit of ${RECORD_LIMITS.nameChars}`;
  const tsProblem = timeProblem(v.ts, recordTsMs);
  if (tsProblem) return tsProblem;
  if (!v.values || typeof v.values !== 'object') return 'values is not a map';
  const names = Object.keys(v.values);
  if (names.length > RECORD_LIMITS.values) return `reading carries ${names.length} values; the limit is ${RECORD_LIMITS.values}`;
  const long = names.find((n) => n.length > RECORD_LIMITS.sensorNameChars || n === '');
  if (long !== undefined) return `sensor name ${JSON.stringify(long.slice(0, 40))}${long.length > 40 ? '…' : ''} is empty or longer than ${RECORD_LIMITS.sensorNameChars} characters`;
  return v as Reading;
}

export { MAINTENANCE_SCHEMA };

/** A maintenance event as decoded from Avro, checked against RECORD_LIMITS and mapped to the core's shape (nulls dropped). */
export function validMaintenance(value: unknown, recordTsMs?: number): MaintenanceEvent | string {
  const v = value as { assetId?: unknown; ts?: unknown; failureMode?: unknown; sensors?: unknown } | null;
  if (!v || typeof v !== 'object') return 'not a record';
  const problem = assetIdProblem(v.assetId) ?? timeProblem(v.ts, recordTsMs);
  if (problem) return problem;
  if (typeof v.failureMode === 'string' && v.failureMode.length > RECORD_LIMITS.nameChars) return `failureMode of ${v.failureMode.length} characters exceeds the limit of ${RECORD_LIMITS.nameChars}`;
  if (Array.isArray(v.sensors) && v.sensors.length > RECORD_LIMITS.values) return `maintenance event names ${v.sensors.length} sensors; the limit is ${RECORD_LIMITS.values}`;
  const ev: MaintenanceEvent = { assetId: v.assetId as string, ts: v.ts as number };
  if (typeof v.failureMode === 'string') ev.failureMode = v.failureMode;
  if (Array.isArray(v.sensors)) ev.sensors = v.sensors as string[];
  return ev;
}

/** Why a maintenance event cannot apply to this asset (a failure mode or sensor its type does not have), or undefined. */
export function maintenanceProblem(state: AssetState, ev: MaintenanceEvent): string | undefined {
  const problems: string[] = [];
  if (ev.failureMode !== undefined && !state.modes.includes(ev.failureMode)) {
    problems.push(`failure mode "${ev.failureMode}" is not configured for asset type ${state.assetType} (modes: ${state.modes.join(', ') || 'none'})`);
  }
  for (const s of ev.sensors ?? []) {
    if (!state.sensors.includes(s)) problems.push(`sensor "${s}" is not a sensor of asset ${ev.assetId} (${state.sensors.join(', ')})`);
  }
  return problems.length > 0 ? `maintenance event for ${ev.assetId}: ${problems.join('; ')}` : undefined;
}

/** What is wrong with a record's assetId, or undefined. */
function assetIdProblem(assetId: unknown): string | undefined {
  if (typeof assetId !== 'string' || assetId.trim() === '') return 'assetId is empty';
  if (assetId.length > RECORD_LIMITS.assetIdChars) return `assetId of ${assetId.length} characters exceeds the limit of ${RECORD_LIMITS.assetIdChars}`;
  // Control characters have no place in a serial number, and the scorer's changelog uses one
  // for its checkpoint marker key.
  if (/[\u0000-\u001f\u007f]/.test(assetId)) return `assetId ${JSON.stringify(assetId)} contains control characters`;
  return undefined;
}

/** What is wrong with a record's ts (epoch ms), or undefined; `recordTsMs` is its Kafka record's timestamp, when known. */
function timeProblem(ts: unknown, recordTsMs?: number): string | undefined {
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts <= 0) return `ts ${String(ts)} is not a positive epoch-ms time`;
  if (ts < RECORD_LIMITS.minTsMs) return `ts ${ts} is before 2000-01-01: ts is epoch milliseconds UTC (epoch seconds times 1000), and the device clock must be set`;
  if (recordTsMs !== undefined && Number.isFinite(recordTsMs) && ts > recordTsMs + RECORD_LIMITS.maxAheadOfRecordMs) {
    return `ts ${new Date(Math.min(ts, 8.64e15)).toISOString()} is ${((ts - recordTsMs) / 3_600_000).toFixed(1)} h ahead of its Kafka record's timestamp (limit ${RECORD_LIMITS.maxAheadOfRecordMs / 3_600_000} h)`;
  }
  return undefined;
}
