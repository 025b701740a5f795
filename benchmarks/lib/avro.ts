/**
 * The consumer's unavoidable cost, as a baseline for the core: decoding a reading from a
 * Kafka value in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, then
 * the Avro binary body) with avsc and the project's schema `schemas/telemetry.reading.avsc`.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Reading } from '../../services/core/types.ts';

/** Confluent wire-format header: magic byte + schema id. */
const HEADER_BYTES = 5;

/** Schema id written into the fixtures' headers (any id; no registry is contacted). */
export const FIXTURE_SCHEMA_ID = 1;

/** The avsc type of `schemas/telemetry.reading.avsc`. */
export function readingType(): avro.Type {
  const url = new URL('../../schemas/telemetry.reading.avsc', import.meta.url);
  return avro.Type.forSchema(JSON.parse(readFileSync(url, 'utf8')) as avro.Schema);
}

/** Encodes readings as Kafka values in the Confluent wire format. */
export function encodeWire(type: avro.Type, readings: readonly Reading[], schemaId = FIXTURE_SCHEMA_ID): Buffer[] {
  return readings.map((r) => {
    const body = type.toBuffer(r);
    const buf = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    buf.writeUInt8(0, 0);
    buf.writeUInt32BE(schemaId, 1);
    body.copy(buf, HEADER_BYTES);
    return buf;
  });
}

/**
 * Decodes one wire-format value as a consumer does: check the magic byte, read the schema
 * id (a real consumer looks its schema up in a cache), decode the body.
 */
export function decodeWire(type: avro.Type, buf: Buffer): { schemaId: number; reading: Reading } {
  if (buf.length < HEADER_BYTES || buf[0] !== 0) throw new Error('not in the Confluent wire format (magic byte 0)');
  const schemaId = buf.readUInt32BE(1);
  return { schemaId, reading: type.fromBuffer(buf.subarray(HEADER_BYTES)) as Reading };
}
