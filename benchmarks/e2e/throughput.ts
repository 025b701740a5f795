/**
 * Throughput of consumers of one readings topic, each in a fresh group, steady-state (from
 * the end of its first committed batch to its last reading, so group join and the first
 * fetch count for none):
 * - the bare consumer: kafkajs, decode each value, nothing else (a reference);
 * - the exactly-once passthrough: consume and decode, then encode and produce, per asset and
 *   chunk, a score block of the same columns and sizes as the scorer's (scores all zero), in
 *   transactions with the consumed offsets through the scorer's own per-partition
 *   transactional producers and consumer settings; no scoring, no state. The cost any exactly-once processor on kafkajs
 *   pays here: the scorer's baseline;
 * - the scorer (startScorer in process): decode, score, encode, state changelog, offsets.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { DEFAULT_CONFIG, type Reading } from '../../services/core/index.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../../services/kafka/codec.ts';
import type { PipelineEnv } from '../../services/kafka/env.ts';
import type { ScoreBlockRecord } from '../../services/kafka/records.ts';
import { dlqTopic, ensureTopics, type TopicNames } from '../../services/kafka/topics.ts';
import { createLogger } from '../../services/runtime/log.ts';
import { MetricsRegistry } from '../../services/runtime/metrics.ts';
import type { RunningService } from '../../services/runtime/service.ts';
import { PartitionTransactions } from '../../services/scorer/partition-transactions.ts';
import { DEFAULT_SCORER, type ScorerOptions } from '../../services/scorer/options.ts';
import { SCORER_FETCH, startScorer } from '../../services/scorer/scorer.ts';
import { PARTITIONS } from './args.ts';
import { allTopics } from './fixtures.ts';

export interface RateResult {
  /** Steady rate: readings after the first batch / time from the first batch's end to the last, readings/s. */
  steadyPerSec: number;
  /** Total / time from start (before group join) to the last reading, readings/s. */
  wallPerSec: number;
  seconds: number;
}

/**
 * Rates from (time, readings done) samples. `warm`: readings before the measured part (a
 * warm-up that brings every asset past its learning period); the steady rate counts from the
 * first sample at or beyond it.
 */
export function rateFrom(samples: { t: number; n: number }[], t0: number, total: number, warm = 0): RateResult {
  const first = samples.find((s) => s.n >= warm) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const steady = last.t > first.t ? (last.n - first.n) / ((last.t - first.t) / 1000) : NaN;
  return { steadyPerSec: steady, wallPerSec: total / ((last.t - t0) / 1000), seconds: (last.t - t0) / 1000 };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`e2e.bench: ${what()} (timeout ${ms} ms)`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run with the higher steady rate (of runs alike but for the machine's moment). */
export function faster<T extends RateResult>(a: T, b: T): T {
  return b.steadyPerSec > a.steadyPerSec ? b : a;
}

export async function bareConsumer(kafka: Kafka, registryUrl: string, topic: string, total: number, groups: string[], warm = 0): Promise<RateResult> {
  const codec = new AvroCodec(registryUrl); // fresh: it fetches the schema by id like the scorer's does
  const groupId = `bench-bare-${randomUUID()}`;
  groups.push(groupId);
  // The scorer's consumer settings (read_committed, its fetch sizes).
  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 30_000, heartbeatInterval: 3_000, ...SCORER_FETCH });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const samples: { t: number; n: number }[] = [];
  let n = 0;
  let sink = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const v = (codec.decodeIfCached(m.value) ?? { value: await codec.decode(m.value) }).value as Reading;
        sink += v.ts; // keeps the decode from being dead code
      }
      n += batch.messages.length;
      samples.push({ t: performance.now(), n });
      if (n >= total) done();
    },
  });
  await withTimeout(finished, 180_000, () => `bare consumer read ${n} of ${total} readings`);
  await consumer.disconnect();
  if (sink === 0) throw new Error('bare consumer decoded nothing');
  return rateFrom(samples, t0, total, warm);
}

export interface PassthroughRun extends RateResult {
  transactions: number;
  outputBytes: number;
}

