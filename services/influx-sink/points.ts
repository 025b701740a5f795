/**
 * The pure mapping from the pipeline's Avro records to InfluxDB points: which measurement,
 * which tags, which fields. No I/O; the sink calls it for each decoded record and the
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
import { Point } from '@influxdata/influxdb-client';
import { PoisonRecordError } from '../runtime/errors.ts';
import type { PredictionEvent, Reading } from '../core/types.ts';
import type { ScoreBatchRecord, ScoreRecord } from '../kafka/records.ts';

/** Measurement names, one per kind of point. */
export const MEASUREMENTS = {
  reading: 'reading',
  score: 'anomaly_score',
  dataQuality: 'data_quality',
  prediction: 'prediction',
  maintenance: 'maintenance',
} as const;

/** failure_mode tag of a full service (a maintenance event that names no failure mode). */
export const ALL_FAILURE_MODES = '(all)';

/** Tag value used for reading-level findings, which concern no single sensor (empty tag values are not allowed). */
export const READING_LEVEL_SENSOR = '(reading)';

const MS_PER_HOUR = 3_600_000;

/** A decoded telemetry.reading record (schemas/telemetry.reading.avsc). */
export type ReadingRecord = Reading;

/** A decoded anomaly.score record (schemas/anomaly.score.avsc). */
export type { ScoreRecord };

/** A decoded failure.prediction record (schemas/failure.prediction.avsc). */
export type PredictionRecord = Omit<PredictionEvent, 'evidence'>;

/** Which mapping a topic's records take. */
export type RecordKind = 'reading' | 'score' | 'scoreBatch' | 'prediction' | 'maintenance';

/** A decoded maintenance record (schemas/maintenance.event.avsc), carried on the readings topic. */
export interface MaintenanceRecord {
  assetId: string;
  ts: number;
  failureMode: string | null;
  sensors: string[] | null;
  source: string;
}

/**
 * `maintenance`: tags asset_id, failure_mode (`(all)` for a full service); fields `source`
 * and `sensors` (comma-separated, empty when the repair names none: the mode's own). An
 * annotation for the dashboards: why an asset's baseline re-learns from here on.
 */
