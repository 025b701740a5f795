/**
 * Exactly-once commits of a consume-transform-produce processor that cannot be broken by a
 * zombie: one transactional producer per assigned input partition, with the transactional id
 * `<group>-<topic>-<partition>`, so that whoever owns a partition owns the only live producer
 * for its outputs and offsets.
 *
 * Why: kafkajs commits offsets in a transaction (TxnOffsetCommit) without the consumer
 * group's generation, so the broker cannot tell that an instance lost its partitions in a
 * rebalance. An instance paused long enough to be expelled (a GC pause, SIGSTOP, a frozen VM)
 * would, once resumed, commit the chunk it was scoring: duplicate scores on top of the new
 * owner's, and offsets moved under it. With a producer per partition, the new owner's
 * initTransactions bumps the producer epoch of that id: the old owner's pending transaction
 * is aborted at once and its next request is refused (PRODUCER_FENCED /
 * INVALID_PRODUCER_EPOCH). This is how Kafka Streams fenced zombies before KIP-447, which
 * kafkajs does not implement.
 *
 * A side effect worth having: a restore never waits for a dead instance's open transaction
 * to time out, since the new owner's producer aborts it.
 *
 * `epoch` advances on every failed transaction and on every re-assignment: a chunk processed
 * in an older epoch used state that is being rebuilt, and is never committed.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import { describeError, PipelineError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/log.ts';

/**
 * Bytes of values per produce request inside a transaction. The broker refuses a record
 * batch over message.max.bytes (1 MiB by default) and kafkajs puts one partition's messages
 * of a request into one batch, so a large transaction is sent in several requests.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** One processed chunk of one input partition. */
export interface Chunk {
  /** The epoch the chunk was processed in. */
  epoch: number;
  topicMessages: TopicMessages[];
  /** The next offset to read, committed with the outputs; none for a final checkpoint. */
  offset?: string;
}

export interface TransactionHooks {
  committed?: () => void;
  aborted?: (err: unknown) => void;
}

/** A chunk's place in its partition's queue of transactions (PartitionTransactions.enqueue). */
export interface QueuedChunk {
  /** Resolves when the caller may go on: at once, or when the full transaction ahead has settled (backpressure). */
  accepted: Promise<void>;
  /** Settles with the transaction that carries the chunk. */
  committed: Promise<void>;
}

/** A transaction waiting for its partition's previous one; later chunks join it. */
interface Pending {
  chunk: Chunk;
  readings: number;
  committed: Promise<void>;
}

interface PartitionProducer {
  producer: Producer;
  /** Transactions of one partition run one after another. */
  tail: Promise<void>;
  /** The transaction queued behind the one in flight, if any. */
  pending: Pending | undefined;
}

/**
 * A chunk refused because it was processed in an older epoch: its outputs must not be
 * committed, and whatever advanced the epoch (a failed transaction, a re-assignment) is
 * already rebuilding the state.
 */
export class StaleChunkError extends PipelineError {
  constructor() {
    super('processed on state that is being rebuilt after a failed transaction or a rebalance', true);
  }
}

/** The transactional id of a partition's producer. */
export const transactionalIdOf = (groupId: string, topic: string, partition: number): string => `${groupId}-${topic}-${partition}`;

export class PartitionTransactions {
  private current = 0;
  private producers = new Map<number, PartitionProducer>();

