/**
 * Integration tests of the influx-sink against the real local stack (Kafka, the schema
 * registry, InfluxDB 1.8): Avro records produced to per-test topics (score blocks as the
 * scorer writes them, older score records, predictions) end up as exactly the
 * expected InfluxDB points (checked with Flux), bad records reach the dead-letter topics with
 * their reason headers, offsets are committed only after InfluxDB accepted the points, and
 * an InfluxDB that answers 503 (a small proxy in front of the real one) pauses the sink
 * without losing or skipping anything.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName, type StackInfo } from '../../infra/test/stack-env.ts';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { DLQ_HEADERS, headerString } from '../kafka/dlq.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../kafka/topics.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { createLogger } from '../runtime/log.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { ScoreBlockRecord } from '../kafka/records.ts';
import type { PredictionRecord, ScoreRecord } from './points.ts';
import { startInfluxSink, type InfluxSink, type InfluxSinkOptions } from './sink.ts';

let stack: StackInfo;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
/** Points are written an hour in the past at whole seconds, so ranges are easy to bound. */
const BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const log = createLogger('influx-sink.test', 'warn');

beforeAll(async () => {
  stack = stackInfo();
  kafka = createKafka({ brokers: stack.kafka.brokers, clientId: 'influx-sink-it' });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
});

interface Setup {
  names: TopicNames;
  codec: AvroCodec;
  groupId: string;
  /** encode() key of the score block record type (what the scorer writes to the scores topic). */
  blockKey: string;
}

async function setup(): Promise<Setup> {
  const names = topicNames(`${uniqueName('t')}.`);
  await ensureTopics(admin, names, { partitions: 2 });
  const codec = new AvroCodec(stack.registry.url);
  await codec.registerValueSchema(names.readings, loadSchemaText('reading'));
  await codec.registerValueSchema(names.scores, loadSchemaText('score'));
  await codec.registerValueSchema(names.predictions, loadSchemaText('prediction'));
  const blockKey = recordWriterKey(names.scores, await codec.registerRecordSchema(names.scores, loadSchemaText('scoreBlock')));
  return { names, codec, groupId: uniqueName('g-influx-sink'), blockKey };
}

function sinkOptions(s: Setup, over: Partial<InfluxSinkOptions> = {}): InfluxSinkOptions {
  return {
    brokers: stack.kafka.brokers,
    registryUrl: stack.registry.url,
    topics: s.names,
    influx: { url: stack.influx.url, org: stack.influx.org, bucket: stack.influx.bucket, token: stack.influx.token },
    groupId: s.groupId,
    flushIntervalMs: 100,
    minDelayMs: 50,
    maxDelayMs: 500,
    metrics: new MetricsRegistry(),
    logger: log,
    ...over,
  };
}

async function send(topic: string, messages: { key: string; value: Buffer }[]): Promise<void> {
  await producer.send({ topic, messages, acks: -1 });
}

/** A score block of one reading at BASE + i s with these raw values and no scores (what the scorer writes). */
const reading = (assetId: string, i: number, values: Record<string, number>): ScoreBlockRecord => ({
  assetId,
  assetType: 'passenger_ev',
  configVersion: 'v1',
  columns: Object.keys(values),
  readings: [
    {
      ts: BASE + i * 1_000,
      score: Number.NaN,
      health: Number.NaN,
      values: Object.values(values),
      scores: Object.keys(values).map(() => Number.NaN),
      learning: [],
      findings: [],
    },
  ],
  maintenance: [],
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Committed offset per `topic[partition]` for the group ('-1' when none). */
async function committed(groupId: string, topics: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of t.partitions) out[`${t.topic}[${p.partition}]`] = p.offset;
  }
  return out;
}

/** High watermark per `topic[partition]`. */
async function highWatermarks(topics: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) out[`${topic}[${p.partition}]`] = p.high;
  }
  return out;
}

