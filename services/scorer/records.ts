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
}

/** Reading as decoded from Avro (telemetry.reading.avsc), checked for what Avro cannot express. */
export function validReading(value: unknown): Reading | string {
  const v = value as Partial<Reading> | null;
  if (!v || typeof v !== 'object') return 'not a record';
  const idProblem = assetIdProblem(v.assetId);
  if (idProblem) return idProblem;
  if (typeof v.assetType !== 'string' || v.assetType.trim() === '') return 'assetType is empty';
  const tsProblem = timeProblem(v.ts);
  if (tsProblem) return tsProblem;
  if (!v.values || typeof v.values !== 'object') return 'values is not a map';
  return v as Reading;
}

export { MAINTENANCE_SCHEMA };

/** A maintenance event as decoded from Avro, checked and mapped to the core's shape (nulls dropped). */
export function validMaintenance(value: unknown): MaintenanceEvent | string {
  const v = value as { assetId?: unknown; ts?: unknown; failureMode?: unknown; sensors?: unknown } | null;
  if (!v || typeof v !== 'object') return 'not a record';
  const problem = assetIdProblem(v.assetId) ?? timeProblem(v.ts);
  if (problem) return problem;
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
  // Control characters have no place in a serial number, and the scorer's changelog uses one
  // for its checkpoint marker key.
  if (/[\u0000-\u001f\u007f]/.test(assetId)) return `assetId ${JSON.stringify(assetId)} contains control characters`;
  return undefined;
}

/** What is wrong with a record's ts (epoch ms), or undefined. */
function timeProblem(ts: unknown): string | undefined {
  return typeof ts !== 'number' || !Number.isFinite(ts) || ts <= 0 ? `ts ${String(ts)} is not a positive epoch-ms time` : undefined;
}
