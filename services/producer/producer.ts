/**
 * The producer helper for device and gateway code that publishes to the pipeline: readings
 * and maintenance events on `telemetry.readings`, as Avro in the Confluent wire format with
 * their schemas registered (subjects `<topic>-value` and
 * `<topic>-com.pdm.telemetry.MaintenanceEvent`, BACKWARD), keyed by asset id so one asset's
 * records stay in order in one partition, batched, gzip-compressed, and checked before they
 * are sent (services/producer/validate.ts): a bad record is refused at `send()` with every
 * problem named, and nothing of it is buffered.
 *
 * Delivery: an idempotent producer with one request in flight and acks from all in-sync
 * replicas, so retries neither duplicate nor reorder; keys partitioned by murmur2 (Java's
 * default), so an asset's records land where other producers put them. Records wait in a buffer until
 * `batchSize` of them are there or `lingerMs` has passed since the first, whichever comes
 * first; `send()` waits while a full buffer is being written (backpressure), `flush()` writes
 * what is buffered now, `close()` flushes and disconnects. A batch that Kafka refuses after
 * kafkajs's own retries stays in the buffer, at its head, and the error is thrown by the
 * next `send()`, `flush()` or `close()`: nothing is dropped without the caller being told.
 *
 * Compression is gzip or none because the pipeline's consumers (kafkajs) decode only those;
 * a batch compressed with snappy, lz4 or zstd would stop them.
 */
import { CompressionTypes, Kafka, Partitioners, type KafkaConfig, type Message, type Producer } from 'kafkajs';
import avro from 'avsc';
import type { MaintenanceEvent, Reading } from '../core/types.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { topicNames } from '../kafka/topics.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { describeRecord, InvalidRecordError, maintenanceProblems, readingProblems } from './validate.ts';

export { InvalidRecordError };

/** Settings of a {@link TelemetryProducer}; every one has a default in {@link DEFAULT_PRODUCER}. */
export interface ProducerSettings {
  /** Topic of readings and maintenance events. Default `telemetry.readings`. */
  topic: string;
  /** Records per produce request; a full buffer is sent at once. Default 500. */
  batchSize: number;
  /** Longest a buffered record waits for its batch to fill, ms; 0 = only on flush() or a full batch. Default 200. */
  lingerMs: number;
  /** `gzip` (default) or `none`: the only codecs the pipeline's consumers decode. */
  compression: 'gzip' | 'none';
  /** How far ahead of this machine's clock a record's ts may be, ms; null = no limit (simulated time). Default 300,000. */
  maxClockAheadMs: number | null;
  /** `source` of maintenance events that do not name one. Default `field-service` (the schema's default). */
  maintenanceSource: string;
}

export const DEFAULT_PRODUCER: Readonly<ProducerSettings> = Object.freeze({
  topic: topicNames().readings,
  batchSize: 500,
  lingerMs: 200,
  compression: 'gzip',
  maxClockAheadMs: 300_000,
  maintenanceSource: 'field-service',
});

/** Largest batch: kafkajs holds a whole request in memory, and 1 MB is Kafka's default request limit. */
const MAX_BATCH_SIZE = 10_000;

export interface ProducerOptions extends Partial<ProducerSettings> {
  /** A kafkajs client (TLS, SASL and retries as you configure them), or the config to build one. */
  kafka: Kafka | KafkaConfig;
  /** Confluent-compatible schema registry API, e.g. `http://registry:8081` (Apicurio: `.../apis/ccompat/v7`). */
  registryUrl: string;
  /** Clock for the ts check, epoch ms; default Date.now (tests inject one). */
  now?: () => number;
}

/** A maintenance event as published: the core's event plus who reported it. */
export interface MaintenanceInput extends MaintenanceEvent {
  /** Who reported the repair, e.g. `field-service`, `device`; default {@link ProducerSettings.maintenanceSource}. */
  source?: string;
}

