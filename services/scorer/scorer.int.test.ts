/**
 * The scorer against the real local Kafka and schema registry: every valid reading gives
 * exactly one score, bad records reach the DLQ with their reason, and a scorer killed with
 * SIGKILL mid-stream and restarted produces exactly the outputs of a run that never stopped
 * (exactly-once: no duplicate, no gap, same numbers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { DEFAULT_CONFIG } from '../core/index.ts';
import type { Reading } from '../core/types.ts';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { DLQ_HEADERS, headerString } from '../kafka/dlq.ts';
import type { ScoreRecord } from '../kafka/records.ts';
import { readScores as readScoreRecords, readTopic, type ConsumedRecord } from '../kafka/testkit.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../kafka/topics.ts';
import type { StateRecord } from './records.ts';
import { CHECKPOINT_KEY, startScorer } from './scorer.ts';

const PARTITIONS = 3;
/** Checkpoint interval of the restart test's scorer, ms. */
const CHECKPOINT_MS = 5_000;
const BIN = join(import.meta.dirname, '..', 'cli', 'bin.mjs');

/** Deterministic refrigerator readings: daily cycle plus pseudo-noise, one per minute. */
function fridgeReadings(assets: number, perAsset: number, start = Date.UTC(2026, 0, 1)): Reading[] {
  const out: Reading[] = [];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5);
  for (let i = 0; i < perAsset; i++) {
    for (let a = 0; a < assets; a++) {
      const ts = start + i * 60_000;
      const day = Math.sin((2 * Math.PI * (ts % 86_400_000)) / 86_400_000);
      out.push({
        assetId: `FRIDGE-${a}`,
        assetType: 'refrigerator',
        ts,
        values: {
          cabinet_temp_c: 4 + 0.5 * day + 0.2 * rnd(),
          evaporator_temp_c: -18 + day + 0.3 * rnd(),
          compressor_current_a: 2 + 0.3 * day + 0.1 * rnd() + (i > perAsset * 0.6 && a === 0 ? (i - perAsset * 0.6) * 0.02 : 0),
          ambient_temp_c: 21 + 2 * day + 0.2 * rnd(),
        },
      });
    }
  }
  return out;
}

async function produceReadings(kafka: Kafka, codec: AvroCodec, topic: string, readings: Reading[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < readings.length; i += 500) {
    await producer.send({
      topic,
      messages: readings.slice(i, i + 500).map((r) => ({ key: r.assetId, value: codec.encode(topic, r) })),
    });
  }
  await producer.disconnect();
}

type Scored = ScoreRecord;

/** Every score on the topic (batches flattened), once `expected` arrived and the topic went quiet. */
async function readScores(kafka: Kafka, codec: AvroCodec, topic: string, expected: number): Promise<Scored[]> {
  return readScoreRecords(kafka, codec, topic, { atLeast: expected });
}

function byAsset(scores: Scored[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const s of scores) {
    const list = m.get(s.assetId) ?? [];
    list.push(`${s.ts}:${s.score}:${s.health}`);
    m.set(s.assetId, list);
  }
  return m;
}

