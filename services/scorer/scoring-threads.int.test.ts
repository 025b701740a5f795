/**
 * The scoring threads give byte for byte what the consuming thread gives: the same chunks
 * (good readings, a maintenance event, bad bytes, an unknown schema id, an unknown asset
 * type, a NaN) scored by LocalScoring and by ThreadedScoring with the real schema registry
 * yield the same score blocks, predictions, checkpoints, dead letters (headers included) and
 * counts; after a restore from those checkpoints both go on alike, replay included. A
 * thread that dies fails its partitions' calls and tells the scorer, while the other thread
 * goes on; the next load starts a new one.
 */
import type { Worker } from 'node:worker_threads';
import type { KafkaMessage, Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { DEFAULT_CONFIG, type Reading } from '../core/index.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { topicNames, type TopicNames } from '../kafka/topics.ts';
import { CHECKPOINT_KEY } from './checkpoints.ts';
import type { StateRecord } from './records.ts';
import { PipelineError } from '../runtime/errors.ts';
import { LocalScoring, type ChunkOutcome, type LoadedPartition } from './scoring.ts';
import { ThreadedScoring } from './scoring-threads.ts';

const T0 = Date.UTC(2026, 0, 5);
const NOW = T0 + 86_400_000;
const settings = { stateTtlMs: 30 * 86_400_000, checkpointIntervalMs: 0, checkpointMaxReadings: 50_000 };

function reading(asset: number, i: number): Reading {
  const day = Math.sin((2 * Math.PI * i) / 720);
  return {
    assetId: `FRIDGE-${asset}`,
    assetType: 'refrigerator',
    ts: T0 + i * 120_000,
    values: { cabinet_temp_c: 4 + 0.5 * day + ((i * 7919) % 13) / 60, evaporator_temp_c: -18 + day, compressor_current_a: 2 + 0.3 * day + (i > 300 && asset === 0 ? (i - 300) * 0.05 : 0), ambient_temp_c: 21 + 2 * day },
  };
}

/** Bytes of every output, comparable across threads. */
const bytes = (b: Message['key'] | undefined) => (b === null || b === undefined ? null : Buffer.from(b as Buffer).toString('hex'));
function comparable(o: ChunkOutcome) {
  const { topicMessages, ...rest } = o;
  return {
    ...rest,
    topics: topicMessages.map((t) => ({ topic: t.topic, messages: t.messages.map((m) => ({ key: bytes(m.key), value: bytes(m.value), partition: m.partition, headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v])) })) })),
  };
}

