/**
 * Integration test of the schema-registry part against the real server the stack runs
 * (Apicurio Registry through its Confluent-compatible API), driven by the same client the
 * pipeline's serdes use, @kafkajs/confluent-schema-registry, with the product's own schema
 * `schemas/telemetry.reading.avsc`. It pins down what the pipeline relies on: registration
 * under BACKWARD compatibility, the Confluent wire format, reading old bytes with an evolved
 * schema, rejection of incompatible changes, and a clear error for an unknown schema id.
 * Each run uses its own subject and deletes it at the end.
 */
import { readFileSync } from 'node:fs';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec } from '../../services/kafka/codec.ts';
import { stackInfo, uniqueName } from './stack-env.ts';

interface AvroField { name: string; type: unknown; default?: unknown; doc?: string }
interface AvroRecord { type: 'record'; name: string; namespace: string; fields: AvroField[] }

const readingSchema = JSON.parse(
  readFileSync(new URL('../../schemas/telemetry.reading.avsc', import.meta.url), 'utf8'),
) as AvroRecord;

/** The reading schema with extra fields appended (an evolution candidate). */
function withFields(...extra: AvroField[]): AvroRecord {
  return { ...readingSchema, fields: [...readingSchema.fields, ...extra] };
}

/** The reading schema with one field's type replaced. */
function withType(name: string, type: unknown): AvroRecord {
  return { ...readingSchema, fields: readingSchema.fields.map((f) => (f.name === name ? { ...f, type } : f)) };
}

const reading = {
  assetId: 'EV-000123',
  assetType: 'passenger_ev',
  ts: 1_767_225_600_000,
  values: { battery_temp_c: 31.25, tyre_pressure_kpa: 241.5, motor_current_a: -12.75 },
};

/** Schema ids are positive int32; Apicurio hands out content ids from 1, so this one is never used. */
const UNKNOWN_ID = 0x7fff_ffff;

describe('schema registry (Apicurio ccompat API)', () => {
  const url = stackInfo().registry.url;
  const subject = uniqueName('test-telemetry.readings-value');
  const registry = new SchemaRegistry({ host: url });
  let v1Id = 0;
  let v1Bytes: Buffer;

  beforeAll(async () => {
    ({ id: v1Id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(readingSchema) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    ));
    v1Bytes = await registry.encode(v1Id, reading);
  });

  afterAll(async () => {
    // Soft delete first: like Confluent, the permanent delete is refused for a live subject.
    for (const query of ['', '?permanent=true']) {
      const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}${query}`, { method: 'DELETE' });
      expect(res.status, `DELETE subject${query}: ${await res.text()}`).toBe(200);
    }
  });

  it('registers the reading schema under BACKWARD compatibility, idempotently', async () => {
    expect(v1Id).toBeGreaterThan(0);
    const config = await fetch(`${url}/config/${encodeURIComponent(subject)}`);
    expect(await config.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
    // Services register their schemas at every start: the same text must give the same id.
    const again = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(readingSchema) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(again.id).toBe(v1Id);
    expect(await registry.getLatestSchemaId(subject)).toBe(v1Id);
  });

  it('encodes in the Confluent wire format and decodes back', async () => {
    expect(v1Bytes[0]).toBe(0); // magic byte
    expect(v1Bytes.readInt32BE(1)).toBe(v1Id); // 4-byte big-endian schema id
    expect(v1Bytes.length).toBeGreaterThan(5);
    // A fresh client has no cache: the writer schema is fetched from the server by id.
    const fresh = new SchemaRegistry({ host: url });
    expect(await fresh.decode(v1Bytes)).toEqual(reading);
  });

  it('accepts a compatible evolution and reads old bytes with it', async () => {
    const v2 = withFields({ name: 'firmware', type: ['null', 'string'], default: null });
    const { id: v2Id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(v2) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(v2Id).not.toBe(v1Id);
    expect(await registry.getLatestSchemaId(subject)).toBe(v2Id);

    const fresh = new SchemaRegistry({ host: url });
    // Old bytes through the new reader schema: the added field takes its default.
    expect(await fresh.decode(v1Bytes, { [SchemaType.AVRO]: { readerSchema: v2 } })).toEqual({ ...reading, firmware: null });
    // New bytes carry the new id and the new field.
    const v2Bytes = await fresh.encode(v2Id, { ...reading, firmware: '2.4.1' });
    expect(v2Bytes.readInt32BE(1)).toBe(v2Id);
    expect(await new SchemaRegistry({ host: url }).decode(v2Bytes)).toEqual({ ...reading, firmware: '2.4.1' });
  });

  it.each([
    // The third column is Apicurio's description of the one incompatible difference.
    ['a new required field without default', withFields({ name: 'siteId', type: 'string' }), 'siteId at /fields/4'],
    ['a changed field type', withType('values', { type: 'map', values: 'string' }), 'reader type: STRING not compatible with writer type: DOUBLE at /fields/3/type/values'],
  ])('rejects %s with 409 and registers nothing', async (_label, schema, diff) => {
    const before = await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`)).json();
    const err = await registry
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: COMPATIBILITY.BACKWARD })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // The client wraps HTTP errors in its (unexported) ResponseError: name, status, message.
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ResponseError', status: 409 });
    // Apicurio's wording; Confluent says 'Schema being registered is incompatible with an earlier schema'.
    expect((err as Error).message).toBe(
      `Confluent_Schema_Registry - io.apicurio.registry.rules.violation.RuleViolationException: Incompatible artifact: ${subject} [AVRO], num of incompatible diffs: {1}, list of diff types: [${diff}]`,
    );
    const after = await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`)).json();
    expect(after).toEqual(before);
  });

  it('fails to decode bytes that name an unknown schema id', async () => {
    const bytes = Buffer.from(v1Bytes);
    bytes.writeInt32BE(UNKNOWN_ID, 1);
    const err = await new SchemaRegistry({ host: url }).decode(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      name: 'ResponseError',
      status: 404,
      message: `Confluent_Schema_Registry - Schema ${UNKNOWN_ID} not found.`,
    });
  });
});

describe('a subject whose registrant died between registering and setting its compatibility', () => {
  const url = stackInfo().registry.url;
  const topic = uniqueName('test-orphan');
  const subject = `${topic}-value`;

  afterAll(async () => {
    for (const query of ['', '?permanent=true']) await fetch(`${url}/subjects/${encodeURIComponent(subject)}${query}`, { method: 'DELETE' });
  });

  it('is completed by the next service to register it (BACKWARD), which then starts', async () => {
    // The client's first step alone (POST the version), as a process killed -9 before its PUT /config leaves it.
    const post = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(readingSchema) }),
    });
    expect(post.status, await post.text()).toBe(200);
    // The plain client refuses such a subject on every later start, whatever the delay.
    const plain = await new SchemaRegistry({ host: url })
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(readingSchema) }, { subject, compatibility: COMPATIBILITY.BACKWARD })
      .then(() => undefined, (e: unknown) => e);
    expect(String((plain as Error)?.message)).toContain('Compatibility does not match the configuration (BACKWARD != NONE)');

    const codec = new AvroCodec(url);
    const id = await codec.registerValueSchema(topic, JSON.stringify(readingSchema));
    expect(id).toBeGreaterThan(0);
    expect(await (await fetch(`${url}/config/${encodeURIComponent(subject)}`)).json()).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await codec.decode(codec.encode(topic, reading))).toEqual(reading);
  });
});
