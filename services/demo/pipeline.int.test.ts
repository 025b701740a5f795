/**
 * The whole pipeline end to end on the real local stack (Kafka, schema registry, InfluxDB,
 * Salesforce stand-in): a seeded fleet with injected failures goes through the scorer, the
 * InfluxDB sink and the case opener exactly as `npm run demo` runs it. Judged against the
 * simulator's ground truth: one case per injected failure with its evidence, none for
 * healthy assets, the series in InfluxDB, bad values dead-lettered, and a replay of the
 * predictions through a fresh case-opener group opens no new case.
 */
import { InfluxDB } from '@influxdata/influxdb-client';
import jsforce from 'jsforce';
import { describe, expect, it } from 'vitest';
import { stackInfo } from '../../infra/test/stack-env.ts';
import { startCaseOpener } from '../case-opener/opener.ts';
import { DEFAULT_CONFIG } from '../core/index.ts';
import { createKafka } from '../kafka/client.ts';
import { DLQ_HEADERS, headerString } from '../kafka/dlq.ts';
import { LOCAL_STACK_ENV, type PipelineEnv } from '../kafka/env.ts';
import { readTopic } from '../kafka/testkit.ts';
import { dlqTopic } from '../kafka/topics.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import { runDemo } from './demo.ts';

function envFromStack(): PipelineEnv {
  const s = stackInfo();
  return {
    ...LOCAL_STACK_ENV,
    brokers: s.kafka.brokers,
    registryUrl: s.registry.url,
    partitions: 3,
    influx: { url: s.influx.url, org: s.influx.org, bucket: s.influx.bucket, token: s.influx.token },
    salesforce: { ...LOCAL_STACK_ENV.salesforce, loginUrl: s.salesforce.loginUrl, username: s.salesforce.username, password: s.salesforce.password, clientId: s.salesforce.clientId, clientSecret: s.salesforce.clientSecret },
  };
}

interface CaseRec {
  Id: string;
  PdM_Episode_Id__c: string;
  PdM_Asset_Id__c: string;
  PdM_Failure_Mode__c: string;
  AssetId: string | null;
  Description: string;
  Priority: string;
}

