/**
 * The codec against the real schema registry: after a prefetch every value of a
 * chunk decodes on the synchronous path, and an id the registry does not know is left for
 * the decode to report as poison rather than failing the chunk; decodeViews decodes as
 * decode() does, without copying bytes values.
 */
import { describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { AvroCodec, loadSchemaText, type SchemaRole } from './codec.ts';

const registryUrl = (): string => stackInfo().registry.url;

/** A codec with `role`'s schema registered for a topic of its own. */
async function writerFor(role: SchemaRole, name: string): Promise<{ topic: string; codec: AvroCodec }> {
  const topic = uniqueName(name);
  const codec = new AvroCodec(registryUrl());
  await codec.registerValueSchema(topic, loadSchemaText(role));
  return { topic, codec };
}

describe('AvroCodec.prefetchSchemas on the real registry', () => {
  it('caches every schema a chunk names, and leaves an unknown id to the decode', async () => {
    const { topic, codec: writer } = await writerFor('reading', 'codec-prefetch');
    const reading = { assetId: 'a-1', assetType: 'passenger_ev', ts: 1_767_225_600_000, values: { battery_temp_c: 21.5 } };
    const good = writer.encode(topic, reading);
    const unknown = Buffer.from(good);
    unknown.writeUInt32BE(2_000_000_000, 1);

    const reader = new AvroCodec(registryUrl());
    expect(reader.decodeIfCached(good)).toBeUndefined();
    await reader.prefetchSchemas([good, unknown, null, Buffer.from([7, 0, 0, 0, 1, 0])]);
    expect(reader.decodeIfCached(good)?.value).toMatchObject(reading);
    expect(reader.decodeIfCached(unknown)).toBeUndefined();
    const err = await reader.decodeNamed(unknown).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoisonRecordError);
    expect((err as PoisonRecordError).reason).toBe('unknown_schema');
    expect((err as Error).message).toBe('schema id 2000000000 is unknown to the registry');
  });
});

describe('AvroCodec.decodeViews on the real registry', () => {
  it('decodes as decode() does, with bytes that view the value instead of copying it', async () => {
    const { topic, codec: writer } = await writerFor('state', 'codec-views');
    const rec = { assetId: 'veh-7', assetType: 'passenger_ev', state: Buffer.from([9, 8, 7, 6]), sourceOffset: 12, lastSeenMs: 1_767_225_600_000 };
    const value = writer.encode(topic, rec);

    const reader = new AvroCodec(registryUrl());
    const viewed = (await reader.decodeViews(value)) as typeof rec;
    expect(viewed).toEqual(await reader.decode(value));
    expect(viewed).toEqual(rec);
    expect(viewed.state.buffer).toBe(value.buffer);
    const err = await reader.decodeViews(value.subarray(0, value.length - 12)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoisonRecordError);
    expect((err as PoisonRecordError).reason).toBe('malformed_avro');
  });
});

describe('AvroCodec.encode on the real registry', () => {
  it('encodes values of any size, each into a buffer of its own, and refuses a value its schema does not fit', async () => {
    const { topic, codec } = await writerFor('state', 'codec-encode');
    const rec = (n: number) => ({ assetId: `veh-${n}`, assetType: 'passenger_ev', state: Buffer.alloc(n, n % 251), sourceOffset: n, lastSeenMs: 0 });
    // Past the 16 KiB it starts with, and past what it grew to.
    const sizes = [10, 20_000, 200_000, 3_400];
    const values = sizes.map((n) => codec.encode(topic, rec(n)));
    for (const [k, n] of sizes.entries()) {
      expect(values[k]![0]).toBe(0);
      expect(await codec.decode(values[k]!)).toEqual(rec(n));
    }
    expect(new Set(values.map((v) => v.buffer)).size).toBeGreaterThan(1);
    const err = (() => {
      try {
        codec.encode(topic, { ...rec(1), sourceOffset: 'seven' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PoisonRecordError);
    expect((err as PoisonRecordError).reason).toBe('invalid_record');
    expect((err as Error).message).toBe(`value for ${topic} does not match its schema at sourceOffset`);
    // A failed encode leaves the next one whole.
    expect(await codec.decode(codec.encode(topic, rec(5)))).toEqual(rec(5));
  });
});
