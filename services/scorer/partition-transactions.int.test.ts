/**
 * The scorer's queue of transactions against the real local Kafka: chunks queued while a
 * transaction is in flight share the next one, in order, with the latest chunk's offset; a
 * chunk of an older epoch is refused and writes nothing; a full pending transaction holds the
 * caller back until it has committed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka } from 'kafkajs';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { createKafka } from '../kafka/client.ts';
import { readTopic } from '../kafka/testkit.ts';
import { createLogger } from '../runtime/log.ts';
import { PartitionTransactions, StaleChunkError } from './partition-transactions.ts';

let kafka: Kafka;
let admin: Admin;
const input = uniqueName('ptx') + '.in';
const output = uniqueName('ptx') + '.out';
const groupId = uniqueName('ptx-group');

beforeAll(async () => {
  kafka = createKafka({ brokers: stackInfo().kafka.brokers, clientId: 'ptx-test' });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: input, numPartitions: 1 }, { topic: output, numPartitions: 1 }], waitForLeaders: true });
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
  await admin.disconnect();
});

const chunk = (epoch: number, values: string[], offset?: number) => ({
  epoch,
  topicMessages: [{ topic: output, messages: values.map((value) => ({ key: 'k', value, partition: 0 })) }],
  offset: offset === undefined ? undefined : String(offset),
});

/**
 * The group's committed offset of the input, once it reads `expected` (or after 10 s): a
 * transaction's offsets are visible to OffsetFetch only once the coordinator has written its
 * commit markers, which it does after EndTxn has returned.
 */
async function committedOffset(expected: string): Promise<string | undefined> {
  const until = Date.now() + 10_000;
  for (;;) {
    const [res] = await admin.fetchOffsets({ groupId, topics: [input] });
    const offset = res?.partitions.find((p) => p.partition === 0)?.offset;
    if (offset === expected || Date.now() > until) return offset;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PartitionTransactions.enqueue', () => {
  it('joins the chunks queued behind a transaction in flight into one, in order, at the latest offset', async () => {
    let transactions = 0;
    const txns = new PartitionTransactions(kafka, groupId, input, createLogger('ptx-test', 'warn'), { committed: () => transactions++ }, 100);
    await txns.assign([0]);
    try {
      const e = txns.epoch;
      const a = txns.enqueue(0, chunk(e, ['a1', 'a2'], 10), 2);
      // a's transaction starts at the next turn of the event loop; chunks queued before that join it.
      await new Promise((r) => setImmediate(r));
      const b = txns.enqueue(0, chunk(e, ['b1'], 11), 1);
      const c = txns.enqueue(0, chunk(e, ['c1', 'c2'], 13), 2);
      await Promise.all([a.accepted, b.accepted, c.accepted]);
      // b and c share the transaction queued behind a's.
      expect(c.committed).toBe(b.committed);
      await Promise.all([a.committed, b.committed, c.committed]);
      expect(transactions).toBe(2);
      expect(await committedOffset('13')).toBe('13');
      const out = await readTopic(kafka, output, { until: (r) => r.length >= 5, timeoutMs: 20_000 });
      expect(out.map((r) => r.value!.toString())).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);

      // An older epoch's chunk is refused and writes nothing; the next epoch's goes through.
      txns.advanceEpoch();
      const stale = txns.enqueue(0, chunk(e, ['stale'], 20), 1);
      await expect(stale.committed).rejects.toBeInstanceOf(StaleChunkError);
      const fresh = txns.enqueue(0, chunk(txns.epoch, ['d1'], 14), 1);
      await fresh.committed;
      expect(await committedOffset('14')).toBe('14');
      const after = await readTopic(kafka, output, { until: (r) => r.length >= 6, idleMs: 1_500, timeoutMs: 20_000 });
      expect(after.map((r) => r.value!.toString())).toEqual(['a1', 'a2', 'b1', 'c1', 'c2', 'd1']);
    } finally {
      await txns.close();
    }
  });

  it('holds the caller back while the pending transaction is full', async () => {
    const txns = new PartitionTransactions(kafka, groupId, input, createLogger('ptx-test', 'warn'), {}, 3);
    await txns.assign([0]);
    try {
      const e = txns.epoch;
      const first = txns.enqueue(0, chunk(e, ['x'], 30), 1);
      await new Promise((r) => setImmediate(r));
      const pending = txns.enqueue(0, chunk(e, ['y', 'y'], 32), 2);
      // 2 + 2 readings exceed the 3 a transaction may carry: a third transaction, and a wait.
      const over = txns.enqueue(0, chunk(e, ['z', 'z'], 34), 2);
      expect(over.committed).not.toBe(pending.committed);
      let settled = false;
      void pending.committed.then(() => (settled = true));
      await over.accepted;
      expect(settled).toBe(true);
      await Promise.all([first.committed, over.committed]);
      expect(await committedOffset('34')).toBe('34');
    } finally {
      await txns.close();
    }
  });
});