describe('pipeline end to end', () => {
  it('opens exactly one case per injected failure, none for healthy assets, and replays open none', async () => {
    const env = envFromStack();
    const res = await runDemo({ env, seed: 11, assetsPerType: 3, days: 14, samplePeriodSec: 120, ratePerSec: 0, failureShare: 0.5, timeoutSec: 600, progress: () => {} });
    expect(res.problems).toEqual([]);
    const { summary, fleet, topics } = res;
    // The simulated history has a fixed time base (the seed's run is the same every time).
    const range = `range(start: ${new Date(res.startTs).toISOString()}, stop: ${new Date(res.endTs + 86_400_000).toISOString()})`;
    expect(summary.injectedFailures).toBeGreaterThan(0);
    expect(summary.predicted).toBe(summary.injectedFailures);
    expect(summary.casesOpened).toBe(summary.injectedFailures);
    expect(summary.duplicateCases).toBe(0);
    expect(summary.falseCases).toBe(0);

    // Salesforce: the cases of this run's episodes, read back through the REST API.
    const kafka = createKafka({ brokers: env.brokers, clientId: 'e2e-test' });
    const events = await readTopic(kafka, topics.cases, { idleMs: 2_000 });
    const { AvroCodec } = await import('../kafka/codec.ts');
    const codec = new AvroCodec(env.registryUrl);
    const caseEvents = await Promise.all(events.map(async (e) => (await codec.decode(e.value)) as { caseId: string; episodeId: string; action: string }));
    const episodeIds = [...new Set(caseEvents.map((e) => e.episodeId))];
    expect(episodeIds).toHaveLength(summary.casesOpened);
    const sf = env.salesforce;
    const conn = new jsforce.Connection({ oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret }, version: sf.apiVersion });
    await conn.login(sf.username, sf.password);
    const inList = episodeIds.map((id) => `'${id}'`).join(',');
    const soql = `SELECT Id, PdM_Episode_Id__c, PdM_Asset_Id__c, PdM_Failure_Mode__c, AssetId, Description, Priority FROM Case WHERE PdM_Episode_Id__c IN (${inList})`;
    const cases = (await conn.query<CaseRec>(soql)).records;
    expect(cases).toHaveLength(summary.injectedFailures);
    const failing = new Map(fleet.assets.filter((a) => a.failures.length > 0).map((a) => [a.assetId, a.failures.map((f) => f.failureMode)]));
    for (const c of cases) {
      expect(failing.get(c.PdM_Asset_Id__c)).toContain(c.PdM_Failure_Mode__c);
      expect(c.AssetId).toMatch(/^02i/); // linked to the Asset found by serial number
      expect(c.Description).toContain(c.PdM_Failure_Mode__c === 'tire_pressure_loss' ? 'tire_pressure' : DEFAULT_CONFIG.assetTypes.get(fleet.assets.find((a) => a.assetId === c.PdM_Asset_Id__c)!.assetType)!.failureModes.find((m) => m.name === c.PdM_Failure_Mode__c)!.sensors[0]!);
    }
    const healthy = fleet.assets.filter((a) => a.failures.length === 0).map((a) => a.assetId);
    expect(healthy.length).toBeGreaterThan(0);
    expect(cases.filter((c) => healthy.includes(c.PdM_Asset_Id__c))).toEqual([]);

    // InfluxDB: readings, scores and predictions of the run, asserted with Flux.
    const influx = new InfluxDB({ url: env.influx.url, token: env.influx.token });
    const q = influx.getQueryApi(env.influx.org);
    const one = cases[0]!;
    const count = async (measurement: string, field: string) => {
      const rows = await q.collectRows<{ _value: number }>(
        `from(bucket: "${env.influx.bucket}") |> ${range} |> filter(fn: (r) => r._measurement == "${measurement}" and r.asset_id == "${one.PdM_Asset_Id__c}" and r._field == "${field}") |> count()`,
      );
      return rows.reduce((n, r) => n + r._value, 0);
    };
    expect(await count('reading', one.PdM_Failure_Mode__c === 'tire_pressure_loss' ? 'tire_pressure_fl_kpa' : DEFAULT_CONFIG.assetTypes.get(fleet.assets.find((a) => a.assetId === one.PdM_Asset_Id__c)!.assetType)!.failureModes.find((m) => m.name === one.PdM_Failure_Mode__c)!.sensors[0]!)).toBeGreaterThan(1000);
    expect(await count('anomaly_score', 'score')).toBeGreaterThan(1000);
    const predictionRows = await q.collectRows<{ episode_id?: string; _value: string }>(
      `from(bucket: "${env.influx.bucket}") |> ${range} |> filter(fn: (r) => r._measurement == "prediction" and r.asset_id == "${one.PdM_Asset_Id__c}" and r._field == "episode_id" and r.kind == "raised")`,
    );
    expect(predictionRows.map((r) => r._value)).toContain(one.PdM_Episode_Id__c);
    // The repairs after the failures travelled with the readings and are annotations now.
    const repairs = [...fleet.events()].flatMap((e) => (e.type === 'maintenance' ? [`${e.event.assetId}@${e.event.ts}`] : []));
    expect(repairs.length).toBeGreaterThan(0);
    const repairRows = await q.collectRows<{ asset_id: string; _time: string }>(
      `from(bucket: "${env.influx.bucket}") |> ${range} |> filter(fn: (r) => r._measurement == "maintenance" and r._field == "source" and r._value == "simulator")`,
    );
    const written = new Set(repairRows.map((r) => `${r.asset_id}@${Date.parse(r._time)}`));
    expect(repairs.filter((k) => !written.has(k))).toEqual([]);

    // Bad values in the fleet's injected sensor faults reached the DLQ with their reason.
    const dead = await readTopic(kafka, dlqTopic(topics.readings), { until: (r) => r.length >= summary.deadLetters, timeoutMs: 30_000 });
    expect(dead.length).toBe(summary.deadLetters);
    for (const d of dead) expect(headerString(d.headers, DLQ_HEADERS.reason)).toBe('invalid_value');

    // Replay: a fresh case-opener group reads every prediction again: no new case.
    const before = (await conn.query<CaseRec>(soql)).records.length;
    const metrics = new MetricsRegistry();
    const replay = await startCaseOpener({ brokers: env.brokers, registryUrl: env.registryUrl, topics, salesforce: env.salesforce, dashboardUrl: env.dashboardUrl, config: DEFAULT_CONFIG, groupId: `${topics.predictions}-replay`, metrics });
    try {
      const deadline = Date.now() + 60_000;
      while (metrics.counter('pdm_case_opener_predictions_total', '').get() < summary.predictions && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(metrics.counter('pdm_case_opener_predictions_total', '').get()).toBe(summary.predictions);
    } finally {
      await replay.stop();
    }
    const after = (await conn.query<CaseRec>(soql)).records;
    expect(after).toHaveLength(before);
    const all = (await conn.query<CaseRec>(`SELECT Id, PdM_Episode_Id__c FROM Case WHERE PdM_Asset_Id__c IN (${[...failing.keys()].map((a) => `'${a}'`).join(',')})`)).records;
    const perEpisode = new Map<string, number>();
    for (const c of all) perEpisode.set(c.PdM_Episode_Id__c, (perEpisode.get(c.PdM_Episode_Id__c) ?? 0) + 1);
    expect([...perEpisode.values()].every((n) => n === 1)).toBe(true);
  });
});
