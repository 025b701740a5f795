/**
 * The pure mapping from the pipeline's Avro records to InfluxDB points: which measurement,
 * which tags, which fields, written directly as line protocol (line-protocol.ts says why not
 * the client's Point). No I/O; the sink calls it for each decoded record and the
 * table-driven tests in points.test.ts pin it down line by line.
 *
 * Tag choice (tags are indexed and define a series; fields are not):
 * - `asset_id` IS a tag although it is an id: the dashboards filter and group per asset,
 *   and a fleet is thousands of assets, well within what the tsi1 index holds. It is also
 *   what makes a replay idempotent: measurement + tags + timestamp identify a point, so a
 *   re-delivered record overwrites its own point instead of adding one.
 * - `asset_type`, `failure_mode`, `kind`, `severity`, `sensor` are tags: few distinct values,
 *   all used in dashboard filters. `asset_type` is determined by `asset_id`, so it adds no series.
 * - `episode_id` is a FIELD: one value per episode would grow the series count without bound
 *   and no dashboard groups by it; it is there to join a point to its Salesforce case.
 *
 * Timestamps are epoch milliseconds (the sink writes with precision=ms). NaN and ±Infinity
 * have no line-protocol representation, so such values are left out (the scorer already
 * reports them as data-quality findings, which become `data_quality` points).
 */
import { PoisonRecordError } from '../runtime/errors.ts';
import type { PredictionEvent } from '../core/types.ts';
import type { AppliedMaintenanceRecord, ScoreBatchRecord, ScoreBlockRecord, ScoreRecord } from '../kafka/records.ts';
import { escapeKey, escapeMeasurement, floatValue, intValue, KeyCache, LineBuilder, quoteString } from './line-protocol.ts';

/** Measurement names, one per kind of point. */
export const MEASUREMENTS = {
  reading: 'reading',
  score: 'anomaly_score',
  dataQuality: 'data_quality',
  prediction: 'prediction',
  maintenance: 'maintenance',
} as const;

const BY_FIRST_CHAR = new Map<number, string>(Object.values(MEASUREMENTS).map((m) => [m.charCodeAt(0), m]));
if (BY_FIRST_CHAR.size !== Object.keys(MEASUREMENTS).length) throw new Error('points.ts: measurement names must start with distinct letters (measurementOf relies on it)');

/**
 * The measurement of a line this module wrote, without slicing the line: the sink counts
 * points per measurement for every write, a million lines a minute.
 */
export function measurementOf(line: string): string {
  return BY_FIRST_CHAR.get(line.charCodeAt(0)) ?? 'unknown';
}

/** failure_mode tag of a full service (a maintenance event that names no failure mode). */
export const ALL_FAILURE_MODES = '(all)';

/** Tag value used for reading-level findings, which concern no single sensor (empty tag values are not allowed). */
export const READING_LEVEL_SENSOR = '(reading)';

const MS_PER_HOUR = 3_600_000;

/** A decoded anomaly.score record (schemas/anomaly.score.avsc). */
export type { ScoreRecord };

/** A decoded failure.prediction record (schemas/failure.prediction.avsc). */
export type PredictionRecord = Omit<PredictionEvent, 'evidence'>;

/** Which mapping a record takes: its topic's value schema, or the further record type it was written with. */
export type RecordKind = 'score' | 'scoreBatch' | 'scoreBlock' | 'prediction';

/** A maintenance event the scorer applied (carried in its score blocks). */
export interface MaintenanceRecord extends AppliedMaintenanceRecord {
  assetId: string;
}

const keys = new KeyCache();
// One builder for every line: encoding is synchronous, so no two lines interleave.
const b = new LineBuilder();
/** Adds a field to the line being built. */
const field = (key: string, value: string): LineBuilder => b.field(key, keys.get(key), value);

/** `measurement,asset_id=…,asset_type=…` (tags sorted by key, as InfluxDB prefers them). */
function assetSeries(measurement: string, r: { assetId: string; assetType: string }): string {
  return `${escapeMeasurement(measurement)},asset_id=${escapeKey(tagValue('asset_id', r.assetId))},asset_type=${escapeKey(tagValue('asset_type', r.assetType))}`;
}

/**
 * `maintenance`: tags asset_id, failure_mode (`(all)` for a full service); fields `source`
 * and `sensors` (comma-separated, empty when the repair names none: the mode's own). An
 * annotation for the dashboards: why an asset's baseline re-learns from here on.
 */
export function maintenanceLines(r: MaintenanceRecord): string[] {
  const series = `${escapeMeasurement(MEASUREMENTS.maintenance)},asset_id=${escapeKey(tagValue('asset_id', r.assetId))},failure_mode=${escapeKey(tagValue('failure_mode', r.failureMode ?? ALL_FAILURE_MODES))}`;
  const ts = timestampMs(r.ts);
  field('sensors', quoteString((r.sensors ?? []).join(',')));
  field('source', quoteString(r.source));
  return [b.finish(series, ts)!];
}

/**
 * Tag values must be non-empty and must not end with a backslash (the line protocol would
 * read it as escaping the separator); such a record can never be written, so it is poison.
 */
