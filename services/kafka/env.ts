/**
 * Where the services find Kafka, the registry, InfluxDB and Salesforce: environment
 * variables with defaults that point at the local stack (infra/), validated once at start.
 * Pointing at production is only a matter of setting the variables; no code knows which
 * it talks to.
 */
import { ServiceConfigError } from '../runtime/errors.ts';
import { DEFAULT_PARTITIONS } from './topics.ts';

export interface InfluxConnection {
  url: string;
  org: string;
  bucket: string;
  token: string;
}

export interface SalesforceConnection {
  loginUrl: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  /** REST API version, e.g. "62.0". */
  apiVersion: string;
}

export interface PipelineEnv {
  brokers: string[];
  registryUrl: string;
  /** Prefix of every topic name (default empty); lets tests and demos run side by side. */
  topicPrefix: string;
  partitions: number;
  influx: InfluxConnection;
  salesforce: SalesforceConnection;
  /** Base URL of the ops dashboards, linked from each case. */
  dashboardUrl: string;
}

export const LOCAL_STACK_ENV: PipelineEnv = Object.freeze({
  brokers: ['127.0.0.1:9092'],
  registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  topicPrefix: '',
  partitions: DEFAULT_PARTITIONS,
  influx: { url: 'http://127.0.0.1:8086', org: 'pdm', bucket: 'pdm/autogen', token: 'pdm:pdm-local-dev' },
  salesforce: {
    loginUrl: 'http://127.0.0.1:8443',
    username: 'pdm-integration@example.com',
    password: 'pdm-local-password',
    clientId: 'pdm-local-client-id',
    clientSecret: 'pdm-local-client-secret',
    apiVersion: '62.0',
  },
  dashboardUrl: 'http://127.0.0.1:8080',
}) as PipelineEnv;

/** Reads PDM_* variables over the local-stack defaults; every problem is reported at once. */
export function pipelineEnv(env: NodeJS.ProcessEnv = process.env): PipelineEnv {
  const problems: string[] = [];
  const str = (name: string, fallback: string) => {
    const v = env[name];
    return v !== undefined && v.trim() !== '' ? v.trim() : fallback;
  };
  const url = (name: string, fallback: string) => {
    const v = str(name, fallback);
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`${name}=${v}: must be an http(s) URL`);
    } catch {
      problems.push(`${name}=${v}: not a URL`);
    }
    return v.replace(/\/+$/, '');
  };
  const brokers = str('PDM_KAFKA_BROKERS', LOCAL_STACK_ENV.brokers.join(','))
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const b of brokers) if (!/^[^:\s]+:\d{1,5}$/.test(b)) problems.push(`PDM_KAFKA_BROKERS: "${b}" is not host:port`);
  const partitions = Number(str('PDM_PARTITIONS', String(LOCAL_STACK_ENV.partitions)));
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000) problems.push(`PDM_PARTITIONS: must be an integer 1-1000`);
  const prefix = str('PDM_TOPIC_PREFIX', '');
  if (prefix && !/^[A-Za-z0-9._-]+$/.test(prefix)) problems.push(`PDM_TOPIC_PREFIX="${prefix}": only letters, digits, '.', '_' and '-' are valid in topic names`);
  const d = LOCAL_STACK_ENV;
  const out: PipelineEnv = {
    brokers,
    registryUrl: url('PDM_REGISTRY_URL', d.registryUrl),
    topicPrefix: prefix,
    partitions,
    influx: {
      url: url('PDM_INFLUX_URL', d.influx.url),
      org: str('PDM_INFLUX_ORG', d.influx.org),
      bucket: str('PDM_INFLUX_BUCKET', d.influx.bucket),
      token: str('PDM_INFLUX_TOKEN', d.influx.token),
    },
    salesforce: {
      loginUrl: url('PDM_SF_LOGIN_URL', d.salesforce.loginUrl),
      username: str('PDM_SF_USERNAME', d.salesforce.username),
      password: str('PDM_SF_PASSWORD', d.salesforce.password),
      clientId: str('PDM_SF_CLIENT_ID', d.salesforce.clientId),
      clientSecret: str('PDM_SF_CLIENT_SECRET', d.salesforce.clientSecret),
      apiVersion: str('PDM_SF_API_VERSION', d.salesforce.apiVersion),
    },
    dashboardUrl: url('PDM_DASHBOARD_URL', d.dashboardUrl),
  };
  if (!/^\d{2}\.0$/.test(out.salesforce.apiVersion)) problems.push(`PDM_SF_API_VERSION=${out.salesforce.apiVersion}: expected like 62.0`);
  if (problems.length) throw new ServiceConfigError(problems);
  return out;
}
