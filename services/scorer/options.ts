/**
 * The scorer's options: defaults in one constant, compiled once at start into a frozen
 * config that names every bad setting.
 */
import type { CompiledConfig } from '../core/index.ts';
import type { TopicNames } from '../kafka/topics.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/log.ts';
import type { Health } from '../runtime/health.ts';
import type { MetricsRegistry } from '../runtime/metrics.ts';

export const SERVICE = 'scorer';

export interface ScorerOptions {
  brokers: string[];
  registryUrl: string;
  topics: TopicNames;
  /** Partitions for topics the scorer creates when missing. */
  partitions: number;
  cfg: CompiledConfig;
  /** Consumer group of all scorer instances. Default 'pdm-scorer'. */
  groupId?: string;
  /**
   * Name of this instance in its Kafka client id and logs. Default '0'. (Transactional ids
   * belong to partitions, not instances: partition-transactions.ts.)
   */
  instanceId?: string;
  /**
   * Readings per partition chunk, each committed in its own transaction (default 20,000):
   * bounds the work redone after a crash and the time between commits. Sends inside a transaction are split by size anyway (partition-transactions.ts),
   * so this is not what keeps requests under the broker's limit.
   */
  maxReadingsPerTransaction?: number;
  /** Partitions scored at once, each with its own transactions. Default 8. */
  partitionsConcurrently?: number;
  /**
   * Worker threads that decode, score and encode (default 0: all on the consuming thread).
   * Each assigned partition goes to one of them (partition modulo the count), so partitions
   * beyond the count share a thread; the consuming thread keeps Kafka: fetches,
   * transactions, restores. Threads pay for copies and more heaps (about 6 µs of CPU a
   * reading), so they help only a scorer with cores to spare; on the 2-core development
   * machine, shared with the broker, 2 threads gave 0.81-1.35x the one-thread rate
   * (benchmarks/README.md, "End to end").
   */
  scoringThreads?: number;
  /**
   * A changed asset state is written to the changelog in the first transaction at least this
   * long after its first unwritten change, ms (default 10,000): bounds the readings a
   * restore replays.
   */
  checkpointIntervalMs?: number;
  /** ... or once its partition has had this many readings since that change, whichever comes first (default 50,000). */
  checkpointMaxReadings?: number;
  /** Consumer group session timeout, ms (default 30,000; heartbeats at a tenth of it, 3 s at most). */
  sessionTimeoutMs?: number;
  /**
   * An asset that sent nothing for this long (by Kafka record time, so a replay decides the
   * same) loses its state: removed from memory and from the changelog (a tombstone), so
   * memory and restore time do not grow with assets that are gone. Its next record starts
   * afresh. Default 30 days.
   */
  stateTtlMs?: number;
  /** Max time a restore may wait for the changelog, ms. Default 120,000. */
  restoreTimeoutMs?: number;
  metrics?: MetricsRegistry;
  /** Where readiness and dependency health go (served on /readyz, /healthz). Default: a new one. */
  health?: Health;
  logger?: Logger;
  /** Wall clock for dead-letter timestamps and checkpoint ages (injectable for tests). */
  now?: () => number;
}

export const DEFAULT_SCORER = Object.freeze({
  groupId: 'pdm-scorer',
  instanceId: '0',
  maxReadingsPerTransaction: 20_000,
  partitionsConcurrently: 8,
  scoringThreads: 0,
  checkpointIntervalMs: 10_000,
  checkpointMaxReadings: 50_000,
  restoreTimeoutMs: 120_000,
  sessionTimeoutMs: 30_000,
  stateTtlMs: 30 * 86_400_000,
});

export type ScorerConfig = Readonly<Required<Omit<ScorerOptions, 'metrics' | 'logger' | 'now' | 'health'>>>;

/** Validates the options into a frozen config; every problem is named at once. */
export function compileScorerOptions(opts: ScorerOptions): ScorerConfig {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<ScorerOptions>;
  const c = { ...DEFAULT_SCORER, ...defined } as Required<ScorerOptions>;
  const problems: string[] = [];
  const int = (name: keyof ScorerOptions, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name}: ${v} is not an integer from ${min} to ${max}`);
  };
  if (c.brokers.length === 0) problems.push('brokers: at least one host:port is needed');
  if (!c.groupId) problems.push('groupId: empty');
  if (!c.instanceId) problems.push('instanceId: empty');
  int('partitions', c.partitions, 1, 10_000);
  int('maxReadingsPerTransaction', c.maxReadingsPerTransaction, 1, 1_000_000);
  int('partitionsConcurrently', c.partitionsConcurrently, 1, 1_000);
  int('scoringThreads', c.scoringThreads, 0, 64);
  if (!Number.isFinite(c.checkpointIntervalMs) || c.checkpointIntervalMs < 0) problems.push(`checkpointIntervalMs: ${c.checkpointIntervalMs} is not a duration ≥ 0 ms`);
  int('checkpointMaxReadings', c.checkpointMaxReadings, 1, Number.MAX_SAFE_INTEGER);
  int('restoreTimeoutMs', c.restoreTimeoutMs, 1_000, 3_600_000);
  int('sessionTimeoutMs', c.sessionTimeoutMs, 6_000, 1_800_000);
  int('stateTtlMs', c.stateTtlMs, 1_000, 10 * 365 * 86_400_000);
  if (problems.length > 0) throw new ServiceConfigError(problems);
  const { metrics: _m, logger: _l, now: _n, health: _h, ...rest } = c;
  return Object.freeze({ ...rest, brokers: Object.freeze([...rest.brokers]) as string[], topics: Object.freeze({ ...rest.topics }) });
}
