/**
 * The settings of `pdm web`: defaults in one constant, compiled once at start into a frozen
 * config that names every bad setting (the shape of services/influx-sink/sink.ts).
 */
import { ServiceConfigError } from '../runtime/errors.ts';
import type { InfluxConnection, PipelineEnv } from '../kafka/env.ts';
import { DEFAULT_PARTITIONS, type TopicNames } from '../kafka/topics.ts';

export interface WebOptions {
  /** TCP port of the pages. Default 8080; 0 picks a free one. */
  port: number;
  /** Address to listen on. Default 127.0.0.1; 0.0.0.0 in a container. */
  host: string;
  influx: InfluxConnection;
  brokers: string[];
  registryUrl: string;
  topics: TopicNames;
  /** Partitions of the topics it creates when they are missing (PDM_PARTITIONS). Default 6. */
  partitions: number;
  /** Prefix of the throwaway consumer group that follows the case events. */
  groupPrefix: string;
  /** Link to a Salesforce case: `{caseId}` is replaced by the case's id. Default `<PDM_SF_LOGIN_URL>/{caseId}`. */
  caseUrl: string;
  /** Open predictions per page of the fleet view. Default 50, at most 500. */
  pageSize: number;
  /** Range the asset page shows by default, ending at the asset's latest reading, ms. Default 7 days. */
  defaultRangeMs: number;
  /** Longest time a page waits for InfluxDB, ms. Default 30,000. */
  queryTimeoutMs: number;
}

type Tunables = Pick<WebOptions, 'port' | 'host' | 'partitions' | 'groupPrefix' | 'pageSize' | 'defaultRangeMs' | 'queryTimeoutMs'>;

export const DEFAULT_WEB: Readonly<Tunables> = Object.freeze({
  port: 8080,
  partitions: DEFAULT_PARTITIONS,
  host: '127.0.0.1',
  groupPrefix: '',
  pageSize: 50,
  defaultRangeMs: 7 * 24 * 3_600_000,
  queryTimeoutMs: 30_000,
});

export type WebSettings = Partial<Tunables> & Pick<WebOptions, 'influx' | 'brokers' | 'registryUrl' | 'topics' | 'caseUrl'>;

/** Merges `s` over DEFAULT_WEB and checks it; every problem is named at once. */
export function compileWebOptions(s: WebSettings): Readonly<WebOptions> {
  const o: WebOptions = { ...DEFAULT_WEB, ...s };
  const problems: string[] = [];
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65_535) problems.push(`port ${o.port}: must be a TCP port (0-65535)`);
  if (!Number.isInteger(o.pageSize) || o.pageSize < 1 || o.pageSize > 500) problems.push(`pageSize ${o.pageSize}: must be an integer 1-500`);
  if (!(o.defaultRangeMs >= 60_000)) problems.push(`defaultRangeMs ${o.defaultRangeMs}: must be at least a minute`);
  if (!(o.queryTimeoutMs >= 1_000)) problems.push(`queryTimeoutMs ${o.queryTimeoutMs}: must be at least 1000`);
  if (!o.caseUrl.includes('{caseId}')) problems.push(`caseUrl ${o.caseUrl}: must contain {caseId}`);
  if (o.brokers.length === 0) problems.push('brokers: none given');
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return Object.freeze(o);
}

/**
 * The settings of a fleet view over the pipeline of `env` whose topics are `topics`: its
 * InfluxDB, Kafka and registry, case links to the Salesforce login URL, a consumer-group
 * prefix of the topics' prefix. What `pdm web` and the demo start it with.
 */
export function webSettingsFromEnv(env: PipelineEnv, topics: TopicNames, groupPrefix = env.topicPrefix): WebSettings {
  return {
    influx: env.influx,
    brokers: env.brokers,
    registryUrl: env.registryUrl,
    topics,
    partitions: env.partitions,
    groupPrefix,
    caseUrl: `${env.salesforce.loginUrl}/{caseId}`,
  };
}
