/**
 * Publishes a simulated fleet to Kafka the way a connected product does: each reading as
 * Avro in the Confluent wire format (schema registered under `<readings topic>-value`),
 * keyed by asset id, through an idempotent producer. Readings go out in the fleet's
 * delivery order at a set rate (readings per second of wall time; 0 = as fast as the
 * broker takes them), so a few simulated days replay in minutes.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Reading } from '../core/types.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { sleep } from '../runtime/retry.ts';

export interface PublishOptions {
  kafka: Kafka;
  registryUrl: string;
  topic: string;
  readings: Iterable<Reading>;
  /** Readings per second of wall time; 0 publishes as fast as possible. Default 0. */
  ratePerSec?: number;
  /** Readings per produce request. Default 500. */
  batchSize?: number;
  /** Called after each batch with the running count. */
  onProgress?: (published: number) => void;
  signal?: AbortSignal;
  /** Called with each batch just before it is sent (the e2e benchmark stamps times here). */
  onSend?: (readings: readonly Reading[], sentAt: number) => void;
}

export async function publishReadings(opts: PublishOptions): Promise<number> {
  const codec = new AvroCodec(opts.registryUrl);
  await codec.registerValueSchema(opts.topic, loadSchemaText('reading'));
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const batchSize = opts.batchSize ?? 500;
  const rate = opts.ratePerSec ?? 0;
  const started = Date.now();
  let published = 0;
  let batch: Reading[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const messages: Message[] = batch.map((r) => ({ key: r.assetId, value: codec.encode(opts.topic, r) }));
    opts.onSend?.(batch, Date.now());
    await producer.send({ topic: opts.topic, messages, acks: -1 });
    published += batch.length;
    batch = [];
    opts.onProgress?.(published);
    if (rate > 0) {
      // Pace against the start so rounding never accumulates: reading n is due at n / rate.
      const due = started + (published / rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait, opts.signal);
    }
  };
  try {
    for (const r of opts.readings) {
      if (opts.signal?.aborted) break;
      batch.push(r);
      if (batch.length >= (rate > 0 ? Math.max(1, Math.min(batchSize, Math.ceil(rate / 50))) : batchSize)) await flush();
    }
    if (!opts.signal?.aborted) await flush();
  } finally {
    await producer.disconnect();
  }
  return published;
}
