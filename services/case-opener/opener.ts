/**
 * The case-opener service: consumes failure predictions (and its own retry topic) and
 * writes one Salesforce Case per episode, keyed by the PdM_Episode_Id__c external id, so
 * retries and replays never open a second case. The case carries the recommended service
 * window; escalations update it; a cleared episode closes the window and adds one comment
 * (idempotent: marked, looked up before adding). With Field Service on, each episode also
 * gets a WorkOrder and a ServiceAppointment (episode-writer.ts). Each case write is
 * published to the case-events topic.
 *
 * Ordering survives restarts: what an event may do is decided from what Salesforce holds
 * (each record's PdM_Event_Ts__c, the case's window status), not from this process's memory,
 * so a restarted or second instance never lets an older prediction overwrite a newer one,
 * never reopens a cleared episode and never comments twice.
 *
 * Delivery: nothing is dropped. A Salesforce failure that can pass (rate limits, 5xx,
 * timeouts, network, an expired session) is retried in process with backoff; if it still
 * fails the original record goes to the retry topic with an attempt count and a due time,
 * and after `maxTotalAttempts` to `<predictions>.dlq` (reason case_write_failed). A failure
 * retrying cannot fix goes to the DLQ at once, as do undecodable records. Offsets are
 * committed only after every record of the batch was written, retried-later or
 * dead-lettered; if Kafka itself fails, the batch is consumed again (writes are idempotent).
 *
 * Concurrency: writes for one asset are chained (one at a time, in offset order, across
 * both topics); different assets run in parallel up to `concurrency` Salesforce writes.
 */
