/**
 * Helpers for integration tests against the real local Kafka: read a whole topic as a
 * read_committed consumer, wait for a count, and produce Avro records like a device does.
 * Test-only; no service imports this.
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Reads `topic` from the beginning as a fresh read_committed consumer group until `until`
 * says enough (checked after each batch) or `timeoutMs` passes with nothing new for
 * `idleMs`; returns what it read, in per-partition offset order.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  opts: { until?: (records: ConsumedRecord[]) => boolean; timeoutMs?: number; idleMs?: number; readUncommitted?: boolean } = {},
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, readUncommitted: opts.readUncommitted ?? false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let last = Date.now();
  let resolve!: () => void;
  const enough = new Promise<void>((r) => (resolve = r));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        records.push({ topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {} });
      }
      last = Date.now();
      if (opts.until?.(records)) resolve();
    },
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const idleMs = opts.idleMs ?? (opts.until ? timeoutMs : 3_000);
  const started = Date.now();
  await Promise.race([
    enough,
    new Promise<void>((r) => {
      const t = setInterval(() => {
        if (Date.now() - started > timeoutMs || Date.now() - last > idleMs) {
          clearInterval(t);
          r();
        }
      }, 100);
      void enough.then(() => clearInterval(t));
    }),
  ]);
  await consumer.disconnect();
  return records;
}