/** Checks settings, naming every bad one. @throws ServiceConfigError */
export function compileProducerSettings(opts: Partial<ProducerSettings>): Readonly<ProducerSettings> {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<ProducerSettings>;
  const c: ProducerSettings = { ...DEFAULT_PRODUCER, ...defined };
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._-]+$/.test(c.topic)) problems.push(`topic=${JSON.stringify(c.topic)}: not a valid topic name`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > MAX_BATCH_SIZE) problems.push(`batchSize=${c.batchSize}: must be an integer from 1 to ${MAX_BATCH_SIZE}`);
  if (!Number.isInteger(c.lingerMs) || c.lingerMs < 0 || c.lingerMs > 60_000) problems.push(`lingerMs=${c.lingerMs}: must be an integer from 0 to 60000`);
  if (c.compression !== 'gzip' && c.compression !== 'none') {
    problems.push(`compression=${String(c.compression)}: must be gzip or none (the pipeline's consumers decode no other codec)`);
  }
  if (c.maxClockAheadMs !== null && (!Number.isFinite(c.maxClockAheadMs) || c.maxClockAheadMs < 0)) problems.push(`maxClockAheadMs=${c.maxClockAheadMs}: must be a number ≥ 0, or null`);
  if (typeof c.maintenanceSource !== 'string' || c.maintenanceSource.trim() === '') problems.push('maintenanceSource: empty');
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return Object.freeze(c);
}

/** Counts since connect. */
export interface ProducerStats {
  readings: number;
  maintenance: number;
  /** Produce requests written. */
  batches: number;
}

interface Buffered {
  message: Message;
  maintenance: boolean;
}

export class TelemetryProducer {
  private buffer: Buffered[] = [];
  private linger: NodeJS.Timeout | undefined;
  /** The write in progress; every write waits for the one before it (one request in flight). */
  private writing: Promise<void> = Promise.resolve();
  /** A background (linger) write that failed, thrown by the next call. */
  private failure: unknown;
  private closed = false;
  private readonly counts: ProducerStats = { readings: 0, maintenance: 0, batches: 0 };

  private constructor(
    readonly settings: Readonly<ProducerSettings>,
    private readonly producer: Producer,
    private readonly codec: AvroCodec,
    private readonly maintenanceKey: string,
    private readonly readingType: avro.Type,
    private readonly maintenanceType: avro.Type,
    private readonly now: () => number,
  ) {}

  /**
   * Checks the settings, registers both schemas and connects.
   * @throws ServiceConfigError for bad settings; PipelineError when the registry refuses or
   *   cannot be reached; kafkajs's errors when the brokers cannot be reached.
   */
  static async connect(opts: ProducerOptions): Promise<TelemetryProducer> {
    const { kafka, registryUrl, now, ...rest } = opts;
    const settings = compileProducerSettings(rest);
    const codec = new AvroCodec(registryUrl);
    const readingText = loadSchemaText('reading');
    const maintenanceText = loadSchemaText('maintenance');
    await codec.registerValueSchema(settings.topic, readingText);
    const maintenanceKey = recordWriterKey(settings.topic, await codec.registerRecordSchema(settings.topic, maintenanceText));
    const client = kafka instanceof Kafka ? kafka : new Kafka(kafka);
    // murmur2 of the key, as Java's client and the product's own producers: every publisher of
    // one asset must land it on the same partition (named here, which also silences kafkajs's
    // warning about its v2 default).
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new TelemetryProducer(
      settings,
      producer,
      codec,
      maintenanceKey,
      avro.Type.forSchema(JSON.parse(readingText) as avro.Schema),
      avro.Type.forSchema(JSON.parse(maintenanceText) as avro.Schema),
      now ?? Date.now,
    );
  }

  /** Counts of what Kafka has acknowledged. */
  get stats(): Readonly<ProducerStats> {
    return { ...this.counts };
  }

