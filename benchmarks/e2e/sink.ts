/**
 * The InfluxDB sink against the official client, on the same points, into the same InfluxDB,
 * each into a throwaway database of its own:
 * - the sink (startInfluxSink in process, a fresh group) consumes the scores and predictions a
 *   scorer run left on Kafka and writes them; timed from its first acknowledged write to its
 *   last, polling its points counter;
 * - the bare client: the same records, already decoded in memory, turned into points with the
 *   client's Point API and written with its WriteApi in batches of the sink's batch size, one
 *   flush at a time. It pays no Kafka and no Avro: what a sink that did nothing but write
 *   would cost.
 * Both write identical line protocol (checked on every point before timing).
 */
import { randomUUID } from 'node:crypto';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import type { Kafka } from 'kafkajs';
import { DEFAULT_INFLUX_SINK, startInfluxSink } from '../../services/influx-sink/sink.ts';
import { ALL_FAILURE_MODES, MEASUREMENTS, READING_LEVEL_SENSOR, recordLines, type PredictionRecord, type RecordKind } from '../../services/influx-sink/points.ts';
import { AvroCodec } from '../../services/kafka/codec.ts';
import type { InfluxConnection, PipelineEnv } from '../../services/kafka/env.ts';
import { SCORE_BATCH_SCHEMA, SCORE_BLOCK_SCHEMA, type ScoreBlockRecord } from '../../services/kafka/records.ts';
import type { TopicNames } from '../../services/kafka/topics.ts';
import { createLogger } from '../../services/runtime/log.ts';
import { MetricsRegistry } from '../../services/runtime/metrics.ts';
import { readTopic } from '../../services/kafka/testkit.ts';
import { rateFrom, type RateResult } from './throughput.ts';

export interface SinkRun extends RateResult {
  points: number;
  pointsPerSec: number;
  records: number;
  cpuUsPerPoint: number;
}

export interface BareRun {
  points: number;
  pointsPerSec: number;
  seconds: number;
  cpuUsPerPoint: number;
}

/** The decoded records of the scores and predictions topics, with the kind the sink maps each with. */
export interface DecodedOutputs {
  records: { kind: RecordKind; value: unknown }[];
  /** Points the sink writes for them (recordLines). */
  points: number;
}

export async function readOutputs(kafka: Kafka, registryUrl: string, topics: TopicNames, expectScores: number): Promise<DecodedOutputs> {
  const codec = new AvroCodec(registryUrl);
  const records: DecodedOutputs['records'] = [];
  let points = 0;
  let scored = 0;
  const scoreRecords = await readTopic(kafka, topics.scores, { idleMs: 3_000, timeoutMs: 120_000 });
  for (const r of scoreRecords) {
    const d = await codec.decodeNamed(r.value);
    const kind: RecordKind = d.schema === SCORE_BLOCK_SCHEMA ? 'scoreBlock' : d.schema === SCORE_BATCH_SCHEMA ? 'scoreBatch' : 'score';
    if (kind === 'scoreBlock') scored += (d.value as ScoreBlockRecord).readings.length;
    records.push({ kind, value: d.value });
    points += recordLines(kind, d.value).length;
  }
  if (scored < expectScores) throw new Error(`scores topic holds ${scored} scored readings, ${expectScores} expected`);
  for (const r of await readTopic(kafka, topics.predictions, { idleMs: 2_000, timeoutMs: 60_000 })) {
    const value = await codec.decode(r.value);
    records.push({ kind: 'prediction', value });
    points += recordLines('prediction', value).length;
  }
  return { records, points };
}

