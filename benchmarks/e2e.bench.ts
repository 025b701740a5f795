/**
 * End-to-end benchmark of the scorer on the local stack (`npm run bench:e2e`, `--json` for
 * one JSON object on the last line). In one run it measures:
 *
 * (a) Throughput. N seeded passenger_ev readings (8 sensors, services/simulator/fleet.ts)
 *     are produced to a fresh readings topic (6 partitions) before any timing. Then, on that
 *     same topic, a bare kafkajs consumer (fresh group, eachBatch, decodes every value with
 *     AvroCodec, nothing else) is timed — the baseline — and then the scorer (startScorer,
 *     fresh group: decode, score, encode, state changelog, offsets, one transaction per
 *     chunk of maxReadingsPerTransaction readings). Both rates are steady-state: from the end of each one's first batch to its
 *     last reading, so group join and the first fetch count for neither (the wall rates
 *     with the join are printed too). A CPU breakdown of the scorer's per-reading work
 *     (decode, core, score encode, state encode) on the same readings tells how much of the
 *     scorer's time per reading is computation and how much waits on Kafka.
 * (b) Latency. With a fresh topic prefix, the real scorer process (`pdm scorer`, a child,
 *     as in production: the producer and the observer do not share its event loop) runs
 *     while readings are produced at a fixed rate. Each reading's produce time is kept by
 *     (assetId, ts); a read_committed consumer of the scores topic takes the time a score
 *     becomes visible. Percentiles cover the measured window, after a warm-up.
 *
 * Also measured: K `pdm scorer` processes in one group on the same readings (horizontal
 * scaling, K = cores by default), the answer when one process cannot keep up.
 *
 * Options: --json, --readings N (default 200000), --rate R readings/s (default 5000),
 * --seconds S measured latency window (default 20), --warmup S (default 5), --assets A
 * (default 1000), --instances K (default: cores, max 6; 0 skips), --max-per-txn N (the
 * in-process scorer's maxReadingsPerTransaction), --raise-message-limit (see below). The stack (kafka + registry) is started when it is
 * not up. Every topic and group the run creates is deleted at the end. Exit code 0 when the
 * run completed (targets MISS included), 1 when it could not measure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import kafkajs, { type Admin, type Consumer, type Kafka, type Message } from 'kafkajs';
import { status, up } from '../infra/stack/stack.ts';
import { DEFAULT_CONFIG, encodeState, newState, score, type AssetState, type Reading } from '../services/core/index.ts';
import { createKafka } from '../services/kafka/client.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../services/kafka/codec.ts';
import { pipelineEnv } from '../services/kafka/env.ts';
import { scoresOf, type ScoreRecord } from '../services/kafka/records.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../services/kafka/topics.ts';
import { createLogger } from '../services/runtime/log.ts';
import { MetricsRegistry } from '../services/runtime/metrics.ts';
import { scoreRecord, type StateRecord } from '../services/scorer/records.ts';
import { SCORER_FETCH, startScorer } from '../services/scorer/scorer.ts';
import { createFleet } from '../services/simulator/fleet.ts';
import { formatCount, formatRatio, formatTable, formatTargets, type TargetCheck } from './lib/format.ts';
import { formatMachine, machineInfo } from './lib/machine.ts';

const PARTITIONS_DEFAULT = 6;

// ---- options ---------------------------------------------------------------------------
const argv = process.argv.slice(2);
const JSON_OUT = argv.includes('--json');
function numArg(name: string, fallback: number, min: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`e2e.bench: ${name} needs a number ≥ ${min}, got ${String(argv[i + 1])}\n`);
    process.exit(2);
  }
  return v;
}
/** Readings in the throughput phase. */
const N = Math.floor(numArg('--readings', 200_000, 1_000));
/** Produce rate of the latency phase, readings/s. */
const RATE = numArg('--rate', 5_000, 1);
/** Measured latency window, s. */
const SECONDS = numArg('--seconds', 20, 1);
/** Latency warm-up, s: produced at the rate but left out of the percentiles. */
const WARMUP_S = numArg('--warmup', 5, 0);
/** passenger_ev assets of the fleet (one reading per asset per simulated minute). */
const ASSETS = Math.floor(numArg('--assets', 1_000, 1));
/** `pdm scorer` processes of the horizontal-scaling figure (0 skips it); default: the machine's cores. */
const INSTANCES = Math.floor(numArg('--instances', Math.min(cpus().length, PARTITIONS_DEFAULT), 0));
/** Partitions of every topic (the product's default, DEFAULT_PARTITIONS). */
const PARTITIONS = PARTITIONS_DEFAULT;
/** Issue 4's targets. */
const TARGETS = { scorerOverBareMin: 0.8, p99MsMax: 100, atRate: 5_000 } as const;

