/**
 * Publishes a simulated fleet to Kafka the way a connected product does: each reading as
 * Avro in the Confluent wire format (schema registered under `<readings topic>-value`),
 * keyed by asset id, through an idempotent producer. Readings go out in the fleet's
 * delivery order at a set rate (readings per second of wall time; 0 = as fast as the
 * broker takes them), so a few simulated days replay in minutes. With `events` (the fleet's
 * events()), the repairs that follow injected failures go out too, as maintenance records on
 * the same topic and key (schemas/maintenance.event.avsc), ordered with the asset's readings.
 * Schemas, keys, checks and delivery are the product's producer helper
 * (services/producer/producer.ts), the one device makers use; this file only cuts batches
 * and paces them.
 */
import type { Kafka } from 'kafkajs';
import type { Reading } from '../core/types.ts';
import { TelemetryProducer } from '../producer/producer.ts';
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

/** Most records one batch can hold: the readings of a batch plus the repairs among them. */
const MAX_RECORDS_PER_REQUEST = 10_000;

export async function publishReadings(opts: PublishOptions): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  // The product's producer helper does schemas, keys, checks and delivery; the batches are cut
  // here (by readings, paced by the rate), so it never sends on its own: no linger, and a
  // buffer larger than any batch this loop builds.
  const producer = await TelemetryProducer.connect({
    kafka: opts.kafka,
    registryUrl: opts.registryUrl,
    topic: opts.topic,
    batchSize: MAX_RECORDS_PER_REQUEST,
    lingerMs: 0,
    // Simulated time may run ahead of the wall clock.
    maxClockAheadMs: null,
    maintenanceSource: 'simulator',
    // Uncompressed, as the simulator always published: gzip would cost the demo's two cores.
    compression: 'none',
  });
  const rate = opts.ratePerSec ?? 0;
  const started = Date.now();
  let published = 0;
  let repairs = 0;
  let batch: Reading[] = [];
  let pendingRepairs = 0;
  const flush = async () => {
    if (producer.pending === 0) return;
    opts.onSend?.(batch, Date.now());
    await producer.flush();
    published += batch.length;
    const sentRepairs = pendingRepairs;
    batch = [];
    pendingRepairs = 0;
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
        await producer.sendMaintenance(e.event);
        pendingRepairs += 1;
        continue;
      }
      batch.push(e.reading);
      await producer.send(e.reading);
      if (batch.length >= (rate > 0 ? Math.max(1, Math.min(batchSize, Math.ceil(rate / 50))) : batchSize)) await flush();
    }
    if (!opts.signal?.aborted) await flush();
  } finally {
    // After an abort (or a failed send) the last partial batch is not sent.
    await producer.dispose();
  }
  return published;
}

function* asEvents(readings: Iterable<Reading>): Generator<FleetEvent> {
  for (const reading of readings) yield { type: 'reading', reading };
}
