/**
 * The producer helper on the real stack (Kafka + the registry): the device makers' example
 * runs as a process and its records arrive on the topic decodable, keyed by asset id and in
 * order; batches leave on a full buffer and on the linger timer; a refused record sends
 * nothing; close() sends what is buffered and dispose() reports what it drops.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import type { Reading } from '../core/types.ts';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec } from '../kafka/codec.ts';
import { MAINTENANCE_SCHEMA } from '../kafka/records.ts';
import { readTopic, type ConsumedRecord } from '../kafka/testkit.ts';
import { ensureTopics, topicNames } from '../kafka/topics.ts';
import { InvalidRecordError, TelemetryProducer } from './producer.ts';

const EXAMPLE = fileURLToPath(new URL('./example.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PARTITIONS = 3;

interface Decoded {
  key: string;
  partition: number;
  schema: string;
  value: Record<string, unknown>;
}

async function decodeAll(codec: AvroCodec, records: ConsumedRecord[]): Promise<Decoded[]> {
  const out: Decoded[] = [];
  for (const r of records) {
    const d = await codec.decodeNamed(r.value);
    out.push({ key: r.key?.toString('utf8') ?? '', partition: r.partition, schema: d.schema, value: d.value as Record<string, unknown> });
  }
  return out;
}

/** Runs a command to its end; resolves with its exit code and output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('producer helper on the real stack', () => {
  let kafka: Kafka;
  let admin: Admin;
  let codec: AvroCodec;
  const info = () => stackInfo();

  beforeAll(async () => {
    kafka = createKafka({ brokers: info().kafka.brokers, clientId: uniqueName('producer-it') });
    admin = kafka.admin();
    await admin.connect();
    codec = new AvroCodec(info().registry.url);
  });
  afterAll(async () => {
    await admin?.disconnect();
  });

  it('runs the device makers\' example: every record arrives decodable, keyed by asset, in order', async () => {
    const prefix = `${uniqueName('ex')}.`;
    const topics = topicNames(prefix);
    await ensureTopics(admin, topics, { partitions: PARTITIONS });
    const assets = ['FRIDGE-A', 'FRIDGE-B', 'FRIDGE-C'];
    const res = await run(process.execPath, ['--import', 'tsx', EXAMPLE], {
      ...process.env,
      PDM_KAFKA_BROKERS: info().kafka.brokers.join(','),
      PDM_REGISTRY_URL: info().registry.url,
      PDM_TOPIC_PREFIX: prefix,
      EXAMPLE_ASSETS: assets.join(','),
    });
    // (kafkajs's own log lines go to stderr too.)
    const refusals = res.stderr.split('\n').filter((l) => l.startsWith('refused: '));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(/^refused: invalid reading of FRIDGE-A at 1970-01-21T\S+: ts \d+ is before 2000-01-01: ts is epoch milliseconds UTC \(epoch seconds times 1000\), and the device clock must be set$/);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ topic: topics.readings, readings: 180, maintenance: 1, batches: 1, refused: 1 });

    const records = await decodeAll(codec, await readTopic(kafka, topics.readings, { until: (r) => r.length >= 181, timeoutMs: 30_000 }));
    expect(records).toHaveLength(181);
    for (const asset of assets) {
      const mine = records.filter((r) => r.key === asset);
      // One asset, one partition: its records stay in order.
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      const readings = mine.filter((r) => r.schema === 'com.pdm.telemetry.Reading');
      expect(readings).toHaveLength(60);
      const ts = readings.map((r) => r.value.ts as number);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(ts[1]! - ts[0]!).toBe(60_000);
      for (const r of readings) {
        expect(r.value.assetId).toBe(asset);
        expect(Object.keys(r.value.values as object).sort()).toEqual(['ambient_temp_c', 'cabinet_temp_c', 'compressor_current_a', 'evaporator_temp_c']);
      }
    }
    const repairs = records.filter((r) => r.schema === MAINTENANCE_SCHEMA);
    expect(repairs.map((r) => [r.key, r.value.failureMode, r.value.source])).toEqual([['FRIDGE-A', 'cooling_loss', 'field-service']]);
    // The repair is the last record of its asset: published after its readings, on their partition.
    expect(records.filter((r) => r.key === 'FRIDGE-A').at(-1)?.schema).toBe(MAINTENANCE_SCHEMA);
  });

  it('sends on a full batch and on the linger timer, refuses a bad record without sending it, and counts what dispose() drops', async () => {
    const topic = topicNames(`${uniqueName('prod')}.`).readings;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const now = Date.now();
    const reading = (i: number): Reading => ({ assetId: 'PUMP-1', assetType: 'generic', ts: now - 10 * 60_000 + i * 1000, values: { flow_l_min: 10 + i } });

    const batched = await TelemetryProducer.connect({ kafka, registryUrl: info().registry.url, topic, batchSize: 2, lingerMs: 0 });
    await batched.send(reading(0));
    expect([batched.pending, batched.stats.batches]).toEqual([1, 0]);
    await batched.send(reading(1)); // fills the batch: written before send() returns
    expect([batched.pending, batched.stats.batches, batched.stats.readings]).toEqual([0, 1, 2]);
    const err = await batched.send({ ...reading(2), values: { flow_l_min: 'high' as unknown as number } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRecordError);
    expect((err as Error).message).toBe(`invalid reading of PUMP-1 at ${new Date(reading(2).ts).toISOString()}: values.flow_l_min: "high" (expected double)`);
    expect(batched.pending).toBe(0);
    await batched.send(reading(3));
    await batched.close(); // flushes the one buffered
    expect(batched.stats).toEqual({ readings: 3, maintenance: 0, batches: 2 });

    const lingering = await TelemetryProducer.connect({ kafka, registryUrl: info().registry.url, topic, batchSize: 500, lingerMs: 100 });
    await lingering.send(reading(4));
    await lingering.send(reading(5));
    expect(lingering.pending).toBe(2);
    await new Promise((r) => setTimeout(r, 1_500));
    expect([lingering.pending, lingering.stats.batches]).toEqual([0, 1]);
    await lingering.send(reading(6));
    expect(await lingering.dispose()).toBe(1);

    const seen = await decodeAll(codec, await readTopic(kafka, topic, { idleMs: 2_000 }));
    expect(seen.map((r) => (r.value.values as { flow_l_min: number }).flow_l_min)).toEqual([10, 11, 13, 14, 15]);
  });
});
