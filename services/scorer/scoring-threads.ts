/**
 * The scoring in worker threads: the consuming thread keeps Kafka (fetches, transactions,
 * restores) and each thread scores the partitions routed to it (partition modulo the thread
 * count) with the same code as on the consuming thread (scoring.ts). On a machine with a
 * core to spare this takes decode, the core and the encoding off the thread that drives
 * kafkajs: measured in `npm run bench:e2e` (benchmarks/README.md, "End to end").
 *
 * A thread that dies takes its partitions' states with it: its pending calls fail, `onLost`
 * is told (the scorer then restores, as after a failed transaction), and the next `load`
 * starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { KafkaMessage, Message } from 'kafkajs';
import type { CompiledConfig } from '../core/index.ts';
import type { TopicNames } from '../kafka/topics.ts';
import { PipelineError } from '../runtime/errors.ts';
import type { ChunkOutcome, LoadedPartition, Scoring } from './scoring.ts';
import { packChunk, packMessages, unpackMessages, type PackedChunk, type PackedMessages } from './thread-packing.ts';

/** What a thread starts with (its workerData). */
export interface ThreadInit {
  registryUrl: string;
  topics: TopicNames;
  cfg: CompiledConfig;
  settings: { stateTtlMs: number; checkpointIntervalMs: number; checkpointMaxReadings: number };
}

type PackedLoad = Omit<LoadedPartition, 'states'> & { states: PackedMessages };

export type ThreadCall =
  | { op: 'load'; id: number; partitions: PackedLoad[]; replace: boolean }
  | { op: 'score'; id: number; partition: number; topic: string; chunk: PackedChunk; now: number }
  | { op: 'committed'; partition: number; nextOffset: bigint }
  | { op: 'final'; id: number };

/** A call that expects a reply, before call() numbers it. */
type ThreadRequest = DistributiveOmit<Extract<ThreadCall, { id: number }>, 'id'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type PackedOutcome = Omit<ChunkOutcome, 'topicMessages'> & { topics: { topic: string; packed: PackedMessages }[] };

export interface ThreadReply {
  id: number;
  outcome?: PackedOutcome;
  final?: { partition: number; packed: PackedMessages }[];
  error?: { message: string; causes: string[]; retriable?: boolean };
}

/** Rebuilds a thread's error with its causes' messages (what dependencyOf() reads). */
function threadError(e: NonNullable<ThreadReply['error']>): Error {
  let cause: Error | undefined;
  for (const m of [...e.causes].reverse()) cause = new Error(m, cause ? { cause } : undefined);
  return new PipelineError(e.message, e.retriable ?? true, cause ? { cause } : undefined);
}

class ScoringThread {
  private readonly pending = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  readonly ready: Promise<void>;
  dead = false;

  constructor(url: URL, init: ThreadInit, onExit: (err: Error) => void) {
    const worker = new Worker(url, { workerData: init });
    // The consuming thread's sockets keep the process alive while it runs; a thread alone
    // must not (a scorer that failed to start exits instead of hanging on its threads).
    worker.unref();
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (m: ThreadReply | { ready: true } | { initError: string }) => {
        if ('ready' in m) return resolve();
        if ('initError' in m) return reject(new PipelineError(`scoring thread: ${m.initError}`, true));
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(threadError(m.error));
        else p?.resolve(m);
      });
      worker.on('error', (err) => reject(err));
      worker.on('exit', (code) => {
        this.dead = true;
        const err = new PipelineError(`scoring thread exited (code ${code}); its partitions' states are lost`, true);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        if (!this.closing) onExit(err);
      });
    });
  }

  readonly worker: Worker;
  closing = false;

  call(msg: ThreadRequest, transfer: ArrayBuffer[] = []): Promise<ThreadReply> {
    if (this.dead) return Promise.reject(new PipelineError('scoring thread is not running; its partitions\' states are lost', true));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  tell(msg: Extract<ThreadCall, { op: 'committed' }>): void {
    if (!this.dead) this.worker.postMessage(msg);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

const THREAD_URL = new URL('./scoring-thread.mjs', import.meta.url);

export class ThreadedScoring implements Scoring {
  private readonly threads: ScoringThread[];

  private constructor(
    private readonly init: ThreadInit,
    count: number,
    private readonly onLost: (err: Error) => void,
  ) {
    this.threads = Array.from({ length: count }, () => this.spawn());
  }

  /** Starts `count` threads and waits until each has registered its schemas. */
  static async start(init: ThreadInit, count: number, onLost: (err: Error) => void): Promise<ThreadedScoring> {
    const s = new ThreadedScoring(init, count, onLost);
    try {
      await Promise.all(s.threads.map((t) => t.ready));
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  private spawn(): ScoringThread {
    return new ScoringThread(THREAD_URL, this.init, (err) => this.onLost(err));
  }

  private of(partition: number): ScoringThread {
    return this.threads[partition % this.threads.length]!;
  }

  async load(partitions: LoadedPartition<Buffer>[]): Promise<void> {
    for (let i = 0; i < this.threads.length; i++) {
      if (this.threads[i]!.dead) {
        this.threads[i] = this.spawn();
        await this.threads[i]!.ready;
      }
    }
    // Each thread drops what it held, then takes its partitions one at a time: a partition's
    // bytes are packed, released here and decoded there, so a restore never holds the whole
    // changelog twice (1,000,000 states are about 4 GB).
    await Promise.all(
      this.threads.map(async (t, i) => {
        await t.call({ op: 'load', partitions: [], replace: true });
        for (const p of partitions.filter((x) => x.partition % this.threads.length === i)) {
          const states = packMessages([...p.states].map(([key, value]) => ({ key, value })));
          p.states.clear();
          await t.call({ op: 'load', partitions: [{ ...p, states }], replace: false }, [states.buf]);
        }
      }),
    );
  }

  async score(partition: number, topic: string, messages: KafkaMessage[], now: number): Promise<ChunkOutcome> {
    const chunk = packChunk(messages);
    const reply = await this.of(partition).call({ op: 'score', partition, topic, chunk, now }, [chunk.messages.buf]);
    const { topics, ...rest } = reply.outcome!;
    return { ...rest, topicMessages: topics.map((t) => ({ topic: t.topic, messages: unpackMessages(t.packed) })) };
  }

  committed(partition: number, nextOffset: bigint): void {
    this.of(partition).tell({ op: 'committed', partition, nextOffset });
  }

  async finalCheckpoint(): Promise<{ partition: number; messages: Message[] }[]> {
    const replies = await Promise.all(this.threads.map((t) => t.call({ op: 'final' })));
    return replies.flatMap((r) => (r.final ?? []).map((f) => ({ partition: f.partition, messages: unpackMessages(f.packed) })));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
