/**
 * The codec's schema prefetch against the real schema registry: after it, every value of a
 * chunk decodes on the synchronous path, and an id the registry does not know is left for
 * the decode to report as poison rather than failing the chunk.
 */
import { describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { AvroCodec, loadSchemaText } from './codec.ts';

describe('AvroCodec.prefetchSchemas on the real registry', () => {
  const registryUrl = stackInfo().registry.url;

  it('caches every schema a chunk names, and leaves an unknown id to the decode', async () => {
    const topic = uniqueName('codec-prefetch');
    const writer = new AvroCodec(registryUrl);
    await writer.registerValueSchema(topic, loadSchemaText('reading'));
    const reading = { assetId: 'a-1', assetType: 'passenger_ev', ts: 1_767_225_600_000, values: { battery_temp_c: 21.5 } };
    const good = writer.encode(topic, reading);
    const unknown = Buffer.from(good);
    unknown.writeUInt32BE(2_000_000_000, 1);

    const reader = new AvroCodec(registryUrl);
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
