import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadSchemaText } from './codec.ts';
import { viewReaderOf } from './avro-views.ts';

describe('viewReaderOf', () => {
  const schema = JSON.parse(loadSchemaText('state')) as avro.Schema;
  const plain = avro.Type.forSchema(schema);
  const views = viewReaderOf(schema);
  const rec = { assetId: 'veh-1', assetType: 'passenger_ev', state: Buffer.from([1, 2, 3, 250, 251]), sourceOffset: 42, lastSeenMs: 1_767_225_600_000 };

  it('decodes what avsc decodes, with the bytes a view of the buffer instead of a copy', () => {
    const buf = plain.toBuffer(rec);
    const got = views.fromBuffer(buf) as typeof rec;
    expect(got).toEqual(plain.fromBuffer(buf));
    expect(got.state.buffer).toBe(buf.buffer);
    // A view: a change to the buffer shows in the value (avsc's own copy does not change).
    const copy = plain.fromBuffer(buf) as typeof rec;
    buf[buf.indexOf(250)] = 7;
    expect([...got.state]).toEqual([1, 2, 3, 7, 251]);
    expect([...copy.state]).toEqual([1, 2, 3, 250, 251]);
  });

  it('refuses bytes that run past the end, and a negative length, as avsc does', () => {
    const buf = plain.toBuffer(rec);
    const cut = buf.subarray(0, buf.indexOf(250) + 1);
    expect(() => views.fromBuffer(cut)).toThrow('truncated buffer');
    // assetId "" and assetType "", then a bytes length of -1 (zig-zag 1).
    expect(() => views.fromBuffer(Buffer.from([0, 0, 1, 0, 0]))).toThrow('truncated buffer');
  });

  it('reads bytes inside unions and leaves every other type to avsc', () => {
    const dlq = JSON.parse(readFileSync(new URL('../../schemas/dead.letter.avsc', import.meta.url), 'utf8')) as avro.Schema;
    const type = avro.Type.forSchema(dlq);
    const letter = { reason: 'malformed_avro', error: 'bad', sourceTopic: 't', sourcePartition: 3, sourceOffset: 9, service: 'scorer', at: 1_767_225_600_000, key: Buffer.from('k-1'), value: Buffer.from([0, 1, 2]) };
    const buf = type.toBuffer(letter);
    const got = viewReaderOf(dlq).fromBuffer(buf) as typeof letter;
    expect(got).toEqual(type.fromBuffer(buf));
    expect(got.value.buffer).toBe(buf.buffer);
    expect(viewReaderOf(dlq).fromBuffer(type.toBuffer({ ...letter, key: null }))).toMatchObject({ key: null, value: Buffer.from([0, 1, 2]) });
  });
});