function tagValue(name: string, value: string): string {
  if (value === '' || value.endsWith('\\')) {
    throw new PoisonRecordError(`tag ${name}=${JSON.stringify(value)} cannot be written to InfluxDB (empty or ending with a backslash)`, 'invalid_value');
  }
  return value;
}

/** The point timestamp: an integral epoch-ms inside the int64 nanosecond range InfluxDB stores. */
function timestampMs(ts: number): number {
  // InfluxDB keeps nanoseconds in int64: roughly years 1677-2262.
  if (!Number.isSafeInteger(ts) || ts < -9_223_372_036_854 || ts > 9_223_372_036_854) {
    throw new PoisonRecordError(`timestamp ${ts} ms is outside the range InfluxDB can store`, 'invalid_value');
  }
  return ts;
}

/**
 * `anomaly_score`: tags asset_id, asset_type; fields score, health, `score_<sensor>` per
 * sensor and `findings` (integer count). Plus one `data_quality` point per distinct
 * (sensor, kind) among the findings, with `count` = how many findings share them: two
 * findings of one kind on one sensor would otherwise overwrite each other (same series and
 * timestamp).
 */
export function scoreLines(s: ScoreRecord): string[] {
  const ts = timestampMs(s.ts);
  const series = assetSeries(MEASUREMENTS.score, s);
  field('findings', intValue(s.findings.length));
  if (Number.isFinite(s.score)) field('score', floatValue(s.score));
  if (Number.isFinite(s.health)) field('health', floatValue(s.health));
  for (const sc of s.sensors) {
    if (Number.isFinite(sc.score)) b.field(`score_${sc.sensor}`, keys.get(sc.sensor, 'score_'), floatValue(sc.score));
  }
  const out = [b.finish(series, ts)!];
  if (s.findings.length > 0) qualityLines(s, s.findings, ts, out);
  return out;
}

/** The `data_quality` points of a reading's findings, one per distinct (sensor, kind), appended to `out`. */
function qualityLines(asset: { assetId: string; assetType: string }, findings: readonly { kind: string; sensor: string | null }[], ts: number, out: string[]): void {
  const counts = new Map<string, { sensor: string; kind: string; count: number }>();
  for (const finding of findings) {
    const sensor = finding.sensor ?? READING_LEVEL_SENSOR;
    const key = JSON.stringify([sensor, finding.kind]);
    const c = counts.get(key);
    if (c) c.count += 1;
    else counts.set(key, { sensor, kind: finding.kind, count: 1 });
  }
  const quality = assetSeries(MEASUREMENTS.dataQuality, asset);
  for (const c of counts.values()) {
    const series = `${quality},kind=${escapeKey(tagValue('kind', c.kind))},sensor=${escapeKey(tagValue('sensor', c.sensor))}`;
    field('count', intValue(c.count));
    out.push(b.finish(series, ts)!);
  }
}

/**
 * The points of a score block (what the scorer writes), reading by reading: `reading` (the
 * raw values as the device sent them: one float field per value, named as the sensor, so
 * the unit suffix stays in the name, e.g. `battery_temp_c`; non-finite values left out, and
 * no point when none is finite), `anomaly_score` and `data_quality` as for a single score,
 * then one `maintenance` point per repair the scorer applied.
 *
 * The hot path of the sink: the columns' escaped names and their sorted order are worked out
 * once per block, not per reading.
 */
export function blockLines(block: ScoreBlockRecord): string[] {
  const { columns, readings } = block;
  const n = columns.length;
  const readingSeries = `${assetSeries(MEASUREMENTS.reading, block)} `;
  const scoreSeries = `${assetSeries(MEASUREMENTS.score, block)} findings=`;
  // Fields sorted by name, as the client sorts them: `score_<a>` < `score_<b>` iff a < b, and
  // findings < health < score < score_<any>.
  const order = columns.map((_, i) => i).sort((i, j) => (columns[i]! < columns[j]! ? -1 : columns[i]! > columns[j]! ? 1 : 0));
  const valueHeads = columns.map((c) => keys.get(c));
  const scoreHeads = columns.map((c) => keys.get(c, 'score_'));
  const out: string[] = [];
  for (let r = 0; r < readings.length; r++) {
    const row = readings[r]!;
    if (row.values.length !== n || row.scores.length !== n) {
      throw new PoisonRecordError(`score block of ${block.assetId}: reading [${r}] has ${row.values.length} values and ${row.scores.length} scores for ${n} columns`, 'invalid_record');
    }
    const ts = timestampMs(row.ts);
    let line = readingSeries;
    let fields = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const v = row.values[i]!;
      if (!Number.isFinite(v)) continue;
      if (fields++ > 0) line += ',';
      line += valueHeads[i]! + floatValue(v);
    }
    if (fields > 0) out.push(`${line} ${ts}`);
    line = scoreSeries + intValue(row.findings.length);
    if (Number.isFinite(row.health)) line += `,health=${floatValue(row.health)}`;
    if (Number.isFinite(row.score)) line += `,score=${floatValue(row.score)}`;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const sc = row.scores[i]!;
      if (Number.isFinite(sc)) line += `,${scoreHeads[i]!}${floatValue(sc)}`;
    }
    out.push(`${line} ${ts}`);
    if (row.findings.length > 0) qualityLines(block, row.findings, ts, out);
  }
  for (const m of block.maintenance) out.push(...maintenanceLines({ ...m, assetId: block.assetId }));
  return out;
}

