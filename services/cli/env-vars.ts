/**
 * Every environment variable a `pdm` service reads, in one list: what deployment files
 * (compose.yaml, infra/deploy/) may set, checked by infra/deploy/manifests.test.ts, and kept
 * honest by env-vars.test.ts, which compares it with the variables the code reads. The
 * reading itself stays where it is (services/kafka/env.ts for connections, the scorer
 * command for its tuning, the runtime for logging); this is the index.
 */

/** One variable: its name and what it sets. */
export interface EnvVar {
  name: string;
  /** What it sets, with its unit and default. */
  description: string;
}

export const SERVICE_ENV_VARS: readonly EnvVar[] = Object.freeze([
  { name: 'PDM_KAFKA_BROKERS', description: 'Kafka bootstrap servers, comma-separated host:port (default 127.0.0.1:9092)' },
  { name: 'PDM_REGISTRY_URL', description: 'Confluent-compatible schema registry API (default http://127.0.0.1:8081/apis/ccompat/v7)' },
  { name: 'PDM_TOPIC_PREFIX', description: 'prefix of every topic and consumer group name (default empty)' },
  { name: 'PDM_PARTITIONS', description: 'partitions of the topics a service creates (default 6)' },
  { name: 'PDM_KAFKA_TLS', description: 'on for TLS to the brokers (default off)' },
  { name: 'PDM_KAFKA_TLS_CA_FILE', description: 'PEM file of the CA that signed the brokers (default: the system CAs)' },
  { name: 'PDM_KAFKA_SASL_MECHANISM', description: 'scram-sha-256, scram-sha-512 or plain (plain only with TLS); unset: no SASL' },
  { name: 'PDM_KAFKA_SASL_USERNAME', description: 'SASL user' },
  { name: 'PDM_KAFKA_SASL_PASSWORD', description: 'SASL password (a secret)' },
  { name: 'PDM_KAFKA_SASL_PASSWORD_FILE', description: 'file holding PDM_KAFKA_SASL_PASSWORD (a mounted secret)' },
  { name: 'PDM_KAFKA_SESSION_TIMEOUT_MS', description: 'consumer group session timeout of every service, ms: how soon a crashed member\'s partitions move (default 30000, 6000 to 1800000)' },
  { name: 'PDM_INFLUX_URL', description: 'InfluxDB URL (default http://127.0.0.1:8086)' },
  { name: 'PDM_INFLUX_ORG', description: 'InfluxDB organisation (default pdm; ignored by 1.8)' },
  { name: 'PDM_INFLUX_BUCKET', description: 'InfluxDB bucket, or database/retention-policy on 1.8 (default pdm/autogen)' },
  { name: 'PDM_INFLUX_TOKEN', description: 'InfluxDB API token, or user:password on 1.8 (a secret)' },
  { name: 'PDM_SF_LOGIN_URL', description: "Salesforce OAuth host: login.salesforce.com or the org's My Domain URL; client credentials need the My Domain URL (default the local stand-in)" },
  { name: 'PDM_SF_AUTH_FLOW', description: 'password or client_credentials (default password)' },
  { name: 'PDM_SF_USERNAME', description: 'Salesforce integration user, password flow (a secret)' },
  { name: 'PDM_SF_PASSWORD', description: 'its password, password flow (a secret)' },
  { name: 'PDM_SF_PASSWORD_FILE', description: 'file holding PDM_SF_PASSWORD (a mounted secret)' },
  { name: 'PDM_SF_SECURITY_TOKEN', description: 'security token appended to the password, when the org wants one (a secret)' },
  { name: 'PDM_SF_SECURITY_TOKEN_FILE', description: 'file holding PDM_SF_SECURITY_TOKEN (a mounted secret)' },
  { name: 'PDM_SF_CLIENT_ID', description: 'connected app consumer key (a secret)' },
  { name: 'PDM_SF_CLIENT_SECRET', description: 'connected app consumer secret (a secret)' },
  { name: 'PDM_SF_CLIENT_SECRET_FILE', description: 'file holding PDM_SF_CLIENT_SECRET (a mounted secret)' },
  { name: 'PDM_SF_API_VERSION', description: 'Salesforce REST API version (default 62.0)' },
  { name: 'PDM_DASHBOARD_URL', description: 'base URL of the ops dashboards (Grafana, or pdm web: default http://127.0.0.1:8080); each case links <base>/d/pdm-asset/ for its asset and episode window' },
  { name: 'PDM_METRICS_HOST', description: 'address of /metrics, /healthz and /readyz (default 127.0.0.1; 0.0.0.0 in a container)' },
  { name: 'PDM_UNHEALTHY_AFTER_MS', description: '/healthz fails once a dependency (Kafka, the registry, InfluxDB, Salesforce) has been down this long, ms (default 60000)' },
  { name: 'PDM_LOG_LEVEL', description: 'debug, info (default), warn or error' },
  { name: 'PDM_LOG_FORMAT', description: 'json for one JSON object per line (log shippers); default text' },
  { name: 'PDM_KAFKA_LOG', description: 'debug to log kafkajs at debug level (default: its errors only)' },
  { name: 'PDM_SCORER_CHECKPOINT_MS', description: 'scorer: checkpoint a changed state this long after its first unwritten change, ms (default 10000)' },
  { name: 'PDM_SCORER_STATE_TTL_MS', description: 'scorer: an asset silent this long (Kafka record time) loses its state, removed by a changelog tombstone, ms (default 2592000000, 30 days)' },
  { name: 'PDM_SCORER_CHECKPOINT_READINGS', description: "scorer: or after this many readings of its partition (default 50000)" },
  { name: 'PDM_CASE_SERVICE_MARGIN_HOURS', description: 'case opener: the visit is due this long before the earliest likely failure, hours (default 4)' },
  { name: 'PDM_CASE_MIN_SERVICE_WINDOW_HOURS', description: 'case opener: shortest service window when the failure is too near, hours (default 1)' },
  { name: 'PDM_SF_FIELD_SERVICE', description: 'case opener: on to also write a WorkOrder and a ServiceAppointment per episode (default off)' },
]);

const NAMES: ReadonlySet<string> = new Set(SERVICE_ENV_VARS.map((v) => v.name));

/** True when a `pdm` service reads `name`. */
export function isServiceEnvVar(name: string): boolean {
  return NAMES.has(name);
}
