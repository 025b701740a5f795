/**
 * What ConsumerRestarts relies on, on the real broker: a kafkajs consumer that crashed and
 * was disconnected by kafkajs (as it does before reporting a crash it will not restart from)
 * runs again with the same run configuration, rejoins its group at its committed offsets, and
 * consumes what arrived meanwhile; a stopped ConsumerRestarts runs nothing.
 */
import type { EachMessagePayload } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { createLogger } from '../runtime/log.ts';
import { createKafka } from './client.ts';
import { ConsumerRestarts } from './consumer-restart.ts';

const kafka = createKafka({ brokers: stackInfo().kafka.brokers, clientId: 'consumer-restart-int-test' });
const admin = kafka.admin();
const topic = uniqueName('t-restart');
const groupId = uniqueName('g-restart');

/** As kafkajs's retrier hands over a coordinator lookup it gave up on (retry/index.js). */
function coordinatorGone(): Error {
  const cause = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound', retriable: false });
  return Object.assign(new Error('Failed to find group coordinator', { cause }), { name: 'KafkaJSNonRetriableError', retriable: false });
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
});

describe('ConsumerRestarts on the real broker', () => {
  it('runs a consumer kafkajs gave up on again: it rejoins and consumes what arrived meanwhile, once', { timeout: 90_000 }, async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    const consumer = kafka.consumer({ groupId, sessionTimeout: 6_000, heartbeatInterval: 500 });
    const seen: string[] = [];
    let joins = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => joins++);
    const run = {
      eachMessage: async ({ message }: EachMessagePayload) => {
        seen.push(message.value!.toString());
      },
    };
    const restarts = new ConsumerRestarts(consumer, run, createLogger('test.consumer-restart', 'error'));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run(run);
      await producer.send({ topic, messages: [{ key: 'a', value: 'before' }] });
      await until('the first message', () => seen.includes('before'));
      expect(joins).toBe(1);

      // What kafkajs does before it reports a crash it will not restart from.
      await consumer.disconnect();
      expect(restarts.takeOver(new Error('eachMessage: a bug'))).toBe(false);
      expect(restarts.takeOver(coordinatorGone())).toBe(true);
      await producer.send({ topic, messages: [{ key: 'b', value: 'meanwhile' }] });
      await until('the message produced while it was down', () => seen.includes('meanwhile'));
      expect(restarts.count).toBe(1);
      expect(joins).toBe(2);
      expect(seen.filter((v) => v === 'before')).toHaveLength(1);

      // Stopped: a later crash is not taken over, and nothing runs again.
      restarts.stop();
      await consumer.disconnect();
      expect(restarts.takeOver(coordinatorGone())).toBe(false);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(restarts.count).toBe(1);
    } finally {
      restarts.stop();
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect();
    }
  });
});
