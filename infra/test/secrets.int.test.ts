/**
 * Secrets never reach a log: the services run as processes at debug level (kafkajs's own debug
 * lines included) through a small fleet with a predicted failure, a Salesforce case, a
 * refused InfluxDB login and a Salesforce fault, and every line they wrote is searched for the
 * InfluxDB token's password, the Salesforce password, security token and client secret.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../services/core/index.ts';
import { createKafka } from '../../services/kafka/client.ts';
import { AvroCodec, loadSchemaText } from '../../services/kafka/codec.ts';
import { ensureTopics, topicNames } from '../../services/kafka/topics.ts';
import { createFleet } from '../../services/simulator/fleet.ts';
import { StandinControl } from '../salesforce-standin/control.ts';
import { startService, stopProcess } from './processes.ts';
import { serviceEnv, stackInfo, uniqueName } from './stack-env.ts';

describe('secrets in logs', () => {
  it('no InfluxDB token, Salesforce password, security token or client secret appears in any line of a debug-level run', async () => {
    const s = stackInfo();
    const prefix = `${uniqueName('secrets')}.`;
    const topics = topicNames(prefix);
    const kafka = createKafka({ brokers: s.kafka.brokers, clientId: 'secrets-it' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { partitions: 2 });
    const codec = new AvroCodec(s.registry.url);
    await codec.registerValueSchema(topics.readings, loadSchemaText('reading'));
    const env = { ...serviceEnv(s, prefix, 2), PDM_LOG_LEVEL: 'debug', PDM_KAFKA_LOG: 'debug' };
    const lines: string[] = [];
    // A refused login first: its error must not quote what it was given.
    const refused = await startService('influx-sink', 'refused', { ...env, PDM_INFLUX_TOKEN: 'pdm:wrong-secret-value' }, lines);
    await new Promise((r) => refused.child.once('exit', r));
    await new StandinControl(s.salesforce.loginUrl).injectFault({ kind: 'expired_session', count: 1 });
    const procs = [await startService('scorer', '0', env, lines), await startService('influx-sink', '0', env, lines), await startService('case-opener', '0', env, lines)];
    try {
      const fleet = createFleet({ seed: 3, assetsPerType: 1, assetTypes: ['refrigerator'], startTs: Date.UTC(2026, 0, 5), days: 14, samplePeriodSec: 600, failureShare: 1 }, DEFAULT_CONFIG);
      const messages = [...fleet.readings()].map((r) => ({ key: r.assetId, value: codec.encode(topics.readings, r) }));
      const producer = kafka.producer();
      await producer.connect();
      for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: topics.readings, messages: messages.slice(i, i + 500) });
      await producer.disconnect();
      // Until the scorer has scored everything and the case opener has written what it got.
      const until = Date.now() + 60_000;
      for (;;) {
        const offsets = await admin.fetchOffsets({ groupId: `${prefix}pdm-scorer`, topics: [topics.readings] });
        if (offsets[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) >= messages.length) break;
        if (Date.now() > until) throw new Error('the scorer did not finish');
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      await Promise.all(procs.map(stopProcess));
      await admin.disconnect();
    }
    expect(lines.length).toBeGreaterThan(100);
    const secrets = [s.influx.token.split(':')[1]!, 'wrong-secret-value', s.salesforce.password, s.salesforce.clientSecret, 'pdmLocalSecurityToken0'];
    for (const secret of secrets) {
      const leaks = lines.filter((l) => l.includes(secret));
      expect(leaks, `a log line holds the secret ${secret.slice(0, 3)}…`).toEqual([]);
    }
  });
});