import type { Consumer, ConsumerRunConfig, EachBatchPayload, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { DEFAULT_CONFIG } from '../core/config.ts';
import type { CompiledConfig, PredictionEvent } from '../core/types.ts';
import { createKafka, dependencyOf } from '../kafka/client.ts';
import { ConsumerRestarts } from '../kafka/consumer-restart.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { deadLetter, headerString, type SourceRecord } from '../kafka/dlq.ts';
import { heartbeatIntervalMs, type SalesforceConnection } from '../kafka/env.ts';
import type { TopicNames } from '../kafka/topics.ts';
import { describeError, PipelineError, PoisonRecordError, ServiceConfigError } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { Health } from '../runtime/health.ts';
import { MetricsRegistry, type Counter, type Gauge } from '../runtime/metrics.ts';
import { retry } from '../runtime/retry.ts';
import type { RunningService } from '../runtime/service.ts';
import { priorityFor } from './case-content.ts';
import { EpisodeWriter, type CaseAction, type WriteResult } from './episode-writer.ts';
import { SalesforceCases, SalesforceError, type SalesforceOptions } from './salesforce.ts';
import { DEFAULT_SERVICE_WINDOW, serviceWindowProblems } from './service-window.ts';

export const SERVICE_NAME = 'case-opener';

/** Headers of a record on the retry topic (besides the original record's own headers). */
export const RETRY_HEADERS = {
  /** Salesforce write attempts made so far for this record, all deliveries together. */
  attempts: 'pdm-case-attempts',
  /** Epoch ms before which the record must not be tried again. */
  nextAttemptAt: 'pdm-case-next-attempt-at',
  /** The last error, for operators. */
  lastError: 'pdm-case-last-error',
  /** Where the prediction was first consumed from (the DLQ names that origin, not the retry topic). */
  sourceTopic: 'pdm-case-source-topic',
  sourcePartition: 'pdm-case-source-partition',
  sourceOffset: 'pdm-case-source-offset',
} as const;

/** Options of startCaseOpener. */
export interface CaseOpenerOptions {
  /** Kafka bootstrap brokers, host:port. */
  brokers: string[];
  /** Confluent-compatible schema registry base URL. */
  registryUrl: string;
  /** Topic names: predictions and caseRetry are consumed; cases, caseRetry and the predictions DLQ are produced. */
  topics: TopicNames;
  salesforce: SalesforceConnection;
  /** Base URL of the ops dashboards, linked from each case. */
  dashboardUrl: string;
  /** Detection configuration (units, descriptions). Default DEFAULT_CONFIG of the core. */
  config?: CompiledConfig;
  /** Consumer group. Default 'pdm-case-opener'. */
  groupId?: string;
  /** Kafka client id. Default 'pdm-case-opener'. */
  clientId?: string;
  /** Salesforce writes in flight at once (different assets). Default 8. */
  concurrency?: number;
  /** Attempts per delivery before the record goes to the retry topic. Default 5. */
  attemptsPerDelivery?: number;
  /** Attempts over all deliveries before the record is dead-lettered. Default 10. */
  maxTotalAttempts?: number;
  /** In-process backoff: first delay and ceiling, ms. Defaults 500 and 30,000. */
  retryMinDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Retry-topic delay after a record's n-th failed delivery: base·2^(n-1), capped. Defaults 30,000 and 600,000 ms. */
  retryTopicBaseDelayMs?: number;
  retryTopicMaxDelayMs?: number;
  /** Hours the service window's due time keeps before the earliest likely failure. Default 4. */
  serviceMarginHours?: number;
  /** Shortest service window, hours, when the failure is too near for the margin. Default 1. */
  minimumServiceWindowHours?: number;
  /** Also write a WorkOrder and a ServiceAppointment per episode (the org has Field Service). Default false. */
  fieldService?: boolean;
  /** Consumer group session timeout, ms (default 30,000; heartbeats at a tenth of it, 3 s at most). */
  sessionTimeoutMs?: number;
  /** Where readiness and dependency health go (served on /readyz, /healthz). Default: a new one. */
  health?: Health;
  /** Salesforce adapter tuning (timeout, caches). */
  salesforceOptions?: Partial<SalesforceOptions>;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Clock, epoch ms (tests). Default Date.now. */
  now?: () => number;
}

/** The tuning options with their defaults. */
export const DEFAULT_CASE_OPENER = Object.freeze({
  groupId: 'pdm-case-opener',
  clientId: 'pdm-case-opener',
  concurrency: 8,
  attemptsPerDelivery: 5,
  maxTotalAttempts: 10,
  retryMinDelayMs: 500,
  retryMaxDelayMs: 30_000,
  retryTopicBaseDelayMs: 30_000,
  retryTopicMaxDelayMs: 600_000,
  serviceMarginHours: DEFAULT_SERVICE_WINDOW.marginHours,
  minimumServiceWindowHours: DEFAULT_SERVICE_WINDOW.minimumWindowHours,
  fieldService: false,
  sessionTimeoutMs: 30_000,
});

type Compiled = { -readonly [K in keyof typeof DEFAULT_CASE_OPENER]: (typeof DEFAULT_CASE_OPENER)[K] };

/** Validates the tuning options at start; every problem is named at once. */
function compile(opts: CaseOpenerOptions): Readonly<Compiled> {
  const c: Compiled = { ...DEFAULT_CASE_OPENER };
  for (const k of Object.keys(c) as (keyof Compiled)[]) {
    const v = opts[k];
    if (v !== undefined) (c as Record<string, unknown>)[k] = v;
  }
  const problems: string[] = [];
  const int = (name: keyof Compiled, min: number) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < min) problems.push(`case-opener: ${name}=${v} must be an integer >= ${min}`);
  };
  int('concurrency', 1);
  int('attemptsPerDelivery', 1);
  int('maxTotalAttempts', 1);
  int('retryMinDelayMs', 0);
  int('retryMaxDelayMs', 0);
  int('retryTopicBaseDelayMs', 0);
  int('retryTopicMaxDelayMs', 0);
  int('sessionTimeoutMs', 6_000);
  problems.push(...serviceWindowProblems({ marginHours: c.serviceMarginHours, minimumWindowHours: c.minimumServiceWindowHours }));
  if (c.attemptsPerDelivery > c.maxTotalAttempts) problems.push(`case-opener: attemptsPerDelivery=${c.attemptsPerDelivery} exceeds maxTotalAttempts=${c.maxTotalAttempts}`);
  if (c.retryMinDelayMs > c.retryMaxDelayMs) problems.push(`case-opener: retryMinDelayMs exceeds retryMaxDelayMs`);
  if (opts.topics.predictions === opts.topics.caseRetry) problems.push(`case-opener: the retry topic must differ from the predictions topic`);
  if (problems.length) throw new ServiceConfigError(problems);
  return Object.freeze(c);
}

/** Starts the case opener: logs in to Salesforce, registers the case-event schema, joins the group. */
export async function startCaseOpener(opts: CaseOpenerOptions): Promise<RunningService> {
  const opener = new CaseOpener(opts, compile(opts));
  await opener.start();
  return opener;
}

/** Raised when stop() interrupts a record: its batch is not committed and is consumed again later. */
class StoppingError extends Error {}

/** What processing one record came to. */
type Outcome = 'written' | 'retry_topic' | 'dead_letter' | 'superseded';