/** Resolves when the group has committed everything produced to the topics (and returns the offsets). */
function waitForCommitted(groupId: string, topics: string[]): Promise<Record<string, string>> {
  return waitFor(`group ${groupId} to commit every offset of ${topics.join(', ')}`, async () => {
    const [c, h] = await Promise.all([committed(groupId, topics), highWatermarks(topics)]);
    // An empty partition has nothing to commit: high watermark 0, committed -1.
    const done = Object.entries(h).every(([tp, high]) => c[tp] === high || (high === '0' && c[tp] === '-1'));
    return done ? c : undefined;
  });
}

/**
 * Every stored value of one asset as `measurement tag=v,... field=value @+ms`, sorted. Tag
 * columns are every column not starting with '_' (besides Flux's result and table).
 */
async function storedCells(assetId: string, measurement?: string): Promise<string[]> {
  const flux =
    `from(bucket: "${stack.influx.bucket}")` +
    ` |> range(start: ${new Date(BASE - 3_600_000).toISOString()}, stop: ${new Date(BASE + 3_600_000).toISOString()})` +
    ` |> filter(fn: (r) => r.asset_id == "${assetId}"${measurement ? ` and r._measurement == "${measurement}"` : ''})`;
  const rows = await new InfluxDB({ url: stack.influx.url, token: stack.influx.token, timeout: 10_000 })
    .getQueryApi(stack.influx.org)
    .collectRows<Record<string, unknown>>(flux);
  return rows
    .map((r) => {
      const tags = Object.keys(r)
        .filter((k) => !k.startsWith('_') && k !== 'result' && k !== 'table' && r[k] !== null && r[k] !== '')
        .sort()
        .map((k) => `${k}=${String(r[k])}`)
        .join(',');
      return `${String(r._measurement)} ${tags} ${String(r._field)}=${JSON.stringify(r._value)} @+${Date.parse(String(r._time)) - BASE}`;
    })
    .sort();
}

interface DeadLetter {
  key: string | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
}

async function readDlq(topic: string, count: number): Promise<DeadLetter[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('g-dlq-reader') });
  const got: DeadLetter[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key?.toString('utf8') ?? null, value: message.value, headers: message.headers });
      },
    });
    await waitFor(`${count} dead letters on ${topic}`, async () => (got.length >= count ? true : undefined));
    // Give a surplus dead letter a moment to show up, so "exactly count" means something.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const h = (d: DeadLetter, name: string) => headerString(d.headers, name);

