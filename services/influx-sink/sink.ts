/**
 * The influx-sink service: consumes readings, scores and predictions (read_committed, one
 * consumer group), maps them to InfluxDB points (points.ts) and writes them in batches, by
 * size and by time. Kafka offsets are committed only after InfluxDB accepted every point of
 * the records they cover, so a crash at any moment loses nothing: the records are consumed
 * again and their points overwrite themselves (same measurement, tags and timestamp).
 *
 * - InfluxDB down or overloaded: the batch is retried with backoff (honouring Retry-After)
 *   and consumption is paused until a write succeeds again; nothing is skipped.
 * - InfluxDB refuses data (400/413/422): the batch is split in halves until the records whose
 *   points are refused are found; those go to `<topic>.dlq`, the rest is written.
 * - Poison records (bad bytes, unknown schema, wrong record shape): `<topic>.dlq` with the
 *   original bytes; their offsets are committed only after the DLQ accepted them.
 * - Misconfiguration (wrong token, no such bucket): refused at start; if it appears later
 *   the service stops (done rejects) without committing what it could not write.
 *
 * Flushes run one at a time, in order (a promise chain): a later batch's offsets are never
 * committed before an earlier batch is written.
 */
import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec } from '../kafka/codec.ts';
import { deadLetter, type SourceRecord } from '../kafka/dlq.ts';
import type { InfluxConnection } from '../kafka/env.ts';
import { MAINTENANCE_SCHEMA, SCORE_BATCH_SCHEMA } from '../kafka/records.ts';
import type { TopicNames } from '../kafka/topics.ts';
import { describeError, PoisonRecordError, ServiceConfigError } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { MetricsRegistry, type Metric } from '../runtime/metrics.ts';
import { backoffMs, retry, sleep } from '../runtime/retry.ts';
import type { RunningService } from '../runtime/service.ts';
import { recordPoints, toLines, type RecordKind } from './points.ts';
import { InfluxWriteError, InfluxWriter } from './writer.ts';

export const SERVICE_NAME = 'influx-sink';

/** Options of {@link startInfluxSink}; omitted ones take {@link DEFAULT_INFLUX_SINK}. */
export interface InfluxSinkOptions {
  /** Kafka bootstrap brokers, host:port. */
  brokers: string[];
  /** Confluent-compatible schema registry base URL. */
  registryUrl: string;
  /** Topic names (readings, scores and predictions are consumed). */
  topics: TopicNames;
  influx: InfluxConnection;
  /** Consumer group. Default 'pdm-influx-sink'. */
  groupId?: string;
  /** Kafka client id. Default 'pdm-influx-sink'. */
  clientId?: string;
  /** Points per write; a batch is written as soon as it holds this many. Default 5,000. */
  batchSize?: number;
  /** A non-empty batch is written at least this often, ms. Default 1,000. */
  flushIntervalMs?: number;
  /**
   * Attempts after the first for the final flush of stop(). While running, a write InfluxDB
   * could not take (down, 5xx, 429, timeout) is retried without limit, consumption paused:
   * giving up would mean dropping data or crashing into the same wall. Default 8.
   */
  maxRetries?: number;
  /** First retry backoff, ms (exponential with full jitter). Default 200. */
  minDelayMs?: number;
  /** Backoff ceiling, ms; also caps a server's Retry-After. Default 30,000. */
  maxDelayMs?: number;
  /** Budget of one HTTP write, ms. Default 10,000. */
  writeTimeoutMs?: number;
  /** Where the metrics go. Default: a new registry. */
  metrics?: MetricsRegistry;
  /** Default: createLogger('influx-sink'). */
  logger?: Logger;
}

type SinkConfig = Readonly<Required<Omit<InfluxSinkOptions, 'metrics' | 'logger'>>>;

export const DEFAULT_INFLUX_SINK = Object.freeze({
  groupId: 'pdm-influx-sink',
  clientId: 'pdm-influx-sink',
  batchSize: 5_000,
  flushIntervalMs: 1_000,
  maxRetries: 8,
  minDelayMs: 200,
  maxDelayMs: 30_000,
  writeTimeoutMs: 10_000,
});

/** Ceiling on batchSize: InfluxDB recommends batches of 5,000-10,000 lines; 100,000 is already many MB per request. */
const MAX_BATCH_SIZE = 100_000;

