/**
 * A pipeline under test for the reliability scenarios: its own topic prefix (and partition
 * count), its own throwaway InfluxDB database, and the product's services as processes
 * (`pdm scorer`, `pdm influx-sink`, `pdm case-opener`) that a scenario starts, kills,
 * pauses, restarts and stops by name. Everything it made is removed by close().
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Admin, Kafka, Message } from 'kafkajs';
import { createKafka } from '../../services/kafka/client.ts';
import { AvroCodec, loadSchemaText } from '../../services/kafka/codec.ts';
import type { InfluxConnection, PipelineEnv } from '../../services/kafka/env.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../../services/kafka/topics.ts';
import { startService, stopProcess, type ServiceName, type ServiceProcess } from '../test/processes.ts';

/** Where close() writes each scenario's service logs (ignored by git). */
export const LOG_ROOT = join(import.meta.dirname, '..', '..', 'test-output', 'reliability');

export interface HarnessOptions {
  /** Scenario name: part of every name the harness makes. */
  name: string;
  partitions: number;
  /** Consumer session timeout of the services, ms: how fast a killed member's partitions move. */
  sessionTimeoutMs: number;
  /** Extra environment of every service process. */
  env?: Record<string, string>;
}

/** Milliseconds to wait, then go on. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Harness {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly codec: AvroCodec;
  readonly topics: TopicNames;
  readonly prefix: string;
  readonly database: string;
  readonly influx: InfluxConnection;
  /** Running (or killed) services by `service.instance`. */
  readonly procs = new Map<string, ServiceProcess>();
  /** How many times a process was killed with SIGKILL. */
  kills = 0;
  private readonly started = new Map<string, { service: ServiceName; instance: string }>();
  /** Every log line of each process key, across its restarts. */
  private readonly logs = new Map<string, string[]>();

  private constructor(
    readonly env: PipelineEnv,
    readonly opts: HarnessOptions,
    run: string,
  ) {
    this.kafka = createKafka({ brokers: env.brokers, clientId: `rel-${opts.name}` });
    this.admin = this.kafka.admin();
    this.codec = new AvroCodec(env.registryUrl);
    this.prefix = `rel-${opts.name}-${run}.`;
    this.topics = topicNames(this.prefix);
    this.database = `pdm_rel_${opts.name.replaceAll('-', '_')}_${run}`;
    this.influx = { ...env.influx, bucket: `${this.database}/autogen` };
  }

  static async create(env: PipelineEnv, opts: HarnessOptions): Promise<Harness> {
    const h = new Harness(env, opts, randomUUID().replaceAll('-', '').slice(0, 8));
    await h.admin.connect();
    await ensureTopics(h.admin, h.topics, { partitions: opts.partitions });
    await h.codec.registerValueSchema(h.topics.readings, loadSchemaText('reading'));
    await h.codec.registerRecordSchema(h.topics.readings, loadSchemaText('maintenance'));
    await h.influxQuery(`CREATE DATABASE ${h.database}`);
    return h;
  }

  /** The environment of the service processes. */
  childEnv(): Record<string, string> {
    return {
      PDM_KAFKA_BROKERS: this.env.brokers.join(','),
      PDM_REGISTRY_URL: this.env.registryUrl,
      PDM_TOPIC_PREFIX: this.prefix,
      PDM_PARTITIONS: String(this.opts.partitions),
      PDM_INFLUX_URL: this.influx.url,
      PDM_INFLUX_ORG: this.influx.org,
      PDM_INFLUX_BUCKET: this.influx.bucket,
      PDM_INFLUX_TOKEN: this.influx.token,
      PDM_SF_LOGIN_URL: this.env.salesforce.loginUrl,
      PDM_KAFKA_SESSION_TIMEOUT_MS: String(this.opts.sessionTimeoutMs),
      // Short checkpoints: a restart replays little, and kills land between checkpoints often.
      PDM_SCORER_CHECKPOINT_MS: '2000',
      ...(this.opts.env ?? {}),
    };
  }

  /** The consumer group of a service on this pipeline. */
  group(service: ServiceName): string {
    return `${this.prefix}pdm-${service}`;
  }

  async start(service: ServiceName, instance = '0'): Promise<ServiceProcess> {
    const key = `${service}.${instance}`;
    // Every line of every process (restarts of one instance appended), written out by close().
    const lines = this.logs.get(key) ?? [];
    this.logs.set(key, lines);
    if (lines.length) lines.push(`---- ${new Date().toISOString()} restarted`);
    const p = await startService(service, instance, this.childEnv(), lines);
    this.procs.set(key, p);
    this.started.set(key, { service, instance });
    return p;
  }

  /** kill -9, then (unless `restart` is false) the same instance again. */
  async kill(key: string, restart = true): Promise<void> {
    const p = this.procs.get(key);
    if (!p) throw new Error(`no process ${key}`);
    p.child.kill('SIGKILL');
    await p.exited.catch(() => undefined);
    this.kills++;
    if (restart) {
      const s = this.started.get(key)!;
      await this.start(s.service, s.instance);
    }
  }

  /** SIGTERM: the service drains, commits and leaves its group. */
  async stop(key: string): Promise<void> {
    const p = this.procs.get(key);
    if (p) await stopProcess(p);
    this.procs.delete(key);
  }

  /** Every line a process key logged so far, across its restarts. */
  logOf(key: string): readonly string[] {
    return this.logs.get(key) ?? [];
  }

  pause(key: string): void {
    this.procs.get(key)!.child.kill('SIGSTOP');
  }

  resume(key: string): void {
    this.procs.get(key)!.child.kill('SIGCONT');
  }

  /** Fails the scenario at once if a running service died on its own. */
  assertAlive(): void {
    for (const [key, p] of this.procs) {
      if (p.child.exitCode !== null) throw new Error(`${key} exited on its own (code ${p.child.exitCode}); its last lines:\n${p.tail.join('\n')}`);
    }
  }

  /**
   * Produces the messages, at `ratePerSec` (0: as fast as the broker takes them), in requests
   * of at most 500 records and 512 KiB (the broker refuses a record batch over 1 MiB);
   * `onProgress` after each request with the count sent.
   */
  async produce(messages: readonly Message[], ratePerSec: number, onProgress?: (sent: number) => void | Promise<void>): Promise<void> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, maxRetryTime: 5_000 } });
    await producer.connect();
    const t0 = Date.now();
    try {
      let i = 0;
      while (i < messages.length) {
        if (ratePerSec > 0) {
          const due = t0 + (i / ratePerSec) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        let j = i;
        let bytes = 0;
        while (j < messages.length && j - i < 500) {
          const size = (messages[j]!.value as Buffer | null)?.length ?? 0;
          if (j > i && bytes + size > 512 * 1024) break;
          bytes += size;
          j++;
        }
        await producer.send({ topic: this.topics.readings, messages: messages.slice(i, j), acks: -1 });
        i = j;
        await onProgress?.(i);
      }
    } finally {
      await producer.disconnect();
    }
  }

  /** Records behind per group: the scorer on the readings, the sink on scores and predictions, the opener on predictions and retries. */
  async lags(): Promise<{ scorer: number; sink: number; opener: number }> {
    const lag = async (groupId: string, topics: string[]) => {
      let total = 0;
      for (const topic of topics) {
        const [ends, committed] = await Promise.all([this.admin.fetchTopicOffsets(topic), this.admin.fetchOffsets({ groupId, topics: [topic] })]);
        const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        for (const e of ends) {
          const c = done.get(e.partition) ?? -1;
          total += Number(e.high) - (c < 0 ? Number(e.low) : c);
        }
      }
      return total;
    };
    const [scorer, sink, opener] = await Promise.all([
      lag(this.group('scorer'), [this.topics.readings]),
      lag(this.group('influx-sink'), [this.topics.scores, this.topics.predictions]),
      lag(this.group('case-opener'), [this.topics.predictions, this.topics.caseRetry]),
    ]);
    return { scorer, sink, opener };
  }

  /**
   * Waits until every service caught up: the scorer's lag is 0, and the sink's and the case
   * opener's no longer move and are within one transaction marker per partition (a
   * read_committed group's committed offset stays short of a marker at the end).
   */
  async drain(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let previous = '';
    let steady = 0;
    const tolerance = 3 * this.opts.partitions;
    for (;;) {
      this.assertAlive();
      const l = await this.lags();
      const now = `${l.scorer}/${l.sink}/${l.opener}`;
      steady = l.scorer === 0 && l.sink <= tolerance && l.opener <= tolerance && now === previous ? steady + 1 : 0;
      previous = now;
      if (steady >= 3) return;
      if (Date.now() > until) throw new Error(`not drained within ${timeoutMs / 1000} s: lag scorer ${l.scorer}, sink ${l.sink}, case opener ${l.opener}`);
      await sleep(1_000);
    }
  }

  async influxQuery(statement: string): Promise<void> {
    const res = await fetch(`${this.env.influx.url}/query?q=${encodeURIComponent(statement)}`, {
      method: 'POST',
      headers: { authorization: `Token ${this.env.influx.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`InfluxDB ${statement}: HTTP ${res.status} ${await res.text()}`);
  }

  /** Stops every service, deletes the topics, the groups and the database. */
  async close(): Promise<void> {
    await Promise.all([...this.procs.values()].map(async (p) => {
      p.child.kill('SIGCONT');
      await stopProcess(p);
    }));
    this.procs.clear();
    // The services' logs of the last run of each scenario, for the post-mortem of a failure.
    const dir = join(LOG_ROOT, this.opts.name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await Promise.all([...this.logs].map(([key, lines]) => writeFile(join(dir, `${key}.log`), `${lines.join('\n')}\n`)));
    const all = [...Object.values(this.topics), ...[this.topics.readings, this.topics.scores, this.topics.predictions, this.topics.caseRetry].map(dlqTopic)];
    await this.admin.deleteTopics({ topics: all, timeout: 30_000 }).catch(() => undefined);
    const groups = (['scorer', 'influx-sink', 'case-opener'] as const).map((s) => this.group(s));
    await this.admin.deleteGroups(groups).catch(() => undefined);
    await this.influxQuery(`DROP DATABASE ${this.database}`).catch(() => undefined);
    await this.admin.disconnect();
  }
}