describe('scoring threads on the real schema registry', () => {
  let codec: AvroCodec;
  let topics: TopicNames;
  let local: LocalScoring;
  let threaded: ThreadedScoring;
  const lost: Error[] = [];
  let maintenanceKey: string;

  beforeAll(async () => {
    const info = stackInfo();
    codec = new AvroCodec(info.registry.url);
    topics = topicNames(`${uniqueName('threads')}.`);
    await codec.registerValueSchema(topics.readings, loadSchemaText('reading'));
    maintenanceKey = recordWriterKey(topics.readings, await codec.registerRecordSchema(topics.readings, loadSchemaText('maintenance')));
    await codec.registerValueSchema(topics.scores, loadSchemaText('score'));
    const scoreBlockKey = recordWriterKey(topics.scores, await codec.registerRecordSchema(topics.scores, loadSchemaText('scoreBlock')));
    await codec.registerValueSchema(topics.predictions, loadSchemaText('prediction'));
    await codec.registerValueSchema(topics.state, loadSchemaText('state'));
    local = new LocalScoring({ codec, topics, scoreBlockKey, cfg: DEFAULT_CONFIG, ...settings });
    threaded = await ThreadedScoring.start({ registryUrl: info.registry.url, topics, cfg: DEFAULT_CONFIG, settings }, 2, (err) => lost.push(err));
  });

  afterAll(async () => {
    await threaded?.close();
  });

  /** A partition's chunk as kafkajs would deliver it, from offset `first`. */
  function chunk(values: (Buffer | null)[], keys: string[], first: number): KafkaMessage[] {
    return values.map((value, i) => ({ key: Buffer.from(keys[i]!), value, offset: String(first + i), timestamp: String(T0 + (first + i) * 1000), headers: i === 0 ? { origin: Buffer.from('test') } : {}, attributes: 0 }) as KafkaMessage);
  }

  async function both(partition: number, messages: KafkaMessage[]) {
    // Each side gets its own copy: the threaded side transfers what it sends.
    const copy = () => messages.map((m) => ({ ...m, value: m.value ? Buffer.from(m.value) : null }));
    const [a, b] = [await local.score(partition, topics.readings, copy(), NOW), await threaded.score(partition, topics.readings, copy(), NOW)];
    expect(comparable(b)).toEqual(comparable(a));
    return a;
  }

  it('scores, checkpoints and dead-letters alike, then restores and replays alike', async () => {
    await local.load([]);
    await threaded.load([]);
    const readings = Array.from({ length: 400 }, (_, i) => [reading(0, i), reading(1, i)]).flat();
    const good = readings.map((r) => codec.encode(topics.readings, r));
    const unknownId = Buffer.from(good[0]!);
    unknownId.writeUInt32BE(987_654_321, 1);
    const bad = [
      Buffer.from('not avro at all'),
      unknownId,
      codec.encode(topics.readings, { ...readings[0]!, assetId: 'TOASTER-1', assetType: 'toaster' }),
      codec.encode(topics.readings, { ...readings.at(-1)!, ts: readings.at(-1)!.ts + 60_000, values: { cabinet_temp_c: Number.NaN, evaporator_temp_c: -18, compressor_current_a: 2, ambient_temp_c: 21 } }),
      codec.encode(maintenanceKey, { assetId: 'FRIDGE-1', ts: readings.at(-1)!.ts + 90_000, failureMode: null, sensors: null, source: 'test' }),
      null,
    ];
    const keys = readings.map((r) => r.assetId);
    // Two partitions, one on each thread; the first chunk's states all fall due (interval 0).
    const p0a = await both(0, chunk(good.slice(0, 500), keys.slice(0, 500), 0));
    expect(p0a.counts.readings).toBe(500);
    expect(p0a.checkpointed).toBe(2);
    const withBad = await both(1, chunk([...good.slice(0, 300), ...bad], [...keys.slice(0, 300), 'BAD-1', 'BAD-2', 'BAD-3', 'FRIDGE-0', 'FRIDGE-1', 'BAD-6'], 0));
    expect(withBad.deadReasons).toEqual(['malformed_avro', 'unknown_schema', 'unknown_asset_type', 'invalid_value', 'malformed_avro']);
    expect(withBad.counts.maintenance).toEqual(new Map([['applied', 1]]));
    local.committed(0, 500n);
    threaded.committed(0, 500n);
    const p0b = await both(0, chunk(good.slice(500), keys.slice(500), 500));
    expect(p0b.counts.readings).toBe(300);
    expect(p0b.topicMessages.find((t) => t.topic === `${topics.readings}.dlq`)).toBeUndefined();
    const p1 = await both(1, chunk(good.slice(300, 400), keys.slice(300, 400), 306));
    expect(p1.counts.readings).toBe(100);

    // The dead letters: every bad record, with its reason.
    const p1first = await local.finalCheckpoint();
    const t1first = await threaded.finalCheckpoint();
    expect(t1first.map((f) => ({ partition: f.partition, messages: f.messages.map((m) => [bytes(m.key), bytes(m.value)]) }))).toEqual(
      p1first.map((f) => ({ partition: f.partition, messages: f.messages.map((m) => [bytes(m.key), bytes(m.value)]) })),
    );

    // Restore partition 0 from the first chunk's checkpoints and replay the second chunk.
    const states = new Map<string, Buffer>();
    const lastSeen = new Map<string, number>();
    const restoredOffsets = new Map<string, number>();
    let marker = -1n;
    for (const m of p0a.topicMessages.find((t) => t.topic === topics.state)!.messages) {
      const rec = (await codec.decode(m.value as Buffer)) as StateRecord;
      if (rec.assetId === CHECKPOINT_KEY) {
        marker = BigInt(rec.sourceOffset);
        continue;
      }
      states.set(rec.assetId, Buffer.from(rec.state));
      lastSeen.set(rec.assetId, rec.lastSeenMs);
      restoredOffsets.set(rec.assetId, rec.sourceOffset);
    }
    expect(marker).toBe(500n);
    // Each side its own copy: a load releases the bytes it has decoded.
    const load = (): LoadedPartition<Buffer>[] => [{ partition: 0, states: new Map(states), lastSeen: new Map(lastSeen), restoredOffsets: new Map(restoredOffsets), replayUntil: 800n, position: 800n }];
    const given = load();
    await local.load(given);
    expect(given[0]!.states.size).toBe(0);
    await threaded.load(load());
    const replay = await both(0, chunk(good.slice(500), keys.slice(500), 500));
    expect(replay.replayOnly).toBe(true);
    expect(replay.counts.replayed).toBe(300);
    const after = await both(0, chunk(good.slice(0, 100).map((_, i) => codec.encode(topics.readings, reading(i % 2, 400 + Math.floor(i / 2)))), keys.slice(0, 100), 800));
    expect(after.counts.readings).toBe(100);
    expect(after.assets).toBe(2);
    expect(lost).toEqual([]);
    // The states stay encoded until their assets' records need them, but a version this build
    // cannot read is refused at the load, as a decode of every state refused it.
    const unreadable = Buffer.from(states.values().next().value!);
    unreadable[4] = 99;
    await expect(local.load([{ partition: 0, states: new Map([['x', unreadable]]), lastSeen: new Map() }])).rejects.toThrow(/version 99 is not supported/);
  });

  it('a thread that dies fails its partitions and tells the scorer, the other thread goes on, and the next load starts a new thread', async () => {
    const died: Error[] = [];
    const info = stackInfo();
    const scoring = await ThreadedScoring.start({ registryUrl: info.registry.url, topics, cfg: DEFAULT_CONFIG, settings }, 2, (err) => died.push(err));
    try {
      await scoring.load([]);
      await local.load([]);
      const readings = Array.from({ length: 100 }, (_, i) => reading(0, i));
      const values = () => readings.map((r) => codec.encode(topics.readings, r));
      const keys = readings.map((r) => r.assetId);
      await scoring.score(0, topics.readings, chunk(values(), keys, 0), NOW);
      // A crash of the thread holding partition 0 (even partitions), as an uncaught error would end it.
      const threads = (scoring as unknown as { threads: { worker: Worker }[] }).threads;
      await threads[0]!.worker.terminate();
      await expect.poll(() => died.length).toBe(1);
      expect(died[0]).toBeInstanceOf(PipelineError);
      expect(died[0]!.message).toBe("scoring thread exited (code 1); its partitions' states are lost");
      const refused = await scoring.score(0, topics.readings, chunk(values(), keys, 100), NOW).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PipelineError);
      expect((refused as PipelineError).retriable).toBe(true);
      expect((refused as Error).message).toBe("scoring thread is not running; its partitions' states are lost");
      // Partition 1 lives on the other thread, untouched.
      expect((await scoring.score(1, topics.readings, chunk(values(), keys, 0), NOW)).counts.readings).toBe(100);
      // The scorer restores after onLost: a load starts a new thread, which scores as the consuming thread does.
      await scoring.load([]);
      const fresh = await scoring.score(0, topics.readings, chunk(values(), keys, 0), NOW);
      expect(comparable(fresh)).toEqual(comparable(await local.score(0, topics.readings, chunk(values(), keys, 0), NOW)));
      expect(died).toHaveLength(1);
    } finally {
      await scoring.close();
    }
  });
});
