/**
 * The whole pipeline as it runs in production: `pdm scorer`, `pdm influx-sink` and `pdm
 * case-opener` as processes on a fresh topic prefix and a throwaway InfluxDB database. Two
 * measurements on it:
 * - the rate: readings produced at full speed until every reading's score is queryable in
 *   InfluxDB: until the sink's group has committed every score record (it commits only what
 *   InfluxDB acknowledged), then checked with a Flux count over the database. The sink writes
 *   to InfluxDB directly: the acknowledgement watch's own CPU would be the pipeline's loss;
 * - the latency at a fixed rate: from a reading's produce to its score on Kafka
 *   (read_committed, as the sink and the case opener read) and to its score acknowledged by
 *   InfluxDB, the sink writing through the acknowledgement watch (influx-watch.ts), which
 *   notes each point's acknowledgement.
 */
import { randomUUID } from 'node:crypto';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Reading } from '../../services/core/index.ts';
import { AvroCodec } from '../../services/kafka/codec.ts';
import type { PipelineEnv } from '../../services/kafka/env.ts';
import { scoresOf } from '../../services/kafka/records.ts';
import type { TopicNames } from '../../services/kafka/topics.ts';
import { PARTITIONS } from './args.ts';
import { benchDatabase, encodeAll, prepareTopics, type BenchDatabase } from './fixtures.ts';
import { startInfluxWatch, type InfluxWatch } from './influx-watch.ts';
import { groupsStable, startService, stopProcess, type ServiceProcess } from '../../infra/test/processes.ts';
import { withTimeout } from './throughput.ts';
import { cpuDelta, cpuSeconds, stackPids } from './cpu.ts';

interface RunningPipeline {
  prefix: string;
  topics: TopicNames;
  db: BenchDatabase;
  /** The acknowledgement watch in front of InfluxDB, when started with one. */
  watch: InfluxWatch | undefined;
  procs: ServiceProcess[];
  stop(): Promise<void>;
}

/**
 * Starts the services on a fresh prefix and database (the scorer alone when `scorerOnly`);
 * resolves when every group consumes.
 */