const BIN = join(import.meta.dirname, '..', 'services', 'cli', 'bin.mjs');
const env = pipelineEnv();
const benchLog = createLogger('bench.e2e', 'warn');
const say = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmtRate = (r: number) => `${formatCount(r)} readings/s`;
const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;

// ---- fixtures --------------------------------------------------------------------------
/** The first `count` readings of a seeded passenger_ev fleet, in delivery (time) order. */
function fleetReadings(count: number): Reading[] {
  const perAsset = Math.ceil(count / ASSETS) + 10;
  const fleet = createFleet(
    { seed: 4242, total: ASSETS, assetTypes: ['passenger_ev'], startTs: Date.UTC(2026, 0, 5), days: (perAsset * 60) / 86_400 + 1 },
    DEFAULT_CONFIG,
  );
  const out: Reading[] = [];
  for (const r of fleet.readings()) {
    out.push(r);
    if (out.length >= count) break;
  }
  if (out.length < count) throw new Error(`fleet gave ${out.length} readings, ${count} wanted`);
  return out;
}

/** Every topic a prefix's pipeline creates (ensureTopics: the product topics and their DLQs). */
function allTopics(t: TopicNames): string[] {
  return [...Object.values(t), ...[t.readings, t.scores, t.predictions, t.caseRetry].map(dlqTopic)];
}

/**
 * --raise-message-limit: the output topics get max.message.bytes 16 MiB. Needed only with a
 * large --max-per-txn: the scorer's outputs are co-partitioned with the readings, so one
 * transaction's scores (353 B each) and changelog records (3.6 KB per dirty asset) all land
 * in one record batch per partition, and the broker refuses a batch over its 1 MiB default.
 */
const RAISE_MESSAGE_LIMIT = argv.includes('--raise-message-limit');
/** --max-per-txn N: the in-process scorer's maxReadingsPerTransaction (default: the scorer's own). */
const MAX_PER_TXN = argv.includes('--max-per-txn') ? Math.floor(numArg('--max-per-txn', 250, 1)) : undefined;
// kafkajs is CommonJS: Node's named-export detection misses this enum.
const { ConfigResourceTypes } = kafkajs;
const OUTPUT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

async function raiseMaxMessageBytes(admin: Admin, topics: string[]): Promise<void> {
  // kafkajs only has the legacy AlterConfigs, which replaces a topic's whole dynamic config:
  // re-send what is set (the changelog's cleanup.policy=compact...) with the raised limit.
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
  await admin.alterConfigs({
    validateOnly: false,
    resources: described.resources.map((r) => ({
      type: ConfigResourceTypes.TOPIC,
      name: r.resourceName,
      configEntries: [
        ...r.configEntries.filter((e) => !e.isDefault && !e.readOnly && e.configName !== 'max.message.bytes').map((e) => ({ name: e.configName, value: e.configValue })),
        { name: 'max.message.bytes', value: String(OUTPUT_MAX_MESSAGE_BYTES) },
      ],
    })),
  });
}

async function prepareTopics(admin: Admin, codec: AvroCodec, prefix: string): Promise<TopicNames> {
  const topics = topicNames(prefix);
  await ensureTopics(admin, topics, { partitions: PARTITIONS });
  if (RAISE_MESSAGE_LIMIT) await raiseMaxMessageBytes(admin, [topics.scores, topics.predictions, topics.state]);
  await codec.registerValueSchema(topics.readings, loadSchemaText('reading'));
  return topics;
}

function encodeAll(codec: AvroCodec, topic: string, readings: readonly Reading[]): Message[] {
  return readings.map((r) => ({ key: r.assetId, value: codec.encode(topic, r) }));
}

