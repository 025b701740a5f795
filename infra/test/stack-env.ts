/**
 * Connection info of the running local stack for integration tests (provided by
 * global-setup.ts), in the shape `npm run stack:status -- --json` prints.
 */
import { inject } from 'vitest';
import type { StackStatus } from '../stack/stack.ts';

export interface KafkaInfo { up: boolean; brokers: string[] }
export interface RegistryInfo { up: boolean; url: string }
export interface InfluxInfo { up: boolean; url: string; org: string; bucket: string; token: string }
export interface SalesforceInfo {
  up: boolean; loginUrl: string; username: string; password: string; clientId: string; clientSecret: string;
  /** The org's My Domain host: API calls and client-credentials logins. */
  instanceUrl: string;
  /** Appended to the password when the stand-in runs strict. */
  securityToken: string;
  /** An administrator (full access) for seeding and reading data in tests. */
  adminUsername: string; adminPassword: string;
  strict: boolean;
}

export interface StackInfo {
  kafka: KafkaInfo;
  registry: RegistryInfo;
  influx: InfluxInfo;
  salesforce: SalesforceInfo;
}

export function stackInfo(): StackInfo {
  const s: StackStatus = inject('stack');
  return s as unknown as StackInfo;
}

/** A name no other run or test uses: `${prefix}-${time}-${random}`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The environment a service process needs to run on the local stack under `prefix`: Kafka,
 * the registry, InfluxDB, the Salesforce login host, and a 6 s session timeout so that a
 * stopped member's partitions move quickly.
 */
export function serviceEnv(s: StackInfo, prefix: string, partitions: number): Record<string, string> {
  return {
    PDM_KAFKA_BROKERS: s.kafka.brokers.join(','),
    PDM_REGISTRY_URL: s.registry.url,
    PDM_TOPIC_PREFIX: prefix,
    PDM_PARTITIONS: String(partitions),
    PDM_INFLUX_URL: s.influx.url,
    PDM_INFLUX_TOKEN: s.influx.token,
    PDM_INFLUX_BUCKET: s.influx.bucket,
    PDM_SF_LOGIN_URL: s.salesforce.loginUrl,
    PDM_KAFKA_SESSION_TIMEOUT_MS: '6000',
  };
}
