/**
 * Horizontal scaling: K `pdm scorer` processes in one group on the same readings. They join on
 * the empty topic first, so no rebalance falls inside the timing; then the readings are
 * produced at full speed and the group's committed offsets are polled. Steady rate: from the
 * first committed offset to the last.
 */
import type { Admin, Kafka, Message } from 'kafkajs';
import type { PipelineEnv } from '../../services/kafka/env.ts';
import type { TopicNames } from '../../services/kafka/topics.ts';
import { PARTITIONS } from './args.ts';
import { startService, stopProcess, type ServiceProcess } from '../../infra/test/processes.ts';
import { rateFrom, withTimeout, type RateResult } from './throughput.ts';

export async function scorerProcessesThroughput(
  kafka: Kafka,
  admin: Admin,
  env: PipelineEnv,
  topics: TopicNames,
  prefix: string,
  values: Message[],
  instances: number,
): Promise<RateResult & { produceSec: number; concurrentTxnRetries: number }> {
  const procs: ServiceProcess[] = [];
  try {
    const childEnv = { PDM_KAFKA_BROKERS: env.brokers.join(','), PDM_REGISTRY_URL: env.registryUrl, PDM_TOPIC_PREFIX: prefix, PDM_PARTITIONS: String(PARTITIONS) };
    for (let k = 0; k < instances; k++) procs.push(await startService('scorer', `bench-tp-${k}`, childEnv));
    // Wait for the group to settle: every partition owned by exactly one member.
    const settled = async () => {
      for (;;) {
        const owned = procs.flatMap((p) => p.partitions);
        if (owned.length === PARTITIONS && new Set(owned).size === PARTITIONS && procs.every((p) => p.partitions.length > 0)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await withTimeout(Promise.race([settled(), ...procs.map((p) => p.exited)]), 90_000, () => `${instances} scorer processes did not settle on ${PARTITIONS} partitions`);
    const groupId = `${prefix}pdm-scorer`;
    const producer = kafka.producer();
    await producer.connect();
    const t0 = performance.now();
    const produced = (async () => {
      for (let i = 0; i < values.length; i += 5_000) await producer.send({ topic: topics.readings, messages: values.slice(i, i + 5_000) });
      return (performance.now() - t0) / 1000;
    })();
    const samples: { t: number; n: number }[] = [];
    let last = 0;
    let lastProgress = Date.now();
    while (last < values.length) {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topics.readings] });
      const n = offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
      if (n !== last) {
        samples.push({ t: performance.now(), n });
        last = n;
        lastProgress = Date.now();
      }
      if (Date.now() - lastProgress > 60_000) throw new Error(`scorer processes stalled at ${last} of ${values.length} readings`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const produceSec = await produced;
    await producer.disconnect();
    return { ...rateFrom(samples, t0, values.length), produceSec, concurrentTxnRetries: procs.reduce((s, p) => s + p.concurrentTxnRetries, 0) };
  } finally {
    await Promise.all(procs.map(stopProcess));
  }
}