describe('influx-sink on the local stack', () => {
  it('writes exactly the expected points, dead-letters bad records and commits every offset', async () => {
    const s = await setup();
    const asset = uniqueName('it-ev');
    const { scores, predictions } = s.names;

    const malformed = Buffer.from('definitely not avro');
    // Magic byte 0, then a schema id no registry has handed out.
    const unknownSchema = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 4, 6]);
    // What the scorer writes: one block of the asset's readings (raw values as received,
    // scores per column, findings) and the repair it applied.
    const block: ScoreBlockRecord = {
      assetId: asset,
      assetType: 'passenger_ev',
      configVersion: 'v1',
      columns: ['battery_temp_c', 'speed_kmh'],
      readings: [
        { ts: BASE, score: 0.25, health: 1, values: [30.5, 80], scores: [0.25, 0], learning: [1], findings: [] },
        {
          ts: BASE + 1_000,
          score: 0.5,
          health: 0.875,
          values: [Number.NaN, 81.25],
          scores: [Number.NaN, 0.75],
          learning: [],
          findings: [{ kind: 'nan', sensor: 'battery_temp_c', detail: 'value is NaN' }],
        },
        {
          ts: BASE + 2_000,
          score: 0,
          health: 0.875,
          values: [Infinity, Number.NaN],
          scores: [Number.NaN, Number.NaN],
          learning: [],
          findings: [{ kind: 'infinite', sensor: 'battery_temp_c', detail: 'value Infinity is not finite' }],
        },
      ],
      maintenance: [{ ts: BASE + 2_500, failureMode: 'battery_thermal_runaway', sensors: null, source: 'field-service' }],
    };
    await send(scores, [{ key: asset, value: s.codec.encode(s.blockKey, block) }]);
    const [at1] = await producer.send({ topic: scores, messages: [{ key: 'bad-1', value: malformed }], acks: -1 });
    const score: ScoreRecord = {
      assetId: asset,
      assetType: 'passenger_ev',
      ts: BASE + 4_000,
      score: 0.5,
      health: 0.875,
      sensors: [
        { sensor: 'battery_temp_c', value: Number.NaN, score: 0, learning: false },
        { sensor: 'speed_kmh', value: 81.25, score: 0.75, learning: false },
      ],
      findings: [{ kind: 'nan', sensor: 'battery_temp_c', detail: 'value is NaN' }],
      configVersion: 'v1',
    };
    // Older scorers wrote single score records and score batches: both still become points.
    const batchKey = recordWriterKey(scores, await s.codec.registerRecordSchema(scores, loadSchemaText('scoreBatch')));
    await send(scores, [
      { key: asset, value: s.codec.encode(scores, { ...score, ts: BASE + 3_000, score: 0.125, health: 1, findings: [] }) },
      { key: asset, value: s.codec.encode(batchKey, { assetId: asset, scores: [score] }) },
    ]);
    const [at2] = await producer.send({ topic: scores, messages: [{ key: 'bad-2', value: unknownSchema }], acks: -1 });
    const prediction: PredictionRecord & { evidence: unknown[] } = {
      kind: 'raised',
      episodeId: `${asset}-battery-1`,
      assetId: asset,
      assetType: 'passenger_ev',
      failureMode: 'battery_thermal_runaway',
      episodeStartTs: BASE + 1_000,
      ts: BASE + 2_000,
      severity: 'high',
      probability: 0.75,
      horizonHours: 24,
      predictedFailureTs: BASE + 2_000 + 9_000_000,
      predictedFailureLowTs: null,
      predictedFailureHighTs: null,
      evidence: [],
      configVersion: 'v1',
    };
    await send(predictions, [{ key: asset, value: s.codec.encode(predictions, prediction) }]);

    const opts = sinkOptions(s);
    const sink = await startInfluxSink(opts);
    try {
      await waitForCommitted(s.groupId, [scores, predictions]);
    } finally {
      await sink.stop();
    }
    await expect(sink.done).resolves.toBeUndefined();
    expect(sink.unwrittenPoints).toBe(0);

    const tags = `asset_id=${asset},asset_type=passenger_ev`;
    expect(await storedCells(asset)).toEqual(
      [
        `anomaly_score ${tags} findings=0 @+0`,
        `anomaly_score ${tags} health=1 @+0`,
        `anomaly_score ${tags} score=0.25 @+0`,
        `anomaly_score ${tags} score_battery_temp_c=0.25 @+0`,
        `anomaly_score ${tags} score_speed_kmh=0 @+0`,
        `anomaly_score ${tags} findings=1 @+1000`,
        `anomaly_score ${tags} health=0.875 @+1000`,
        `anomaly_score ${tags} score=0.5 @+1000`,
        `anomaly_score ${tags} score_speed_kmh=0.75 @+1000`,
        `anomaly_score ${tags} findings=1 @+2000`,
        `anomaly_score ${tags} health=0.875 @+2000`,
        `anomaly_score ${tags} score=0 @+2000`,
        `anomaly_score ${tags} findings=0 @+3000`,
        `anomaly_score ${tags} health=1 @+3000`,
        `anomaly_score ${tags} score=0.125 @+3000`,
        `anomaly_score ${tags} score_battery_temp_c=0 @+3000`,
        `anomaly_score ${tags} score_speed_kmh=0.75 @+3000`,
        `anomaly_score ${tags} findings=1 @+4000`,
        `anomaly_score ${tags} health=0.875 @+4000`,
        `anomaly_score ${tags} score=0.5 @+4000`,
        `anomaly_score ${tags} score_battery_temp_c=0 @+4000`,
        `anomaly_score ${tags} score_speed_kmh=0.75 @+4000`,
        `data_quality ${tags},kind=nan,sensor=battery_temp_c count=1 @+1000`,
        `data_quality ${tags},kind=infinite,sensor=battery_temp_c count=1 @+2000`,
        `data_quality ${tags},kind=nan,sensor=battery_temp_c count=1 @+4000`,
        `maintenance asset_id=${asset},failure_mode=battery_thermal_runaway sensors="" @+2500`,
        `maintenance asset_id=${asset},failure_mode=battery_thermal_runaway source="field-service" @+2500`,
        `prediction ${tags},failure_mode=battery_thermal_runaway,kind=raised,severity=high episode_id="${asset}-battery-1" @+2000`,
        `prediction ${tags},failure_mode=battery_thermal_runaway,kind=raised,severity=high episode_start_ts=${BASE + 1_000} @+2000`,
        `prediction ${tags},failure_mode=battery_thermal_runaway,kind=raised,severity=high horizon_hours=24 @+2000`,
        `prediction ${tags},failure_mode=battery_thermal_runaway,kind=raised,severity=high hours_to_failure=2.5 @+2000`,
        `prediction ${tags},failure_mode=battery_thermal_runaway,kind=raised,severity=high predicted_failure_ts=${BASE + 9_002_000} @+2000`,
        `prediction ${tags},failure_mode=battery_thermal_runaway,kind=raised,severity=high probability=0.75 @+2000`,
        // The raw values as the device sent them; the third reading had no finite value: no point at +2000.
        `reading ${tags} battery_temp_c=30.5 @+0`,
        `reading ${tags} speed_kmh=80 @+0`,
        `reading ${tags} speed_kmh=81.25 @+1000`,
      ].sort(),
    );

    const dead = await readDlq(dlqTopic(scores), 2);
    expect(dead).toHaveLength(2);
    const byKey = new Map(dead.map((d) => [d.key, d]));
    const m1 = byKey.get('bad-1')!;
    expect(m1.value).toEqual(malformed);
    expect(h(m1, DLQ_HEADERS.reason)).toBe('malformed_avro');
    expect(h(m1, DLQ_HEADERS.error)).toBe('value starts with byte 100, not the Confluent magic byte 0');
    expect(h(m1, DLQ_HEADERS.sourceTopic)).toBe(scores);
    expect(h(m1, DLQ_HEADERS.service)).toBe('influx-sink');
    const m2 = byKey.get('bad-2')!;
    expect(m2.value).toEqual(unknownSchema);
    expect(h(m2, DLQ_HEADERS.reason)).toBe('unknown_schema');
    expect(h(m2, DLQ_HEADERS.error)).toBe(`schema id ${0x7ffffff0} is unknown to the registry`);
    // The headers point at exactly where each bad record was produced.
    expect([h(m1, DLQ_HEADERS.sourcePartition), h(m1, DLQ_HEADERS.sourceOffset)]).toEqual([String(at1!.partition), at1!.baseOffset]);
    expect([h(m2, DLQ_HEADERS.sourcePartition), h(m2, DLQ_HEADERS.sourceOffset)]).toEqual([String(at2!.partition), at2!.baseOffset]);

    const metrics = opts.metrics!;
    expect(metrics.counter('pdm_dead_letters_total', '').get({ service: 'influx-sink', reason: 'malformed_avro' })).toBe(1);
    expect(metrics.counter('pdm_dead_letters_total', '').get({ service: 'influx-sink', reason: 'unknown_schema' })).toBe(1);
    const written = metrics.counter('pdm_influx_points_written_total', '');
    expect(written.get({ service: 'influx-sink', measurement: 'reading' })).toBe(2);
    expect(written.get({ service: 'influx-sink', measurement: 'anomaly_score' })).toBe(5);
    expect(written.get({ service: 'influx-sink', measurement: 'data_quality' })).toBe(3);
    expect(written.get({ service: 'influx-sink', measurement: 'maintenance' })).toBe(1);
    expect(written.get({ service: 'influx-sink', measurement: 'prediction' })).toBe(1);
    expect(metrics.counter('pdm_records_consumed_total', '').get()).toBe(6);
    expect(metrics.counter('pdm_influx_write_retries_total', '').get()).toBe(0);
  });

  it('dead-letters only the record whose points InfluxDB refuses (field type conflict) and writes the rest', async () => {
    const s = await setup();
    const asset = uniqueName('it-ev');
    // Make a field of `reading` a string in this shard: a float for it is then a type conflict.
    const field = `it_conflict_${uniqueName('f').replaceAll('-', '_')}`;
    const pre = await fetch(`${stack.influx.url}/api/v2/write?org=${stack.influx.org}&bucket=${encodeURIComponent(stack.influx.bucket)}&precision=ms`, {
      method: 'POST',
      headers: { authorization: `Token ${stack.influx.token}` },
      body: `reading,asset_id=${asset}-pre,asset_type=x ${field}="text" ${BASE}`,
    });
    expect(pre.status).toBe(204);

    const { scores } = s.names;
    // One partition for all three (same key), in order.
    await send(scores, [
      { key: asset, value: s.codec.encode(s.blockKey, reading(asset, 0, { temp_c: 20 })) },
      { key: asset, value: s.codec.encode(s.blockKey, reading(asset, 1, { temp_c: 21, [field]: 1.5 })) },
      { key: asset, value: s.codec.encode(s.blockKey, reading(asset, 2, { temp_c: 22 })) },
    ]);
    const opts = sinkOptions(s);
    const sink = await startInfluxSink(opts);
    try {
      await waitForCommitted(s.groupId, [scores]);
    } finally {
      await sink.stop();
    }
    await expect(sink.done).resolves.toBeUndefined();

    const tags = `asset_id=${asset},asset_type=passenger_ev`;
    expect(await storedCells(asset)).toEqual([
      `anomaly_score ${tags} findings=0 @+0`,
      // The refused record's other point: InfluxDB 1.8 stores the good lines of a refused
      // write ("partial write"); the record itself is in the dead-letter topic.
      `anomaly_score ${tags} findings=0 @+1000`,
      `anomaly_score ${tags} findings=0 @+2000`,
      `reading ${tags} temp_c=20 @+0`,
      `reading ${tags} temp_c=22 @+2000`,
    ]);
    const [dead, ...more] = await readDlq(dlqTopic(scores), 1);
    expect(more).toEqual([]);
    expect(h(dead!, DLQ_HEADERS.reason)).toBe('invalid_value');
    expect(h(dead!, DLQ_HEADERS.sourceOffset)).toBe('1');
    expect(h(dead!, DLQ_HEADERS.error)).toMatch(
      new RegExp(`^InfluxDB refused the 2 points of this record: InfluxDB at ${stack.influx.url.replaceAll('.', '\\.')} answered HTTP 400 to a write of 2 points to bucket pdm/autogen: .*field type conflict`),
    );
    expect(opts.metrics!.counter('pdm_dead_letters_total', '').get({ service: 'influx-sink', reason: 'invalid_value' })).toBe(1);
  });

  it('holds offsets, pauses and retries while InfluxDB answers 503, then writes everything', async () => {
    const s = await setup();
    const asset = uniqueName('it-ev');
    const proxy = await startFlakyProxy(stack.influx.url);
    const { scores } = s.names;
    try {
      await send(
        scores,
        Array.from({ length: 20 }, (_, i) => ({ key: asset, value: s.codec.encode(s.blockKey, reading(asset, i, { temp_c: i + 0.5 })) })),
      );
      // maxDelayMs above the 1 s Retry-After, which the backoff would otherwise cap.
      const opts = sinkOptions(s, { influx: { ...sinkOptions(s).influx, url: proxy.url }, maxDelayMs: 1_500 });
      const sink = await startInfluxSink(opts);
      try {
        await waitFor('three refused writes', async () => (proxy.refused.length >= 3 ? true : undefined));
        // During the outage: nothing committed, consumption paused.
        expect(Object.values(await committed(s.groupId, [scores]))).toEqual(['-1', '-1']);
        expect(opts.metrics!.gauge('pdm_influx_sink_paused', '').get({ service: 'influx-sink' })).toBe(1);
        // Produced while paused: must arrive too once InfluxDB is back.
        await send(
          scores,
          Array.from({ length: 10 }, (_, j) => ({ key: asset, value: s.codec.encode(s.blockKey, reading(asset, 20 + j, { temp_c: 20 + j + 0.5 })) })),
        );
        proxy.heal();
        await waitForCommitted(s.groupId, [scores]);
      } finally {
        await sink.stop();
      }
      await expect(sink.done).resolves.toBeUndefined();

      const tags = `asset_id=${asset},asset_type=passenger_ev`;
      expect(await storedCells(asset, 'reading')).toEqual(Array.from({ length: 30 }, (_, i) => `reading ${tags} temp_c=${i + 0.5} @+${i * 1_000}`).sort());
      // Every refused write was retried: one retry per 503.
      expect(opts.metrics!.counter('pdm_influx_write_retries_total', '').get()).toBe(proxy.refused.length);
      // The first 503 said Retry-After: 1; the next attempt waited for it.
      expect(proxy.refused[1]! - proxy.refused[0]!).toBeGreaterThanOrEqual(1_000);
      expect(opts.metrics!.gauge('pdm_influx_sink_paused', '').get({ service: 'influx-sink' })).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('stop() during an outage gives up after maxRetries, reports the unwritten points and commits nothing', async () => {
    const s = await setup();
    const asset = uniqueName('it-ev');
    const proxy = await startFlakyProxy(stack.influx.url);
    const { scores } = s.names;
    try {
      await send(scores, Array.from({ length: 5 }, (_, i) => ({ key: asset, value: s.codec.encode(s.blockKey, reading(asset, i, { temp_c: i })) })));
      const opts = sinkOptions(s, { influx: { ...sinkOptions(s).influx, url: proxy.url }, maxRetries: 2, maxDelayMs: 100 });
      const sink = await startInfluxSink(opts);
      await waitFor('a refused write', async () => (proxy.refused.length >= 1 ? true : undefined));
      const before = proxy.refused.length;
      await sink.stop();
      await expect(sink.done).resolves.toBeUndefined();
      // Five blocks of one reading each: a reading and an anomaly_score point apiece.
      expect(sink.unwrittenPoints).toBe(10);
      // maxRetries (2) more attempts once stopping, plus the first one if none was in flight
      // when stop() was called (an attempt already sent when it was counts as the first).
      const after = proxy.refused.length - before;
      expect(after).toBeGreaterThanOrEqual(2);
      expect(after).toBeLessThanOrEqual(3);
      expect(Object.values(await committed(s.groupId, [scores]))).toEqual(['-1', '-1']);
      expect(await storedCells(asset)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('refuses to start with a wrong InfluxDB token, naming the setting', async () => {
    const s = await setup();
    const opts = sinkOptions(s, { influx: { ...sinkOptions(s).influx, token: 'pdm:wrong-password' } });
    const err = await startInfluxSink(opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServiceConfigError);
    expect((err as ServiceConfigError).message).toBe(
      `invalid configuration:\n  - influx: InfluxDB at ${stack.influx.url} answered HTTP 401 to a write of 0 points to bucket pdm/autogen: {"error":"authorization failed"} (check influx.token)`,
    );
  });
});

interface FlakyProxy {
  url: string;
  /** Times (ms) at which a non-empty write was answered 503. */
  refused: number[];
  heal(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of InfluxDB that answers 503 to every non-empty write until heal()
 * (the first with Retry-After: 1, the others without), and forwards everything else.
 */
async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  let failing = true;
  const refused: number[] = [];
  const body = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const payload = await body(req);
      if (failing && req.url?.startsWith('/api/v2/write') && payload.length > 0) {
        refused.push(Date.now());
        res.writeHead(503, refused.length === 1 ? { 'retry-after': '1' } : {}).end('{"error":"injected outage"}');
        return;
      }
      const upstream = await fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length')) as Record<string, string>,
        ...(payload.length > 0 ? { body: payload } : {}),
      });
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers.entries())).end(Buffer.from(await upstream.arrayBuffer()));
    })().catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused,
    heal: () => {
      failing = false;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