/** The passthrough's output for a chunk: one block per asset, the scorer's columns and sizes, scores all zero. */
function passthroughBlocks(readings: readonly Reading[], configVersion: string): ScoreBlockRecord[] {
  const byAsset = new Map<string, { block: ScoreBlockRecord; index: Map<string, number> }>();
  for (const r of readings) {
    let b = byAsset.get(r.assetId);
    if (!b) {
      b = { block: { assetId: r.assetId, assetType: r.assetType, configVersion, columns: [], readings: [], maintenance: [] }, index: new Map() };
      byAsset.set(r.assetId, b);
    }
    for (const k in r.values) {
      if (!b.index.has(k)) {
        b.index.set(k, b.block.columns.length);
        b.block.columns.push(k);
      }
    }
    const n = b.block.columns.length;
    const values = new Array<number>(n).fill(Number.NaN);
    for (const k in r.values) values[b.index.get(k)!] = r.values[k]!;
    b.block.readings.push({ ts: r.ts, score: 0, health: 1, values, scores: new Array<number>(n).fill(0), learning: [], findings: [] });
  }
  const out = [...byAsset.values()].map((b) => b.block);
  for (const b of out) {
    for (const row of b.readings) {
      while (row.values.length < b.columns.length) row.values.push(Number.NaN);
      while (row.scores.length < b.columns.length) row.scores.push(0);
    }
  }
  return out;
}

/** The exactly-once passthrough's steady rate on the topic (a fresh group per distinct `name`). */
export async function passthroughThroughput(kafka: Kafka, env: PipelineEnv, topics: TopicNames, total: number, groups: string[], warm = 0, name = 'passthrough'): Promise<PassthroughRun> {
  const groupId = `${topics.readings}-bench-${name}`;
  groups.push(groupId);
  const codec = new AvroCodec(env.registryUrl);
  const blockKey = recordWriterKey(topics.scores, await codec.registerRecordSchema(topics.scores, loadSchemaText('scoreBlock')));
  const log = createLogger(`bench.${name}`, 'warn');
  let transactions = 0;
  // The scorer's own transaction queue (services/scorer/partition-transactions.ts): each chunk
  // is queued, not awaited, and the chunks queued behind a commit share the next transaction,
  // so the passthrough pays what the scorer pays for exactly-once, with the same overlap.
  const txns = new PartitionTransactions(kafka, groupId, topics.readings, log, { committed: () => transactions++ }, DEFAULT_SCORER.maxReadingsPerTransaction);
  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 30_000, heartbeatInterval: 3_000, ...SCORER_FETCH });
  let assigned: number[] = [];
  let assigning: Promise<void> | undefined;
  let needAssign = true;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = [...(e.payload.memberAssignment[topics.readings] ?? [])];
    needAssign = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.readings], fromBeginning: true });
  const samples: { t: number; n: number }[] = [];
  let n = 0;
  let outputBytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: DEFAULT_SCORER.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (needAssign) {
        assigning ??= txns.assign(assigned).finally(() => {
          needAssign = false;
          assigning = undefined;
        });
        await assigning;
      }
      for (let i = 0; i < batch.messages.length; i += DEFAULT_SCORER.maxReadingsPerTransaction) {
        const messages = batch.messages.slice(i, i + DEFAULT_SCORER.maxReadingsPerTransaction);
        const readings: Reading[] = [];
        for (const m of messages) readings.push((codec.decodeIfCached(m.value) ?? { value: await codec.decode(m.value) }).value as Reading);
        const out = passthroughBlocks(readings, DEFAULT_CONFIG.version).map((b) => ({ key: b.assetId, value: codec.encode(blockKey, b) }));
        for (const o of out) outputBytes += o.value.length;
        const last = messages[messages.length - 1]!.offset;
        const queued = txns.enqueue(batch.partition, { epoch: txns.epoch, topicMessages: [{ topic: topics.scores, messages: out }], offset: (BigInt(last) + 1n).toString() }, messages.length);
        queued.committed.then(
          () => {
            n += messages.length;
            samples.push({ t: performance.now(), n });
            if (n >= total) done();
          },
          (err: unknown) => log.error('passthrough transaction failed', { error: String(err) }),
        );
        resolveOffset(last);
        await queued.accepted;
        await heartbeat();
      }
    },
  });
  await withTimeout(finished, 180_000, () => `passthrough processed ${n} of ${total} readings`);
  await consumer.disconnect();
  await txns.close();
  return { ...rateFrom(samples, t0, total, warm), transactions, outputBytes };
}

