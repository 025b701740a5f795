/**
 * kafkajs client construction shared by every service: broker list, client id, TLS and SASL
 * (security.ts, from the environment unless given), and kafkajs's own log lines routed through
 * our logger (warnings and errors only, so a rebalance does not flood the terminal).
 */
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { createLogger } from '../runtime/log.ts';
import { kafkaSecurityFromEnv, type KafkaSecurity } from './security.ts';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  /** First retry backoff of broker requests, ms (default 200). */
  initialRetryTimeMs?: number;
  /**
   * Retries of a broker request, connecting included (default 10: about 100 s of patience
   * for a broker that is down, what a service wants; a command a person waits on wants less).
   */
  retries?: number;
  /** TLS and SASL. Default: the PDM_KAFKA_TLS* and PDM_KAFKA_SASL_* variables. */
  security?: KafkaSecurity;
}

/** The environment's Kafka security, read once per process (pipelineEnv() has validated it at start). */
let envSecurity: KafkaSecurity | undefined;

export function createKafka(opts: KafkaOptions): Kafka {
  const log = createLogger(`kafkajs.${opts.clientId}`);
  const security = opts.security ?? (envSecurity ??= kafkaSecurityFromEnv());
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    ...(security.ssl ? { ssl: security.ssl.ca ? { ca: [security.ssl.ca] } : true } : {}),
    ...(security.sasl ? { sasl: security.sasl } : {}),
    logLevel: process.env.PDM_KAFKA_LOG === 'debug' ? logLevel.DEBUG : logLevel.ERROR,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      const fields = { ...rest } as Record<string, unknown>;
      delete fields.timestamp;
      delete fields.logger;
      if (entry.level <= logLevel.ERROR) log.warn(String(message), fields);
      else log.debug(String(message), fields);
    },
    retry: { initialRetryTime: opts.initialRetryTimeMs ?? 200, retries: opts.retries ?? 10 },
  });
}

/**
 * Which dependency a failed consume is down on, for the health report: the schema registry
 * when the codec could not reach it, else Kafka.
 */
export function dependencyOf(err: unknown): 'schema-registry' | 'kafka' {
  let cur: unknown = err;
  for (let i = 0; i < 6 && cur instanceof Error; i++) {
    if (/schema registry|from the registry|register schema/i.test(cur.message)) return 'schema-registry';
    cur = (cur as Error & { cause?: unknown }).cause;
  }
  return 'kafka';
}