// ---- (a) throughput --------------------------------------------------------------------
interface RateResult {
  /** Steady rate: readings after the first batch / time from the first batch's end to the last, readings/s. */
  steadyPerSec: number;
  /** N / time from start (before group join) to the last reading, readings/s. */
  wallPerSec: number;
  seconds: number;
}

function rateFrom(samples: { t: number; n: number }[], t0: number, total: number): RateResult {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const steady = last.t > first.t ? (last.n - first.n) / ((last.t - first.t) / 1000) : NaN;
  return { steadyPerSec: steady, wallPerSec: total / ((last.t - t0) / 1000), seconds: (last.t - t0) / 1000 };
}

async function bareConsumer(kafka: Kafka, registryUrl: string, topic: string, total: number, groups: string[]): Promise<RateResult> {
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
        // The scorer's own decode path: synchronous once the schema is cached.
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
  return rateFrom(samples, t0, total);
}

interface ScorerRun extends RateResult {
  transactions: number;
  predictions: number;
  deadLetters: number;
  committed: number;
}

async function scorerThroughput(admin: Admin, topics: TopicNames, total: number, groups: string[]): Promise<ScorerRun> {
  const groupId = `${topics.readings}-bench-scorer`;
  groups.push(groupId);
  const metrics = new MetricsRegistry();
  const readings = metrics.counter('pdm_scorer_readings_total', 'Readings scored');
  const t0 = performance.now();
  const scorer = await startScorer({
    brokers: env.brokers,
    registryUrl: env.registryUrl,
    topics,
    partitions: PARTITIONS,
    cfg: DEFAULT_CONFIG,
    groupId,
    instanceId: randomUUID(),
    metrics,
    logger: createLogger('bench.scorer', 'warn'),
    ...(MAX_PER_TXN !== undefined ? { maxReadingsPerTransaction: MAX_PER_TXN } : {}),
  });
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
  const offsets = await admin.fetchOffsets({ groupId, topics: [topics.readings] });
  const committed = offsets[0]!.partitions.reduce((s, p) => s + Number(p.offset), 0);
  return {
    ...rateFrom(samples, t0, total),
    transactions: metrics.counter('pdm_scorer_transactions_total', '').get(),
    predictions: metrics.counter('pdm_scorer_predictions_total', '').get(),
    deadLetters: metrics.counter('pdm_dead_letters_total', '').get(),
    committed,
  };
}

interface Breakdown {
  decodeUs: number;
  coreUs: number;
  scoreEncodeUs: number;
  stateEncodeUs: number;
}

/**
 * CPU cost of each step of the scorer's per-reading work, µs per reading, on `sample` of the
 * same wire-format values, one pass each after a warm-up pass (the state encode: µs per
 * changelog record, which the scorer writes once per dirty asset per batch).
 */
async function cpuBreakdown(codec: AvroCodec, topics: TopicNames, values: Message[]): Promise<Breakdown> {
  await codec.registerValueSchema(topics.scores, loadSchemaText('score'));
  const batchKey = recordWriterKey(topics.scores, await codec.registerRecordSchema(topics.scores, loadSchemaText('scoreBatch')));
  await codec.registerValueSchema(topics.state, loadSchemaText('state'));
  const us = (t0: number) => ((performance.now() - t0) * 1000) / values.length;
  const decoded: Reading[] = [];
  for (const m of values.slice(0, 2_000)) await codec.decode(m.value as Buffer); // warm-up
  let t0 = performance.now();
  for (const m of values) decoded.push(codec.decodeIfCached(m.value as Buffer)!.value as Reading);
  const decodeUs = us(t0);
  const states = new Map<string, AssetState>();
  const steps: ReturnType<typeof score>[] = [];
  t0 = performance.now();
  for (const r of decoded) {
    let s = states.get(r.assetId);
    if (!s) states.set(r.assetId, (s = newState(r.assetId, r.assetType, DEFAULT_CONFIG)));
    steps.push(score(s, r, DEFAULT_CONFIG));
  }
  const coreUs = us(t0);
  // Scores keep their sensor lists; the states are mutated in place, so encode each step's record now.
  let bytes = 0;
  t0 = performance.now();
  // As the scorer writes them: one batch record per asset (here: per asset over the sample).
  const byAsset = new Map<string, ScoreRecord[]>();
  for (let i = 0; i < decoded.length; i++) {
    const rec = scoreRecord(decoded[i]!, steps[i]!, DEFAULT_CONFIG.version);
    const list = byAsset.get(rec.assetId);
    if (list) list.push(rec);
    else byAsset.set(rec.assetId, [rec]);
  }
  for (const [assetId, scores] of byAsset) bytes += codec.encode(batchKey, { assetId, scores }).length;
  const scoreEncodeUs = us(t0);
  t0 = performance.now();
  for (const r of decoded) {
    const s = states.get(r.assetId)!;
    const rec: StateRecord = { assetId: r.assetId, assetType: s.assetType, state: Buffer.from(encodeState(s)), sourceOffset: 1 };
    bytes += codec.encode(topics.state, rec).length;
  }
  const stateEncodeUs = us(t0);
  if (bytes === 0) throw new Error('breakdown encoded nothing');
  return { decodeUs, coreUs, scoreEncodeUs, stateEncodeUs };
}

