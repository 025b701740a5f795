/**
 * What the producer checks before a record leaves the device or gateway, so that a mistake
 * shows up as a clear error in the publisher's own code instead of a dead letter in someone
 * else's pipeline: the record against its Avro schema (every mismatch with its path, value
 * and expected type), then what Avro cannot say but the scorer refuses (the same checks the
 * scorer applies, imported from it, so the two never drift), then timestamps that are
 * certainly wrong (epoch seconds instead of milliseconds, a clock running ahead).
 *
 * Not refused, on purpose: NaN and ±Infinity sensor values (a broken sensor's report is
 * information; the scorer scores the valid sensors, flags the bad ones as data quality and
 * copies the record to the dead-letter topic for ops), and sensor or asset-type names the
 * pipeline's configuration may not know (the producer does not know that configuration).
 */
import avro from 'avsc';
import type { MaintenanceEvent, Reading } from '../core/types.ts';
import { PipelineError } from '../runtime/errors.ts';
import { RECORD_LIMITS, validMaintenance, validReading } from '../scorer/records.ts';

/**
 * Earliest plausible sample time, epoch ms (2000-01-01T00:00:00Z). An epoch-seconds time
 * (about 1.7e9 today) reads as January 1970 in milliseconds, far below this.
 */
export const MIN_PLAUSIBLE_TS_MS = RECORD_LIMITS.minTsMs;

/** A record the producer refuses to send, with every problem found. Never retriable. */
export class InvalidRecordError extends PipelineError {
  constructor(
    readonly what: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid ${what}: ${problems.join('; ')}`, false);
  }
}

/** Where each schema mismatch is, as `path: value (expected type)`. */
export function schemaProblems(type: avro.Type, value: unknown): string[] {
  const problems: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[], v: unknown, t: avro.Type) => {
      const shown = v === undefined ? 'missing' : safeJson(v);
      problems.push(`${path.join('.') || '(record)'}: ${shown} (expected ${describeType(t)})`);
    },
  });
  return problems;
}

function describeType(t: avro.Type): string {
  if (t.typeName === 'map') return 'a map of doubles';
  if (t.typeName === 'record') return `a ${t.name ?? 'record'} record`;
  if (t.typeName === 'union:unwrapped' || t.typeName === 'union:wrapped') return (t as unknown as { types: avro.Type[] }).types.map(describeType).join(' or ');
  if (t.typeName === 'array') return 'an array';
  return t.typeName.replace(/^logical:/, '');
}

function safeJson(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * Problems with a record's time, or none. `nowMs` and `maxAheadMs` bound how far ahead of
 * the publisher's clock a sample may be (undefined = no bound, for simulated time).
 */
export function timeProblems(ts: number, nowMs: number | undefined, maxAheadMs: number | undefined): string[] {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return [];
  if (ts < MIN_PLAUSIBLE_TS_MS) {
    return [`ts ${ts} is before 2000-01-01: ts is epoch milliseconds UTC (epoch seconds times 1000), and the device clock must be set`];
  }
  if (nowMs !== undefined && maxAheadMs !== undefined && ts > nowMs + maxAheadMs) {
    return [
      `ts ${ts} (${new Date(ts).toISOString()}) is ${Math.round((ts - nowMs) / 1000)} s ahead of this clock (limit ${maxAheadMs / 1000} s): ` +
        'a reading from the future makes every later reading of the asset out of order until that time',
    ];
  }
  return [];
}

/** Why `value` is not a reading the pipeline accepts, or an empty list. */
export function readingProblems(type: avro.Type, value: unknown, nowMs?: number, maxAheadMs?: number): string[] {
  const schema = schemaProblems(type, value);
  if (schema.length > 0) return schema;
  const scorer = validReading(value);
  if (typeof scorer === 'string') return [scorer];
  return timeProblems((value as Reading).ts, nowMs, maxAheadMs);
}

/** Why `value` is not a maintenance event the pipeline accepts, or an empty list. */
export function maintenanceProblems(type: avro.Type, value: unknown, nowMs?: number, maxAheadMs?: number): string[] {
  const schema = schemaProblems(type, value);
  if (schema.length > 0) return schema;
  const scorer = validMaintenance(value);
  if (typeof scorer === 'string') return [scorer];
  return timeProblems((value as MaintenanceEvent).ts, nowMs, maxAheadMs);
}

/** Names a record in an error: `reading of EV-0001 at 2026-12-01T08:00:00.000Z`. */
export function describeRecord(kind: 'reading' | 'maintenance event', value: unknown): string {
  const v = value as { assetId?: unknown; ts?: unknown } | null;
  const id = typeof v?.assetId === 'string' && v.assetId !== '' ? v.assetId : '(no assetId)';
  const at = typeof v?.ts === 'number' && Number.isFinite(v.ts) && Math.abs(v.ts) < 8.64e15 ? new Date(v.ts).toISOString() : String(v?.ts);
  return `${kind} of ${id} at ${at}`;
}