describe('scorer on the real stack', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  beforeAll(() => {
    const info = stackInfo();
    kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'scorer-int-test' });
    codec = new AvroCodec(info.registry.url);
  });

  async function prepare(): Promise<{ prefix: string; topics: TopicNames }> {
    const prefix = `${uniqueName('sc')}.`;
    const topics = topicNames(prefix);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { partitions: PARTITIONS });
    await admin.disconnect();
    await codec.registerValueSchema(topics.readings, loadSchemaText('reading'));
    await codec.registerValueSchema(topics.scores, loadSchemaText('score'));
    return { prefix, topics };
  }

  it('scores every valid reading once, applies maintenance events, and dead-letters bad records with the reason', async () => {
    const { topics } = await prepare();
    // More readings per asset than the detector's learning period (DEFAULT_DETECTOR.learningReadings, 300).
    const readings = fridgeReadings(4, 320);
    await produceReadings(kafka, codec, topics.readings, readings);
    const maintenance = recordWriterKey(topics.readings, await codec.registerRecordSchema(topics.readings, loadSchemaText('maintenance')));
    const last2 = readings.filter((r) => r.assetId === 'FRIDGE-2').at(-1)!;
    const producer = kafka.producer();
    await producer.connect();
    const good = codec.encode(topics.readings, readings[0]);
    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(987_654_321, 1);
    await producer.send({
      topic: topics.readings,
      messages: [
        { key: 'BAD-1', value: Buffer.from('not avro at all') },
        { key: 'BAD-2', value: unknownId },
        { key: 'BAD-3', value: codec.encode(topics.readings, { ...readings[0]!, assetId: 'TOASTER-1', assetType: 'toaster' }) },
        { key: 'FRIDGE-0', value: codec.encode(topics.readings, { ...readings[0]!, ts: readings[0]!.ts + 320 * 60_000, values: { cabinet_temp_c: Number.NaN, evaporator_temp_c: -18, compressor_current_a: 99, ambient_temp_c: 21 } }) },
        // A repair of a failure mode refrigerators do not have: dead-lettered, state untouched.
        { key: 'FRIDGE-1', value: codec.encode(maintenance, { assetId: 'FRIDGE-1', ts: last2.ts + 30_000, failureMode: 'warp_core_breach', sensors: null, source: 'test' }) },
        // A full service of FRIDGE-2, then its next reading: every sensor re-learns.
        { key: 'FRIDGE-2', value: codec.encode(maintenance, { assetId: 'FRIDGE-2', ts: last2.ts + 30_000, failureMode: null, sensors: null, source: 'test' }) },
        { key: 'FRIDGE-2', value: codec.encode(topics.readings, { ...last2, ts: last2.ts + 60_000 }) },
      ],
    });
    await producer.disconnect();

    const scorer = await startScorer({ brokers: stackInfo().kafka.brokers, registryUrl: stackInfo().registry.url, topics, partitions: PARTITIONS, cfg: DEFAULT_CONFIG, groupId: `${topics.readings}-scorer` });
    try {
      const scores = await readScores(kafka, codec, topics.scores, readings.length + 2);
      expect(scores).toHaveLength(readings.length + 2);
      const learning = (s: Scored) => s.sensors.map((x) => x.learning);
      const fridge2 = scores.filter((s) => s.assetId === 'FRIDGE-2');
      expect(learning(fridge2.at(-2)!)).toEqual([false, false, false, false]); // learned before the repair
      expect(learning(fridge2.at(-1)!)).toEqual([true, true, true, true]); // re-learning after it
      const keys = new Set(scores.map((s) => `${s.assetId}@${s.ts}`));
      expect(keys.size).toBe(readings.length + 2);
      for (const s of scores) {
        expect(s.score).toBeGreaterThanOrEqual(0);
        expect(s.score).toBeLessThanOrEqual(1);
      }
      const dead = await readTopic(kafka, dlqTopic(topics.readings), { until: (r) => r.length >= 5, timeoutMs: 30_000 });
      const reasons = new Map(dead.map((d: ConsumedRecord) => [d.key?.toString(), headerString(d.headers, DLQ_HEADERS.reason)]));
      expect(Object.fromEntries(reasons)).toEqual({ 'BAD-1': 'malformed_avro', 'BAD-2': 'unknown_schema', 'BAD-3': 'unknown_asset_type', 'FRIDGE-0': 'invalid_value', 'FRIDGE-1': 'invalid_record' });
      expect(headerString(dead.find((d) => d.key?.toString() === 'FRIDGE-1')!.headers, DLQ_HEADERS.error)).toMatch(/failure mode "warp_core_breach" is not configured for asset type refrigerator/);
      const bad1 = dead.find((d) => d.key?.toString() === 'BAD-1')!;
      expect(bad1.value?.toString()).toBe('not avro at all');
      expect(headerString(bad1.headers, DLQ_HEADERS.sourceTopic)).toBe(topics.readings);
      expect(headerString(bad1.headers, DLQ_HEADERS.sourceOffset)).toMatch(/^\d+$/);
      expect(headerString(dead.find((d) => d.key?.toString() === 'FRIDGE-0')!.headers, DLQ_HEADERS.error)).toMatch(/cabinet_temp_c/);
      expect(scorer.metrics.counter('pdm_dead_letters_total', '').get()).toBe(5);
      expect(scorer.metrics.counter('pdm_scorer_maintenance_events_total', '').get({ outcome: 'applied' })).toBe(1);
    } finally {
      await scorer.stop();
    }
  });

  it('after kill -9 or a graceful stop and a restart, outputs equal those of an uninterrupted run', async () => {
    const readings = fridgeReadings(6, 400);
    const runs = new Map<string, Map<string, string[]>>();
    const quarter = readings.length / 4;
    for (const mode of ['uninterrupted', 'kill', 'term'] as const) {
      const { prefix, topics } = await prepare();
      const env = {
        ...process.env,
        PDM_KAFKA_BROKERS: stackInfo().kafka.brokers.join(','),
        PDM_REGISTRY_URL: stackInfo().registry.url,
        PDM_TOPIC_PREFIX: prefix,
        PDM_PARTITIONS: String(PARTITIONS),
        PDM_LOG_LEVEL: 'info',
        // Time-based checkpoints only (see the quarters below).
        PDM_SCORER_CHECKPOINT_MS: String(CHECKPOINT_MS),
        PDM_SCORER_CHECKPOINT_READINGS: '1000000',
      };
      let log = '';
      const startChild = (): ChildProcess => {
        const c = spawn(process.execPath, [BIN, 'scorer'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
        return c;
      };
      let child = startChild();
      try {
        if (mode !== 'uninterrupted') {
          // Rolling checkpoints, staged so that a restart must use every rule of the replay:
          // 1. the first quarter of one asset per partition ("early") is scored;
          // 2. after the checkpoint interval, the rest of the first quarter and quarter 2
          //    arrive together: the early assets' states are due and written (holding their
          //    quarter-2 readings), the others only became dirty, so each partition's marker
          //    stays at the first reading of its other assets — the replay must skip the
          //    early assets' readings that their written states already hold;
          // 3. quarter 3 follows at once (nothing due);
          // 4. quarter 4 arrives and the scorer is stopped while it works on it.
          const early = earlyAssets(readings);
          const q1 = readings.slice(0, quarter);
          const batches = [
            q1.filter((r) => early.has(r.assetId)),
            [...q1.filter((r) => !early.has(r.assetId)), ...readings.slice(quarter, 2 * quarter)],
            readings.slice(2 * quarter, 3 * quarter),
          ];
          let sent = 0;
          for (const [i, batch] of batches.entries()) {
            if (i === 1) await new Promise((r) => setTimeout(r, CHECKPOINT_MS + 500));
            await produceReadings(kafka, codec, topics.readings, batch);
            sent += batch.length;
            await readScoreRecords(kafka, codec, topics.scores, { atLeast: sent, idleMs: 500 });
          }
          await produceReadings(kafka, codec, topics.readings, readings.slice(3 * quarter));
          child.kill(mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
          await new Promise((r) => child.once('exit', r));
          if (mode === 'term') {
            // A graceful stop checkpoints every partition at its committed offset: nothing to replay.
            const markers = await checkpointMarkers(topics.state);
            const admin = kafka.admin();
            await admin.connect();
            const [committed] = await admin.fetchOffsets({ groupId: `${prefix}pdm-scorer`, topics: [topics.readings] }).finally(() => admin.disconnect());
            for (const p of committed!.partitions) if (Number(p.offset) > 0) expect(markers.get(p.partition), `partition ${p.partition}`).toBe(Number(p.offset));
          }
          log = '';
          child = startChild();
        } else {
          await produceReadings(kafka, codec, topics.readings, readings);
        }
        const scores = await readScores(kafka, codec, topics.scores, readings.length);
        expect(scores).toHaveLength(readings.length);
        runs.set(mode, byAsset(scores));
        if (mode !== 'uninterrupted') {
          const restored = /state restored (\{.*\})/.exec(log);
          expect(restored, log).not.toBeNull();
          const replayed = (JSON.parse(restored![1]!) as { replayOffsets: number }).replayOffsets;
          // kill: at least quarters 2 and 3 of the other assets are replayed; term: the final
          // checkpoint leaves nothing.
          if (mode === 'kill') expect(replayed).toBeGreaterThanOrEqual(quarter);
          else expect(replayed).toBe(0);
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
    expect(runs.get('kill')).toEqual(runs.get('uninterrupted'));
    expect(runs.get('term')).toEqual(runs.get('uninterrupted'));
  });

  it('restarted with changed thresholds and detector parameters (pdm scorer --config FILE), keeps every asset\'s learned state', async () => {
    const { prefix, topics } = await prepare();
    const readings = fridgeReadings(3, 330);
    const first = readings.slice(0, 3 * 320);
    const dir = mkdtempSync(join(tmpdir(), 'pdm-config-'));
    const file = join(dir, 'tuned.json');
    // The deployment's file: connections in their sections, and the tuned detection.
    writeFileSync(file, JSON.stringify({
      kafka: { brokers: stackInfo().kafka.brokers, topicPrefix: prefix, partitions: PARTITIONS },
      registry: { url: stackInfo().registry.url },
      detection: { version: 'tuned-1', detector: { raiseThreshold: 0.4, spreadHalfLifeReadings: 50 }, assetTypes: { refrigerator: { failureModes: { compressor_failure: { threshold: 0.45 } } } } },
    }));
    const env = { ...process.env, PDM_KAFKA_BROKERS: stackInfo().kafka.brokers.join(','), PDM_REGISTRY_URL: stackInfo().registry.url, PDM_TOPIC_PREFIX: prefix, PDM_PARTITIONS: String(PARTITIONS) };
    const runScorer = async (args: string[], childEnv: NodeJS.ProcessEnv, expected: number): Promise<Scored[]> => {
      const child = spawn(process.execPath, [BIN, 'scorer', ...args], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      try {
        return await readScores(kafka, codec, topics.scores, expected);
      } finally {
        // A graceful stop checkpoints every state.
        child.kill('SIGTERM');
        const code = await new Promise((r) => child.once('exit', r));
        expect(code, log).toBe(0);
      }
    };
    await produceReadings(kafka, codec, topics.readings, first);
    await runScorer([], env, first.length);
    await produceReadings(kafka, codec, topics.readings, readings.slice(first.length));
    // Only the file names the stack this time: no connection variable is set.
    const { PDM_KAFKA_BROKERS: _b, PDM_REGISTRY_URL: _r, PDM_TOPIC_PREFIX: _t, PDM_PARTITIONS: _p, ...bare } = env;
    const all = await runScorer(['--config', file], bare, readings.length);
    const after = all.filter((s) => s.configVersion === 'tuned-1');
    expect(after).toHaveLength(readings.length - first.length);
    // Scored under the new configuration from the restored states: nothing re-learns (a
    // fresh state would learn for 300 readings).
    for (const s of after) expect(s.sensors.map((x) => x.learning)).toEqual([false, false, false, false]);
    expect(all.filter((s) => s.configVersion !== 'tuned-1')).toHaveLength(first.length);
  });

  /** One asset id per partition of PARTITIONS (the first of each, by kafkajs's default partitioner). */
  function earlyAssets(readings: Reading[]): Set<string> {
    // kafkajs is CommonJS: reached through its default export.
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] }));
    const byPartition = new Map<number, string>();
    for (const r of readings) {
      const p = partitioner({ topic: 't', partitionMetadata, message: { key: r.assetId, value: null } });
      if (!byPartition.has(p)) byPartition.set(p, r.assetId);
    }
    return new Set(byPartition.values());
  }

  /** partition → sourceOffset of the last checkpoint marker in the changelog. */
  async function checkpointMarkers(topic: string): Promise<Map<number, number>> {
    const recs = await readTopic(kafka, topic, { idleMs: 1_500, timeoutMs: 20_000 });
    const out = new Map<number, number>();
    for (const r of recs) {
      if (r.key?.toString() !== CHECKPOINT_KEY || !r.value) continue;
      out.set(r.partition, ((await codec.decode(r.value)) as StateRecord).sourceOffset);
    }
    return out;
  }
});
