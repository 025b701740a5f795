/**
 * Publishes a simulated fleet to Kafka the way a connected product does: each reading as
 * Avro in the Confluent wire format (schema registered under `<readings topic>-value`),
 * keyed by asset id, through an idempotent producer. Readings go out in the fleet's
 * delivery order at a set rate (readings per second of wall time; 0 = as fast as the
 * broker takes them), so a few simulated days replay in minutes. With `events` (the fleet's
 * events()), the repairs that follow injected failures go out too, as maintenance records on
 * the same topic and key (schemas/maintenance.event.avsc), ordered with the asset's readings.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import type { MaintenanceEvent, Reading } from '../core/types.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import type { FleetEvent } from './fleet.ts';
import { sleep } from '../runtime/retry.ts';

export interface PublishOptions {
  kafka: Kafka;
  registryUrl: string;
  topic: string;
  /** What to publish: readings only, or the fleet's events() (readings and maintenance events). */
  readings: Iterable<Reading> | { events: Iterable<FleetEvent> };
  /** Called with the running count of maintenance events published. */
  onMaintenance?: (published: number) => void;
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
  const maintenanceKey = recordWriterKey(opts.topic, await codec.registerRecordSchema(opts.topic, loadSchemaText('maintenance')));
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const batchSize = opts.batchSize ?? 500;
  const rate = opts.ratePerSec ?? 0;
  const started = Date.now();
  let published = 0;
  let repairs = 0;
  let batch: Reading[] = [];
  let messages: Message[] = [];
  const flush = async () => {
    if (messages.length === 0) return;
    opts.onSend?.(batch, Date.now());
    await producer.send({ topic: opts.topic, messages, acks: -1 });
    published += batch.length;
    const sentRepairs = messages.length - batch.length;
    batch = [];
    messages = [];
    opts.onProgress?.(published);
    if (sentRepairs > 0) opts.onMaintenance?.((repairs += sentRepairs));
    if (rate > 0) {
      // Pace against the start so rounding never accumulates: reading n is due at n / rate.
      const due = started + (published / rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait, opts.signal);
    }
  };
  try {
    const source: Iterable<FleetEvent> = 'events' in opts.readings ? opts.readings.events : asEvents(opts.readings);
    for (const e of source) {
      if (opts.signal?.aborted) break;
      if (e.type === 'maintenance') {
        messages.push({ key: e.event.assetId, value: codec.encode(maintenanceKey, maintenanceRecord(e.event)) });
        continue;
      }
      batch.push(e.reading);
      messages.push({ key: e.reading.assetId, value: codec.encode(opts.topic, e.reading) });
      if (batch.length >= (rate > 0 ? Math.max(1, Math.min(batchSize, Math.ceil(rate / 50))) : batchSize)) await flush();
    }
    if (!opts.signal?.aborted) await flush();
  } finally {
    await producer.disconnect();
  }
  return published;
}

function* asEvents(readings: Iterable<Reading>): Generator<FleetEvent> {
  for (const reading of readings) yield { type: 'reading', reading };
}

/** The Avro record of a simulated repair (schemas/maintenance.event.avsc). */
function maintenanceRecord(e: MaintenanceEvent): Record<string, unknown> {
  return { assetId: e.assetId, ts: e.ts, failureMode: e.failureMode ?? null, sensors: e.sensors ?? null, source: 'simulator' };
}
