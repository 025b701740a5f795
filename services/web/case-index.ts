/**
 * Which Salesforce case belongs to which episode, for the fleet view's case links: the case
 * opener publishes one `case.events` record per case write (schemas/case.event.avsc), and
 * this follows the topic from its beginning in memory (a map of episode id to case id, about
 * 100 bytes per episode). Nothing is stored elsewhere: a restart reads the topic again.
 *
 * Every instance reads every partition, so it uses a consumer group of its own and commits
 * nothing (kafkajs has no group-less assignment).
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { AvroCodec } from '../kafka/codec.ts';
import { ensureTopics, type TopicNames } from '../kafka/topics.ts';
import { retry } from '../runtime/retry.ts';

export interface CaseLink {
  caseId: string;
  /** Last write: created, updated or commented. */
  action: string;
  /** Wall-clock time of the last write, epoch ms. */
  writtenAt: number;
}

export interface CaseIndex {
  get(episodeId: string): CaseLink | undefined;
  readonly size: number;
  /** Settles once the records that were on the topic at start are read. */
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts following the case events topic of `topics` (created with the others when missing,
 * as every service does, so the view can start before the case opener); `groupPrefix` names
 * the throwaway group (`<prefix>pdm-web-<uuid>`).
 */
export async function startCaseIndex(opts: { kafka: Kafka; codec: AvroCodec; topics: TopicNames; partitions: number; groupPrefix: string; onError?: (err: unknown) => void }): Promise<CaseIndex> {
  const links = new Map<string, CaseLink>();
  const topic = opts.topics.cases;
  const admin = opts.kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    await ensureTopics(admin, opts.topics, { partitions: opts.partitions });
    // A topic just created may not have its leaders known to every request yet (NOT_LEADER).
    const offsets = await retry(() => admin.fetchTopicOffsets(topic), { retries: 10, minDelayMs: 200, maxDelayMs: 2_000, bail: (err) => (err as { retriable?: boolean } | null)?.retriable !== true });
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (markCaughtUp = r));
  const check = () => {
    if (ends.size === 0) markCaughtUp();
  };
  check();
  const consumer: Consumer = opts.kafka.consumer({ groupId: `${opts.groupPrefix}pdm-web-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        try {
          const v = (await opts.codec.decode(m.value)) as { caseId: string; episodeId: string; action: string; writtenAt: number };
          links.set(v.episodeId, { caseId: v.caseId, action: v.action, writtenAt: Number(v.writtenAt) });
        } catch (err) {
          // A record we cannot read costs one case link, not the page.
          opts.onError?.(err);
        }
      }
      // The case opener's producer is idempotent, not transactional: no commit markers, so the
      // partition is read up to its end at start when the last offset read is end - 1.
      const end = ends.get(batch.partition);
      if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) {
        ends.delete(batch.partition);
        check();
      }
    },
  });
  return {
    get: (episodeId) => links.get(episodeId),
    get size() {
      return links.size;
    },
    caughtUp,
    stop: () => consumer.disconnect(),
  };
}
