/**
 * Every setting a `pdm` service reads, in one table: its key in the configuration file, the
 * environment variable that overrides it, its default and what it sets. The file
 * (config-file.ts) and the environment are two ways of giving the same settings; the code
 * that uses a setting reads the merged environment (services/kafka/env.ts for connections,
 * the service commands for tuning, the runtime for logs and health) and validates it there,
 * so one rule applies whichever way a value came. The README's reference table is generated
 * from this list (reference.ts) and checked against it by a test.
 */

/** One setting. */
export interface Setting {
  /** Key in the configuration file, `section.name`. */
  key: string;
  /** The environment variable that overrides the file. */
  env: string;
  /** What it sets, with its unit. */
  description: string;
  /** Default, as the environment would spell it; empty: none (or computed, said in the description). */
  default: string;
  /**
   * A credential: never accepted in the configuration file (it would end up in a ConfigMap or a
   * repository), only from the environment or a mounted file (`<VAR>_FILE` where it exists).
   */
  secret?: true;
  /** How the file may spell it besides a string: `list`, an array of strings; `flag`, true or false (on/off); `number`, a number. */
  kind?: 'list' | 'flag' | 'number';
}

export const SETTINGS: readonly Setting[] = Object.freeze([
  { key: 'kafka.brokers', env: 'PDM_KAFKA_BROKERS', default: '127.0.0.1:9092', description: 'Kafka bootstrap servers, comma-separated host:port (a list in the file)', kind: 'list' },
  { key: 'kafka.topicPrefix', env: 'PDM_TOPIC_PREFIX', default: '', description: 'prefix of every topic and consumer group name' },
  { key: 'kafka.partitions', env: 'PDM_PARTITIONS', default: '6', description: 'partitions of the topics a service creates', kind: 'number' },
  { key: 'kafka.sessionTimeoutMs', env: 'PDM_KAFKA_SESSION_TIMEOUT_MS', default: '30000', description: "consumer group session timeout of every service, ms: how soon a crashed member's partitions move (6000 to 1800000)", kind: 'number' },
  { key: 'kafka.tls', env: 'PDM_KAFKA_TLS', default: 'off', description: 'on for TLS to the brokers', kind: 'flag' },
  { key: 'kafka.tlsCaFile', env: 'PDM_KAFKA_TLS_CA_FILE', default: '', description: 'PEM file of the CA that signed the brokers (default: the system CAs)' },
  { key: 'kafka.saslMechanism', env: 'PDM_KAFKA_SASL_MECHANISM', default: '', description: 'scram-sha-256, scram-sha-512 or plain (plain only with TLS); empty: no SASL' },
  { key: 'kafka.saslUsername', env: 'PDM_KAFKA_SASL_USERNAME', default: '', description: 'SASL user' },
  { key: 'kafka.saslPassword', env: 'PDM_KAFKA_SASL_PASSWORD', default: '', description: 'SASL password', secret: true },
  { key: 'kafka.saslPasswordFile', env: 'PDM_KAFKA_SASL_PASSWORD_FILE', default: '', description: 'file holding the SASL password (a mounted secret)' },
  { key: 'kafka.log', env: 'PDM_KAFKA_LOG', default: '', description: "debug to log kafkajs at debug level (default: its errors only)" },
  { key: 'registry.url', env: 'PDM_REGISTRY_URL', default: 'http://127.0.0.1:8081/apis/ccompat/v7', description: 'Confluent-compatible schema registry API' },
  { key: 'influx.url', env: 'PDM_INFLUX_URL', default: 'http://127.0.0.1:8086', description: 'InfluxDB URL' },
  { key: 'influx.org', env: 'PDM_INFLUX_ORG', default: 'pdm', description: 'InfluxDB organisation (ignored by 1.8)' },
  { key: 'influx.bucket', env: 'PDM_INFLUX_BUCKET', default: 'pdm/autogen', description: 'InfluxDB bucket, or database/retention-policy on 1.8' },
  { key: 'influx.token', env: 'PDM_INFLUX_TOKEN', default: 'pdm:pdm-local-dev', description: 'InfluxDB API token, or user:password on 1.8 (default: the local stack\'s)', secret: true },
  { key: 'salesforce.loginUrl', env: 'PDM_SF_LOGIN_URL', default: 'http://127.0.0.1:8443', description: "OAuth host: login.salesforce.com or the org's My Domain URL; client credentials need the My Domain URL (default: the local stand-in)" },
  { key: 'salesforce.authFlow', env: 'PDM_SF_AUTH_FLOW', default: 'password', description: 'password or client_credentials' },
  { key: 'salesforce.username', env: 'PDM_SF_USERNAME', default: '', description: 'integration user, password flow (the stand-in\'s by default on loopback)', secret: true },
  { key: 'salesforce.password', env: 'PDM_SF_PASSWORD', default: '', description: 'its password, password flow', secret: true },
  { key: 'salesforce.passwordFile', env: 'PDM_SF_PASSWORD_FILE', default: '', description: 'file holding the password (a mounted secret)' },
  { key: 'salesforce.securityToken', env: 'PDM_SF_SECURITY_TOKEN', default: '', description: 'security token appended to the password, when the org wants one', secret: true },
  { key: 'salesforce.securityTokenFile', env: 'PDM_SF_SECURITY_TOKEN_FILE', default: '', description: 'file holding the security token (a mounted secret)' },
  { key: 'salesforce.clientId', env: 'PDM_SF_CLIENT_ID', default: '', description: 'connected app consumer key', secret: true },
  { key: 'salesforce.clientSecret', env: 'PDM_SF_CLIENT_SECRET', default: '', description: 'connected app consumer secret', secret: true },
  { key: 'salesforce.clientSecretFile', env: 'PDM_SF_CLIENT_SECRET_FILE', default: '', description: 'file holding the client secret (a mounted secret)' },
  { key: 'salesforce.apiVersion', env: 'PDM_SF_API_VERSION', default: '62.0', description: 'REST API version' },
  { key: 'caseOpener.fieldService', env: 'PDM_SF_FIELD_SERVICE', default: 'off', description: 'on to also write a WorkOrder and a ServiceAppointment per episode', kind: 'flag' },
  { key: 'caseOpener.serviceMarginHours', env: 'PDM_CASE_SERVICE_MARGIN_HOURS', default: '4', description: 'the visit is due this long before the earliest likely failure, hours', kind: 'number' },
  { key: 'caseOpener.minServiceWindowHours', env: 'PDM_CASE_MIN_SERVICE_WINDOW_HOURS', default: '1', description: 'shortest service window when the failure is too near, hours', kind: 'number' },
  { key: 'caseOpener.dashboardUrl', env: 'PDM_DASHBOARD_URL', default: 'http://127.0.0.1:8080', description: 'base URL of the ops dashboards (Grafana, or pdm web); each case links to its asset’s dashboard over the episode window' },
  { key: 'scorer.checkpointMs', env: 'PDM_SCORER_CHECKPOINT_MS', default: '10000', description: 'checkpoint a changed state this long after its first unwritten change, ms', kind: 'number' },
  { key: 'scorer.checkpointReadings', env: 'PDM_SCORER_CHECKPOINT_READINGS', default: '50000', description: 'or after this many readings of its partition', kind: 'number' },
  { key: 'scorer.threads', env: 'PDM_SCORER_THREADS', default: '0', description: 'worker threads that decode, score and encode (0: on the consuming thread); a partition always goes to the same one; only for a scorer with cores to spare', kind: 'number' },
  { key: 'scorer.stateTtlMs', env: 'PDM_SCORER_STATE_TTL_MS', default: '2592000000', description: 'an asset silent this long (Kafka record time) loses its state, removed by a changelog tombstone, ms (30 days)', kind: 'number' },
  { key: 'service.metricsHost', env: 'PDM_METRICS_HOST', default: '127.0.0.1', description: 'address of /metrics, /healthz and /readyz (0.0.0.0 in a container)' },
  { key: 'service.unhealthyAfterMs', env: 'PDM_UNHEALTHY_AFTER_MS', default: '60000', description: '/healthz fails once a dependency (Kafka, the registry, InfluxDB, Salesforce) has been down this long, ms', kind: 'number' },
  { key: 'log.level', env: 'PDM_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error' },
  { key: 'log.format', env: 'PDM_LOG_FORMAT', default: 'text', description: 'json for one JSON object per line (log shippers); text: one readable line per event' },
]);

/** The environment variable naming the configuration file (instead of `--config FILE`). */
export const CONFIG_FILE_ENV = 'PDM_CONFIG_FILE';

const BY_KEY: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.key, s]));

export function settingByKey(key: string): Setting | undefined {
  return BY_KEY.get(key);
}

const BY_ENV: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.env, s]));

export function settingByEnv(name: string): Setting | undefined {
  return BY_ENV.get(name);
}