// ---- (b) latency -----------------------------------------------------------------------
interface LatencyResult {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  measured: number;
  produced: number;
  achievedRate: number;
  produceSec: number;
  missing: number;
}

/** A `pdm scorer` child process and what its log says. */
interface ScorerProcess {
  child: ChildProcess;
  metricsPort: number;
  /** Partitions of its latest assignment (empty until the first). */
  partitions: number[];
  /** AddPartitionsToTxn answered CONCURRENT_TRANSACTIONS: kafkajs backed off before retrying. */
  concurrentTxnRetries: number;
  /** Its last log lines, for error messages. */
  tail: string[];
  /** Rejects when the process exits. */
  exited: Promise<never>;
}

/**
 * Starts `pdm scorer --instance-id ID` on the prefix (the product's own process, as the demo
 * and deployments run it) and resolves once its consumer has been assigned partitions.
 */
async function startScorerProcess(prefix: string, instanceId: string): Promise<ScorerProcess> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [BIN, 'scorer', '--instance-id', instanceId, '--metrics-port', String(metricsPort)], {
    env: {
      ...process.env,
      PDM_KAFKA_BROKERS: env.brokers.join(','),
      PDM_REGISTRY_URL: env.registryUrl,
      PDM_TOPIC_PREFIX: prefix,
      PDM_PARTITIONS: String(PARTITIONS),
      PDM_LOG_LEVEL: 'info',
      PDM_LOG_FORMAT: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let buf = '';
  let assigned!: () => void;
  const ready = new Promise<void>((r) => (assigned = r));
  const proc: ScorerProcess = {
    child,
    metricsPort,
    partitions: [],
    concurrentTxnRetries: 0,
    tail: [],
    exited: new Promise<never>((_, reject) =>
      child.once('exit', (code, sig) => reject(new Error(`scorer process ${instanceId} exited (${code ?? sig}); its last lines:\n${proc.tail.join('\n')}`))),
    ),
  };
  proc.exited.catch(() => undefined); // observed by whoever races it
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      proc.tail.push(line);
      if (proc.tail.length > 40) proc.tail.shift();
      const m = /partitions assigned (\{.*\})/.exec(line);
      if (m) {
        proc.partitions = (JSON.parse(m[1]!) as { partitions: number[] }).partitions;
        if (proc.partitions.length > 0) assigned();
      } else if (/concurrent operation on the same transaction/.test(line)) {
        // Logged twice per occurrence (the response, then the retry): count the retry line.
        if (/Failed to send messages/.test(line)) proc.concurrentTxnRetries++;
      } else if (/ (WARN|ERROR) /.test(line) && !/rebalancing|rejoin/.test(line)) {
        // (Rebalance notices are expected while several processes join; anything else is shown.)
        process.stderr.write(`scorer process ${instanceId}: ${line}\n`);
      }
    }
  });
  await withTimeout(Promise.race([ready, proc.exited]), 90_000, () => `scorer process ${instanceId} was not assigned partitions within 90 s; its last lines:\n${proc.tail.join('\n')}`);
  return proc;
}