export async function sinkThroughput(env: PipelineEnv, influx: InfluxConnection, topics: TopicNames, expectedPoints: number, records: number, groups: string[]): Promise<SinkRun> {
  const groupId = `${topics.scores}-bench-sink-${randomUUID()}`;
  groups.push(groupId);
  const metrics = new MetricsRegistry();
  const written = metrics.counter('pdm_influx_points_written_total', '');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sink = await startInfluxSink({ brokers: env.brokers, registryUrl: env.registryUrl, topics, influx, groupId, metrics, logger: createLogger('bench.sink', 'warn') });
  const samples: { t: number; n: number }[] = [];
  let last = 0;
  let lastProgress = Date.now();
  let crashed: unknown;
  sink.done.catch((err: unknown) => (crashed = err));
  while (last < expectedPoints) {
    if (crashed) throw new Error('sink stopped during the run', { cause: crashed });
    if (Date.now() - lastProgress > 60_000) throw new Error(`sink stalled at ${last} of ${expectedPoints} points`);
    const n = written.get();
    if (n !== last) {
      samples.push({ t: performance.now(), n });
      last = n;
      lastProgress = Date.now();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const cpu = process.cpuUsage(cpu0);
  await sink.stop();
  const rate = rateFrom(samples, t0, expectedPoints);
  return { ...rate, points: last, pointsPerSec: rate.steadyPerSec, records, cpuUsPerPoint: (cpu.user + cpu.system) / last };
}

/** The official client's points for one decoded record: the same measurements, tags and fields as points.ts. */
function clientPoints(kind: RecordKind, value: unknown, out: Point[]): void {
  if (kind === 'prediction') {
    const e = value as PredictionRecord;
    const p = new Point(MEASUREMENTS.prediction)
      .tag('asset_id', e.assetId)
      .tag('asset_type', e.assetType)
      .tag('failure_mode', e.failureMode)
      .tag('kind', e.kind)
      .tag('severity', e.severity)
      .stringField('episode_id', e.episodeId)
      .intField('episode_start_ts', e.episodeStartTs)
      .timestamp(e.ts);
    if (Number.isFinite(e.probability)) p.floatField('probability', e.probability);
    if (Number.isFinite(e.horizonHours)) p.floatField('horizon_hours', e.horizonHours);
    if (e.predictedFailureTs !== null) p.intField('predicted_failure_ts', e.predictedFailureTs).floatField('hours_to_failure', (e.predictedFailureTs - e.ts) / 3_600_000);
    if (e.predictedFailureLowTs !== null) p.intField('predicted_failure_low_ts', e.predictedFailureLowTs);
    if (e.predictedFailureHighTs !== null) p.intField('predicted_failure_high_ts', e.predictedFailureHighTs);
    out.push(p);
    return;
  }
  if (kind !== 'scoreBlock') throw new Error(`bare client: only score blocks and predictions are mapped, got ${kind}`);
  const b = value as ScoreBlockRecord;
  for (const r of b.readings) {
    const reading = new Point(MEASUREMENTS.reading).tag('asset_id', b.assetId).tag('asset_type', b.assetType).timestamp(r.ts);
    const scored = new Point(MEASUREMENTS.score).tag('asset_id', b.assetId).tag('asset_type', b.assetType).intField('findings', r.findings.length).timestamp(r.ts);
    if (Number.isFinite(r.score)) scored.floatField('score', r.score);
    if (Number.isFinite(r.health)) scored.floatField('health', r.health);
    let values = 0;
    b.columns.forEach((c, i) => {
      if (Number.isFinite(r.values[i]!)) {
        reading.floatField(c, r.values[i]!);
        values++;
      }
      if (Number.isFinite(r.scores[i]!)) scored.floatField(`score_${c}`, r.scores[i]!);
    });
    if (values > 0) out.push(reading);
    out.push(scored);
    const counts = new Map<string, { sensor: string; kind: string; count: number }>();
    for (const f of r.findings) {
      const sensor = f.sensor ?? READING_LEVEL_SENSOR;
      const key = `${sensor}\u0000${f.kind}`;
      const c = counts.get(key);
      if (c) c.count++;
      else counts.set(key, { sensor, kind: f.kind, count: 1 });
    }
    for (const c of counts.values()) {
      out.push(new Point(MEASUREMENTS.dataQuality).tag('asset_id', b.assetId).tag('asset_type', b.assetType).tag('sensor', c.sensor).tag('kind', c.kind).intField('count', c.count).timestamp(r.ts));
    }
  }
  for (const m of b.maintenance) {
    out.push(
      new Point(MEASUREMENTS.maintenance)
        .tag('asset_id', b.assetId)
        .tag('failure_mode', m.failureMode ?? ALL_FAILURE_MODES)
        .stringField('source', m.source)
        .stringField('sensors', (m.sensors ?? []).join(','))
        .timestamp(m.ts),
    );
  }
}

/** Checks that the client's points are the sink's lines, byte for byte, so both write the same thing. */
export function checkSamePoints(outputs: DecodedOutputs): void {
  const settings = { convertTime: (v: string | number | Date | undefined) => (v === undefined ? undefined : String(v)) };
  for (const { kind, value } of outputs.records) {
    const pts: Point[] = [];
    clientPoints(kind, value, pts);
    const mine = recordLines(kind, value);
    const theirs = pts.map((p) => p.toLineProtocol(settings));
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
      throw new Error(`bare client and sink disagree on a ${kind} record:\n  sink:   ${mine.slice(0, 3).join('\n          ')}\n  client: ${theirs.slice(0, 3).join('\n          ')}`);
    }
  }
}

export async function bareClientThroughput(influx: InfluxConnection, outputs: DecodedOutputs): Promise<BareRun> {
  const batchSize = DEFAULT_INFLUX_SINK.batchSize;
  const api = new InfluxDB({ url: influx.url, token: influx.token, timeout: 30_000 }).getWriteApi(influx.org, influx.bucket, 'ms', {
    batchSize,
    flushInterval: 0,
    maxBufferLines: 10 * batchSize,
    maxRetries: 0,
  });
  let points = 0;
  let pending: Point[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const { kind, value } of outputs.records) {
    clientPoints(kind, value, pending);
    if (pending.length >= batchSize) {
      api.writePoints(pending);
      points += pending.length;
      pending = [];
      await api.flush();
    }
  }
  api.writePoints(pending);
  points += pending.length;
  await api.flush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await api.close();
  return { points, pointsPerSec: points / seconds, seconds, cpuUsPerPoint: (cpu.user + cpu.system) / points };
}