export interface ScorerRun extends RateResult {
  transactions: number;
  predictions: number;
  deadLetters: number;
  committed: number;
}

/** An in-process scorer with the default configuration on the benchmark's topics, logging warnings only; `options` override the scorer's defaults. */
export function benchScorer(env: PipelineEnv, topics: TopicNames, groupId: string, metrics: MetricsRegistry, logName: string, options: Partial<ScorerOptions> = {}): Promise<RunningService> {
  return startScorer({
    brokers: env.brokers,
    registryUrl: env.registryUrl,
    topics,
    partitions: PARTITIONS,
    cfg: DEFAULT_CONFIG,
    groupId,
    instanceId: randomUUID(),
    metrics,
    logger: createLogger(logName, 'warn'),
    ...options,
  });
}

/**
 * Topics for one more run over the same readings: the shared readings topic, and outputs and a
 * state changelog of its own (created here, their names added to `created`). A scorer that
 * restored another run's final states would find every reading older than its asset's last and
 * score none of them (only refuse them as out of order), and the sink phase reads the outputs
 * of the first runs only.
 */
export async function runTopics(admin: Admin, topics: TopicNames, name: string, created: string[]): Promise<TopicNames> {
  const own = (t: string) => `${t}.${name}`;
  const names: TopicNames = { readings: topics.readings, scores: own(topics.scores), predictions: own(topics.predictions), state: own(topics.state), cases: own(topics.cases), caseRetry: own(topics.caseRetry) };
  await ensureTopics(admin, names, { partitions: PARTITIONS });
  created.push(...allTopics(names).filter((t) => t !== names.readings && t !== dlqTopic(names.readings)));
  return names;
}

/**
 * The scorer's steady rate on the topic; `options` override its defaults (a fresh group per
 * distinct `name`; a state changelog that no other run wrote: see runTopics).
 */
export async function scorerThroughput(admin: Admin, env: PipelineEnv, topics: TopicNames, total: number, groups: string[], warm = 0, options: Partial<ScorerOptions> = {}, name = 'scorer'): Promise<ScorerRun> {
  const groupId = `${topics.readings}-bench-${name}`;
  groups.push(groupId);
  const metrics = new MetricsRegistry();
  const readings = metrics.counter('pdm_scorer_readings_total', 'Readings scored');
  const t0 = performance.now();
  const scorer = await benchScorer(env, topics, groupId, metrics, `bench.${name}`, options);
  // The counter moves once per committed transaction (after the commit), so polling it
  // gives the time each batch became durable. 5 ms is far below a batch's duration.
  const samples: { t: number; n: number }[] = [];
  let last = 0;
  let crashed: unknown;
  scorer.done.catch((err: unknown) => (crashed = err));
  let lastProgress = Date.now();
  while (last < total) {
    if (crashed) throw new Error('scorer stopped during the throughput run', { cause: crashed });
    if (Date.now() - lastProgress > 60_000) {
      await scorer.stop();
      throw new Error(`scorer stalled at ${last} of ${total} readings: no transaction committed for 60 s (see its warnings above)`);
    }
    const n = readings.get();
    if (n !== last) {
      lastProgress = Date.now();
      samples.push({ t: performance.now(), n });
      last = n;
    }
    await sleep(5);
  }
  await scorer.stop();
  const refused = metrics.counter('pdm_scorer_quality_findings_total', '');
  const stale = refused.get({ kind: 'out_of_order' }) + refused.get({ kind: 'duplicate' });
  if (stale > total / 100) throw new Error(`${name}: ${stale} of ${total} readings refused as out of order or duplicate: not a measure of scoring`);
  const offsets = await admin.fetchOffsets({ groupId, topics: [topics.readings] });
  const committed = offsets[0]!.partitions.reduce((s, p) => s + Number(p.offset), 0);
  return {
    ...rateFrom(samples, t0, total, warm),
    transactions: metrics.counter('pdm_scorer_transactions_total', '').get(),
    predictions: metrics.counter('pdm_scorer_predictions_total', '').get(),
    deadLetters: metrics.counter('pdm_dead_letters_total', '').get(),
    committed,
  };
}
