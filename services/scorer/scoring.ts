/**
 * The scorer's CPU work on its partitions, behind one interface so that it can run on the
 * consuming thread (LocalScoring, here) or in worker threads (scoring-threads.ts) with the
 * same code: it owns the assigned partitions' states and, per fetched chunk, decodes,
 * applies the step, picks the states due for a checkpoint, sweeps expired assets and encodes
 * every output record. The consuming thread keeps Kafka: the fetch, the transactions, the
 * offsets, the restore's reads.
 *
 * Order: calls for one partition are applied in the order they were made (a partition's
 * chunks are scored one at a time, and `committed` follows its chunk's transaction, which
 * may come after later chunks were scored), so the invariants of partition-state.ts hold
 * wherever the states live.
 */
import type { KafkaMessage, Message } from 'kafkajs';
import { stateVersion, type AssetState, type CompiledConfig } from '../core/index.ts';
import { deadLetter, DLQ_HEADERS, headerString } from '../kafka/dlq.ts';
import type { AvroCodec } from '../kafka/codec.ts';
import type { TopicNames } from '../kafka/topics.ts';
import { checkpointRecords, dueForCheckpoint } from './checkpoints.ts';
import { decodeInputs } from './decode.ts';
import { SERVICE } from './options.ts';
import type { TopicMessages } from './partition-transactions.ts';
import { advanceReplay, newPartitionState, stateCount, sweepExpired, type PartitionState } from './partition-state.ts';
import { predictionRecord, type StateRecord } from './records.ts';
import { applyChunk, emptyChunkResult, type ChunkCounts } from './step.ts';

/**
 * Records decoded at a time within a chunk. Decoding a whole fetched chunk (thousands of
 * records) before scoring it kept every decoded reading alive through the young-generation
 * collections that scoring triggers, so they were copied and promoted; slice by slice they
 * die young. Measured on 300,000 readings of 200 assets: 5-6% less scorer CPU per reading,
 * with slices of 16 to 256 alike.
 */
const DECODE_SLICE = 128;

/** A partition as a restore left it: its states (decoded, or their changelog bytes) and where its replay stands. */
export interface LoadedPartition<S = AssetState> {
  partition: number;
  states: Map<string, S>;
  lastSeen: Map<string, number>;
  /** Set when readings between the checkpoint and the committed offset must be replayed. */
  replayUntil?: bigint;
  restoredOffsets?: Map<string, number>;
  /** Next offset after the last committed chunk, when the group has committed any. */
  position?: bigint;
}

/** What one chunk gives the consuming thread. */
export interface ChunkOutcome {
  /** The chunk only rebuilt states (a replay): nothing to write, its offsets are committed already. */
  replayOnly: boolean;
  topicMessages: TopicMessages[];
  /** States whose checkpoint this chunk's transaction carries (no longer dirty). */
  checkpointed: number;
  counts: ChunkCounts;
  /** Assets expired (by the sweep or at their next record). */
  expired: number;
  /** The reason of each dead letter, for the metrics. */
  deadReasons: string[];
  /** Asset states the partition holds after the chunk. */
  assets: number;
}

/** The scoring work of the assigned partitions. */
export interface Scoring {
  /** Replaces every partition's states by these (after a restore; a partition not listed is dropped). */
  load(partitions: LoadedPartition<Buffer>[]): Promise<void>;
  /** Decodes and scores one partition's chunk; `now` stamps dead letters and checkpoint ages. */
  score(partition: number, topic: string, messages: KafkaMessage[], now: number): Promise<ChunkOutcome>;
  /** The chunk's transaction committed: the partition is at `nextOffset`. */
  committed(partition: number, nextOffset: bigint): void;
  /** Changelog records of every state changed since its checkpoint, per partition (a planned stop). */
  finalCheckpoint(): Promise<{ partition: number; messages: Message[] }[]>;
  close(): Promise<void>;
}

/** What the scoring needs besides the states: the codec with the output schemas registered, the settings. */
export interface ScoringContext {
  codec: AvroCodec;
  topics: TopicNames;
  /** encode() key of the score block record. */
  scoreBlockKey: string;
  cfg: CompiledConfig;
  stateTtlMs: number;
  checkpointIntervalMs: number;
  checkpointMaxReadings: number;
}

/** The scoring on the calling thread. */
export class LocalScoring implements Scoring {
  private parts = new Map<number, PartitionState>();
  private readonly encodeState: (rec: StateRecord) => Buffer;

  constructor(private readonly ctx: ScoringContext) {
    this.encodeState = (rec) => ctx.codec.encode(ctx.topics.state, rec);
  }

  async load(partitions: LoadedPartition<Buffer>[]): Promise<void> {
    this.parts = new Map();
    this.add(partitions);
  }

