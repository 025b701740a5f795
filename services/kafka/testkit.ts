/**
 * Helpers for integration tests against the real local Kafka: read a whole topic as a
 * read_committed consumer, wait for a count, and produce Avro records like a device does.
 * Test-only; no service imports this.
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { loadSchemaText, type AvroCodec } from './codec.ts';
import { scoresOf, type ScoreRecord } from './records.ts';

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

/**
 * Reads an anomaly.scores topic like readTopic and returns its scores, score blocks and
 * batches flattened (per-partition order, each asset's scores in reading order). With `atLeast`, it
 * reads until that many scores arrived; then (or without it) until nothing new for `idleMs`,
 * so that a duplicate written after the expected count would show.
 */
export async function readScores(
  kafka: Kafka,
  codec: AvroCodec,
  topic: string,
  opts: { atLeast?: number; timeoutMs?: number; idleMs?: number } = {},
): Promise<ScoreRecord[]> {
  // Cache the block and batch writer schemas so that counting can decode synchronously.
  await codec.registerRecordSchema(topic, loadSchemaText('scoreBlock'));
  await codec.registerRecordSchema(topic, loadSchemaText('scoreBatch'));
  const flatten = async (records: ConsumedRecord[]) => {
    const out: ScoreRecord[] = [];
    for (const r of records) {
      const d = await codec.decodeNamed(r.value);
      out.push(...scoresOf(d.schema, d.value));
    }
    return out;
  };
  const countSync = (records: ConsumedRecord[]) => {
    let n = 0;
    for (const r of records) {
      const d = codec.decodeIfCached(r.value);
      n += d ? scoresOf(d.schema, d.value).length : 1;
    }
    return n;
  };
  const timeoutMs = opts.timeoutMs ?? 90_000;
  if (opts.atLeast !== undefined) {
    const atLeast = opts.atLeast;
    await readTopic(kafka, topic, { until: (r) => countSync(r) >= atLeast, timeoutMs });
  }
  return flatten(await readTopic(kafka, topic, { idleMs: opts.idleMs ?? 2_000, timeoutMs: Math.min(timeoutMs, 30_000) }));
}
