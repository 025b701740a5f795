/**
 * Fixtures of the end-to-end benchmark, built before any timing: seeded passenger_ev
 * readings, fresh topics per phase (deleted at the end), and throwaway InfluxDB databases
 * so that repeated runs neither fill the product's bucket nor measure writes into a
 * database other runs made large.
 */
import type { Admin, Kafka, Message } from 'kafkajs';
import { DEFAULT_CONFIG, type Reading } from '../../services/core/index.ts';
import { AvroCodec, loadSchemaText } from '../../services/kafka/codec.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../../services/kafka/topics.ts';
import { createFleet } from '../../services/simulator/fleet.ts';
import { PARTITIONS } from './args.ts';

/** The first `count` readings of a seeded passenger_ev fleet, in delivery (time) order. */
export function fleetReadings(count: number, assets: number): Reading[] {
  const perAsset = Math.ceil(count / assets) + 10;
  const fleet = createFleet(
    { seed: 4242, total: assets, assetTypes: ['passenger_ev'], startTs: Date.UTC(2026, 0, 5), days: (perAsset * 60) / 86_400 + 1 },
    DEFAULT_CONFIG,
  );
  const out: Reading[] = [];
  for (const r of fleet.readings()) {
    out.push(r);
    if (out.length >= count) break;
  }
  if (out.length < count) throw new Error(`fleet gave ${out.length} readings, ${count} wanted`);
  return out;
}

/** The same readings under asset ids of their own (`<tag>-<id>`), so one run's points never meet another's. */
export function retag(readings: readonly Reading[], tag: string): Reading[] {
  return readings.map((r) => ({ ...r, assetId: `${tag}-${r.assetId}` }));
}

/** Every topic a prefix's pipeline creates (ensureTopics: the product topics and their DLQs). */
export function allTopics(t: TopicNames): string[] {
  return [...Object.values(t), ...[t.readings, t.scores, t.predictions, t.caseRetry].map(dlqTopic)];
}

export async function prepareTopics(admin: Admin, codec: AvroCodec, prefix: string, created: string[]): Promise<TopicNames> {
  const topics = topicNames(prefix);
  await ensureTopics(admin, topics, { partitions: PARTITIONS });
  created.push(...allTopics(topics));
  await codec.registerValueSchema(topics.readings, loadSchemaText('reading'));
  return topics;
}

export function encodeAll(codec: AvroCodec, topic: string, readings: readonly Reading[]): Message[] {
  return readings.map((r) => ({ key: r.assetId, value: codec.encode(topic, r) }));
}

/** Produces at full speed in requests of 5,000; returns the seconds it took. */
export async function produceAll(kafka: Kafka, topic: string, messages: readonly Message[]): Promise<number> {
  const producer = kafka.producer();
  await producer.connect();
  const t0 = performance.now();
  try {
    for (let i = 0; i < messages.length; i += 5_000) await producer.send({ topic, messages: messages.slice(i, i + 5_000) });
  } finally {
    await producer.disconnect();
  }
  return (performance.now() - t0) / 1000;
}

export { benchDatabase, type BenchDatabase } from '../lib/influx-db.ts';
