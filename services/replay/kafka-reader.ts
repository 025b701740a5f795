/**
 * Reading a topic from its first offset to its end as of the start of the read, without
 * leaving a trace: kafkajs has no manual partition assignment, so a throwaway consumer group
 * (`<prefix>pdm-replay-<uuid>`) subscribes, with auto-commit off and no commit ever made, and
 * is deleted once it is empty again. The end is known from each batch kafkajs reports, control
 * records and aborted transactions included, so a partition whose last records are
 * transaction markers still counts as read to its end.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { describeError } from '../runtime/errors.ts';
import { retry } from '../runtime/retry.ts';
import { ReplayError } from './errors.ts';

/** A partition's offsets: the first kept (`low`) and the next to be written (`high`). */
export interface PartitionRange {
  partition: number;
  low: bigint;
  high: bigint;
}

/**
 * The offsets of `topic`'s partitions now.
 * @throws ReplayError when the topic does not exist.
 */
export async function topicRanges(admin: Admin, topic: string): Promise<PartitionRange[]> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) throw new ReplayError(`topic ${topic} does not exist (is PDM_TOPIC_PREFIX right?)`);
  const offsets = await retryKafka(() => admin.fetchTopicOffsets(topic));
  return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition);
}

/**
 * Runs an admin call, retrying what Kafka marks retriable (about 10 s of patience). kafkajs
 * itself gives up at once on NOT_LEADER, which a broker answers for a while after a topic is
 * created or its leader moves (services/web does the same).
 */
export function retryKafka<T>(call: () => Promise<T>): Promise<T> {
  return retry(call, { retries: 10, minDelayMs: 200, maxDelayMs: 2_000, bail: (err) => (err as { retriable?: boolean } | null)?.retriable !== true });
}

/** Records in `ranges` (high − low summed): what a full read delivers at most. */
export const recordCount = (ranges: readonly PartitionRange[]): number => ranges.reduce((n, r) => n + Number(r.high - r.low), 0);

export interface ReadOptions {
  /** Prefix of the throwaway group's id (the topic prefix, so side-by-side pipelines stay apart). */
  groupPrefix: string;
  /** Give up after this long without a batch while partitions remain, ms. */
  stallTimeoutMs: number;
  /** Called with each partition's messages in offset order (one partition at a time). */
  onBatch: (partition: number, messages: readonly KafkaMessage[]) => Promise<void> | void;
}

/**
 * Reads every partition of `topic` in `ranges` from its first offset up to (not including)
 * its `high`, read_committed, and returns when all are read.
 * @throws ReplayError when no batch arrives for `stallTimeoutMs` while partitions remain, or
 *   with what `onBatch` threw (the read stops at the first error).
 */
export async function readRanges(kafka: Kafka, topic: string, ranges: readonly PartitionRange[], opts: ReadOptions): Promise<void> {
  /** partition → last offset to reach (high − 1); empty partitions are left out. */
  const remaining = new Map<number, bigint>();
  for (const r of ranges) if (r.high > r.low) remaining.set(r.partition, r.high - 1n);
  if (remaining.size === 0) return;
  const groupId = `${opts.groupPrefix}pdm-replay-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 500 });
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let failed: ((err: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  let lastProgress = Date.now();
  const position = new Map<number, string>();
  /** partition → the next offset to hand on. */
  const next = new Map<number, bigint>();
  let stopped = false;
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { partition, lastOffset } = e.payload;
    lastProgress = Date.now();
    position.set(partition, lastOffset);
    const target = remaining.get(partition);
    if (target !== undefined && BigInt(lastOffset) >= target) remaining.delete(partition);
    if (remaining.size === 0) finish();
  });
  consumer.on(consumer.events.CRASH, (e) => failed?.(new ReplayError(`reading ${topic} failed: ${describeError(e.payload.error)}`)));
  const stall = setInterval(() => {
    if (Date.now() - lastProgress < opts.stallTimeoutMs) return;
    const where = [...remaining].map(([p, last]) => `${p} at ${position.get(p) ?? 'start'} of ${last}`).join(', ');
    failed?.(new ReplayError(`reading ${topic} made no progress for ${opts.stallTimeoutMs / 1000} s (partitions ${where}; an open transaction of a producer?)`));
  }, 1_000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = remaining.get(batch.partition);
        if (stopped || target === undefined) return; // failed, or read already (a fetch in flight may bring more)
        // Each record exactly once, in order, even if the group restarted a partition from its
        // start (nothing is committed, so a restart re-reads what was delivered already).
        const from = next.get(batch.partition) ?? -1n;
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= from && BigInt(m.offset) <= target);
        if (messages.length > 0) {
          try {
            await opts.onBatch(batch.partition, messages);
          } catch (err) {
            // Not thrown to kafkajs: its retry would restart the read from the beginning.
            stopped = true;
            failed?.(err instanceof ReplayError ? err : new ReplayError(`reading ${topic}: ${describeError(err)}`, { cause: err }));
            return;
          }
          next.set(batch.partition, BigInt(messages.at(-1)!.offset) + 1n);
        }
        // Stop fetching what is past the end snapshot.
        if (BigInt(batch.lastOffset()) >= target) consumer.pause([{ topic, partitions: [batch.partition] }]);
      },
    });
    await Promise.race([finished, failure]);
  } catch (err) {
    if (err instanceof ReplayError) throw err;
    throw new ReplayError(`reading ${topic}: ${describeError(err)}`, { cause: err });
  } finally {
    clearInterval(stall);
    await consumer.disconnect().catch(() => {});
    await deleteGroup(kafka, groupId);
  }
}

/** Removes the throwaway group (it holds no offsets; this only spares the broker's list of groups). */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // Best effort: the coordinator drops an empty group without offsets by itself anyway.
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