/** The running sink: a RunningService that also tells how many points it gave up on at stop. */
export interface InfluxSink extends RunningService {
  /** Points the final flush of stop() could not write (their offsets were not committed). */
  readonly unwrittenPoints: number;
}

/** Validates the options into a frozen config; every problem is named at once. */
export function compileSinkOptions(opts: InfluxSinkOptions): SinkConfig {
  const c = { ...DEFAULT_INFLUX_SINK, ...stripUndefined(opts) } as Required<InfluxSinkOptions>;
  const problems: string[] = [];
  const int = (name: keyof InfluxSinkOptions, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name}=${v}: must be an integer from ${min} to ${max}`);
  };
  if (c.brokers.length === 0) problems.push('brokers: at least one host:port is needed');
  for (const [name, v] of [['registryUrl', c.registryUrl], ['influx.url', c.influx.url]] as const) {
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`${name}=${v}: must be an http(s) URL`);
    } catch {
      problems.push(`${name}=${v}: not a URL`);
    }
  }
  if (!c.influx.bucket) problems.push('influx.bucket: empty');
  if (!c.influx.token) problems.push('influx.token: empty');
  if (!c.groupId) problems.push('groupId: empty');
  int('batchSize', c.batchSize, 1, MAX_BATCH_SIZE);
  int('flushIntervalMs', c.flushIntervalMs, 10, 3_600_000);
  int('maxRetries', c.maxRetries, 0, 1_000);
  int('minDelayMs', c.minDelayMs, 1, 3_600_000);
  int('maxDelayMs', c.maxDelayMs, 1, 3_600_000);
  int('writeTimeoutMs', c.writeTimeoutMs, 100, 600_000);
  if (c.minDelayMs > c.maxDelayMs) problems.push(`minDelayMs=${c.minDelayMs} is above maxDelayMs=${c.maxDelayMs}`);
  // The consumer must heartbeat while a write is in flight; kafkajs's session timeout is 30 s.
  if (c.writeTimeoutMs >= 30_000) problems.push(`writeTimeoutMs=${c.writeTimeoutMs}: must be below the 30,000 ms consumer session timeout`);
  if (problems.length) throw new ServiceConfigError(problems);
  const { metrics: _m, logger: _l, ...rest } = c;
  return Object.freeze({ ...rest, influx: Object.freeze({ ...c.influx }), topics: Object.freeze({ ...c.topics }) });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One consumed record and its line-protocol points (none for a dead letter or a reading without finite values). */
interface Entry {
  src: SourceRecord;
  lines: string[];
}

interface Batch {
  entries: Entry[];
  /** Number of lines over all entries. */
  points: number;
}

const emptyBatch = (): Batch => ({ entries: [], points: 0 });

/**
 * Starts the sink: checks the InfluxDB settings (a wrong token or bucket is a
 * ServiceConfigError), connects to Kafka, subscribes and begins consuming.
 */
export async function startInfluxSink(opts: InfluxSinkOptions): Promise<InfluxSink> {
  const cfg = compileSinkOptions(opts);
  const sink = new Sink(cfg, opts.metrics ?? new MetricsRegistry(), opts.logger ?? createLogger(SERVICE_NAME));
  await sink.start();
  return sink;
}

class Sink implements InfluxSink {
  readonly name = SERVICE_NAME;
  readonly done: Promise<void>;
  unwrittenPoints = 0;

  private readonly writer: InfluxWriter;
  private readonly codec: AvroCodec;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly kinds: ReadonlyMap<string, RecordKind>;

  // Appended to by eachBatch only; a flush swaps it for an empty one when it starts.
  private pending: Batch = emptyBatch();
  // Flushes are chained so they run one at a time and commit in order.
  private flushChain: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private flushing = false;
  private inBatch: Promise<void> = Promise.resolve();
  private paused = false;
  /** True from the first failed attempt of a write until a write succeeds. */
  private influxDown = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** The first error no retry could fix; done rejects with it. */
  private failure: unknown;
  /** Cuts short a backoff sleep when stop() is called. */
  private readonly stopSignal = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;

  private readonly m: {
    consumed: Metric;
    points: Metric;
    batches: Metric;
    retries: Metric;
    deadLetters: Metric;
    lag: Metric;
    pausedGauge: Metric;
  };

  constructor(
    private readonly cfg: SinkConfig,
    readonly metrics: MetricsRegistry,
    private readonly log: Logger,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A crash is reported through done; keep an unobserved rejection from killing the process.
    this.done.catch(() => undefined);
    this.writer = new InfluxWriter(cfg.influx, cfg.writeTimeoutMs);
    this.codec = new AvroCodec(cfg.registryUrl);
    const kafka = createKafka({ brokers: [...cfg.brokers], clientId: cfg.clientId });
    this.consumer = kafka.consumer({
      groupId: cfg.groupId,
      // Only committed transactions: the scorer's aborted outputs must never reach a dashboard.
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    this.producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    this.kinds = new Map<string, RecordKind>([
      [cfg.topics.readings, 'reading'],
      [cfg.topics.scores, 'score'],
      [cfg.topics.predictions, 'prediction'],
    ]);
    const labels = 'service';
    this.m = {
      consumed: metrics.counter('pdm_records_consumed_total', `Records consumed, by ${labels} and topic`),
      points: metrics.counter('pdm_influx_points_written_total', 'Points InfluxDB accepted, by service and measurement'),
      batches: metrics.counter('pdm_influx_batches_total', 'Batches written to InfluxDB and committed, by service'),
      retries: metrics.counter('pdm_influx_write_retries_total', 'InfluxDB write attempts that failed and were retried, by service'),
      deadLetters: metrics.counter('pdm_dead_letters_total', 'Records sent to a dead-letter topic, by service and reason'),
      lag: metrics.gauge('pdm_consumer_lag', 'Records behind the high watermark after the last batch, by service, topic and partition'),
      pausedGauge: metrics.gauge('pdm_influx_sink_paused', '1 while consumption is paused because InfluxDB is not accepting writes'),
    };
    this.m.pausedGauge.set(0, { service: SERVICE_NAME });
  }

  async start(): Promise<void> {
    await this.checkInflux();
    try {
      await this.producer.connect();
      await this.consumer.connect();
      for (const topic of this.kinds.keys()) await this.consumer.subscribe({ topic, fromBeginning: true });
    } catch (cause) {
      await this.disconnect();
      throw new ServiceConfigError([`cannot connect to Kafka at ${this.cfg.brokers.join(',')} or subscribe to ${[...this.kinds.keys()].join(', ')}: ${describeError(cause)}`]);
    }
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.fail(e.payload.error);
    });
    await this.consumer.run({
      autoCommit: false,
      // Offsets are resolved one record at a time, as each is appended or dead-lettered.
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.trackBatch(payload),
    });
    this.timer = setInterval(() => {
      if (this.pending.points > 0 || this.pending.entries.length > 0) this.scheduleFlush();
    }, this.cfg.flushIntervalMs);
    this.log.info('started', {
      groupId: this.cfg.groupId,
      topics: [...this.kinds.keys()],
      influx: this.cfg.influx.url,
      bucket: this.cfg.influx.bucket,
      batchSize: this.cfg.batchSize,
      flushIntervalMs: this.cfg.flushIntervalMs,
    });
  }

  /** A wrong token or bucket stops the start; an InfluxDB that is merely down does not (writes wait for it). */
  private async checkInflux(): Promise<void> {
    try {
      await this.writer.check();
    } catch (err) {
      if (err instanceof InfluxWriteError && err.verdict !== 'retriable') {
        throw new ServiceConfigError([
          `influx: ${err.message} (check influx.token${err.status === 404 ? ' and influx.bucket (database/retention-policy on 1.8)' : ''})`,
        ]);
      }
      this.log.warn('InfluxDB is not reachable at start; consuming anyway, writes wait for it', { error: describeError(err) });
    }
  }

  private trackBatch(payload: EachBatchPayload): Promise<void> {
    const p = this.eachBatch(payload);
    this.inBatch = p.catch(() => undefined);
    return p;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const kind = this.kinds.get(batch.topic);
    if (!kind) throw new Error(`influx-sink received topic ${batch.topic}, which it did not subscribe to`);
    const labels = { service: SERVICE_NAME, topic: batch.topic };
    let lastBeat = Date.now();
    for (const m of batch.messages) {
      if (this.stopping || !isRunning() || isStale()) break;
      const src: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers };
      let lines: string[];
      try {
        const decoded = this.codec.decodeIfCached(m.value) ?? (await this.codec.decodeNamed(m.value));
        // The readings topic also carries maintenance events, the scores topic score batches
        // (each its own record schema).
        const as: RecordKind = decoded.schema === MAINTENANCE_SCHEMA ? 'maintenance' : decoded.schema === SCORE_BATCH_SCHEMA ? 'scoreBatch' : kind;
        lines = toLines(recordPoints(as, decoded.value));
      } catch (err) {
        // A registry that does not answer is not the record's fault: thrown, kafkajs retries
        // the batch from the first unresolved offset.
        if (!(err instanceof PoisonRecordError)) throw err;
        await this.sendDeadLetter(src, err);
        lines = [];
      }
      this.pending.entries.push({ src, lines });
      this.pending.points += lines.length;
      resolveOffset(m.offset);
      this.m.consumed.inc(labels);
      if (this.pending.points >= this.cfg.batchSize) {
        this.scheduleFlush();
        // Back-pressure: one batch in flight, one filling; beyond that, stop fetching.
        if (this.flushing) this.pauseAll('a full batch waits for the write in flight');
      }
      if (Date.now() - lastBeat > 1_000) {
        await heartbeat();
        lastBeat = Date.now();
      }
    }
    this.m.lag.set(Number(batch.offsetLag()), { ...labels, partition: String(batch.partition) });
  }

  /** Sends one dead letter, retried; throws if Kafka will not take it (the offset then stays uncommitted). */
  private async sendDeadLetter(src: SourceRecord, err: unknown): Promise<void> {
    const dl = deadLetter(src, err, SERVICE_NAME, Date.now());
    await retry(() => this.producer.send({ topic: dl.topic, messages: [dl.message], acks: -1 }), {
      retries: 5,
      minDelayMs: this.cfg.minDelayMs,
      maxDelayMs: this.cfg.maxDelayMs,
    });
    const reason = err instanceof PoisonRecordError ? err.reason : 'invalid_record';
    this.m.deadLetters.inc({ service: SERVICE_NAME, reason });
    this.log.warn('dead-lettered a record', { topic: src.topic, partition: src.partition, offset: src.offset, reason, error: describeError(err) });
  }

  private scheduleFlush(): Promise<void> {
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.flushChain = this.flushChain
        .then(() => {
          this.flushQueued = false;
          return this.flushOnce();
        })
        .catch((err: unknown) => this.fail(err));
    }
    return this.flushChain;
  }

  /** Writes what is pending (retrying until it is accepted, or until stop() gives up), then commits its offsets. */
  private async flushOnce(): Promise<void> {
    const batch = this.pending;
    if (batch.entries.length === 0) return;
    this.pending = emptyBatch();
    this.flushing = true;
    try {
      if (!this.influxDown) this.resumeIfRoom();
      let stopAttempts = 0;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.writeEntries(batch.entries);
          break;
        } catch (err) {
          if (!(err instanceof InfluxWriteError) || err.verdict !== 'retriable') throw err;
          if (!this.influxDown) {
            this.influxDown = true;
            this.log.warn('InfluxDB is not accepting writes; pausing consumption and retrying', { points: batch.points, error: describeError(err) });
          }
          this.pauseAll('InfluxDB is not accepting writes');
          if (this.stopping && ++stopAttempts > this.cfg.maxRetries) {
            this.unwrittenPoints += batch.points;
            this.log.error(`stopping with ${batch.points} points of ${batch.entries.length} records not written; their offsets are not committed, so they are consumed again on restart`, {
              points: batch.points,
              records: batch.entries.length,
              error: describeError(err),
            });
            return;
          }
          this.m.retries.inc({ service: SERVICE_NAME });
          const delay = backoffMs(attempt, this.cfg, err.retryAfterMs);
          this.log.debug('retrying the write', { attempt, delayMs: Math.round(delay), status: err.status });
          await sleep(delay, this.stopping ? undefined : this.stopSignal.signal);
        }
      }
      await this.commit(batch);
      if (this.influxDown) {
        this.influxDown = false;
        this.log.info('InfluxDB accepts writes again; resuming consumption');
      }
      this.resumeIfRoom();
    } finally {
      this.flushing = false;
    }
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
    const lines = withPoints.flatMap((e) => e.lines);
    try {
      await this.writer.write(lines);
    } catch (err) {
      if (!(err instanceof InfluxWriteError) || err.verdict !== 'rejected') throw err;
      if (withPoints.length === 1) {
        const entry = withPoints[0]!;
        await this.sendDeadLetter(entry.src, new PoisonRecordError(`InfluxDB refused the ${entry.lines.length} points of this record`, 'invalid_value', { cause: err }));
        // Dead-lettered: a retry of the enclosing batch must not write or dead-letter it again.
        entry.lines = [];
        return;
      }
      const mid = Math.ceil(withPoints.length / 2);
      await this.writeEntries(withPoints.slice(0, mid));
      await this.writeEntries(withPoints.slice(mid));
      return;
    }
    for (const line of lines) {
      // Measurement names of points.ts contain no escaped commas or spaces.
      const end = line.search(/[, ]/);
      this.m.points.inc({ service: SERVICE_NAME, measurement: line.slice(0, end) });
    }
  }

  /** Commits, per partition, the offset after the last record of the batch. */
  private async commit(batch: Batch): Promise<void> {
    const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const { src } of batch.entries) {
      const key = `${src.topic}\u0000${src.partition}`;
      const off = BigInt(src.offset) + 1n;
      const cur = next.get(key);
      if (!cur || off > cur.offset) next.set(key, { topic: src.topic, partition: src.partition, offset: off });
    }
    const offsets = [...next.values()].map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() }));
    try {
      await this.consumer.commitOffsets(offsets);
      this.m.batches.inc({ service: SERVICE_NAME });
    } catch (err) {
      // A rebalance moved the partitions: the new owner consumes these records again and
      // rewrites the same points, so nothing is lost (dead letters may repeat).
      this.log.warn('offset commit failed after a successful write; the records will be consumed again', { offsets, error: describeError(err) });
    }
  }

  private topicList(): { topic: string }[] {
    return [...this.kinds.keys()].map((topic) => ({ topic }));
  }

  private pauseAll(why: string): void {
    if (this.paused) return;
    this.paused = true;
    this.consumer.pause(this.topicList());
    this.m.pausedGauge.set(1, { service: SERVICE_NAME });
    this.log.debug('paused consumption', { why });
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.stopping || this.pending.points >= this.cfg.batchSize) return;
    this.paused = false;
    this.consumer.resume(this.topicList());
    this.m.pausedGauge.set(0, { service: SERVICE_NAME });
    this.log.debug('resumed consumption');
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    // Stop fetching, but stay in the group: commits need a live membership. A consumer that is
    // restarting after a crash (a coordinator still loading, a rebalance) has no group to
    // pause: then it fetches nothing anyway.
    try {
      this.consumer.pause(this.topicList());
    } catch (err) {
      this.log.warn('could not pause the consumer while stopping (it is restarting)', { error: describeError(err) });
    }
    this.stopSignal.abort();
    await this.inBatch;
    await this.scheduleFlush();
    await this.disconnect();
    this.log.info('stopped', { unwrittenPoints: this.unwrittenPoints });
    if (this.failure !== undefined) this.rejectDone(this.failure);
    else this.resolveDone();
  }

  private async disconnect(): Promise<void> {
    await this.consumer.disconnect().catch((err: unknown) => this.log.warn('consumer disconnect failed', { error: describeError(err) }));
    await this.producer.disconnect().catch((err: unknown) => this.log.warn('producer disconnect failed', { error: describeError(err) }));
  }

  /** A failure no retry can fix: stop without committing what was not written, and reject done. */
  private fail(err: unknown): void {
    this.failure ??= err;
    if (this.stopping) {
      // shutdown() is under way and rejects done with this failure when it ends.
      this.log.error('failed while stopping', { error: describeError(err) });
      return;
    }
    this.stopping = true;
    clearInterval(this.timer);
    this.stopSignal.abort();
    const lost = this.pending.points;
    this.log.error(`crashed; ${lost} pending points not written and their offsets not committed (they are consumed again on restart)`, {
      error: describeError(err),
    });
    this.stopped = this.disconnect().then(() => this.rejectDone(err));
  }
}
