/**
 * Schema evolution of telemetry.readings on the real stack (Kafka + the registry), the way
 * a fleet meets it: a firmware update adds an optional field to the reading
 * (`firmwareVersion: ["null","string"]`, default null), registered under the readings
 * subject with BACKWARD compatibility. Old devices keep writing the original schema, updated
 * ones the evolved schema, both to the same topic; the scorer must score every reading of
 * both, exactly once. A change that would break old data (a new required field without a
 * default) must be refused by the registry, surfacing as a non-retriable PipelineError
 * whose cause is the registry's 409.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { DEFAULT_CONFIG } from '../core/index.ts';
import type { Reading } from '../core/types.ts';
import { PipelineError } from '../runtime/errors.ts';
import { startScorer } from '../scorer/scorer.ts';
import { createKafka } from './client.ts';
import { AvroCodec, loadSchemaText } from './codec.ts';
import { readScores, readTopic } from './testkit.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from './topics.ts';

const PARTITIONS = 3;

interface AvroField {
  name: string;
  type: unknown;
  default?: unknown;
  doc?: string;
}

/** The original reading schema with `extra` fields appended, as JSON text. */
function readingSchemaWith(...extra: AvroField[]): string {
  const schema = JSON.parse(loadSchemaText('reading')) as { fields: AvroField[] };
  return JSON.stringify({ ...schema, fields: [...schema.fields, ...extra] });
}

/** The evolution under test: what an updated device adds. BACKWARD-compatible (optional, default null). */
const EVOLVED = readingSchemaWith({
  name: 'firmwareVersion',
  type: ['null', 'string'],
  default: null,
  doc: 'Firmware version of the device that took the sample; absent (null) from devices that predate the field.',
});

/** Breaks BACKWARD compatibility: a reader with this schema cannot read old data (no default). */
const INCOMPATIBLE = readingSchemaWith({ name: 'siteId', type: 'string', doc: 'Site of the asset.' });

/**
 * Deterministic refrigerator readings, one per minute per asset. Asset i's readings
 * alternate between the old and the updated firmware for i < half of the assets (a device
 * updated in place), and come only from old firmware for the rest.
 */
function readings(assets: number, perAsset: number): { reading: Reading; evolved: boolean }[] {
  const out: { reading: Reading; evolved: boolean }[] = [];
  const start = Date.UTC(2026, 2, 1);
  for (let i = 0; i < perAsset; i++) {
    for (let a = 0; a < assets; a++) {
      const ts = start + i * 60_000;
      const day = Math.sin((2 * Math.PI * (ts % 86_400_000)) / 86_400_000);
      out.push({
        evolved: a < assets / 2 && i % 2 === 1,
        reading: {
          assetId: `FRIDGE-EVO-${a}`,
          assetType: 'refrigerator',
          ts,
          values: {
            cabinet_temp_c: 4 + 0.5 * day + 0.01 * ((i * 7 + a) % 13),
            evaporator_temp_c: -18 + day + 0.02 * ((i * 5 + a) % 11),
            compressor_current_a: 2 + 0.3 * day + 0.01 * ((i * 3 + a) % 7),
            ambient_temp_c: 21 + 2 * day,
          },
        },
      });
    }
  }
  return out;
}

