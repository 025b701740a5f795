/** The codec's synchronous fast path classifies bad bytes exactly like decode(), without a registry. */
import { describe, expect, it } from 'vitest';
import { PipelineError, PoisonRecordError } from '../runtime/errors.ts';
import { AvroCodec, loadSchemaText } from './codec.ts';

// Nothing listens here: any registry call would fail, so these tests prove none is made.
const codec = new AvroCodec('http://127.0.0.1:9');

const header = (id: number, body: number[] = []) => {
  const b = Buffer.alloc(5 + body.length);
  b.writeUInt32BE(id, 1);
  Buffer.from(body).copy(b, 5);
  return b;
};

describe('AvroCodec.decodeIfCached', () => {
  it('rejects a value shorter than the Confluent header as malformed_avro', () => {
    const err = (() => {
      try {
        codec.decodeIfCached(Buffer.from([0, 1]));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PoisonRecordError);
    expect((err as PoisonRecordError).reason).toBe('malformed_avro');
    expect((err as Error).message).toBe('value of 2 bytes is shorter than the 5-byte Confluent header');
  });

  it('rejects a wrong magic byte as malformed_avro', () => {
    const b = header(1);
    b[0] = 7;
    expect(() => codec.decodeIfCached(b)).toThrow('value starts with byte 7, not the Confluent magic byte 0');
  });

  it('returns undefined for a schema id it has not cached (decode() fetches it)', () => {
    expect(codec.decodeIfCached(header(42, [2, 97]))).toBeUndefined();
  });
});

describe('AvroCodec.prefetchSchemas', () => {
  it('makes no registry call for values the decode will reject by their header', async () => {
    const b = header(1);
    b[0] = 7;
    await expect(codec.prefetchSchemas([null, Buffer.from([0, 1]), b])).resolves.toBeUndefined();
  });

  it('fails with a retriable PipelineError when the registry does not answer, so no slice of the chunk is applied', async () => {
    const err = await codec.prefetchSchemas([header(42, [2, 97])]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).retriable).toBe(true);
    expect((err as Error).message).toBe('fetch schema id 42 from the registry at http://127.0.0.1:9');
  });
});

describe('schemas/anomaly.score.batch.avsc', () => {
  it('holds exactly anomaly.score.avsc as its item type (no drift between the two files)', () => {
    const batch = JSON.parse(loadSchemaText('scoreBatch')) as { fields: { name: string; type: { items?: unknown } }[] };
    const items = batch.fields.find((f) => f.name === 'scores')!.type.items;
    expect(items).toEqual(JSON.parse(loadSchemaText('score')));
  });
});