async function startPipeline(admin: Admin, codec: AvroCodec, env: PipelineEnv, prefix: string, created: string[], groups: string[], scorerOnly = false, watched = true): Promise<RunningPipeline> {
  const topics = await prepareTopics(admin, codec, prefix, created);
  const db = await benchDatabase(env.influx, `pdm_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`);
  const watch = watched ? await startInfluxWatch(env.influx.url) : undefined;
  const childEnv = {
    PDM_KAFKA_BROKERS: env.brokers.join(','),
    PDM_REGISTRY_URL: env.registryUrl,
    PDM_TOPIC_PREFIX: prefix,
    PDM_PARTITIONS: String(PARTITIONS),
    PDM_INFLUX_URL: watch?.url ?? env.influx.url,
    PDM_INFLUX_ORG: env.influx.org,
    PDM_INFLUX_BUCKET: db.influx.bucket,
    PDM_INFLUX_TOKEN: env.influx.token,
  };
  const procs: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map(stopProcess));
    await watch?.close();
    await db.drop().catch(() => undefined);
  };
  try {
    procs.push(await startService('scorer', 'bench', childEnv));
    if (!scorerOnly) {
      procs.push(await startService('influx-sink', 'bench', childEnv));
      procs.push(await startService('case-opener', 'bench', childEnv));
    }
    const ids = (scorerOnly ? ['pdm-scorer'] : ['pdm-scorer', 'pdm-influx-sink', 'pdm-case-opener']).map((g) => `${prefix}${g}`);
    groups.push(...ids);
    await groupsStable(admin, ids, procs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { prefix, topics, db, watch, procs, stop };
}

/** `assetId|ts` → indexes of the readings with that key, in produce order (the fleet delivers some twice). */
function indexByKey(readings: readonly Reading[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  readings.forEach((r, i) => {
    const k = `${r.assetId}|${r.ts}`;
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  return byKey;
}

export interface PipelineRun {
  readings: number;
  /** Readings / seconds from the first produce to the last score acknowledged by InfluxDB. */
  readingsPerSec: number;
  seconds: number;
  produceSec: number;
  /** Scores counted in InfluxDB with a Flux query afterwards (distinct asset and time). */
  queriedScores: number;
  /** CPU µs per reading of each service and server during the run (the benchmark's producer as `producer`). */
  cpuUsPerReading: Record<string, number>;
}

export async function pipelineRate(kafka: Kafka, admin: Admin, codec: AvroCodec, env: PipelineEnv, readings: readonly Reading[], prefix: string, created: string[], groups: string[]): Promise<PipelineRun> {
  const p = await startPipeline(admin, codec, env, prefix, created, groups, false, false);
  try {
    const expected = indexByKey(readings).size;
    const values = encodeAll(codec, p.topics.readings, readings);
    const producer = kafka.producer();
    await producer.connect();
    const servers = stackPids();
    const snapshot = () => ({
      ...Object.fromEntries(p.procs.map((x) => [x.name.split('.')[0]!, cpuSeconds(x.child.pid)])),
      ...Object.fromEntries(Object.entries(servers).map(([k, pid]) => [k, cpuSeconds(pid)])),
      producer: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    });
    const cpu0 = snapshot();
    const t0 = performance.now();
    for (let i = 0; i < values.length; i += 5_000) await producer.send({ topic: p.topics.readings, messages: values.slice(i, i + 5_000) });
    const produceSec = (performance.now() - t0) / 1000;
    await producer.disconnect();
    const doneAt = await withTimeout(Promise.race([allCommitted(admin, p), ...p.procs.map((x) => x.exited)]), 300_000, () => 'the sink did not commit every score record');
    const seconds = (doneAt - t0) / 1000;
    const cpu = cpuDelta(cpu0, snapshot());
    const queriedScores = await countScores(env, p.db.influx.bucket);
    if (queriedScores !== expected) throw new Error(`InfluxDB holds ${queriedScores} scores after the run, ${expected} expected`);
    const cpuUsPerReading = Object.fromEntries(Object.entries(cpu).map(([k, s]) => [k, (s * 1e6) / readings.length]));
    return { readings: readings.length, readingsPerSec: readings.length / seconds, seconds, produceSec, queriedScores, cpuUsPerReading };
  } finally {
    await p.stop();
  }
}

/**
 * Resolves with the time at which the scorer had committed every reading and the sink every
 * record of the scores and predictions topics: a read_committed group's committed offset stays
 * one transaction marker short of a partition's end, so "every record" is "at most one short",
 * the scorer's being done first. Polled every 50 ms.
 */
async function allCommitted(admin: Admin, p: RunningPipeline): Promise<number> {
  const behind = async (groupId: string, topics: string[], slack: number) => {
    for (const topic of topics) {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const done = new Map((committed[0]?.partitions ?? []).map((x) => [x.partition, Number(x.offset)]));
      for (const e of ends) {
        const high = Number(e.high);
        if (high > 0 && (done.get(e.partition) ?? -1) < high - slack) return true;
      }
    }
    return false;
  };
  for (;;) {
    const at = performance.now();
    if (!(await behind(`${p.prefix}pdm-scorer`, [p.topics.readings], 0)) && !(await behind(`${p.prefix}pdm-influx-sink`, [p.topics.scores, p.topics.predictions], 1))) return at;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Distinct (asset, time) anomaly scores in a database, by Flux. */
async function countScores(env: PipelineEnv, bucket: string): Promise<number> {
  const flux = `from(bucket: "${bucket}") |> range(start: 0) |> filter(fn: (r) => r._measurement == "anomaly_score" and r._field == "findings") |> group() |> count()`;
  const rows = await new InfluxDB({ url: env.influx.url, token: env.influx.token, timeout: 60_000 }).getQueryApi(env.influx.org).collectRows<{ _value: number }>(flux);
  return rows.reduce((s, r) => s + Number(r._value), 0);
}

export interface LatencyRun {
  /** Produce → score on Kafka (read_committed). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Produce → score acknowledged by InfluxDB. */
  p50VisibleMs: number;
  p99VisibleMs: number;
  maxVisibleMs: number;
  measured: number;
  achievedRate: number;
  missing: number;
  missingVisible: number;
  concurrentTxnRetries: number;
}

/** Nearest-rank percentile of a sorted list. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export async function latencyRun(
  kafka: Kafka,
  admin: Admin,
  codec: AvroCodec,
  env: PipelineEnv,
  readings: readonly Reading[],
  opts: { rate: number; warmupSec: number; prefix: string; scorerOnly?: boolean },
  created: string[],
  groups: string[],
): Promise<LatencyRun> {
  const p = await startPipeline(admin, codec, env, opts.prefix, created, groups, opts.scorerOnly);
  try {
    const total = readings.length;
    const warmCount = Math.floor(opts.rate * opts.warmupSec);
    const values = encodeAll(codec, p.topics.readings, readings);
    const byKey = indexByKey(readings);
    const visibleKeys = new Map([...byKey].map(([k, v]) => [k, [...v]]));
    const producedAt = new Float64Array(total).fill(NaN);
    const seenAt = new Float64Array(total).fill(NaN);
    const visibleAt = new Float64Array(total).fill(NaN);
    let seen = 0;
    let visible = 0;
    let done!: () => void;
    const complete = new Promise<void>((r) => (done = r));
    const check = () => {
      if (seen >= total && (opts.scorerOnly || visible >= total)) done();
    };
    p.watch!.onAck = (key, at) => {
      for (const i of visibleKeys.get(key) ?? []) {
        visibleAt[i] = at;
        visible++;
      }
      visibleKeys.delete(key);
      check();
    };
    const observerCodec = new AvroCodec(env.registryUrl);
    const observerGroup = `bench-observer-${randomUUID()}`;
    groups.push(observerGroup);
    const observer: Consumer = kafka.consumer({ groupId: observerGroup, readUncommitted: false, maxWaitTimeInMs: 50 });
    let joined!: () => void;
    const isJoined = new Promise<void>((r) => (joined = r));
    observer.on(observer.events.GROUP_JOIN, () => joined());
    await observer.connect();
    await observer.subscribe({ topics: [p.topics.scores], fromBeginning: true });
    await observer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const at = performance.now(); // the batch became visible now; decoding is the observer's own cost
        for (const m of batch.messages) {
          const d = await observerCodec.decodeNamed(m.value);
          for (const s of scoresOf(d.schema, d.value)) {
            const idx = byKey.get(`${s.assetId}|${s.ts}`)?.shift();
            if (idx === undefined) continue;
            seenAt[idx] = at;
            seen++;
          }
        }
        check();
      },
    });
    await withTimeout(isJoined, 60_000, () => 'observer consumer did not join its group');

    const producer = kafka.producer();
    await producer.connect();
    const t0 = performance.now();
    let sent = 0;
    while (sent < total) {
      // Send what is due by now: the rate holds on average even when one send is slow.
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * opts.rate));
      if (due > sent) {
        const at = performance.now();
        for (let i = sent; i < due; i++) producedAt[i] = at;
        await producer.send({ topic: p.topics.readings, messages: values.slice(sent, due) });
        sent = due;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const produceSec = (performance.now() - t0) / 1000;
    await producer.disconnect();
    await Promise.race([complete, new Promise((r) => setTimeout(r, 30_000))]);
    await observer.disconnect();

    const lat: number[] = [];
    const vis: number[] = [];
    let missing = 0;
    let missingVisible = 0;
    for (let i = warmCount; i < total; i++) {
      if (Number.isNaN(seenAt[i]!)) missing++;
      else lat.push(seenAt[i]! - producedAt[i]!);
      if (Number.isNaN(visibleAt[i]!)) missingVisible++;
      else vis.push(visibleAt[i]! - producedAt[i]!);
    }
    lat.sort((a, b) => a - b);
    vis.sort((a, b) => a - b);
    return {
      p50Ms: percentile(lat, 0.5),
      p99Ms: percentile(lat, 0.99),
      maxMs: lat.at(-1) ?? NaN,
      p50VisibleMs: percentile(vis, 0.5),
      p99VisibleMs: percentile(vis, 0.99),
      maxVisibleMs: vis.at(-1) ?? NaN,
      measured: lat.length,
      achievedRate: total / produceSec,
      missing,
      missingVisible: opts.scorerOnly ? 0 : missingVisible,
      concurrentTxnRetries: p.procs.reduce((s, x) => s + x.concurrentTxnRetries, 0),
    };
  } finally {
    await p.stop();
  }
}
