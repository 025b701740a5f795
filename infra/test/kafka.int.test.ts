/**
 * Integration tests for the local Kafka broker (infra/stack/parts/kafka.ts) driven through
 * kafkajs 2.2.4, the client the product uses. They prove that this client and this broker
 * version work together for everything the pipeline relies on: admin topic creation and
 * configs, consumer groups, idempotent producers, transactions with sendOffsets read back
 * with read_committed, and compacted topics. Every test uses its own topic and group names
 * so runs never collide.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Consumer, ITopicConfig, KafkaMessage, Producer } from 'kafkajs';
import { awaitLeaders } from '../../services/kafka/topics.ts';
import { stackInfo, uniqueName } from './stack-env.ts';

/** A topic, group or id name no other run or test uses. */
const name = (what: string): string => uniqueName(`it-${what}`);
/** Per-test budget in ms: a consumer group join plus a few round trips on a 2-core machine. */
const TEST_MS = 30_000;

const kafka = new Kafka({ clientId: name('client'), brokers: stackInfo().kafka.brokers, logLevel: logLevel.NOTHING });
let admin: Admin;

/** What kafkajs attaches to each decoded record but does not declare in its types. */
interface BatchContext {
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  inTransaction: boolean;
}
const batchContextOf = (m: KafkaMessage): BatchContext => (m as unknown as { batchContext: BatchContext }).batchContext;

interface Received {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  message: KafkaMessage;
}

/**
 * Subscribes `consumer` to `topics` from the beginning and collects records until `done`
 * says so (or `timeoutMs` passes, which fails with what was seen so far), then disconnects.
 * With `commitEach`, each record's offset is committed before it counts as seen: kafkajs's
 * auto-commit runs after the handler returns, which races with the disconnect here.
 */
