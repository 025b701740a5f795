/**
 * Mapping between the core's values and the Avro records the scorer writes (anomaly
 * scores, failure predictions, state changelog). Pure; the field names and units are the
 * ones documented in schemas/.
 */
import type { PredictionEvent, Reading, Step } from '../core/types.ts';
import type { ScoreRecord } from '../kafka/records.ts';

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
}

/** Reading as decoded from Avro (telemetry.reading.avsc), checked for what Avro cannot express. */
export function validReading(value: unknown): Reading | string {
  const v = value as Partial<Reading> | null;
  if (!v || typeof v !== 'object') return 'not a record';
  if (typeof v.assetId !== 'string' || v.assetId.trim() === '') return 'assetId is empty';
  // Control characters have no place in a serial number, and the scorer's changelog uses one
  // for its checkpoint marker key.
  if (/[\u0000-\u001f\u007f]/.test(v.assetId)) return `assetId ${JSON.stringify(v.assetId)} contains control characters`;
  if (typeof v.assetType !== 'string' || v.assetType.trim() === '') return 'assetType is empty';
  if (typeof v.ts !== 'number' || !Number.isFinite(v.ts) || v.ts <= 0) return `ts ${String(v.ts)} is not a positive epoch-ms time`;
  if (!v.values || typeof v.values !== 'object') return 'values is not a map';
  return v as Reading;
}
