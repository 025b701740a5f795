/**
 * The influx-sink service: consumes the scorer's outputs, anomaly scores (whose blocks carry
 * the raw readings too) and predictions (read_committed, one consumer group), maps them to InfluxDB line protocol (points.ts) and writes them in
 * batches, by size and by time, through the write queue (write-queue.ts). Kafka offsets are
 * committed only after InfluxDB accepted every point of the records they cover, in
 * consumption order, so a crash at any moment loses nothing: the records are consumed again
 * and their points overwrite themselves (same measurement, tags and timestamp).
 *
 * Pipelined: while up to `writeConcurrency` batches are being written, the next one is
 * consumed, decoded and encoded. Consumption pauses only when a full batch waits for room,
 * or while InfluxDB is not accepting writes.
 *
 * - InfluxDB down or overloaded: writes are retried with backoff (honouring Retry-After) and
 *   consumption is paused until a write succeeds again; nothing is skipped.
 * - InfluxDB refuses data (400/413/422): the batch is split until the refused records are
 *   found; those go to `<topic>.dlq`, the rest is written.
 * - Poison records (bad bytes, unknown schema, wrong record shape): `<topic>.dlq` with the
 *   original bytes; their offsets are committed only after the DLQ accepted them.
 * - Misconfiguration (wrong token, no such bucket): refused at start; if it appears later
 *   the service stops (done rejects) without committing what it could not write.
 */
import type { Consumer, ConsumerRunConfig, EachBatchPayload, Producer } from 'kafkajs';
import { createKafka, dependencyOf } from '../kafka/client.ts';
import { ConsumerRestarts } from '../kafka/consumer-restart.ts';
import { AvroCodec } from '../kafka/codec.ts';
import { deadLetter, type SourceRecord } from '../kafka/dlq.ts';
import { heartbeatIntervalMs } from '../kafka/env.ts';
import { SCORE_BATCH_SCHEMA, SCORE_BLOCK_SCHEMA } from '../kafka/records.ts';
import { describeError, PoisonRecordError, ServiceConfigError } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { Health } from '../runtime/health.ts';
import { BUCKETS, MetricsRegistry, type Counter, type Gauge, type Histogram } from '../runtime/metrics.ts';
import { retry } from '../runtime/retry.ts';
import type { RunningService } from '../runtime/service.ts';
import { compileSinkOptions, SERVICE_NAME, type InfluxSinkOptions, type SinkConfig } from './options.ts';
import { measurementOf, recordLines, type RecordKind } from './points.ts';
import { WriteQueue, type Entry } from './write-queue.ts';
import { InfluxWriteError, InfluxWriter } from './writer.ts';

export { compileSinkOptions, DEFAULT_INFLUX_SINK, SERVICE_NAME, type InfluxSinkOptions } from './options.ts';

/**
 * Longest a fetch waits on the broker for new records, ms. kafkajs also sleeps this long
 * when every partition is paused, and a resume does not cut that sleep short: with its
 * default of 5 s the sink stood idle for seconds after each back-pressure pause.
 */
const FETCH_MAX_WAIT_MS = 100;

/** The running sink: a RunningService that also tells how many points it gave up on at stop. */
export interface InfluxSink extends RunningService {
  /** Points the final flush of stop() could not write (their offsets were not committed). */
  readonly unwrittenPoints: number;
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
  const sink = new Sink(cfg, opts.metrics ?? new MetricsRegistry(), opts.logger ?? createLogger(SERVICE_NAME), opts.health ?? new Health());
  await sink.start();
  return sink;
}

class Sink implements InfluxSink {
  readonly name = SERVICE_NAME;
  readonly done: Promise<void>;

  private readonly writer: InfluxWriter;
  private readonly codec: AvroCodec;
  private readonly consumer: Consumer;
  /** Runs the consumer again when it gave up on an unreachable broker. */
  private restarts: ConsumerRestarts | undefined;
  private readonly producer: Producer;
  private readonly kinds: ReadonlyMap<string, RecordKind>;
  private readonly queue: WriteQueue;

  // Appended to by eachBatch only; submitting swaps it for an empty one.
  private pending: Batch = emptyBatch();
  private inBatch: Promise<void> = Promise.resolve();
  private paused = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** The first error no retry could fix; done rejects with it. */
  private failure: unknown;
  private timer: NodeJS.Timeout | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;

