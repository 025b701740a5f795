/**
 * The product's topics: names (with an optional prefix so tests and parallel demos never
 * collide), partition counts, and the compacted state changelog, which must have exactly
 * as many partitions as the readings topic so that partition p of both holds the same
 * assets (co-partitioning: both are keyed by assetId with the same partitioner).
 */
import type { Admin } from 'kafkajs';
import { PipelineError, ServiceConfigError } from '../runtime/errors.ts';
import { retry } from '../runtime/retry.ts';

export interface TopicNames {
  readings: string;
  scores: string;
  predictions: string;
  /** Compacted changelog of the scorer's per-asset state, key = assetId. */
  state: string;
  cases: string;
  /** Case writes that failed with a retriable error, retried later by the case opener. */
  caseRetry: string;
}

export function topicNames(prefix = ''): TopicNames {
  return {
    readings: `${prefix}telemetry.readings`,
    scores: `${prefix}anomaly.scores`,
    predictions: `${prefix}failure.predictions`,
    state: `${prefix}scorer.state`,
    cases: `${prefix}case.events`,
    caseRetry: `${prefix}case.retry`,
  };
}

/** The dead-letter topic of a source topic. */
export const dlqTopic = (topic: string): string => `${topic}.dlq`;

/** max.message.bytes of the dead-letter topics: twice the broker's default for the topics they copy from. */
export const DLQ_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** Default partitions per topic: enough for 6 scorer instances on the local stack. */
export const DEFAULT_PARTITIONS = 6;

export interface EnsureTopicsOptions {
  partitions: number;
  replicationFactor?: number;
}

/**
 * Creates the missing topics (and their DLQs); checks that existing ones can work. The
 * state changelog is compacted and co-partitioned with the readings: if the readings topic
 * already exists its count wins, and a changelog with another count is refused.
 */
export async function ensureTopics(admin: Admin, names: TopicNames, opts: EnsureTopicsOptions): Promise<void> {
  const rf = opts.replicationFactor ?? 1;
  const existing = new Set(await retry(() => admin.listTopics(), RETRY_KAFKA));
  const partitionCount = async (topic: string): Promise<number | undefined> => {
    if (!existing.has(topic)) return undefined;
    const md = await retry(() => admin.fetchTopicMetadata({ topics: [topic] }), RETRY_KAFKA);
    return md.topics[0]?.partitions.length;
  };
  const readingsPartitions = (await partitionCount(names.readings)) ?? opts.partitions;
  const statePartitions = await partitionCount(names.state);
  if (statePartitions !== undefined && statePartitions !== readingsPartitions) {
    throw new ServiceConfigError([
      `topic ${names.state} has ${statePartitions} partitions but ${names.readings} has ${readingsPartitions}: the state changelog must be co-partitioned with the readings (recreate ${names.state})`,
    ]);
  }
  const wanted: { topic: string; numPartitions: number; configEntries?: { name: string; value: string }[] }[] = [];
  const add = (topic: string, numPartitions: number, configEntries?: { name: string; value: string }[]) => {
    if (!existing.has(topic)) wanted.push({ topic, numPartitions, ...(configEntries ? { configEntries } : {}) });
  };
  add(names.readings, readingsPartitions);
  add(names.state, readingsPartitions, [
    { name: 'cleanup.policy', value: 'compact' },
    // Keep restores short: roll and compact segments early.
    { name: 'segment.ms', value: String(10 * 60_000) },
    { name: 'min.cleanable.dirty.ratio', value: '0.1' },
  ]);
  for (const t of [names.scores, names.predictions, names.cases, names.caseRetry]) add(t, opts.partitions);
  // A dead letter is its source record plus the reason headers: a record at its topic's size
  // limit (1 MiB by default) must still fit, or its transaction could never commit.
  for (const t of [names.readings, names.scores, names.predictions, names.caseRetry]) add(dlqTopic(t), 1, [{ name: 'max.message.bytes', value: String(DLQ_MAX_MESSAGE_BYTES) }]);
  if (wanted.length > 0) {
    await retry(() => admin.createTopics({ waitForLeaders: false, topics: wanted.map((w) => ({ ...w, replicationFactor: rf })) }), RETRY_KAFKA);
  }
  await awaitLeaders(admin, [names.readings, names.state, names.scores, names.predictions, names.cases, names.caseRetry]);
}

/**
 * Waits until every partition of `topics` has a leader. A broker that has just started (or
 * just created the topics) answers metadata requests with UNKNOWN_TOPIC_OR_PARTITION or
 * LEADER_NOT_AVAILABLE for a while, which kafkajs's own `createTopics({ waitForLeaders })`
 * does not always wait through: this retries what Kafka says can be retried, for about 30 s.
 */
export async function awaitLeaders(admin: Admin, topics: string[]): Promise<void> {
  await retry(async () => {
    const md = await admin.fetchTopicMetadata({ topics });
    const leaderless = md.topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
    if (leaderless.length > 0) throw new PipelineError(`topics without leaders yet: ${leaderless.map((t) => t.name).join(', ')}`, true);
  }, RETRY_KAFKA);
}

/** Kafka admin calls at start: about 30 s of patience for a broker that is still starting. */
const RETRY_KAFKA = {
  retries: 12,
  minDelayMs: 250,
  maxDelayMs: 5_000,
  // kafkajs marks its errors retriable or not; anything else is not ours to retry.
  bail: (err: unknown) => !(err instanceof PipelineError) && (err as { retriable?: boolean } | null)?.retriable !== true,
};
