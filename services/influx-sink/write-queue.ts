/**
 * The sink's write pipeline: batches of consumed records go to InfluxDB with up to
 * `maxInFlight` writes at once, and their Kafka offsets are committed strictly in the order
 * the batches were consumed, each only after its own write and every earlier one succeeded.
 *
 * Why concurrent writes: a write is an HTTP round trip in which InfluxDB parses and indexes
 * the batch; with one write at a time the sink's own CPU (consume, decode, encode) and
 * InfluxDB's take turns instead of overlapping. Why ordered commits: a batch's offsets are
 * the highest of its records; committing a later batch before an earlier one is written would
 * skip the earlier one's records after a crash.
 *
 * Every failure of a write has one verdict (writer.ts):
 * - retriable (InfluxDB down, slow, 5xx, 429): the write is retried with backoff (honouring
 *   Retry-After) without limit while running; during stop(), at most `maxRetries` more times,
 *   then the batch is abandoned and neither it nor any later batch is committed, so its
 *   records are consumed again on restart;
 * - rejected (400, 413, 422: the data itself): the batch is split in halves until the records
 *   whose points are refused are found; those are dead-lettered, the rest is written;
 * - fatal (credentials, missing bucket): reported through `onFatal`; nothing more is committed.
 *
 * No Kafka and no HTTP here: the sink injects the write, commit and dead-letter functions,
 * so the ordering rules are unit-tested on their own (write-queue.test.ts).
 */
import type { SourceRecord } from '../kafka/dlq.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { backoffMs, sleep } from '../runtime/retry.ts';
import { InfluxWriteError } from './writer.ts';

/** One consumed record and its line-protocol points (none for a dead letter or a reading without finite values). */
export interface Entry {
  src: SourceRecord;
  lines: string[];
}

/** What the queue needs from the sink. */
export interface WriteQueueDeps {
  /** Writes the lines; resolves only when InfluxDB accepted all of them, else throws an InfluxWriteError. */
  write(lines: string[]): Promise<void>;
  /** Commits the offsets covering the batch (only called in consumption order). */
  commit(entries: readonly Entry[]): Promise<void>;
  /** Sends one record whose points InfluxDB refuses to the dead-letter topic; throws if Kafka will not take it. */
  deadLetter(entry: Entry, err: PoisonRecordError): Promise<void>;
  /** A write failed and will be retried (InfluxDB down or overloaded). */
  onRetry(err: InfluxWriteError, attempt: number, points: number): void;
  /** A write succeeded after InfluxDB had been failing. */
  onRecovered(): void;
  /** The lines of these entries are stored. */
  onWritten(entries: readonly Entry[], points: number): void;
  /** A batch was given up during stop; its offsets (and later ones) stay uncommitted. */
  onAbandoned(points: number, records: number, err: InfluxWriteError): void;
  /** A failure no retry can fix; the queue commits nothing more. */
  onFatal(err: unknown): void;
  /** A batch finished (committed, abandoned or failed): room for another write. */
  onSettled(): void;
}

export interface WriteQueueOptions {
  /** Writes in flight at once. */
  maxInFlight: number;
  /** Attempts after the first, once stopping. */
  maxRetries: number;
  minDelayMs: number;
  maxDelayMs: number;
}

type Outcome = 'written' | 'abandoned' | 'failed';

export class WriteQueue {
  private inFlightCount = 0;
  /** Commits run one after another, in submission order. */
  private commits: Promise<void> = Promise.resolve();
  /** Set once a batch was abandoned or failed: no later offset may be committed. */
  private halted = false;
  private stopping = false;
  /** True from the first failed attempt of any write until a write succeeds. */
  private down = false;
  /** Cuts short the backoff sleeps when stop begins. */
  private readonly stopSignal = new AbortController();

  constructor(
    private readonly deps: WriteQueueDeps,
    private readonly opts: WriteQueueOptions,
  ) {}

  /** Writes in flight or waiting for their commit turn. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** True when another batch may be submitted without exceeding maxInFlight. */
  get hasRoom(): boolean {
    return this.inFlightCount < this.opts.maxInFlight;
  }

  /** True while InfluxDB is failing writes. */
  get influxDown(): boolean {
    return this.down;
  }

  /** Points of batches given up during stop. */
  abandonedPoints = 0;

  /** Starts writing a batch now and queues its commit behind every earlier batch's. */
  submit(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.inFlightCount++;
    const written = this.writeBatch(entries).catch((err: unknown): Outcome => {
      this.halted = true;
      this.deps.onFatal(err);
      return 'failed';
    });
    this.commits = this.commits.then(async () => {
      const outcome = await written;
      try {
        if (outcome === 'written' && !this.halted) await this.deps.commit(entries);
        else this.halted = true;
      } catch (err) {
        this.halted = true;
        this.deps.onFatal(err);
      } finally {
        this.inFlightCount--;
        this.deps.onSettled();
      }
    });
  }

  /** From now on a failing write gives up after maxRetries; backoff sleeps in progress end. */
  beginStop(): void {
    this.stopping = true;
    this.stopSignal.abort();
  }

  /** Resolves when every submitted batch is committed, abandoned or failed. */
  drain(): Promise<void> {
    return this.commits;
  }

  private async writeBatch(entries: Entry[]): Promise<Outcome> {
    let points = 0;
    for (const e of entries) points += e.lines.length;
    let stopAttempts = 0;
    for (let attempt = 1; ; attempt++) {
      if (this.halted) return 'abandoned';
      try {
        await this.writeEntries(entries);
        break;
      } catch (err) {
        if (!(err instanceof InfluxWriteError) || err.verdict !== 'retriable') throw err;
        this.down = true;
        if (this.stopping && ++stopAttempts > this.opts.maxRetries) {
          this.abandonedPoints += points;
          this.deps.onAbandoned(points, entries.length, err);
          return 'abandoned';
        }
        this.deps.onRetry(err, attempt, points);
        await sleep(backoffMs(attempt, this.opts, err.retryAfterMs), this.stopping ? undefined : this.stopSignal.signal);
      }
    }
    if (this.down) {
      this.down = false;
      this.deps.onRecovered();
    }
    this.deps.onWritten(entries, points);
    return 'written';
  }

  /**
   * Writes the entries' points. When InfluxDB rejects the data, the entries are split in
   * halves and each half written again, down to single records, which are dead-lettered:
   * points of a half that was accepted are rewritten harmlessly (a point overwrites itself),
   * and 1.8's "partial write" stores the good lines of a batch anyway.
   */
  private async writeEntries(entries: Entry[]): Promise<void> {
    const withPoints = entries.filter((e) => e.lines.length > 0);
    if (withPoints.length === 0) return;
    const lines = withPoints.length === 1 ? withPoints[0]!.lines : withPoints.flatMap((e) => e.lines);
    try {
      await this.deps.write(lines);
    } catch (err) {
      if (!(err instanceof InfluxWriteError) || err.verdict !== 'rejected') throw err;
      if (withPoints.length === 1) {
        const entry = withPoints[0]!;
        await this.deps.deadLetter(entry, new PoisonRecordError(`InfluxDB refused the ${entry.lines.length} points of this record`, 'invalid_value', { cause: err }));
        // Dead-lettered: a retry of the enclosing batch must not write or dead-letter it again.
        entry.lines = [];
        return;
      }
      const mid = Math.ceil(withPoints.length / 2);
      await this.writeEntries(withPoints.slice(0, mid));
      await this.writeEntries(withPoints.slice(mid));
    }
  }
}