  /**
   * @param groupId the consumer group whose offsets are committed with the outputs
   * @param topic the consumed topic
   */
  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly hooks: TransactionHooks = {},
    /** Readings one transaction may carry when queued chunks join it. */
    private readonly maxReadings = Number.POSITIVE_INFINITY,
  ) {}

  /** The current epoch: stamp each chunk with it when its processing starts. */
  get epoch(): number {
    return this.current;
  }

  /** Invalidates every chunk processed so far (the state they used is being rebuilt). */
  advanceEpoch(): void {
    this.current++;
  }

  /**
   * Takes the partitions of a new assignment: every producer is replaced by a fresh one, for
   * the assigned partitions only, each with its transactional id initialised here, which
   * fences the partition's previous owner (another instance, or this one before a failure)
   * and aborts its open transaction, so the outputs are clean and the committed offsets final
   * before the state is restored.
   */
  async assign(partitions: readonly number[]): Promise<void> {
    this.advanceEpoch();
    await this.closeAll();
    const fresh = new Map<number, PartitionProducer>();
    try {
      await Promise.all(
        partitions.map(async (partition) => {
          const producer = this.kafka.producer({
            transactionalId: transactionalIdOf(this.groupId, this.topic, partition),
            idempotent: true,
            maxInFlightRequests: 1,
            transactionTimeout: 60_000,
            // Transaction requests right after a commit often meet CONCURRENT_TRANSACTIONS while
            // the broker writes the markers; the default 200 ms first backoff would stall the
            // stream far longer than the markers take, and so would a backoff doubling to 1 s
            // (runs with many such retries had a p99 of 0.3-0.7 s at 5,000 readings/s). At most
            // 100 ms between tries, about 10 s of patience in all.
            retry: { initialRetryTime: 10, maxRetryTime: 100, retries: 100 },
          });
          await producer.connect();
          // connect() only initialises an idempotent producer id; the transactional id's
          // InitProducerId (the fence) is sent by the first transaction(). Begin one and end it
          // empty (no request), so that the fence happens now, before the restore reads the
          // committed offsets, and never later: a producer first used after its partition
          // moved would otherwise fence the new owner and commit stale work.
          const fence = await producer.transaction();
          await fence.abort();
          fresh.set(partition, { producer, tail: Promise.resolve(), pending: undefined });
        }),
      );
    } catch (err) {
      await Promise.all([...fresh.values()].map((p) => p.producer.disconnect().catch(() => undefined)));
      throw err;
    }
    this.producers = fresh;
  }

  /**
   * Commits the chunk's outputs and offset in one transaction of the partition's producer.
   * Rejects (retriable) when the chunk is stale, when the partition is not assigned here, or
   * when the transaction failed (fenced by a new owner, or the broker refused it).
   */
  commit(partition: number, chunk: Chunk): Promise<void> {
    return this.enqueue(partition, chunk, 0).committed;
  }

  /**
   * Queues the chunk for its partition's next transaction without waiting for it: while a
   * transaction is in flight, the chunks that follow join one pending transaction (in order,
   * up to `maxReadings` readings; its offset is the latest chunk's), which starts when the one
   * in flight ends. So a processor scores its next batch while the broker commits the last,
   * and a slow commit delays the chunks behind it by one transaction, not by a fetch cycle.
   * `accepted` waits while the pending transaction is full (backpressure); `committed`
   * settles with the transaction that carries the chunk.
   */
  enqueue(partition: number, chunk: Chunk, readings: number): QueuedChunk {
    const p = this.producers.get(partition);
    if (!p) {
      const refused = Promise.reject(new PipelineError(`partition ${partition} of ${this.topic} is not assigned to this instance`, true));
      refused.catch(() => undefined);
      return { accepted: Promise.resolve(), committed: refused };
    }
    const q = p.pending;
    if (q && q.chunk.epoch === chunk.epoch && q.readings + readings <= this.maxReadings) {
      appendMessages(q.chunk.topicMessages, chunk.topicMessages);
      if (chunk.offset !== undefined) q.chunk.offset = chunk.offset;
      q.readings += readings;
      return { accepted: Promise.resolve(), committed: q.committed };
    }
    // The pending transaction (if any) is full or of another epoch: this chunk goes after it,
    // and the caller waits until that one has settled.
    const ahead = p.tail;
    const own: Pending = { chunk: { epoch: chunk.epoch, topicMessages: [], offset: chunk.offset }, readings, committed: Promise.resolve() };
    appendMessages(own.chunk.topicMessages, chunk.topicMessages);
    own.committed = ahead.then(() => {
      if (p.pending === own) p.pending = undefined;
      return this.transact(p.producer, partition, own.chunk);
    });
    p.pending = own;
    p.tail = own.committed.catch(() => undefined);
    return { accepted: q ? ahead : Promise.resolve(), committed: own.committed };
  }

  /** Waits for every queued and in-flight transaction to settle. */
  async drain(): Promise<void> {
    await Promise.all([...this.producers.values()].map((p) => p.tail));
  }

  private async transact(producer: Producer, partition: number, chunk: Chunk): Promise<void> {
    if (chunk.epoch !== this.current) throw new StaleChunkError();
    const txn = await producer.transaction();
    try {
      for (const request of splitBySize(chunk.topicMessages.filter((t) => t.messages.length > 0), MAX_REQUEST_BYTES)) await txn.sendBatch({ topicMessages: request });
      if (chunk.offset !== undefined) {
        await txn.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic: this.topic, partitions: [{ partition, offset: chunk.offset }] }] });
      }
      await txn.commit();
      this.hooks.committed?.();
    } catch (err) {
      this.current++;
      this.hooks.aborted?.(err);
      await txn.abort().catch((abortErr: unknown) => this.log.debug('abort failed (a fenced producer cannot abort)', { partition, error: describeError(abortErr) }));
      throw err;
    }
  }

  /** Waits for every transaction in flight, then disconnects the producers. */
  async close(): Promise<void> {
    await this.closeAll();
  }

  private async closeAll(): Promise<void> {
    const old = [...this.producers.values()];
    this.producers = new Map();
    await Promise.all(
      old.map(async (p) => {
        await p.tail;
        await p.producer.disconnect().catch((err: unknown) => this.log.warn('producer disconnect failed', { error: describeError(err) }));
      }),
    );
  }
}

/** Appends `more` to `into`, topic by topic, keeping each topic's messages in order. */
function appendMessages(into: TopicMessages[], more: readonly TopicMessages[]): void {
  for (const { topic, messages } of more) {
    if (messages.length === 0) continue;
    const same = into.find((t) => t.topic === topic);
    if (same) {
      for (const m of messages) same.messages.push(m);
    } else into.push({ topic, messages: [...messages] });
  }
}

/** Splits topic messages into requests of at most `limit` value bytes each (a single larger message goes alone). */
export function splitBySize(topicMessages: TopicMessages[], limit: number): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let group: Message[] = [];
    for (const m of messages) {
      const size = (m.value ? (m.value as Buffer).length : 0) + (m.key ? Buffer.byteLength(m.key as string | Buffer) : 0);
      if (bytes + size > limit && bytes > 0) {
        if (group.length) current.push({ topic, messages: group });
        requests.push(current);
        current = [];
        group = [];
        bytes = 0;
      }
      group.push(m);
      bytes += size;
    }
    if (group.length) current.push({ topic, messages: group });
  }
  if (current.length) requests.push(current);
  return requests;
}
