/**
 * Dead letters: a record that can never be processed goes to `<source>.dlq` with its
 * original key, value and headers unchanged, plus headers that say why and where from.
 * Nothing is re-encoded, so the record can be inspected or replayed byte for byte.
 */
import type { IHeaders, Message } from 'kafkajs';
import { describeError, PoisonRecordError, type DeadLetterReason } from '../runtime/errors.ts';
import { dlqTopic } from './topics.ts';

export const DLQ_HEADERS = {
  reason: 'pdm-dlq-reason',
  error: 'pdm-dlq-error',
  sourceTopic: 'pdm-dlq-source-topic',
  sourcePartition: 'pdm-dlq-source-partition',
  sourceOffset: 'pdm-dlq-source-offset',
  service: 'pdm-dlq-service',
  at: 'pdm-dlq-at',
} as const;

export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/** Builds the dead-letter message for a record and the error that condemned it. */
export function deadLetter(src: SourceRecord, err: unknown, service: string, now: number): { topic: string; message: Message } {
  const reason: DeadLetterReason = err instanceof PoisonRecordError ? err.reason : 'invalid_record';
  const headers: IHeaders = {
    ...(src.headers ?? {}),
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.error]: describeError(err).slice(0, 4_000),
    [DLQ_HEADERS.sourceTopic]: src.topic,
    [DLQ_HEADERS.sourcePartition]: String(src.partition),
    [DLQ_HEADERS.sourceOffset]: src.offset,
    [DLQ_HEADERS.service]: service,
    [DLQ_HEADERS.at]: String(now),
  };
  return { topic: dlqTopic(src.topic), message: { key: src.key, value: src.value, headers } };
}

/** Reads a header as a string (kafkajs delivers Buffers). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}