class CaseOpener implements RunningService {
  readonly name = SERVICE_NAME;
  readonly metrics: MetricsRegistry;
  readonly done: Promise<void>;

  private readonly log: Logger;
  private readonly now: () => number;
  private readonly sf: SalesforceCases;
  private readonly writer: EpisodeWriter;
  private readonly codec: AvroCodec;
  private readonly consumer: Consumer;
  /** Runs the consumer again when it gave up on an unreachable broker. */
  private restarts: ConsumerRestarts | undefined;
  private readonly producer: Producer;
  private readonly config: CompiledConfig;
  private readonly stopping = new AbortController();
  private settle!: { resolve: () => void; reject: (e: unknown) => void };
  private stopped: Promise<void> | undefined;

  // Per-asset chains: the tail promise of each asset's queued writes. An entry is removed
  // when its tail settles, so the map holds only assets with work in flight.
  private readonly chains = new Map<string, Promise<unknown>>();
  // Concurrency cap over Salesforce work: count in use and waiters.
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  // Retry-topic partitions paused until their next record is due.
  private readonly resumeTimers = new Set<NodeJS.Timeout>();

  private readonly m: {
    predictions: Counter;
    cases: Counter;
    sfRetries: Counter;
    retrySends: Counter;
    deadLetters: Counter;
    superseded: Counter;
    fieldService: Counter;
    apiUsed: Gauge;
    apiLimit: Gauge;
    apiRemaining: Gauge;
    logins: Gauge;
    lag: Gauge;
  };
  /** Ready once logged in to Salesforce and the consumer joined its group; Salesforce and Kafka reported down while calls to them fail. */
  readonly health: Health;

  constructor(private readonly opts: CaseOpenerOptions, private readonly c: Readonly<Compiled>) {
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.health = opts.health ?? new Health();
    this.log = opts.logger ?? createLogger(SERVICE_NAME);
    this.now = opts.now ?? Date.now;
    this.config = opts.config ?? DEFAULT_CONFIG;
    this.sf = new SalesforceCases(opts.salesforce, opts.salesforceOptions, this.log.child('salesforce'));
    this.writer = new EpisodeWriter(this.sf, {
      content: { dashboardUrl: opts.dashboardUrl, config: this.config },
      window: { marginHours: c.serviceMarginHours, minimumWindowHours: c.minimumServiceWindowHours },
      fieldService: c.fieldService,
      now: () => this.now(),
    });
    this.codec = new AvroCodec(opts.registryUrl);
    const kafka = createKafka({ brokers: opts.brokers, clientId: c.clientId });
    this.consumer = kafka.consumer({ groupId: c.groupId, readUncommitted: false, sessionTimeout: c.sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs(c.sessionTimeoutMs) });
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const reg = this.metrics;
    this.m = {
      predictions: reg.counter('pdm_case_opener_predictions_total', 'Prediction records consumed, by kind and topic'),
      cases: reg.counter('pdm_case_opener_cases_total', 'Salesforce case writes, by action (created, updated, commented)'),
      sfRetries: reg.counter('pdm_case_opener_salesforce_retries_total', 'In-process retries of a Salesforce call, by error code'),
      retrySends: reg.counter('pdm_case_opener_retry_topic_sends_total', 'Records sent to the retry topic'),
      deadLetters: reg.counter('pdm_dead_letters_total', 'Records sent to a dead-letter topic, by service and reason'),
      superseded: reg.counter('pdm_case_opener_superseded_total', 'Predictions skipped because Salesforce holds a newer one of the episode, or its window closed'),
      fieldService: reg.counter('pdm_case_opener_field_service_total', 'WorkOrder and ServiceAppointment writes and skips, by object and action'),
      apiUsed: reg.gauge('pdm_case_opener_salesforce_api_used', 'Salesforce API requests used in the 24 h window (Sforce-Limit-Info)'),
      apiLimit: reg.gauge('pdm_case_opener_salesforce_api_limit', 'Salesforce API request limit of the 24 h window (Sforce-Limit-Info)'),
      apiRemaining: reg.gauge('pdm_case_opener_salesforce_api_remaining', 'Salesforce API requests left in the 24 h window (Sforce-Limit-Info)'),
      logins: reg.gauge('pdm_case_opener_salesforce_logins', 'OAuth2 logins done (first login, refreshes and re-logins)'),
      lag: reg.gauge('pdm_consumer_lag', 'Records behind the high watermark after the last batch, by service, topic and partition'),
    };
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  }