async function stopProcess(p: ScorerProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  await Promise.race([p.exited.catch(() => undefined), sleep(10_000)]);
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

/**
 * Throughput of K `pdm scorer` processes in one group (horizontal scaling, one per core):
 * they join on the empty topic first, so no rebalance falls inside the timing; then N
 * readings are produced at full speed and the group's committed offsets are polled.
 * Steady rate: from the first committed offset to the last of N.
 */
async function scorerProcessesThroughput(
  kafka: Kafka,
  admin: Admin,
  topics: TopicNames,
  prefix: string,
  values: Message[],
  instances: number,
  procs: ScorerProcess[],
): Promise<RateResult & { produceSec: number; concurrentTxnRetries: number }> {
  for (let k = 0; k < instances; k++) procs.push(await startScorerProcess(prefix, `bench-tp-${k}`));
  // Wait for the group to settle: every partition owned by exactly one member.
  const settled = async () => {
    for (;;) {
      const owned = procs.flatMap((p) => p.partitions);
      if (owned.length === PARTITIONS && new Set(owned).size === PARTITIONS && procs.every((p) => p.partitions.length > 0)) return;
      await sleep(100);
    }
  };
  await withTimeout(Promise.race([settled(), ...procs.map((p) => p.exited)]), 60_000, () => `${instances} scorer processes did not settle on ${PARTITIONS} partitions`);
  const groupId = `${prefix}pdm-scorer`;
  const producer = kafka.producer();
  await producer.connect();
  const t0 = performance.now();
  const produced = (async () => {
    for (let i = 0; i < values.length; i += 5_000) await producer.send({ topic: topics.readings, messages: values.slice(i, i + 5_000) });
    return (performance.now() - t0) / 1000;
  })();
  const samples: { t: number; n: number }[] = [];
  let last = 0;
  let lastProgress = Date.now();
  while (last < values.length) {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topics.readings] });
    const n = offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    if (n !== last) {
      samples.push({ t: performance.now(), n });
      last = n;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress > 60_000) throw new Error(`scorer processes stalled at ${last} of ${values.length} readings`);
    await sleep(50);
  }
  const produceSec = await produced;
  await producer.disconnect();
  const concurrentTxnRetries = procs.reduce((s, p) => s + p.concurrentTxnRetries, 0);
  await Promise.all(procs.map(stopProcess));
  return { ...rateFrom(samples, t0, values.length), produceSec, concurrentTxnRetries };
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Reads counters (summed over labels) from the scorer process's Prometheus endpoint. */
async function scrape(port: number, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const out: Record<string, number> = {};
  for (const name of names) {
    out[name] = 0;
    for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{|\s)/.test(line)) out[name] += Number(line.split(/\s+/).pop());
  }
  return out;
}

async function latency(kafka: Kafka, codec: AvroCodec, topics: TopicNames, readings: readonly Reading[], groups: string[]): Promise<LatencyResult> {
  const total = readings.length;
  const warmCount = Math.floor(RATE * WARMUP_S);
  const values = encodeAll(codec, topics.readings, readings);
  /** (assetId, ts) → indexes of the readings with that key, in produce order (the fleet delivers some twice). */
  const byKey = new Map<string, number[]>();
  readings.forEach((r, i) => {
    const k = `${r.assetId}|${r.ts}`;
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  const producedAt = new Float64Array(total).fill(NaN);
  const seenAt = new Float64Array(total).fill(NaN);
  let seen = 0;

  // The observer: read_committed, as the influx sink and the case opener read.
  const observerCodec = new AvroCodec(env.registryUrl);
  const groupId = `bench-observer-${randomUUID()}`;
  groups.push(groupId);
  const observer: Consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 50 });
  let joined!: () => void;
  const isJoined = new Promise<void>((r) => (joined = r));
  observer.on(observer.events.GROUP_JOIN, () => joined());
  await observer.connect();
  await observer.subscribe({ topics: [topics.scores], fromBeginning: true });
  let allSeen!: () => void;
  const complete = new Promise<void>((r) => (allSeen = r));
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
      if (seen >= total) allSeen();
    },
  });
  await withTimeout(isJoined, 60_000, () => 'observer consumer did not join its group');

  const producer = kafka.producer();
  await producer.connect();
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    // Send what is due by now: the rate holds on average even when one send is slow.
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
    if (due > sent) {
      const at = performance.now();
      for (let i = sent; i < due; i++) producedAt[i] = at;
      await producer.send({ topic: topics.readings, messages: values.slice(sent, due) });
      sent = due;
    }
    await sleep(2);
  }
  const produceSec = (performance.now() - t0) / 1000;
  await producer.disconnect();
  await Promise.race([complete, sleep(30_000)]);
  await observer.disconnect();

  const lat: number[] = [];
  let missing = 0;
  for (let i = warmCount; i < total; i++) {
    if (Number.isNaN(seenAt[i]!)) missing++;
    else lat.push(seenAt[i]! - producedAt[i]!);
  }
  lat.sort((a, b) => a - b);
  return {
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    maxMs: lat[lat.length - 1] ?? NaN,
    measured: lat.length,
    produced: total,
    achievedRate: total / produceSec,
    produceSec,
    missing,
  };
}

