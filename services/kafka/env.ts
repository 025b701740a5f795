/**
 * Where the services find Kafka, the registry, InfluxDB and Salesforce: environment
 * variables with defaults that point at the local stack (infra/), validated once at start.
 * Pointing at production is only a matter of setting the variables; no code knows which
 * it talks to.
 */
import { readFileSync } from 'node:fs';
import { ServiceConfigError } from '../runtime/errors.ts';
import { kafkaSecurityFromEnv } from './security.ts';
import { DEFAULT_PARTITIONS } from './topics.ts';

export interface InfluxConnection {
  url: string;
  org: string;
  bucket: string;
  token: string;
}

/** How the case opener logs in to Salesforce (both through a connected app's client id and secret). */
export type SalesforceAuthFlow = 'password' | 'client_credentials';

export interface SalesforceConnection {
  /**
   * Where the OAuth2 token request goes: for the password flow login.salesforce.com,
   * test.salesforce.com or the org's My Domain URL; for client credentials the org's My
   * Domain URL only (https://<domain>.my.salesforce.com).
   */
  loginUrl: string;
  /** Default: `password` when username and password are set, else `client_credentials`. */
  authFlow?: SalesforceAuthFlow;
  /** Password flow only (client credentials run as the connected app's run-as user). */
  username: string;
  password: string;
  /** Appended to the password on the password flow, as orgs demand outside trusted IP ranges. Default empty. */
  securityToken?: string;
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
  /**
   * Consumer group session timeout of every service, ms (default 30,000): how long a member
   * that stopped heartbeating (a crash, a pause) keeps its partitions before the group moves
   * them. Shorter fails over faster; too short expels members during long GC pauses.
   */
  sessionTimeoutMs: number;
}

export const LOCAL_STACK_ENV: PipelineEnv = Object.freeze({
  brokers: ['127.0.0.1:9092'],
  registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  topicPrefix: '',
  partitions: DEFAULT_PARTITIONS,
  influx: { url: 'http://127.0.0.1:8086', org: 'pdm', bucket: 'pdm/autogen', token: 'pdm:pdm-local-dev' },
  salesforce: {
    loginUrl: 'http://127.0.0.1:8443',
    authFlow: 'password',
    username: 'pdm-integration@example.com',
    password: 'pdm-local-password',
    securityToken: '',
    clientId: 'pdm-local-client-id',
    clientSecret: 'pdm-local-client-secret',
    apiVersion: '62.0',
  },
  dashboardUrl: 'http://127.0.0.1:8080',
  sessionTimeoutMs: 30_000,
}) as PipelineEnv;

/** The heartbeat interval that goes with a session timeout: a tenth of it, at most kafkajs's default 3 s. */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.min(3_000, Math.floor(sessionTimeoutMs / 10));
}

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
    salesforce: salesforceEnv(env, problems),
    dashboardUrl: url('PDM_DASHBOARD_URL', d.dashboardUrl),
    sessionTimeoutMs: Number(str('PDM_KAFKA_SESSION_TIMEOUT_MS', String(d.sessionTimeoutMs))),
  };
  // The broker refuses sessions outside group.min/max.session.timeout.ms (6 s to 30 min by default).
  if (!Number.isInteger(out.sessionTimeoutMs) || out.sessionTimeoutMs < 6_000 || out.sessionTimeoutMs > 1_800_000) {
    problems.push(`PDM_KAFKA_SESSION_TIMEOUT_MS=${env.PDM_KAFKA_SESSION_TIMEOUT_MS}: must be an integer from 6000 to 1800000 (ms)`);
  }
  // Kafka's TLS and SASL settings are read where the clients are made (client.ts); checked here
  // so that a bad one stops the service at start with the others.
  try {
    kafkaSecurityFromEnv(env);
  } catch (err) {
    if (err instanceof ServiceConfigError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length) throw new ServiceConfigError(problems);
  return out;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
/** Salesforce's shared login hosts, which refuse the client-credentials grant. */
const SHARED_LOGIN_HOSTS = new Set(['login.salesforce.com', 'test.salesforce.com']);

/**
 * The Salesforce settings. Secrets (password, security token, client secret) come from the
 * variable or from a file named by `<VARIABLE>_FILE` (a mounted secret), never both. The
 * local stand-in's credentials are defaults only while PDM_SF_LOGIN_URL points at loopback,
 * so a real org is never sent them and a missing credential is named instead.
 */
function salesforceEnv(env: NodeJS.ProcessEnv, problems: string[]): SalesforceConnection {
  const d = LOCAL_STACK_ENV.salesforce;
  const given = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const secret = (name: string, fileVar: string): string | undefined => {
    const file = given(fileVar);
    if (file && given(name)) problems.push(`${name} and ${fileVar} are both set: set one`);
    if (!file) return given(name);
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${fileVar}=${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const loginUrl = (given('PDM_SF_LOGIN_URL') ?? d.loginUrl).replace(/\/+$/, '');
  let host = '';
  try {
    const u = new URL(loginUrl);
    host = u.hostname.toLowerCase();
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`PDM_SF_LOGIN_URL=${loginUrl}: must be an http(s) URL`);
  } catch {
    problems.push(`PDM_SF_LOGIN_URL=${loginUrl}: not a URL`);
  }
  const local = LOOPBACK_HOSTS.has(host);
  const fallback = <T>(v: T): T | undefined => (local ? v : undefined);
  const flow = given('PDM_SF_AUTH_FLOW') ?? 'password';
  if (flow !== 'password' && flow !== 'client_credentials') problems.push(`PDM_SF_AUTH_FLOW=${flow}: must be password or client_credentials`);
  const out: SalesforceConnection = {
    loginUrl,
    authFlow: flow === 'client_credentials' ? 'client_credentials' : 'password',
    username: given('PDM_SF_USERNAME') ?? fallback(d.username) ?? '',
    password: secret('PDM_SF_PASSWORD', 'PDM_SF_PASSWORD_FILE') ?? fallback(d.password) ?? '',
    securityToken: secret('PDM_SF_SECURITY_TOKEN', 'PDM_SF_SECURITY_TOKEN_FILE') ?? '',
    clientId: given('PDM_SF_CLIENT_ID') ?? fallback(d.clientId) ?? '',
    clientSecret: secret('PDM_SF_CLIENT_SECRET', 'PDM_SF_CLIENT_SECRET_FILE') ?? fallback(d.clientSecret) ?? '',
    apiVersion: given('PDM_SF_API_VERSION') ?? d.apiVersion,
  };
  const need = (name: string, v: string, why: string) => {
    if (!v) problems.push(`${name} is required ${why}${local ? '' : ' (the local stand-in defaults apply only to a loopback PDM_SF_LOGIN_URL)'}`);
  };
  need('PDM_SF_CLIENT_ID', out.clientId, 'for every flow');
  need('PDM_SF_CLIENT_SECRET', out.clientSecret, 'for every flow');
  if (out.authFlow === 'password') {
    need('PDM_SF_USERNAME', out.username, 'for the password flow');
    need('PDM_SF_PASSWORD', out.password, 'for the password flow');
  } else if (SHARED_LOGIN_HOSTS.has(host)) {
    problems.push(`PDM_SF_LOGIN_URL=${loginUrl}: client credentials must go to the org's My Domain URL (https://<domain>.my.salesforce.com), not ${host}`);
  }
  if (!/^\d{2}\.0$/.test(out.apiVersion)) problems.push(`PDM_SF_API_VERSION=${out.apiVersion}: expected like 62.0`);
  return out;
}