  async start(): Promise<void> {
    // A Salesforce that is briefly unreachable at start is waited for; wrong credentials stop at once.
    await retry(() => this.sf.login(), {
      retries: 5,
      minDelayMs: 500,
      maxDelayMs: 5_000,
      onRetry: (err, n) => this.log.warn(`salesforce login failed, retry ${n}`, { error: describeError(err) }),
    }).catch((err: unknown) => {
      if (err instanceof ServiceConfigError) throw err;
      throw new PipelineError(`case-opener: cannot log in to Salesforce at ${this.opts.salesforce.loginUrl}`, true, { cause: err });
    });
    this.updateApiGauges();
    this.health.up('salesforce');
    if (this.c.fieldService) await this.checkFieldService();
    await this.codec.registerValueSchema(this.opts.topics.cases, loadSchemaText('caseEvent'));
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.topics.predictions, this.opts.topics.caseRetry], fromBeginning: true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.health.up('kafka');
      this.health.up('schema-registry');
      this.health.ready();
    });
    const run: ConsumerRunConfig = {
      eachBatchAutoResolve: false,
      autoCommit: false,
      // Batches of different partitions in parallel; the per-asset chains keep one asset's
      // writes in order even when its records sit in both the predictions and retry topics.
      partitionsConsumedConcurrently: Math.max(1, Math.min(this.c.concurrency, 16)),
      eachBatch: (p) => this.eachBatch(p),
    };
    const restarts = (this.restarts = new ConsumerRestarts(this.consumer, run, this.log));
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: Error; restart: boolean };
      this.health.down(dependencyOf(error), describeError(error));
      this.health.notReady('the consumer is restarting after an error');
      this.log.error('consumer crashed', { error: describeError(error), err: error, restart });
      if (!restart && !this.stopping.signal.aborted && !restarts.takeOver(error)) {
        this.settle.reject(new PipelineError('case-opener: the Kafka consumer stopped after an error', false, { cause: error }));
      }
    });
    await this.consumer.run(run);
    this.log.info('started', {
      predictions: this.opts.topics.predictions,
      retry: this.opts.topics.caseRetry,
      cases: this.opts.topics.cases,
      salesforce: this.opts.salesforce.loginUrl,
      flow: this.sf.flow,
      fieldService: this.c.fieldService,
    });
  }

  /** With Field Service on, the org must have WorkOrder and ServiceAppointment, visible to the integration user. */
  private async checkFieldService(): Promise<void> {
    const missing: string[] = [];
    for (const type of ['WorkOrder', 'ServiceAppointment']) if (!(await this.sf.hasObject(type))) missing.push(type);
    if (missing.length) {
      throw new ServiceConfigError([
        `case-opener: fieldService is on but the org has no ${missing.join(' or ')} the integration user can see: enable Field Service, deploy infra/salesforce/field-service and assign the PdM_Field_Service permission set, or turn fieldService off`,
      ]);
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      this.restarts?.stop();
      for (const t of this.resumeTimers) clearTimeout(t);
      this.resumeTimers.clear();
      try {
        await this.consumer.disconnect();
        await this.producer.disconnect();
        this.sf.close();
        this.settle.resolve();
      } catch (err) {
        this.settle.reject(err);
        throw err;
      }
    })();
    return this.stopped;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const isRetryTopic = batch.topic === this.opts.topics.caseRetry;
    this.m.lag.set(Number(batch.offsetLag()), { service: SERVICE_NAME, topic: batch.topic, partition: String(batch.partition) });
    const beat = setInterval(() => heartbeat().catch(() => undefined), 2_000);
    try {
      const tasks: Promise<Outcome>[] = [];
      let last: string | undefined;
      let pauseAt: { offset: string; dueAt: number } | undefined;
      for (const msg of batch.messages) {
        if (!isRunning() || isStale() || this.stopping.signal.aborted) break;
        if (isRetryTopic) {
          const dueAt = Number(headerString(msg.headers, RETRY_HEADERS.nextAttemptAt) ?? 0);
          if (dueAt > this.now()) {
            pauseAt = { offset: msg.offset, dueAt };
            break;
          }
        }
        const src: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: msg.offset, key: msg.key, value: msg.value, headers: msg.headers };
        tasks.push(this.processRecord(src, msg));
        last = msg.offset;
      }
      const results = await Promise.allSettled(tasks);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (last !== undefined) {
        resolveOffset(last);
        // With autoCommit off, kafkajs commits only offsets passed explicitly (without them
        // commitOffsetsIfNecessary waits for an auto-commit interval that never comes).
        await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] });
      }
      if (pauseAt) this.pauseUntil(batch.topic, batch.partition, pauseAt.offset, pauseAt.dueAt);
    } finally {
      clearInterval(beat);
    }
  }

  /** Pauses a retry-topic partition at `offset` until `dueAt`, so waiting never blocks the predictions. */
  private pauseUntil(topic: string, partition: number, offset: string, dueAt: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.consumer.seek({ topic, partition, offset });
    const t = setTimeout(() => {
      this.resumeTimers.delete(t);
      if (!this.stopping.signal.aborted) this.consumer.resume([{ topic, partitions: [partition] }]);
    }, Math.max(0, dueAt - this.now()));
    this.resumeTimers.add(t);
  }

  /**
   * Decodes one record and writes its case; returns what became of it. Throws only when
   * Kafka or the registry fails. The asset's chain is joined before decoding (by the record
   * key, which is the asset id): decoding may wait on the registry, and records decoded
   * concurrently would otherwise join their chains out of offset order.
   */
  private processRecord(src: SourceRecord, msg: KafkaMessage): Promise<Outcome> {
    return this.onAsset(msg.key?.toString('utf8') ?? '', async () => {
      let ev: PredictionEvent;
      try {
        ev = (await this.codec.decode(msg.value)) as PredictionEvent;
      } catch (err) {
        if (err instanceof PoisonRecordError) {
          await this.sendDeadLetter(src, err);
          return 'dead_letter';
        }
        throw err; // registry unreachable: the batch is consumed again later
      }
      this.m.predictions.inc({ kind: ev.kind, topic: src.topic === this.opts.topics.caseRetry ? 'retry' : 'predictions' });
      return this.writeWithRetries(src, ev);
    });
  }

  private async writeWithRetries(src: SourceRecord, ev: PredictionEvent): Promise<Outcome> {
    const priorAttempts = Number(headerString(src.headers, RETRY_HEADERS.attempts) ?? 0) || 0;
    let attempts = priorAttempts;
    const budget = Math.min(this.c.attemptsPerDelivery, this.c.maxTotalAttempts - priorAttempts);
    try {
      const outcome = await retry(
        async () => {
          if (this.stopping.signal.aborted) throw new StoppingError('case-opener stopping');
          attempts++;
          return this.limited(() => this.write(ev));
        },
        {
          retries: Math.max(0, budget - 1),
          minDelayMs: this.c.retryMinDelayMs,
          maxDelayMs: this.c.retryMaxDelayMs,
          signal: this.stopping.signal,
          bail: (err) => err instanceof StoppingError || !(err instanceof SalesforceError),
          onRetry: (err, n, delay) => {
            const code = err instanceof SalesforceError ? err.code : 'UNKNOWN';
            this.m.sfRetries.inc({ code });
            if (err instanceof SalesforceError && err.retriable) this.health.down('salesforce', describeError(err));
            this.log.warn(`salesforce write failed, retry ${n} in ${Math.round(delay)} ms`, { episodeId: ev.episodeId, error: describeError(err) });
          },
        },
      );
      this.updateApiGauges();
      this.health.up('salesforce');
      return outcome;
    } catch (err) {
      this.updateApiGauges();
      if (err instanceof StoppingError || this.stopping.signal.aborted) throw new StoppingError('case-opener stopping: record left uncommitted');
      // Not Salesforce's answer (Kafka could not take the case event): fail the batch so it
      // is consumed again; the upsert and the marked comment make the second pass harmless.
      if (!(err instanceof SalesforceError)) throw err;
      const retriable = err instanceof SalesforceError && err.retriable;
      if (retriable && attempts < this.c.maxTotalAttempts) {
        await this.sendToRetryTopic(src, err, attempts);
        return 'retry_topic';
      }
      const why = retriable ? `still failing after ${attempts} attempts` : 'permanent failure';
      // The SalesforceError's message already quotes Salesforce's; its jsforce cause would only repeat it in the header.
      await this.sendDeadLetter(this.originOf(src), new PoisonRecordError(`case write for episode ${ev.episodeId} (${ev.kind}): ${why}`, 'case_write_failed', { cause: new Error(err.message) }));
      return 'dead_letter';
    }
  }

  /** One attempt at the Salesforce side of a prediction, then its case events. */
  private async write(ev: PredictionEvent): Promise<Outcome> {
    const r: WriteResult = await this.writer.write(ev);
    if (r.outcome === 'superseded') {
      this.m.superseded.inc();
      return 'superseded';
    }
    for (const e of r.caseActions) this.m.cases.inc({ action: e.action });
    if (r.workOrder) this.m.fieldService.inc({ object: 'WorkOrder', action: r.workOrder });
    if (r.appointment) this.m.fieldService.inc({ object: 'ServiceAppointment', action: r.appointment });
    if (r.caseActions.length) await this.publishCaseEvents(ev, r.caseActions);
    return 'written';
  }

  private async publishCaseEvents(ev: PredictionEvent, events: CaseAction[]): Promise<void> {
    const writtenAt = this.now();
    await this.producer.send({
      topic: this.opts.topics.cases,
      acks: -1,
      messages: events.map((e) => ({
        key: ev.assetId,
        value: this.codec.encode(this.opts.topics.cases, {
          action: e.action,
          caseId: e.caseId,
          episodeId: ev.episodeId,
          assetId: ev.assetId,
          failureMode: ev.failureMode,
          severity: ev.severity,
          priority: priorityFor(ev.severity),
          predictionKind: ev.kind,
          predictionTs: ev.ts,
          writtenAt,
        }),
      })),
    });
  }

  private async sendToRetryTopic(src: SourceRecord, err: unknown, attempts: number): Promise<void> {
    const deliveries = Math.max(1, Math.ceil(attempts / this.c.attemptsPerDelivery));
    const delay = Math.min(this.c.retryTopicMaxDelayMs, this.c.retryTopicBaseDelayMs * 2 ** (deliveries - 1));
    const origin = this.originOf(src);
    const headers: IHeaders = {
      ...(src.headers ?? {}),
      [RETRY_HEADERS.attempts]: String(attempts),
      [RETRY_HEADERS.nextAttemptAt]: String(this.now() + delay),
      [RETRY_HEADERS.lastError]: (err instanceof SalesforceError ? err.message : describeError(err)).slice(0, 2_000),
      [RETRY_HEADERS.sourceTopic]: origin.topic,
      [RETRY_HEADERS.sourcePartition]: String(origin.partition),
      [RETRY_HEADERS.sourceOffset]: origin.offset,
    };
    await this.producer.send({ topic: this.opts.topics.caseRetry, acks: -1, messages: [{ key: src.key, value: src.value, headers }] });
    this.m.retrySends.inc();
    this.log.warn(`case write deferred to the retry topic after ${attempts} attempts`, { delayMs: delay, error: describeError(err) });
  }

  private async sendDeadLetter(src: SourceRecord, err: unknown): Promise<void> {
    const dl = deadLetter(src, err, SERVICE_NAME, this.now());
    await this.producer.send({ topic: dl.topic, acks: -1, messages: [dl.message] });
    const reason = err instanceof PoisonRecordError ? err.reason : 'invalid_record';
    this.m.deadLetters.inc({ service: SERVICE_NAME, reason });
    this.log.warn(`record dead-lettered to ${dl.topic}`, { reason, error: describeError(err).slice(0, 500) });
  }

  /** The record as first consumed: for a retry-topic record, its predictions-topic origin. */
  private originOf(src: SourceRecord): SourceRecord {
    const topic = headerString(src.headers, RETRY_HEADERS.sourceTopic);
    if (src.topic !== this.opts.topics.caseRetry || !topic) return src;
    const headers = { ...(src.headers ?? {}) };
    return {
      ...src,
      topic,
      partition: Number(headerString(src.headers, RETRY_HEADERS.sourcePartition) ?? src.partition),
      offset: headerString(src.headers, RETRY_HEADERS.sourceOffset) ?? src.offset,
      headers,
    };
  }

  /** Runs `fn` after every earlier task of the same asset settled. */
  private onAsset<T>(assetId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(assetId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(assetId, tail);
    void tail.then(() => {
      if (this.chains.get(assetId) === tail) this.chains.delete(assetId);
    });
    return next;
  }

  /** Runs `fn` within the concurrency cap. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so the cap holds exactly.
    if (this.active >= this.c.concurrency) await new Promise<void>((r) => this.waiters.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }

  private updateApiGauges(): void {
    const u = this.sf.apiUsage;
    if (u) {
      this.m.apiUsed.set(u.used);
      this.m.apiLimit.set(u.limit);
      this.m.apiRemaining.set(Math.max(0, u.limit - u.used));
    }
    this.m.logins.set(this.sf.logins);
  }
}