describe('reading schema evolution (BACKWARD) on the real stack', () => {
  let kafka: Kafka;
  let registryUrl: string;
  const created: TopicNames[] = [];
  const subjects: string[] = [];

  beforeAll(() => {
    const info = stackInfo();
    registryUrl = info.registry.url;
    kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'schema-evolution-int-test' });
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    const topics = created.flatMap((t) => [...Object.values(t), ...[t.readings, t.scores, t.predictions, t.caseRetry].map(dlqTopic)]);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
    for (const subject of subjects) {
      // Soft delete first: the permanent delete is refused for a live subject.
      for (const query of ['', '?permanent=true']) await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}${query}`, { method: 'DELETE' });
    }
  });

  async function prepare(tag: string): Promise<TopicNames> {
    const topics = topicNames(`${uniqueName(tag)}.`);
    created.push(topics);
    subjects.push(...[topics.readings, topics.scores, topics.predictions, topics.state].map((t) => `${t}-value`));
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { partitions: PARTITIONS });
    await admin.disconnect();
    return topics;
  }

  it('an old and an updated producer write to the same topic, and the scorer scores every reading of both once', async () => {
    const topics = await prepare('evo');
    // Two producers, each with its own codec, like two device generations.
    const oldCodec = new AvroCodec(registryUrl);
    const newCodec = new AvroCodec(registryUrl);
    const v1 = await oldCodec.registerValueSchema(topics.readings, loadSchemaText('reading'));
    const v2 = await newCodec.registerValueSchema(topics.readings, EVOLVED);
    expect(v2).not.toBe(v1);
    const versions = (await (await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${topics.readings}-value`)}/versions`)).json()) as number[];
    expect(versions).toHaveLength(2);

    const input = readings(6, 60);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: topics.readings,
      messages: input.map(({ reading, evolved }) => ({
        key: reading.assetId,
        value: evolved ? newCodec.encode(topics.readings, { ...reading, firmwareVersion: '2.4.1' }) : oldCodec.encode(topics.readings, reading),
      })),
    });
    await producer.disconnect();
    const evolvedCount = input.filter((r) => r.evolved).length;
    expect(evolvedCount).toBeGreaterThan(0);
    expect(evolvedCount).toBeLessThan(input.length);

    // The topic really holds both writer schemas, as many of each as produced.
    const raw = await readTopic(kafka, topics.readings, { until: (r) => r.length >= input.length, timeoutMs: 30_000 });
    const ids = raw.map((r) => r.value!.readUInt32BE(1));
    expect(ids.filter((id) => id === v2)).toHaveLength(evolvedCount);
    expect(ids.filter((id) => id === v1)).toHaveLength(input.length - evolvedCount);

    const scorer = await startScorer({
      brokers: stackInfo().kafka.brokers,
      registryUrl,
      topics,
      partitions: PARTITIONS,
      cfg: DEFAULT_CONFIG,
      groupId: `${topics.readings}-scorer`,
    });
    try {
      // Until the expected count, then until quiet, so a duplicate written after it would show.
      const scores = await readScores(kafka, new AvroCodec(registryUrl), topics.scores, { atLeast: input.length });
      const perReading = new Map<string, number>();
      for (const s of scores) perReading.set(`${s.assetId}@${s.ts}`, (perReading.get(`${s.assetId}@${s.ts}`) ?? 0) + 1);
      const expected = (evolved: boolean) => input.filter((r) => r.evolved === evolved).map(({ reading }) => `${reading.assetId}@${reading.ts}`);
      expect(expected(true).map((k) => perReading.get(k) ?? 0)).toEqual(expected(true).map(() => 1));
      expect(expected(false).map((k) => perReading.get(k) ?? 0)).toEqual(expected(false).map(() => 1));
      expect(scores).toHaveLength(input.length);
      const dead = await readTopic(kafka, dlqTopic(topics.readings), { idleMs: 1_000, timeoutMs: 5_000 });
      expect(dead).toHaveLength(0);
    } finally {
      await scorer.stop();
    }
  });

  it('the registry refuses a new required field without a default (409), as a non-retriable PipelineError', async () => {
    const topics = await prepare('evo-bad');
    const codec = new AvroCodec(registryUrl);
    const v1 = await codec.registerValueSchema(topics.readings, loadSchemaText('reading'));
    const err = await codec.registerValueSchema(topics.readings, INCOMPATIBLE).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).message).toBe(`register schema for ${topics.readings}-value`);
    expect((err as PipelineError).retriable).toBe(false);
    expect((err as PipelineError).cause).toMatchObject({ name: 'ResponseError', status: 409 });
    expect(((err as PipelineError).cause as Error).message).toMatch(/Incompatible artifact: .*siteId/);
    // Nothing was registered, and the codec still writes with the original schema.
    const versions = (await (await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${topics.readings}-value`)}/versions`)).json()) as number[];
    expect(versions).toHaveLength(1);
    const bytes = codec.encode(topics.readings, readings(1, 1)[0]!.reading);
    expect(bytes.readUInt32BE(1)).toBe(v1);
  });
});
