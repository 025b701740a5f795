/**
 * kafkajs client construction shared by every service: broker list, client id, and
 * kafkajs's own log lines routed through our logger (warnings and errors only, so a
 * rebalance does not flood the terminal).
 */
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { createLogger } from '../runtime/log.ts';

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
}

export function createKafka(opts: KafkaOptions): Kafka {
  const log = createLogger(`kafkajs.${opts.clientId}`);
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
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