  private readonly m: {
    consumed: Counter;
    points: Counter;
    batches: Counter;
    retries: Counter;
    deadLetters: Counter;
    lag: Gauge;
    pausedGauge: Gauge;
    writeSeconds: Histogram;
    batchPoints: Histogram;
  };
  /** Ready once the consumer joined its group; InfluxDB and Kafka reported down while calls to them fail. */
  readonly health: Health;

  constructor(
    private readonly cfg: SinkConfig,
    readonly metrics: MetricsRegistry,
    private readonly log: Logger,
    health: Health,
  ) {
    this.health = health;
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
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      sessionTimeout: cfg.sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs(cfg.sessionTimeoutMs),
    });
    this.producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    // Not the readings topic: the scorer's score blocks carry each reading's raw values and the
    // repairs it applied, in the same transactions as its scores, so the sink writes the
    // `reading` and `maintenance` series from them instead of consuming every reading twice.
    this.kinds = new Map<string, RecordKind>([
      [cfg.topics.scores, 'score'],
      [cfg.topics.predictions, 'prediction'],
    ]);
    this.m = {
      consumed: metrics.counter('pdm_records_consumed_total', 'Records consumed, by service and topic'),
      points: metrics.counter('pdm_influx_points_written_total', 'Points InfluxDB accepted, by service and measurement'),
      batches: metrics.counter('pdm_influx_batches_total', 'Batches written to InfluxDB and committed, by service'),
      retries: metrics.counter('pdm_influx_write_retries_total', 'InfluxDB write attempts that failed and were retried, by service'),
      deadLetters: metrics.counter('pdm_dead_letters_total', 'Records sent to a dead-letter topic, by service and reason'),
      lag: metrics.gauge('pdm_consumer_lag', 'Records behind the high watermark after the last batch, by service, topic and partition'),
      pausedGauge: metrics.gauge('pdm_influx_sink_paused', '1 while consumption is paused because InfluxDB is not accepting writes'),
      writeSeconds: metrics.histogram('pdm_influx_write_duration_seconds', 'Duration of one accepted InfluxDB write (one HTTP request), seconds', BUCKETS.seconds),
      batchPoints: metrics.histogram('pdm_influx_batch_points', 'Points per batch written to InfluxDB', BUCKETS.size),
    };
    this.m.pausedGauge.set(0, { service: SERVICE_NAME });
    this.queue = new WriteQueue(
      {
        write: async (lines) => {
          const t0 = performance.now();
          await this.writer.write(lines);
          this.m.writeSeconds.observe((performance.now() - t0) / 1000, { service: SERVICE_NAME });
        },
        commit: (entries) => this.commit(entries),
        deadLetter: (entry, err) => this.sendDeadLetter(entry.src, err),
        onRetry: (err, attempt, points) => {
          this.health.down('influxdb', describeError(err));
          if (attempt === 1) this.log.warn('InfluxDB is not accepting writes; pausing consumption and retrying', { points, error: describeError(err) });
          else this.log.debug('retrying the write', { attempt, status: err.status });
          this.m.retries.inc({ service: SERVICE_NAME });
          this.pauseAll('InfluxDB is not accepting writes');
        },
        onRecovered: () => this.log.info('InfluxDB accepts writes again; resuming consumption'),
        onWritten: (entries, points) => {
          this.health.up('influxdb');
          this.m.batchPoints.observe(points, { service: SERVICE_NAME });
          this.countPoints(entries);
        },
        onAbandoned: (points, records, err) =>
          this.log.error(`stopping with ${points} points of ${records} records not written; their offsets are not committed, so they are consumed again on restart`, {
            points,
            records,
            error: describeError(err),
          }),
        onFatal: (err) => this.fail(err),
        onSettled: () => this.afterWrite(),
      },
      { maxInFlight: cfg.writeConcurrency, maxRetries: cfg.maxRetries, minDelayMs: cfg.minDelayMs, maxDelayMs: cfg.maxDelayMs },
    );
  }

  get unwrittenPoints(): number {
    return this.queue.abandonedPoints;
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
    const run: ConsumerRunConfig = {
      autoCommit: false,
      // Offsets are resolved one record at a time, as each is appended or dead-lettered.
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.trackBatch(payload),
    };
    this.restarts = new ConsumerRestarts(this.consumer, run, this.log);
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.health.down(dependencyOf(e.payload.error), describeError(e.payload.error));
      this.health.notReady('the consumer is restarting after an error');
      if (!e.payload.restart && !this.restarts?.takeOver(e.payload.error)) this.fail(e.payload.error);
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      // A consumer restarted after a crash is a new kafkajs group member with nothing paused:
      // while InfluxDB is still refusing writes, pause it again, or pending points would grow.
      if (this.paused) this.consumer.pause(this.topicList());
      this.health.up('kafka');
      this.health.up('schema-registry');
      this.health.ready();
    });
    await this.consumer.run(run);
    this.timer = setInterval(() => {
      if (this.pending.entries.length > 0 && this.queue.hasRoom) this.submitPending();
    }, this.cfg.flushIntervalMs);
    this.log.info('started', {
      groupId: this.cfg.groupId,
      topics: [...this.kinds.keys()],
      influx: this.cfg.influx.url,
      bucket: this.cfg.influx.bucket,
      batchSize: this.cfg.batchSize,
      flushIntervalMs: this.cfg.flushIntervalMs,
      writeConcurrency: this.cfg.writeConcurrency,
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
    let lastBeat = Date.now();
    let consumed = 0;
    try {
      for (const m of batch.messages) {
        if (this.stopping || !isRunning() || isStale()) break;
        const src: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers };
        let lines: string[];
        try {
          const decoded = this.codec.decodeIfCached(m.value) ?? (await this.codec.decodeNamed(m.value));
          // The scores topic carries score blocks (what the scorer writes) and, from older
          // scorers, score batches and single scores: each its own record schema.
          const as: RecordKind = decoded.schema === SCORE_BLOCK_SCHEMA ? 'scoreBlock' : decoded.schema === SCORE_BATCH_SCHEMA ? 'scoreBatch' : kind;
          lines = recordLines(as, decoded.value);
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
        consumed++;
        if (this.pending.points >= this.cfg.batchSize) {
          if (this.queue.hasRoom) this.submitPending();
          // Back-pressure: every write slot busy and a full batch waiting: stop fetching.
          else this.pauseAll('a full batch waits for a write slot');
        }
        if (Date.now() - lastBeat > 1_000) {
          await heartbeat();
          lastBeat = Date.now();
        }
      }
    } finally {
      this.m.consumed.inc({ service: SERVICE_NAME, topic: batch.topic }, consumed);
    }
    this.m.lag.set(Number(batch.offsetLag()), { service: SERVICE_NAME, topic: batch.topic, partition: String(batch.partition) });
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

  /** Hands the pending batch to the write queue. */
  private submitPending(): void {
    const batch = this.pending;
    if (batch.entries.length === 0) return;
    this.pending = emptyBatch();
    this.queue.submit(batch.entries);
  }

  /** A write slot freed: submit a waiting full batch, and resume when there is room again. */
  private afterWrite(): void {
    if (this.stopping) return;
    if (this.pending.points >= this.cfg.batchSize && this.queue.hasRoom) this.submitPending();
    if (!this.queue.influxDown && this.pending.points < this.cfg.batchSize) this.resume();
  }

  private countPoints(entries: readonly Entry[]): void {
    const byMeasurement = new Map<string, number>();
    for (const e of entries) {
      for (const line of e.lines) {
        const measurement = measurementOf(line);
        byMeasurement.set(measurement, (byMeasurement.get(measurement) ?? 0) + 1);
      }
    }
    for (const [measurement, n] of byMeasurement) this.m.points.inc({ service: SERVICE_NAME, measurement }, n);
  }

  /** Commits, per partition, the offset after the last record of the batch. */
  private async commit(entries: readonly Entry[]): Promise<void> {
    const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const { src } of entries) {
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

  private resume(): void {
    if (!this.paused || this.stopping) return;
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
    this.restarts?.stop();
    clearInterval(this.timer);
    // Stop fetching, but stay in the group: commits need a live membership. A consumer that is
    // restarting after a crash (a coordinator still loading, a rebalance) has no group to
    // pause: then it fetches nothing anyway.
    try {
      this.consumer.pause(this.topicList());
    } catch (err) {
      this.log.warn('could not pause the consumer while stopping (it is restarting)', { error: describeError(err) });
    }
    this.queue.beginStop();
    await this.inBatch;
    this.submitPending();
    await this.queue.drain();
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
    this.restarts?.stop();
    clearInterval(this.timer);
    this.queue.beginStop();
    const lost = this.pending.points;
    this.log.error(`crashed; ${lost} pending points not written and their offsets not committed (they are consumed again on restart)`, {
      error: describeError(err),
    });
    this.stopped = this.disconnect().then(() => this.rejectDone(err));
  }
}