export function maintenancePoints(r: MaintenanceRecord): Point[] {
  return [
    new Point(MEASUREMENTS.maintenance)
      .tag('asset_id', tagValue('asset_id', r.assetId))
      .tag('failure_mode', tagValue('failure_mode', r.failureMode ?? ALL_FAILURE_MODES))
      .stringField('source', r.source)
      .stringField('sensors', (r.sensors ?? []).join(','))
      .timestamp(timestampMs(r.ts)),
  ];
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

function assetPoint(measurement: string, r: { assetId: string; assetType: string; ts: number }): Point {
  return new Point(measurement)
    .tag('asset_id', tagValue('asset_id', r.assetId))
    .tag('asset_type', tagValue('asset_type', r.assetType))
    .timestamp(timestampMs(r.ts));
}

/** True when the point has at least one field; a point without fields is not valid line protocol. */
function hasFields(p: Point): boolean {
  return Object.keys(p.fields).length > 0;
}

/**
 * `reading`: tags asset_id, asset_type; one float field per sensor, named as the sensor
 * (so the unit suffix stays in the name, e.g. `battery_temp_c`). Non-finite values are
 * left out; a reading with no finite value gives no point.
 */
export function readingPoints(r: ReadingRecord): Point[] {
  const p = assetPoint(MEASUREMENTS.reading, r);
  for (const [sensor, value] of Object.entries(r.values)) {
    if (Number.isFinite(value)) p.floatField(sensor, value);
  }
  return hasFields(p) ? [p] : [];
}

/**
 * `anomaly_score`: tags asset_id, asset_type; fields score, health, `score_<sensor>` per
 * sensor and `findings` (integer count). Plus one `data_quality` point per distinct
 * (sensor, kind) among the findings, with `count` = how many findings share them: two
 * findings of one kind on one sensor would otherwise overwrite each other (same series and
 * timestamp).
 */
export function scorePoints(s: ScoreRecord): Point[] {
  const p = assetPoint(MEASUREMENTS.score, s);
  if (Number.isFinite(s.score)) p.floatField('score', s.score);
  if (Number.isFinite(s.health)) p.floatField('health', s.health);
  for (const sc of s.sensors) {
    if (Number.isFinite(sc.score)) p.floatField(`score_${sc.sensor}`, sc.score);
  }
  p.intField('findings', s.findings.length);

  const counts = new Map<string, { sensor: string; kind: string; count: number }>();
  for (const f of s.findings) {
    const sensor = f.sensor ?? READING_LEVEL_SENSOR;
    const key = JSON.stringify([sensor, f.kind]);
    const c = counts.get(key);
    if (c) c.count += 1;
    else counts.set(key, { sensor, kind: f.kind, count: 1 });
  }
  const quality = [...counts.values()].map((c) =>
    assetPoint(MEASUREMENTS.dataQuality, s)
      .tag('sensor', tagValue('sensor', c.sensor))
      .tag('kind', tagValue('kind', c.kind))
      .intField('count', c.count),
  );
  return [p, ...quality];
}

/**
 * `prediction`: tags asset_id, asset_type, failure_mode, kind, severity; fields probability,
 * horizon_hours, episode_id (string), episode_start_ts (int, epoch ms), and when the
 * prediction has a trend toward the limit: predicted_failure_ts, _low_ts, _high_ts (int,
 * epoch ms) and hours_to_failure (float, from the event's ts; negative when overdue).
 */
export function predictionPoints(e: PredictionRecord): Point[] {
  const p = assetPoint(MEASUREMENTS.prediction, e)
    .tag('failure_mode', tagValue('failure_mode', e.failureMode))
    .tag('kind', tagValue('kind', e.kind))
    .tag('severity', tagValue('severity', e.severity))
    .stringField('episode_id', e.episodeId)
    .intField('episode_start_ts', e.episodeStartTs);
  if (Number.isFinite(e.probability)) p.floatField('probability', e.probability);
  if (Number.isFinite(e.horizonHours)) p.floatField('horizon_hours', e.horizonHours);
  if (e.predictedFailureTs !== null) {
    p.intField('predicted_failure_ts', e.predictedFailureTs);
    p.floatField('hours_to_failure', (e.predictedFailureTs - e.ts) / MS_PER_HOUR);
  }
  if (e.predictedFailureLowTs !== null) p.intField('predicted_failure_low_ts', e.predictedFailureLowTs);
  if (e.predictedFailureHighTs !== null) p.intField('predicted_failure_high_ts', e.predictedFailureHighTs);
  return [p];
}

/** The fields each kind needs, with their JavaScript types as avsc decodes them. */
const REQUIRED: Record<RecordKind, Record<string, 'string' | 'number' | 'object'>> = {
  reading: { assetId: 'string', assetType: 'string', ts: 'number', values: 'object' },
  score: { assetId: 'string', assetType: 'string', ts: 'number', score: 'number', health: 'number', sensors: 'object', findings: 'object' },
  maintenance: { assetId: 'string', ts: 'number', source: 'string' },
  scoreBatch: { assetId: 'string', scores: 'object' },
  prediction: {
    assetId: 'string', assetType: 'string', ts: 'number', kind: 'string', episodeId: 'string',
    failureMode: 'string', episodeStartTs: 'number', severity: 'string', probability: 'number',
  },
};

/**
 * Maps one decoded record of the given kind to its points (possibly none). A record whose
 * registered schema is not the topic's (a reading produced to the scores topic, say) lacks
 * the fields and is poison: `invalid_record`.
 */
export function recordPoints(kind: RecordKind, value: unknown): Point[] {
  const rec = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const wrong = Object.entries(REQUIRED[kind]).filter(([name, type]) => typeof rec[name] !== type || rec[name] === null);
  if (wrong.length > 0) {
    throw new PoisonRecordError(`not a ${kind} record: ${wrong.map(([name, type]) => `${name} is not a ${type}`).join(', ')}`, 'invalid_record');
  }
  switch (kind) {
    case 'reading':
      return readingPoints(value as ReadingRecord);
    case 'score':
      return scorePoints(value as ScoreRecord);
    case 'prediction':
      return predictionPoints(value as PredictionRecord);
    case 'maintenance':
      return maintenancePoints(value as MaintenanceRecord);
    case 'scoreBatch': {
      // The points of its scores, each checked like a single score record.
      const batch = value as ScoreBatchRecord;
      if (!Array.isArray(batch.scores)) throw new PoisonRecordError('not a scoreBatch record: scores is not an array', 'invalid_record');
      return batch.scores.flatMap((score, i) => {
        const points = recordPoints('score', score);
        if (score.assetId !== batch.assetId) {
          throw new PoisonRecordError(`scoreBatch of ${batch.assetId} holds at [${i}] a score of ${score.assetId}`, 'invalid_record');
        }
        return points;
      });
    }
  }
}

/** Line protocol of points whose timestamps are epoch ms (the write must use precision=ms). */
export function toLines(points: readonly Point[]): string[] {
  const out: string[] = [];
  // Timestamps are already integral ms: serialize them as they are.
  const settings = { convertTime: (v: string | number | Date | undefined) => (v === undefined ? undefined : String(v)) };
  for (const p of points) {
    const line = p.toLineProtocol(settings);
    if (line !== undefined) out.push(line);
  }
  return out;
}
