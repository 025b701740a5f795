/**
 * Decoding a chunk of the readings topic into the scorer step's inputs: each record is a
 * reading, a maintenance event, or poison (bad bytes, unknown schema, a record Avro accepts
 * but the pipeline cannot: empty ids, bad timestamps, past a limit of RECORD_LIMITS), with
 * where it came from. A registry
 * that does not answer is not the record's fault: that error is thrown, and kafkajs
 * retries the batch.
 */
import type { KafkaMessage } from 'kafkajs';
import type { AvroCodec } from '../kafka/codec.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { MAINTENANCE_SCHEMA, validMaintenance, validReading } from './records.ts';
import type { StepInput } from './step.ts';

/** Decodes `messages[from, to)` (all of them by default). */
export async function decodeInputs(codec: AvroCodec, topic: string, partition: number, messages: readonly KafkaMessage[], from = 0, to = messages.length): Promise<StepInput[]> {
  const out: StepInput[] = [];
  for (let i = from; i < to; i++) {
    const msg = messages[i]!;
    const offset = Number(msg.offset);
    const recordTs = Number(msg.timestamp);
    const src = { topic, partition, offset: msg.offset, key: msg.key, value: msg.value, headers: msg.headers };
    try {
      // Synchronous once the schema is cached: the hot path never awaits.
      const decoded = codec.decodeIfCached(msg.value) ?? (await codec.decodeNamed(msg.value));
      if (decoded.schema === MAINTENANCE_SCHEMA) {
        const valid = validMaintenance(decoded.value, recordTs);
        if (typeof valid === 'string') throw new PoisonRecordError(`invalid maintenance event: ${valid}`, 'invalid_record');
        out.push({ kind: 'repair', event: valid, source: String((decoded.value as { source?: unknown }).source ?? ''), offset, src, recordTs });
      } else {
        const valid = validReading(decoded.value, recordTs);
        if (typeof valid === 'string') throw new PoisonRecordError(`invalid reading: ${valid}`, 'invalid_record');
        out.push({ kind: 'reading', reading: valid, offset, src, recordTs });
      }
    } catch (err) {
      if (!(err instanceof PoisonRecordError)) throw err;
      out.push({ kind: 'poison', error: err, offset, src, recordTs });
    }
  }
  return out;
}