  /**
   * Adds partitions to those held (load() without dropping the others). Their states stay
   * encoded until each asset's first record decodes it (partition-state.ts, stateOf): a
   * restore of 50,000 states spent about as long decoding them all as reading them. Each is
   * checked for a version this build reads here, so a restore still refuses an unreadable
   * changelog at once. The caller's maps are emptied: the partitions own the bytes now.
   */
  add(partitions: LoadedPartition<Buffer>[]): void {
    for (const l of partitions) {
      const stored = new Map<string, Uint8Array>();
      for (const [id, bytes] of l.states) {
        stateVersion(bytes);
        stored.set(id, bytes);
      }
      l.states.clear();
      const part = newPartitionState(l.partition, new Map(), l.lastSeen, stored);
      part.replayUntil = l.replayUntil;
      part.restoredOffsets = l.restoredOffsets;
      part.position = l.position;
      this.parts.set(l.partition, part);
    }
  }

  async score(partition: number, topic: string, messages: KafkaMessage[], now: number): Promise<ChunkOutcome> {
    const { ctx } = this;
    let part = this.parts.get(partition);
    if (!part) this.parts.set(partition, (part = newPartitionState(partition)));
    const replayEnd = part.replayUntil;
    // Every schema first: a registry that does not answer then fails the chunk before any
    // slice changed a state, and kafkajs's retry of the batch starts from the same states.
    await ctx.codec.prefetchSchemas(messages.map((m) => m.value));
    const result = emptyChunkResult(ctx.cfg);
    for (let i = 0; i < messages.length; i += DECODE_SLICE) {
      const inputs = await decodeInputs(ctx.codec, topic, partition, messages, i, Math.min(messages.length, i + DECODE_SLICE));
      applyChunk(part, inputs, ctx.cfg, now, ctx.stateTtlMs, result);
    }
    const nextOffset = BigInt(messages[messages.length - 1]!.offset) + 1n;
    advanceReplay(part, nextOffset);
    const { counts } = result;
    if (replayEnd !== undefined && nextOffset <= replayEnd) {
      return { replayOnly: true, topicMessages: [], checkpointed: 0, counts, expired: counts.expired, deadReasons: [], assets: stateCount(part) };
    }
    // About one state (3.6 KB) per 8 scored readings keeps a transaction's bytes balanced.
    const due = dueForCheckpoint(part.dirty, now, Number(nextOffset), Math.max(8, Math.ceil(counts.readings / 8)), ctx.checkpointIntervalMs, ctx.checkpointMaxReadings);
    const changelog = due.length > 0 ? checkpointRecords(partition, part.states, part.dirty, due, nextOffset, this.encodeState, part.lastSeen) : [];
    // Clean from here on: the transaction that carries their states may commit after the next
    // chunks are scored (transactions are queued, partition-transactions.ts), and a change those
    // chunks make marks the asset dirty again. If the transaction fails, the restore that
    // follows rebuilds every state and its dirty set.
    for (const id of due) part.dirty.delete(id);
    // Expiry sweep, at most every tenth of the TTL of record time: assets gone silent leave
    // memory and, by tombstone, the changelog.
    let expired = counts.expired;
    if (part.clockMs >= part.nextSweepMs) {
      const gone = sweepExpired(part, ctx.stateTtlMs);
      part.nextSweepMs = part.clockMs + ctx.stateTtlMs / 10;
      for (const assetId of gone) changelog.push({ key: assetId, partition, value: null });
      expired += gone.length;
    }
    const dead = result.deadLetters.map((d) => deadLetter(d.src, d.error, SERVICE, now));
    const topicMessages: TopicMessages[] = [
      { topic: ctx.topics.scores, messages: result.blocks.records().map((b) => ({ key: b.assetId, value: ctx.codec.encode(ctx.scoreBlockKey, b) })) },
      { topic: ctx.topics.predictions, messages: result.predictions.map((p) => ({ key: p.assetId, value: ctx.codec.encode(ctx.topics.predictions, predictionRecord(p)) })) },
      { topic: ctx.topics.state, messages: changelog },
      ...groupByTopic(dead),
    ];
    const deadReasons = dead.map((d) => headerString(d.message.headers, DLQ_HEADERS.reason) ?? 'unknown');
    return { replayOnly: false, topicMessages, checkpointed: due.length, counts, expired, deadReasons, assets: stateCount(part) };
  }

  committed(partition: number, nextOffset: bigint): void {
    const part = this.parts.get(partition);
    if (part) part.position = nextOffset;
  }

  async finalCheckpoint(): Promise<{ partition: number; messages: Message[] }[]> {
    const out: { partition: number; messages: Message[] }[] = [];
    for (const part of this.parts.values()) {
      // Mid-replay the states are behind `position`: such a partition keeps its last checkpoint.
      if (part.dirty.size === 0 || part.position === undefined || part.replayUntil !== undefined) continue;
      out.push({ partition: part.partition, messages: checkpointRecords(part.partition, part.states, part.dirty, [...part.dirty.keys()], part.position, this.encodeState, part.lastSeen) });
    }
    return out;
  }

  async close(): Promise<void> {
    this.parts.clear();
  }
}

function groupByTopic(items: { topic: string; message: Message }[]): TopicMessages[] {
  const by = new Map<string, Message[]>();
  for (const { topic, message } of items) {
    const list = by.get(topic) ?? [];
    list.push(message);
    by.set(topic, list);
  }
  return [...by].map(([topic, messages]) => ({ topic, messages }));
}
