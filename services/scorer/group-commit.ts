/**
 * Group commit of a transactional consume-transform-produce processor. Batches of several
 * partitions are processed concurrently (kafkajs partitionsConsumedConcurrently) but a
 * transactional producer runs one transaction at a time, so chunks that finish while a
 * transaction is in flight wait and then go out together in the next one: one commit for
 * many partitions instead of one each.
 *
 * `epoch` advances on every failed transaction (and whenever the owner rebuilds its state,
 * `advanceEpoch`): a chunk processed in an older epoch used state that is being rebuilt and
 * is never committed; its promise rejects with a retriable error instead.
 *
 * Knows nothing of scoring: the e2e benchmark's exactly-once passthrough uses it as is.
 */
import type { Message, Producer } from 'kafkajs';
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

/** One processed chunk waiting for its transaction. */
export interface Chunk {
  /** The epoch the chunk was processed in (see GroupCommitter.epoch). */
  epoch: number;
  topicMessages: TopicMessages[];
  /** The consumed offset to commit with it (the next offset to read); none for a final checkpoint. */
  offset?: { partition: number; offset: string };
}

interface Pending extends Chunk {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitHooks {
  committed?: (chunks: number) => void;
  aborted?: (err: unknown) => void;
}

export class GroupCommitter {
  private current = 0;
  private queue: Pending[] = [];
  private committer: Promise<void> | undefined;

  /**
   * @param producer a connected transactional producer (one transaction at a time)
   * @param groupId the consumer group whose offsets are committed with the outputs
   * @param topic the consumed topic
   */
  constructor(
    private readonly producer: Producer,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly hooks: GroupCommitHooks = {},
  ) {}

  /** The current epoch: stamp each chunk with it when its processing starts. */
  get epoch(): number {
    return this.current;
  }

  /** Invalidates every chunk processed so far (their state is being rebuilt). */
  advanceEpoch(): void {
    this.current++;
  }

  /** Resolves once the chunk's outputs and offset are committed; rejects if its transaction failed or it is stale. */
  commit(chunk: Chunk): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...chunk, resolve, reject });
      // Start the transaction after the current turn of the event loop: the other partitions'
      // batches of the same fetch are processed in this turn and join the same transaction.
      this.committer ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain()).finally(() => (this.committer = undefined));
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const stale = group.filter((c) => c.epoch !== this.current);
      for (const c of stale) c.reject(new PipelineError('processed on state that is being rebuilt after a failed transaction or a rebalance', true));
      const live = group.filter((c) => c.epoch === this.current);
      if (live.length === 0) continue;
      const txn = await this.producer.transaction();
      try {
        const byTopic = new Map<string, Message[]>();
        for (const c of live) {
          for (const t of c.topicMessages) {
            const list = byTopic.get(t.topic);
            if (list) for (const msg of t.messages) list.push(msg);
            else byTopic.set(t.topic, [...t.messages]);
          }
        }
        const merged = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        for (const request of splitBySize(merged, MAX_REQUEST_BYTES)) await txn.sendBatch({ topicMessages: request });
        const offsets = live.flatMap((c) => (c.offset ? [c.offset] : []));
        if (offsets.length > 0) await txn.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic: this.topic, partitions: offsets }] });
        await txn.commit();
        this.hooks.committed?.(live.length);
        for (const c of live) c.resolve();
      } catch (err) {
        this.current++;
        this.hooks.aborted?.(err);
        await txn.abort().catch((abortErr: unknown) => this.log.warn('abort failed', { error: describeError(abortErr) }));
        for (const c of live) c.reject(err);
      }
    }
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
