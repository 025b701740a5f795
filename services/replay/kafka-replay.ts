/**
 * The Kafka side of `pdm replay`: reads what happened and re-scores the history with the
 * candidate configuration, writing nothing (no commits, no records; see kafka-reader.ts).
 *
 * - The readings topic (readings and maintenance events, decoded and checked at the door as
 *   the scorer does) is re-scored up to each partition's offset committed by the scorer's
 *   consumer group: exactly the records whose outputs are on failure.predictions, so a scorer
 *   still catching up does not look like cases the candidate would open. Maintenance events
 *   are gathered to the topic's end, since the repair after an episode may come later.
 * - failure.predictions gives the episodes that happened; case.events the case of each.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { AvroCodec } from '../kafka/codec.ts';
import type { TopicNames } from '../kafka/topics.ts';
import type { PredictionEvent } from '../core/types.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { decodeInputs } from '../scorer/decode.ts';
import type { Repair } from './compare.ts';
import { EpisodeBuilder, type Episode } from './episodes.ts';
import { ReplayError } from './errors.ts';
import { readRanges, recordCount, retryKafka, topicRanges, type PartitionRange } from './kafka-reader.ts';
import { Rescorer, type RescoreCounts, type RescoreOptions } from './rescore.ts';

/** The fields of a case.events record (schemas/case.event.avsc) the replay uses. */
interface CaseEventFields {
  caseId: string;
  episodeId: string;
}

export interface KafkaReplayOptions {
  kafka: Kafka;
  codec: AvroCodec;
  topics: TopicNames;
  /** Prefix of the throwaway consumer groups (the topic prefix). */
  groupPrefix: string;
  /** The scorer's consumer group, whose committed offsets bound the re-scoring. */
  scorerGroup: string;
  rescore: RescoreOptions;
  stallTimeoutMs: number;
  /** Called after each batch with the topic, records read so far and the records it holds. */
  onProgress?: (topic: string, read: number, total: number) => void;
}

/** What a replay read and re-scored: the comparison's inputs. */
export interface ReplayInputs {
  actual: Episode[];
  candidate: Episode[];
  repairs: Repair[];
  /** Episode id → Salesforce case id. */
  cases: Map<string, string>;
  counts: RescoreCounts & {
    /** Records read from the readings topic. */
    records: number;
    /** Records of the readings topic past the scorer's committed offsets (not scored yet by it, so not re-scored). */
    unscored: number;
    /** Records of failure.predictions and case.events that could not be decoded (left out). */
    undecodable: number;
  };
}

/**
 * Reads the topics and re-scores the readings.
 * @throws ReplayError for a missing or empty readings topic, a scorer group with nothing
 *   committed, or a read that stalls.
 */
export async function replayFromKafka(o: KafkaReplayOptions): Promise<ReplayInputs> {
  const { kafka, codec, topics } = o;
  const admin = kafka.admin();
  await admin.connect();
  let readings: PartitionRange[];
  let predictions: PartitionRange[];
  let caseEvents: PartitionRange[];
  let committed: Map<number, bigint>;
  try {
    readings = await topicRanges(admin, topics.readings);
    if (recordCount(readings) === 0) throw new ReplayError(`topic ${topics.readings} is empty: there is no history to replay`);
    // Committed offsets before the predictions' end: every output of a committed offset is then inside the read.
    committed = await committedOffsets(admin, o.scorerGroup, topics.readings);
    predictions = await topicRanges(admin, topics.predictions);
    caseEvents = await topicRanges(admin, topics.cases).catch((err: unknown) => {
      // No case opener ever ran: no case ids, the comparison stands without them.
      if (err instanceof ReplayError) return [];
      throw err;
    });
  } finally {
    await admin.disconnect();
  }

  const rescorer = new Rescorer(o.rescore);
  const repairs: Repair[] = [];
  let records = 0;
  let unscored = 0;
  const total = recordCount(readings);
  await readRanges(kafka, topics.readings, readings, {
    groupPrefix: o.groupPrefix,
    stallTimeoutMs: o.stallTimeoutMs,
    onBatch: async (partition, messages) => {
      const inputs = await decodeInputs(codec, topics.readings, partition, messages);
      records += messages.length;
      for (const i of inputs) if (i.kind === 'repair') repairs.push({ assetId: i.event.assetId, ts: i.event.ts, failureMode: i.event.failureMode ?? null });
      const end = committed.get(partition) ?? 0n;
      const scorable = inputs.filter((i) => BigInt(i.offset) < end);
      unscored += inputs.length - scorable.length;
      rescorer.apply(partition, scorable);
      o.onProgress?.(topics.readings, records, total);
    },
  });

  let undecodable = 0;
  const decodeAll = async <T>(topic: string, ranges: PartitionRange[], use: (value: T) => void): Promise<void> => {
    let read = 0;
    const count = recordCount(ranges);
    await readRanges(kafka, topic, ranges, {
      groupPrefix: o.groupPrefix,
      stallTimeoutMs: o.stallTimeoutMs,
      onBatch: async (_partition, messages) => {
        for (const m of messages) {
          try {
            use((await codec.decode(m.value)) as T);
          } catch (err) {
            if (!(err instanceof PoisonRecordError)) throw err;
            undecodable++;
          }
        }
        read += messages.length;
        o.onProgress?.(topic, read, count);
      },
    });
  };
  const actual = new EpisodeBuilder(o.rescore.toTs);
  await decodeAll<PredictionEvent>(topics.predictions, predictions, (p) => actual.add(p));
  const cases = new Map<string, string>();
  await decodeAll<CaseEventFields>(topics.cases, caseEvents, (c) => cases.set(c.episodeId, c.caseId));

  return {
    actual: actual.episodes(),
    candidate: rescorer.episodes(),
    repairs,
    cases,
    counts: { ...rescorer.counts(), records, unscored, undecodable },
  };
}

/**
 * The offsets the scorer's group committed on the readings topic, by partition.
 * @throws ReplayError when it committed none: nothing was scored, so nothing happened to compare with.
 */
async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const res = await retryKafka(() => admin.fetchOffsets({ groupId, topics: [topic] }));
  const out = new Map<number, bigint>();
  for (const p of res[0]?.partitions ?? []) {
    const off = BigInt(p.offset);
    if (off >= 0n) out.set(p.partition, off);
  }
  if (out.size === 0) {
    throw new ReplayError(
      `the scorer's consumer group ${groupId} has committed no offsets on ${topic}: nothing there was scored, so nothing happened to compare with (is PDM_TOPIC_PREFIX right? another group: --scorer-group)`,
    );
  }
  return out;
}