/**
 * `prediction`: tags asset_id, asset_type, failure_mode, kind, severity; fields probability,
 * horizon_hours, episode_id (string), episode_start_ts (int, epoch ms), and when the
 * prediction has a trend toward the limit: predicted_failure_ts, _low_ts, _high_ts (int,
 * epoch ms) and hours_to_failure (float, from the event's ts; negative when overdue).
 */
export function predictionLines(e: PredictionRecord): string[] {
  const series =
    `${assetSeries(MEASUREMENTS.prediction, e)},failure_mode=${escapeKey(tagValue('failure_mode', e.failureMode))}` +
    `,kind=${escapeKey(tagValue('kind', e.kind))},severity=${escapeKey(tagValue('severity', e.severity))}`;
  const ts = timestampMs(e.ts);
  field('episode_id', quoteString(e.episodeId));
  field('episode_start_ts', intValue(e.episodeStartTs));
  if (Number.isFinite(e.probability)) field('probability', floatValue(e.probability));
  if (Number.isFinite(e.horizonHours)) field('horizon_hours', floatValue(e.horizonHours));
  if (e.predictedFailureTs !== null) {
    field('predicted_failure_ts', intValue(e.predictedFailureTs));
    field('hours_to_failure', floatValue((e.predictedFailureTs - e.ts) / MS_PER_HOUR));
  }
  if (e.predictedFailureLowTs !== null) field('predicted_failure_low_ts', intValue(e.predictedFailureLowTs));
  if (e.predictedFailureHighTs !== null) field('predicted_failure_high_ts', intValue(e.predictedFailureHighTs));
  return [b.finish(series, ts)!];
}
/** The fields each kind needs, with their JavaScript types as avsc decodes them. */
const REQUIRED: Record<RecordKind, Record<string, 'string' | 'number' | 'object'>> = {
  score: { assetId: 'string', assetType: 'string', ts: 'number', score: 'number', health: 'number', sensors: 'object', findings: 'object' },
  scoreBatch: { assetId: 'string', scores: 'object' },
  scoreBlock: { assetId: 'string', assetType: 'string', configVersion: 'string', columns: 'object', readings: 'object', maintenance: 'object' },
  prediction: {
    assetId: 'string', assetType: 'string', ts: 'number', kind: 'string', episodeId: 'string',
    failureMode: 'string', episodeStartTs: 'number', severity: 'string', probability: 'number',
  },
};

const REQUIRED_ENTRIES = Object.fromEntries(Object.entries(REQUIRED).map(([k, v]) => [k, Object.entries(v)])) as Record<RecordKind, [string, string][]>;

/**
 * Maps one decoded record of the given kind to its line-protocol points (possibly none). A record whose
 * registered schema is not the topic's (a reading produced to the scores topic, say) lacks
 * the fields and is poison: `invalid_record`.
 */
export function recordLines(kind: RecordKind, value: unknown): string[] {
  const rec = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  let wrong: [string, string][] | undefined;
  for (const req of REQUIRED_ENTRIES[kind]) {
    const v = rec[req[0]];
    if (typeof v !== req[1] || v === null) (wrong ??= []).push(req);
  }
  // A record that threw half-way (poison) must not leave fields in the shared builder.
  b.reset();
  if (wrong !== undefined) {
    throw new PoisonRecordError(`not a ${kind} record: ${wrong.map(([name, type]) => `${name} is not a ${type}`).join(', ')}`, 'invalid_record');
  }
  try {
    return mapRecord(kind, value);
  } catch (err) {
    // A record of the right name whose parts have the wrong shape (possible only with a
    // foreign writer schema of the same name) is the record's fault, not the sink's.
    if (err instanceof TypeError) throw new PoisonRecordError(`not a valid ${kind} record: ${err.message}`, 'invalid_record', { cause: err });
    throw err;
  }
}

function mapRecord(kind: RecordKind, value: unknown): string[] {
  switch (kind) {
    case 'scoreBlock':
      return blockLines(value as ScoreBlockRecord);
    case 'score':
      return scoreLines(value as ScoreRecord);
    case 'prediction':
      return predictionLines(value as PredictionRecord);
    case 'scoreBatch': {
      // The points of its scores, each checked like a single score record.
      const batch = value as ScoreBatchRecord;
      if (!Array.isArray(batch.scores)) throw new PoisonRecordError('not a scoreBatch record: scores is not an array', 'invalid_record');
      return batch.scores.flatMap((score, i) => {
        const points = recordLines('score', score);
        if (score.assetId !== batch.assetId) {
          throw new PoisonRecordError(`scoreBatch of ${batch.assetId} holds at [${i}] a score of ${score.assetId}`, 'invalid_record');
        }
        return points;
      });
    }
  }
}