/** Nearest-rank percentile of a sorted list. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`e2e.bench: ${what()} (timeout ${ms} ms)`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

// ---- main ------------------------------------------------------------------------------
async function main(): Promise<number> {
  const machine = machineInfo();
  say(formatMachine(machine));
  const st = await status();
  if (!st.kafka.up || !st.registry.up) {
    say('stack: starting kafka and registry …');
    await up({ only: ['kafka', 'registry'], progress: (line) => process.stderr.write(`stack ${line}\n`) });
  }
  say(`stack:   kafka ${env.brokers.join(',')}, registry ${env.registryUrl}`);
  const latencyCount = Math.round(RATE * (WARMUP_S + SECONDS));
  say(`setup:   ${formatCount(N)} readings, ${ASSETS} passenger_ev assets (8 sensors), ${PARTITIONS} partitions; latency at ${formatCount(RATE)}/s for ${WARMUP_S} + ${SECONDS} s`);
  if (RAISE_MESSAGE_LIMIT) say(`note:    output topics get max.message.bytes ${OUTPUT_MAX_MESSAGE_BYTES / 2 ** 20} MiB (--raise-message-limit)`);
  if (MAX_PER_TXN !== undefined) say(`note:    in-process scorer with maxReadingsPerTransaction ${MAX_PER_TXN} (--max-per-txn); the pdm scorer processes use the default`);
  say();

  const kafka = createKafka({ brokers: env.brokers, clientId: 'pdm-bench-e2e' });
  const admin = kafka.admin();
  await admin.connect();
  const codec = new AvroCodec(env.registryUrl);
  const run = `bench-e2e-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  const created: string[] = [];
  const groups: string[] = [];
  const procs: ScorerProcess[] = [];
  try {
    const tFix = performance.now();
    const all = fleetReadings(Math.max(N, latencyCount));
    say(`fixtures: ${formatCount(all.length)} fleet readings in ${((performance.now() - tFix) / 1000).toFixed(1)} s`);

    // (a) throughput
    const tp = await prepareTopics(admin, codec, `${run}-tp.`);
    created.push(...allTopics(tp));
    const values = encodeAll(codec, tp.readings, all.slice(0, N));
    const bytes = values.reduce((s, m) => s + (m.value as Buffer).length, 0);
    const producer = kafka.producer();
    await producer.connect();
    let tProd = performance.now();
    for (let i = 0; i < values.length; i += 5_000) await producer.send({ topic: tp.readings, messages: values.slice(i, i + 5_000) });
    await producer.disconnect();
    say(`produced: ${formatCount(N)} readings (${(bytes / N).toFixed(0)} B avg value) in ${((performance.now() - tProd) / 1000).toFixed(1)} s`);

    const bare = await bareConsumer(kafka, env.registryUrl, tp.readings, N, groups);
    say(`bare consumer: ${fmtRate(bare.steadyPerSec)} steady (${fmtRate(bare.wallPerSec)} with group join, ${bare.seconds.toFixed(1)} s)`);
    const sc = await scorerThroughput(admin, tp, N, groups);
    say(`scorer:        ${fmtRate(sc.steadyPerSec)} steady (${fmtRate(sc.wallPerSec)} with group join, ${sc.seconds.toFixed(1)} s)`);
    if (sc.committed !== N) throw new Error(`scorer committed offsets cover ${sc.committed} readings, ${N} produced`);
    const breakdown = await cpuBreakdown(codec, tp, values.slice(0, Math.min(N, 50_000)));
    const ratio = sc.steadyPerSec / bare.steadyPerSec;
    let multi: Awaited<ReturnType<typeof scorerProcessesThroughput>> | undefined;
    if (INSTANCES > 0) {
      const mp = await prepareTopics(admin, codec, `${run}-tpk.`);
      created.push(...allTopics(mp));
      groups.push(`${run}-tpk.pdm-scorer`);
      multi = await scorerProcessesThroughput(kafka, admin, mp, `${run}-tpk.`, encodeAll(codec, mp.readings, all.slice(0, N)), INSTANCES, procs);
      say(`${INSTANCES} scorer processes: ${fmtRate(multi.steadyPerSec)} steady (readings produced meanwhile in ${multi.produceSec.toFixed(1)} s)`);
    }

    // (b) latency
    const lt = await prepareTopics(admin, codec, `${run}-lat.`);
    created.push(...allTopics(lt));
    tProd = performance.now();
    const proc = await startScorerProcess(`${run}-lat.`, 'bench-lat');
    procs.push(proc);
    say(`latency: scorer process assigned its partitions after ${((performance.now() - tProd) / 1000).toFixed(1)} s; producing …`);
    const lat = await latency(kafka, codec, lt, all.slice(0, latencyCount), groups);
    groups.push(`${run}-lat.pdm-scorer`);
    const childMetrics = await scrape(proc.metricsPort, ['pdm_scorer_transactions_total', 'pdm_scorer_readings_total']);
    const childTxns = childMetrics.pdm_scorer_transactions_total ?? 0;

    // ---- report
    const usPerReading = 1e6 / sc.steadyPerSec;
    const cpuUs = breakdown.decodeUs + breakdown.coreUs + breakdown.scoreEncodeUs;
    const readingsPerTxn = N / Math.max(1, sc.transactions);
    // Changelog records per transaction ≤ assets of its partition; the scorer writes one per dirty asset.
    const stateRecsPerTxn = Math.min(readingsPerTxn, ASSETS / PARTITIONS);
    const cpuPerTxnUs = readingsPerTxn * cpuUs + stateRecsPerTxn * breakdown.stateEncodeUs;
    const waitPerTxnMs = (readingsPerTxn * usPerReading - cpuPerTxnUs) / 1000;
    say();
    say('throughput (same topic, same readings):');
    say(
      formatTable([
        ['scorer (decode, score, produce in transactions)', fmtRate(sc.steadyPerSec), `${usPerReading.toFixed(1)} µs/reading`],
        ['  baseline: bare kafkajs consumer, decode only', fmtRate(bare.steadyPerSec), `${(1e6 / bare.steadyPerSec).toFixed(1)} µs/reading`],
        ['  ratio scorer / bare', formatRatio(ratio), ''],
        ...(multi
          ? [[`${INSTANCES} pdm scorer processes, one group`, fmtRate(multi.steadyPerSec), `${formatRatio(multi.steadyPerSec / bare.steadyPerSec)} of bare; ${multi.concurrentTxnRetries} CONCURRENT_TRANSACTIONS retries`]]
          : []),
        ['transactions', formatCount(sc.transactions), `${readingsPerTxn.toFixed(0)} readings each; ${formatCount(sc.predictions)} predictions, ${formatCount(sc.deadLetters)} dead letters`],
      ]),
    );
    say('scorer CPU per reading (one core, same values, in process):');
    say(
      formatTable([
        ['avro decode', `${breakdown.decodeUs.toFixed(2)} µs`],
        ['core score()', `${breakdown.coreUs.toFixed(2)} µs`],
        ['score records + avro encode (batched per asset)', `${breakdown.scoreEncodeUs.toFixed(2)} µs`],
        ['state changelog record (per dirty asset)', `${breakdown.stateEncodeUs.toFixed(2)} µs`],
        ['per transaction: CPU / rest (Kafka round trips, fetch, GC)', `${(cpuPerTxnUs / 1000).toFixed(1)} ms / ${waitPerTxnMs.toFixed(1)} ms`],
      ]),
    );
    say();
    say(`latency produce → score visible to read_committed (pdm scorer process, ${formatCount(lat.achievedRate)}/s achieved):`);
    say(
      formatTable([
        ['p50', fmtMs(lat.p50Ms)],
        ['p99', fmtMs(lat.p99Ms)],
        ['max', fmtMs(lat.maxMs)],
        ['scorer transactions', `${formatCount(childTxns)} for ${formatCount(childMetrics.pdm_scorer_readings_total ?? 0)} readings (${((childMetrics.pdm_scorer_readings_total ?? 0) / Math.max(1, childTxns)).toFixed(1)} each), one per ${((lat.produceSec * 1000) / Math.max(1, childTxns)).toFixed(1)} ms while producing`],
        ['CONCURRENT_TRANSACTIONS retries', `${proc.concurrentTxnRetries} (each a retry after ~10 ms: the scorer's producer initialRetryTime)`],
        ['readings measured', `${formatCount(lat.measured)} (after ${formatCount(Math.floor(RATE * WARMUP_S))} warm-up; ${lat.missing} without a score)`],
      ]),
    );
    say();
    say('targets (issue 4):');
    const checks: TargetCheck[] = [
      { name: 'scorer rate / bare consumer rate', measured: formatRatio(ratio), target: `≥ ${TARGETS.scorerOverBareMin}×`, pass: ratio >= TARGETS.scorerOverBareMin },
      {
        name: `p99 produce → score at ${formatCount(RATE)}/s`,
        measured: fmtMs(lat.p99Ms),
        target: `< ${TARGETS.p99MsMax} ms${RATE < TARGETS.atRate ? ` (target is at ${formatCount(TARGETS.atRate)}/s)` : ''}`,
        pass: lat.p99Ms < TARGETS.p99MsMax && RATE >= TARGETS.atRate && lat.missing === 0,
      },
    ];
    say(formatTargets(checks));
    if (lat.missing > 0) throw new Error(`${lat.missing} readings of the latency window got no score within 30 s of the last produce`);
    if (JSON_OUT) {
      say(
        JSON.stringify({
          machine,
          readings: N,
          assets: ASSETS,
          partitions: PARTITIONS,
          rate: RATE,
          outputTopicsMaxMessageBytes: RAISE_MESSAGE_LIMIT ? OUTPUT_MAX_MESSAGE_BYTES : null,
          maxReadingsPerTransaction: MAX_PER_TXN ?? null,
          achievedRate: lat.achievedRate,
          scorerReadingsPerSec: sc.steadyPerSec,
          bareConsumerReadingsPerSec: bare.steadyPerSec,
          scorerOverBareRatio: ratio,
          scorerWallReadingsPerSec: sc.wallPerSec,
          scorerInstances: INSTANCES,
          scorerProcessesReadingsPerSec: multi?.steadyPerSec ?? null,
          scorerProcessesOverBareRatio: multi ? multi.steadyPerSec / bare.steadyPerSec : null,
          latencyConcurrentTxnRetries: proc.concurrentTxnRetries,
          bareConsumerWallReadingsPerSec: bare.wallPerSec,
          transactions: sc.transactions,
          cpuUsPerReading: breakdown,
          p50Ms: lat.p50Ms,
          p99Ms: lat.p99Ms,
          maxMs: lat.maxMs,
          latencyReadings: lat.measured,
          latencyTransactions: childTxns,
          targets: Object.fromEntries(checks.map((c) => [c.name, { measured: c.measured, target: c.target, pass: c.pass }])),
          allTargetsMet: checks.every((c) => c.pass),
        }),
      );
    }
    return 0;
  } finally {
    await Promise.all(procs.map(stopProcess));
    // Repeated runs must not fill the disk: drop what this run created.
    if (created.length) await admin.deleteTopics({ topics: created, timeout: 30_000 }).catch((err: unknown) => benchLog.warn('delete topics', { error: String(err) }));
    const existing = new Set((await admin.listGroups().catch(() => ({ groups: [] }))).groups.map((g) => g.groupId));
    const toDelete = groups.filter((g) => existing.has(g));
    if (toDelete.length) await admin.deleteGroups(toDelete).catch(() => undefined);
    await admin.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`e2e.bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String((err.cause as Error).stack ?? err.cause)}\n`);
    process.exit(1);
  },
);