  /** Records buffered and not yet acknowledged. */
  get pending(): number {
    return this.buffer.length;
  }

  /**
   * Checks and buffers one reading; waits while a full batch is written.
   * @throws InvalidRecordError naming every problem (nothing is buffered), or the error of an
   *   earlier background write (then this reading is not buffered either; flush() retries).
   */
  async send(reading: Reading): Promise<void> {
    this.usable();
    const problems = readingProblems(this.readingType, reading, this.now(), this.settings.maxClockAheadMs ?? undefined);
    if (problems.length > 0) throw new InvalidRecordError(describeRecord('reading', reading), problems);
    await this.add({ message: { key: reading.assetId, value: this.codec.encode(this.settings.topic, reading) }, maintenance: false });
  }

  /**
   * Checks and buffers one maintenance event, ordered with the asset's readings.
   * @throws InvalidRecordError naming every problem (nothing is buffered).
   */
  async sendMaintenance(event: MaintenanceInput): Promise<void> {
    this.usable();
    const record = {
      assetId: event.assetId,
      ts: event.ts,
      failureMode: event.failureMode ?? null,
      sensors: event.sensors ?? null,
      source: event.source ?? this.settings.maintenanceSource,
    };
    const problems = maintenanceProblems(this.maintenanceType, record, this.now(), this.settings.maxClockAheadMs ?? undefined);
    if (problems.length > 0) throw new InvalidRecordError(describeRecord('maintenance event', record), problems);
    await this.add({ message: { key: event.assetId, value: this.codec.encode(this.maintenanceKey, record) }, maintenance: true });
  }

  /**
   * Writes everything buffered and waits until Kafka acknowledged it; after a failed write
   * (this call's or a background one) this is the retry.
   * @returns the number of records this call wrote.
   * @throws the produce error (the records stay buffered; call flush() again to retry).
   */
  async flush(): Promise<number> {
    this.failure = undefined;
    return this.write();
  }

  /** Flushes, then disconnects. Safe to call twice; the producer cannot send afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      clearTimeout(this.linger);
      await this.producer.disconnect();
    }
  }

  /**
   * Disconnects without writing what is buffered (for a publisher that was told to stop).
   * @returns the number of buffered records that were not sent.
   */
  async dispose(): Promise<number> {
    const dropped = this.buffer.length;
    this.buffer = [];
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.linger);
      await this.writing;
      await this.producer.disconnect();
    }
    return dropped;
  }

  private usable(): void {
    if (this.closed) throw new Error('TelemetryProducer: send after close()');
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure === undefined) return;
    const err = this.failure;
    this.failure = undefined;
    throw err;
  }

  private async add(b: Buffered): Promise<void> {
    this.buffer.push(b);
    if (this.buffer.length >= this.settings.batchSize) {
      await this.write();
    } else if (this.settings.lingerMs > 0 && this.linger === undefined) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        this.write().catch((err: unknown) => (this.failure = err));
      }, this.settings.lingerMs);
    }
  }

  /** Queues a write of what is buffered when it runs; resolves with the records it wrote. */
  private write(): Promise<number> {
    clearTimeout(this.linger);
    this.linger = undefined;
    const run = this.writing.then(() => this.writeNow());
    // The next write waits for this one whether it succeeds or not; its error goes to its caller.
    this.writing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async writeNow(): Promise<number> {
    let written = 0;
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.settings.batchSize);
      await this.producer.send({
        topic: this.settings.topic,
        messages: batch.map((b) => b.message),
        acks: -1,
        compression: this.settings.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      });
      // Only now are they Kafka's: a failed send leaves the batch at the head of the buffer.
      this.buffer.splice(0, batch.length);
      written += batch.length;
      this.counts.batches += 1;
      for (const b of batch) {
        if (b.maintenance) this.counts.maintenance += 1;
        else this.counts.readings += 1;
      }
    }
    return written;
  }
}