async function consumeUntil(
  consumer: Consumer,
  topics: string[],
  done: (seen: Received[]) => boolean,
  { timeoutMs = 20_000, commitEach = false }: { timeoutMs?: number; commitEach?: boolean } = {},
): Promise<Received[]> {
  const seen: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms; saw ${JSON.stringify(seen.map((r) => [r.topic, r.key, r.value]))}`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: !commitEach,
          eachMessage: async ({ topic, partition, message }) => {
            if (commitEach) await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
            seen.push({ topic, partition, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, message });
            if (done(seen)) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/**
 * Creates topics and waits until every partition has a leader with the product's
 * `awaitLeaders`: kafkajs's own `waitForLeaders` gives up when the broker, right after the
 * create, answers UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
 * topic-partition"), as it does now and then.
 * @returns createTopics' answer: false when every topic existed already
 */
async function createTopicsReady(topics: ITopicConfig[]): Promise<boolean> {
  const created = await admin.createTopics({ waitForLeaders: false, topics });
  await awaitLeaders(admin, topics.map((t) => t.topic));
  return created;
}

async function withProducer<T>(producer: Producer, fn: (p: Producer) => Promise<T>): Promise<T> {
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
});

describe('kafka broker with kafkajs', () => {
  test('admin creates a partitioned topic and a compacted topic', { timeout: TEST_MS }, async () => {
    const events = name('admin-events');
    const state = name('admin-state');
    const created = await createTopicsReady([
        { topic: events, numPartitions: 3 },
        { topic: state, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ]);
    expect(created).toBe(true);
    // kafkajs answers false (not an error) when every topic already exists.
    expect(await admin.createTopics({ topics: [{ topic: events, numPartitions: 3 }] })).toBe(false);

    const meta = await admin.fetchTopicMetadata({ topics: [events, state] });
    const partitionsOf = (t: string): number => meta.topics.find((m) => m.name === t)?.partitions.length ?? -1;
    expect(partitionsOf(events)).toBe(3);
    expect(partitionsOf(state)).toBe(2);

    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: 2 /* ConfigResourceTypes.TOPIC */, name: state, configNames: ['cleanup.policy'] },
        { type: 2, name: events, configNames: ['cleanup.policy'] },
      ],
    });
    const policyOf = (t: string): string | undefined =>
      configs.resources.find((r) => r.resourceName === t)?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
    expect(policyOf(state)).toBe('compact');
    expect(policyOf(events)).toBe('delete');
  });

  test('the broker does not auto-create topics', { timeout: TEST_MS }, async () => {
    const missing = name('never-created');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 1, initialRetryTime: 100 } });
    await withProducer(producer, async (p) => {
      await expect(p.send({ topic: missing, messages: [{ value: 'x' }] })).rejects.toMatchObject({
        name: 'KafkaJSNumberOfRetriesExceeded',
        message: 'This server does not host this topic-partition',
      });
    });
    expect(await admin.listTopics()).not.toContain(missing);
  });

  test('a consumer group reads every record once and commits its offsets', { timeout: TEST_MS }, async () => {
    const topic = name('group-in');
    const groupId = name('group');
    await createTopicsReady([{ topic, numPartitions: 3 }]);
    const sent = Array.from({ length: 12 }, (_, i) => ({ key: `asset-${i % 4}`, value: `reading-${i}` }));
    await withProducer(kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }), (p) => p.send({ topic, messages: sent }));

    const consumer = kafka.consumer({ groupId });
    const seen = await consumeUntil(consumer, [topic], (s) => s.length >= sent.length, { commitEach: true });
    expect(seen.map((r) => r.value).sort()).toEqual(sent.map((m) => m.value).sort());
    // Same key, same partition: per-asset order is what the scorer depends on.
    for (const key of new Set(sent.map((m) => m.key))) {
      expect(new Set(seen.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
    }
    // The group committed up to each partition's end; a partition no key hashed to has no
    // commit, which Kafka reports as -1.
    const ends = await admin.fetchTopicOffsets(topic);
    const byPartition = (rows: { partition: number; offset: string }[]): Record<number, string> =>
      Object.fromEntries(rows.map((r) => [r.partition, r.offset]));
    const want = byPartition(ends.map((e) => ({ partition: e.partition, offset: e.high === '0' ? '-1' : e.high })));
    // Read until the group's offsets reach the ends, for up to 10 s: one CI run read a
    // partition's commit of 12 as 6 right after the consumer left (a commit still landing).
    const committed = async (): Promise<Record<number, string>> => byPartition((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? []);
    await expect.poll(committed, { timeout: 10_000, interval: 200 }).toEqual(want);
    expect(ends.reduce((sum, e) => sum + Number(e.high), 0)).toBe(sent.length);
  });

  test('an idempotent producer writes sequenced batches under a producer id', { timeout: TEST_MS }, async () => {
    const topic = name('idempotent');
    await createTopicsReady([{ topic, numPartitions: 1 }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await withProducer(producer, async (p) => {
      await p.send({ topic, messages: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] });
      await p.send({ topic, messages: [{ key: 'a', value: '3' }] });
    });
    const seen = await consumeUntil(kafka.consumer({ groupId: name('idempotent-reader') }), [topic], (s) => s.length >= 3);
    expect(seen.map((r) => r.value)).toEqual(['1', '2', '3']);
    const contexts = seen.map((r) => batchContextOf(r.message));
    // A plain producer writes producerId -1; idempotence gives one real id and sequences 0, 2.
    expect(Number(contexts[0]?.producerId)).toBeGreaterThanOrEqual(0);
    expect(new Set(contexts.map((c) => c.producerId)).size).toBe(1);
    expect([...new Set(contexts.map((c) => c.firstSequence))]).toEqual([0, 2]);
    expect(contexts.every((c) => !c.inTransaction)).toBe(true);
  });

  test('transactions: commit with sendOffsets is visible, abort is not (read_committed)', { timeout: 45_000 }, async () => {
    const input = name('tx-in');
    const outA = name('tx-out-a');
    const outB = name('tx-out-b');
    const groupId = name('tx-group');
    await createTopicsReady([input, outA, outB].map((topic) => ({ topic, numPartitions: 1 })));

    const producer = kafka.producer({
      transactionalId: name('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await withProducer(producer, async (p) => {
      const committed = await p.transaction();
      await committed.send({ topic: outA, messages: [{ key: 'k', value: 'committed-a' }] });
      await committed.send({ topic: outB, messages: [{ key: 'k', value: 'committed-b' }] });
      // As the processor does: the input offsets are committed atomically with the outputs.
      await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '3' }] }] });
      await committed.commit();

      const aborted = await p.transaction();
      await aborted.send({ topic: outA, messages: [{ key: 'k', value: 'aborted-a' }] });
      await aborted.abort();
    });
    // A plain record after the abort marker: once a reader sees it, it has read past the abort.
    await withProducer(kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }), (p) =>
      p.send({ topic: outA, messages: [{ key: 'k', value: 'end' }] }),
    );

    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] });
    expect(offsets?.partitions).toEqual([{ partition: 0, offset: '3', metadata: null }]);

    const sawEnd = (s: Received[]): boolean => s.some((r) => r.value === 'end') && s.some((r) => r.value === 'committed-b');
    const committedView = await consumeUntil(kafka.consumer({ groupId: name('tx-rc') }), [outA, outB], sawEnd);
    expect(committedView.map((r) => `${r.topic === outA ? 'a' : 'b'}:${r.value}`).sort()).toEqual(['a:committed-a', 'a:end', 'b:committed-b']);
    expect(batchContextOf(committedView.find((r) => r.value === 'committed-a')!.message).inTransaction).toBe(true);

    // The aborted record really is in the log: a read_uncommitted reader gets it.
    const rawView = await consumeUntil(kafka.consumer({ groupId: name('tx-ru'), readUncommitted: true }), [outA], (s) =>
      s.some((r) => r.value === 'end'),
    );
    expect(rawView.map((r) => r.value)).toEqual(['committed-a', 'aborted-a', 'end']);
  });

  test('a compacted topic keeps keyed values and tombstones and rejects keyless records', { timeout: TEST_MS }, async () => {
    const topic = name('compacted');
    await createTopicsReady([{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
    await withProducer(producer, async (p) => {
      await p.send({
        topic,
        messages: [
          { key: 'pump-1', value: 'v1' },
          { key: 'pump-2', value: 'v1' },
          { key: 'pump-1', value: 'v2' },
          { key: 'pump-2', value: null },
        ],
      });
      // Compaction needs a key per record, so the broker refuses the batch outright.
      await expect(p.send({ topic, messages: [{ value: 'no-key' }] })).rejects.toMatchObject({
        name: 'KafkaJSProtocolError',
        type: 'INVALID_RECORD',
      });
    });
    // Compaction itself runs minutes later on the active segment's successors; what a reader
    // needs now is the last value per key, with a tombstone (null value) for deleted keys.
    const seen = await consumeUntil(kafka.consumer({ groupId: name('compacted-reader') }), [topic], (s) => s.length >= 4);
    const latest = new Map(seen.map((r) => [r.key, r.value]));
    expect(Object.fromEntries(latest)).toEqual({ 'pump-1': 'v2', 'pump-2': null });
    expect(seen.some((r) => r.value === 'no-key')).toBe(false);
  });
});
