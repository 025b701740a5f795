/**
 * The influx-sink's options: defaults in one constant, compiled once at start into a frozen
 * config that names every bad setting and every combination that cannot work.
 */
import type { InfluxConnection } from '../kafka/env.ts';
import type { TopicNames } from '../kafka/topics.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/log.ts';
import type { Health } from '../runtime/health.ts';
import type { MetricsRegistry } from '../runtime/metrics.ts';

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
  /**
   * Writes to InfluxDB in flight at once (offsets are still committed in consumption order).
   * Default 2: one batch is parsed and indexed by InfluxDB while the next is written.
   */
  writeConcurrency?: number;
  /** Consumer group session timeout, ms (default 30,000; heartbeats at a tenth of it, 3 s at most). */
  sessionTimeoutMs?: number;
  /** Budget of one HTTP write, ms. Default 10,000. */
  writeTimeoutMs?: number;
  /** Where readiness and dependency health go (served on /readyz, /healthz). Default: a new one. */
  health?: Health;
  /** Where the metrics go. Default: a new registry. */
  metrics?: MetricsRegistry;
  /** Default: createLogger('influx-sink'). */
  logger?: Logger;
}

export type SinkConfig = Readonly<Required<Omit<InfluxSinkOptions, 'metrics' | 'logger' | 'health'>>>;

export const DEFAULT_INFLUX_SINK = Object.freeze({
  groupId: 'pdm-influx-sink',
  clientId: 'pdm-influx-sink',
  batchSize: 5_000,
  flushIntervalMs: 1_000,
  maxRetries: 8,
  minDelayMs: 200,
  maxDelayMs: 30_000,
  writeConcurrency: 2,
  writeTimeoutMs: 10_000,
  sessionTimeoutMs: 30_000,
});

/** Ceiling on batchSize: InfluxDB recommends batches of 5,000-10,000 lines; 100,000 is already many MB per request. */
const MAX_BATCH_SIZE = 100_000;

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
  int('writeConcurrency', c.writeConcurrency, 1, 16);
  if (c.minDelayMs > c.maxDelayMs) problems.push(`minDelayMs=${c.minDelayMs} is above maxDelayMs=${c.maxDelayMs}`);
  // No bound between writeTimeoutMs and the session timeout: writes run beside consumption (the
  // write queue), and kafkajs heartbeats between fetches, paused ones included.
  int('sessionTimeoutMs', c.sessionTimeoutMs, 6_000, 1_800_000);
  if (problems.length) throw new ServiceConfigError(problems);
  const { metrics: _m, logger: _l, health: _h, ...rest } = c;
  return Object.freeze({ ...rest, influx: Object.freeze({ ...c.influx }), topics: Object.freeze({ ...c.topics }) });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
