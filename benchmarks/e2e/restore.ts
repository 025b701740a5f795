/**
 * Restore time: what a scorer taking over partitions (a restart, a rebalance, a scale-out)
 * spends loading their states from the compacted changelog before it scores again. A scorer
 * scores about `assets` assets (two readings each) and stops gracefully, so every state is in the
 * changelog and the final checkpoint leaves nothing to replay; a second scorer in the same
 * group then restores all six partitions. Its own measure (pdm_scorer_restore_seconds: the
 * changelog read, each state's version checked, and the replay range; the states are decoded
 * at their assets' first readings) stands beside the baseline, a
 * bare kafkajs consumer reading the same changelog to its end without decoding anything.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { AvroCodec } from '../../services/kafka/codec.ts';
import type { PipelineEnv } from '../../services/kafka/env.ts';
import type { TopicNames } from '../../services/kafka/topics.ts';
import { MetricsRegistry } from '../../services/runtime/metrics.ts';
import { encodeAll, fleetReadings, produceAll } from './fixtures.ts';
import { benchScorer, withTimeout } from './throughput.ts';

export interface RestoreResult {
  assets: number;
  /** Changelog records the restore read (states and checkpoint markers). */
  records: number;
  /** Their bytes (values), as the bare read counted them. */
  bytes: number;
  restoreSec: number;
  bareSec: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Reads `topic` from the start to its end offsets without decoding; seconds and bytes. */
async function bareRead(kafka: Kafka, admin: Admin, topic: string, groups: string[]): Promise<{ sec: number; records: number; bytes: number }> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high) - 1n]));
  const groupId = `bench-restore-bare-${randomUUID()}`;
  groups.push(groupId);
  const t0 = performance.now();
  // The restore's consumer settings: a throwaway group, read_committed.
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  let records = 0;
  let bytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const end = ends.get(e.payload.partition);
    if (end !== undefined && BigInt(e.payload.lastOffset) >= end) ends.delete(e.payload.partition);
    if (ends.size === 0) done();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        records += batch.messages.length;
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
      },
    });
    await withTimeout(finished, 300_000, () => `bare read of ${topic} did not reach its end`);
    return { sec: (performance.now() - t0) / 1000, records, bytes };
  } finally {
    await consumer.disconnect();
  }
}

export async function restoreTime(kafka: Kafka, admin: Admin, codec: AvroCodec, env: PipelineEnv, topics: TopicNames, assets: number, groups: string[]): Promise<RestoreResult> {
  const groupId = `${topics.readings}-bench-restore`;
  groups.push(groupId);
  const total = 2 * assets;
  const readings = fleetReadings(total, assets);
  // The fleet's first readings in time order: about two an asset, a few assets none yet.
  const distinct = new Set(readings.map((r) => r.assetId)).size;
  await produceAll(kafka, topics.readings, encodeAll(codec, topics.readings, readings));

  // Every asset scored, then a graceful stop: all states and a final checkpoint in the changelog.
  const m1 = new MetricsRegistry();
  const first = await benchScorer(env, topics, groupId, m1, 'bench.restore');
  const scored = m1.counter('pdm_scorer_readings_total', '');
  const t0 = Date.now();
  while (scored.get() < total) {
    if (Date.now() - t0 > 300_000) throw new Error(`restore fixture: scored ${scored.get()} of ${total} readings in 300 s`);
    await sleep(50);
  }
  await first.stop();

  const bare = await bareRead(kafka, admin, topics.state, groups);

  const m2 = new MetricsRegistry();
  const second = await benchScorer(env, topics, groupId, m2, 'bench.restore');
  try {
    const restored = m2.counter('pdm_scorer_restored_states_total', '');
    const t1 = Date.now();
    while (m2.value('pdm_scorer_restore_changelog_records') === 0 || restored.get() === 0) {
      if (Date.now() - t1 > 300_000) throw new Error('the second scorer did not restore within 300 s');
      await sleep(20);
    }
    const states = restored.get();
    if (states !== distinct) throw new Error(`restored ${states} states, ${distinct} assets scored`);
    return { assets: distinct, records: m2.value('pdm_scorer_restore_changelog_records'), bytes: bare.bytes, restoreSec: m2.value('pdm_scorer_restore_seconds'), bareSec: bare.sec };
  } finally {
    await second.stop();
  }
}
