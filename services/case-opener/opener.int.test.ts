/**
 * Integration tests of the case opener against the real Kafka and schema registry of the
 * local stack and an in-process Salesforce stand-in (infra/salesforce-standin, on an
 * ephemeral port with a temporary data dir) driven through jsforce. They prove: one case
 * per episode with the evidence and the Asset linked; escalation updates the same case;
 * a replay by a fresh consumer group opens no case and adds no comment; cleared adds one
 * comment; REQUEST_LIMIT_EXCEEDED, 503 and an expired session are retried and end in one
 * case; a failure that outlasts a delivery goes through the retry topic; a permanent
 * failure and undecodable bytes reach `<predictions>.dlq` with the reason headers; case
 * events are published. Every test has its own topic prefix and episodes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Kafka, logLevel, type Admin, type IHeaders, type Producer } from 'kafkajs';
import { startServer, type RunningServer } from '../../infra/salesforce-standin/server.ts';
import { StandinControl } from '../../infra/salesforce-standin/control.ts';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import type { PredictionEvent } from '../core/types.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { DLQ_HEADERS, headerString } from '../kafka/dlq.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../kafka/topics.ts';
import type { RunningService } from '../runtime/service.ts';
import { startCaseOpener, type CaseOpenerOptions } from './opener.ts';
import { SalesforceCases } from './salesforce.ts';

const H = 3_600_000;
const stack = stackInfo();
const kafka = new Kafka({ clientId: uniqueName('it-case-opener'), brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });

let admin: Admin;
let producer: Producer;
let sfServer: RunningServer;
let dataDir: string;
let control: StandinControl;
/** A jsforce session of the test itself, to create Assets and read what the opener wrote. */
let sf: SalesforceCases;
const running: RunningService[] = [];

const sfConnection = () => ({
  loginUrl: sfServer.url,
  username: stack.salesforce.username,
  password: stack.salesforce.password,
  clientId: stack.salesforce.clientId,
  clientSecret: stack.salesforce.clientSecret,
  apiVersion: '62.0',
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pdm-case-opener-it-'));
  sfServer = await startServer({ port: 0, dataDir });
  control = new StandinControl(sfServer.url);
  sf = new SalesforceCases(sfConnection());
  await sf.login();
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  for (const s of running) await s.stop().catch(() => undefined);
  await producer?.disconnect();
  await admin?.disconnect();
  await sfServer?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Fixture {
  topics: TopicNames;
  codec: AvroCodec;
  start(over?: Partial<CaseOpenerOptions>): Promise<RunningService>;
  send(...evs: PredictionEvent[]): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const topics = topicNames(`${uniqueName('t')}.`);
  await ensureTopics(admin, topics, { partitions: 3 });
  const codec = new AvroCodec(stack.registry.url);
  await codec.registerValueSchema(topics.predictions, loadSchemaText('prediction'));
  return {
    topics,
    codec,
    async start(over = {}) {
      const s = await startCaseOpener({
        brokers: stack.kafka.brokers,
        registryUrl: stack.registry.url,
        topics,
        salesforce: sfConnection(),
        dashboardUrl: 'http://127.0.0.1:8086/dash',
        groupId: uniqueName('g-case-opener'),
        retryMinDelayMs: 50,
        retryMaxDelayMs: 500,
        retryTopicBaseDelayMs: 1_000,
        ...over,
      });
      running.push(s);
      return s;
    },
    async send(...evs) {
      await producer.send({
        topic: topics.predictions,
        messages: evs.map((ev) => ({ key: ev.assetId, value: codec.encode(topics.predictions, ev) })),
      });
    },
  };
}

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
function prediction(assetId: string, over: Partial<PredictionEvent> = {}): PredictionEvent {
  const failureMode = 'battery_thermal_runaway';
  return {
    kind: 'raised',
    episodeId: `${assetId}:${failureMode}:${T0 - 2 * H}`,
    assetId,
    assetType: 'passenger_ev',
    failureMode,
    episodeStartTs: T0 - 2 * H,
    ts: T0,
    severity: 'medium',
    probability: 0.61,
    horizonHours: 72,
    predictedFailureTs: T0 + 30 * H,
    predictedFailureLowTs: T0 + 24 * H,
    predictedFailureHighTs: T0 + 40 * H,
    evidence: [{ sensor: 'battery_cell_temp_c', value: 48.5, score: 0.8, trendPerHour: 0.38, limit: 60, hoursToLimit: 30.3 }],
    configVersion: '2026-11-23.1',
    ...over,
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface CaseRow {
  Id: string;
  Priority: string;
  Status: string;
  Subject: string;
  Description: string;
  AssetId: string | null;
  PdM_Severity__c: string;
  PdM_Probability__c: number;
}
async function casesOf(episodeId: string): Promise<CaseRow[]> {
  const res = await sf.conn.query<CaseRow>(
    `SELECT Id, Priority, Status, Subject, Description, AssetId, PdM_Severity__c, PdM_Probability__c FROM Case WHERE PdM_Episode_Id__c = '${episodeId}'`,
  );
  return res.records;
}

interface Read {
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}
/** Reads a topic from the beginning until `done` holds; fails with what it saw on timeout. */
async function readTopic(topic: string, done: (seen: Read[]) => boolean, timeoutMs = 30_000): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('g-read') });
  const seen: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out reading ${topic}; saw ${seen.length} records`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({ key: message.key?.toString() ?? null, value: message.value, headers: message.headers ?? {} });
          if (done(seen)) {
            clearTimeout(t);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

const TEST_MS = 90_000;

describe('case opener', () => {
  test('raise, escalate, replay and clear: one case, Asset linked, one comment, case events', { timeout: 150_000 }, async () => {
    const f = await fixture();
    const assetId = uniqueName('EV');
    const asset = await sf.conn.sobject('Asset').create({ Name: `EV ${assetId}`, SerialNumber: assetId });
    const raised = prediction(assetId);
    const opener = await f.start();
    await f.send(raised);

    const [created] = await waitFor('the case', async () => ((await casesOf(raised.episodeId)).length ? casesOf(raised.episodeId) : undefined));
    expect(created!.Priority).toBe('Medium');
    expect(created!.Status).toBe('New');
    expect(created!.AssetId).toBe(asset.id);
    expect(created!.Subject).toBe(`Predicted Battery cell temperature rising toward the thermal cut-off on passenger_ev ${assetId} within ~30h`);
    expect(created!.Description).toContain('battery_cell_temp_c | 48.5 degC | 0.8   | +0.38 degC/h | 60 degC | 30.3');
    expect(created!.Description).toContain('(interval 2026-11-24T10:00:00Z to 2026-11-25T02:00:00Z)');
    expect(created!.Description).toContain(`Dashboard: http://127.0.0.1:8086/dash/d/pdm-asset/?var-asset_id=${assetId}&from=${T0 - 50 * H}&to=${T0 + 24 * H}`);

    const escalated = prediction(assetId, { kind: 'escalated', ts: T0 + H, severity: 'critical', probability: 0.93, predictedFailureTs: T0 + 10 * H });
    await f.send(escalated);
    const after = await waitFor('the escalation', async () => {
      const rows = await casesOf(raised.episodeId);
      return rows[0]?.Priority === 'High' ? rows : undefined;
    });
    expect(after).toHaveLength(1);
    expect(after[0]!.Id).toBe(created!.Id);
    expect(after[0]!.PdM_Severity__c).toBe('critical');
    expect(after[0]!.PdM_Probability__c).toBe(0.93);

    const cleared = prediction(assetId, { kind: 'cleared', ts: T0 + 5 * H, severity: 'low', probability: 0.05 });
    await f.send(cleared);
    const comments = await waitFor('the cleared comment', async () => {
      const c = await sf.listComments(created!.Id);
      return c.length ? c : undefined;
    });
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('Episode cleared at 2026-11-23T15:00:00Z: asset recovered.');
    expect(metric(opener, 'pdm_case_opener_cases_total', { action: 'commented' })).toBe(1);
    await opener.stop();

    // Replay: a fresh consumer group reads the same three predictions again.
    const replay = await f.start();
    await waitFor('the replay to be consumed', () => (metric(replay, 'pdm_case_opener_predictions_total') >= 3 ? true : undefined));
    await waitFor('the replay writes', () => (metric(replay, 'pdm_case_opener_cases_total', { action: 'updated' }) >= 2 ? true : undefined)).catch((err: Error) => {
      throw new Error(`${err.message}; metrics:\n${replay.metrics.render()}`);
    });
    expect(await casesOf(raised.episodeId)).toHaveLength(1);
    expect(await sf.listComments(created!.Id)).toHaveLength(1);
    expect(metric(replay, 'pdm_case_opener_cases_total', { action: 'created' })).toBe(0);
    expect(metric(replay, 'pdm_case_opener_cases_total', { action: 'commented' })).toBe(0);
    // Final state after the replay is the escalated content, not the raised one.
    expect((await casesOf(raised.episodeId))[0]!.Priority).toBe('High');

    // Case events: first run created, updated, commented; the replay two more updates.
    const events = await readTopic(f.topics.cases, (s) => s.length >= 5);
    const decoded = await Promise.all(events.map(async (e) => (await f.codec.decode(e.value)) as { action: string; caseId: string; priority: string; predictionKind: string }));
    expect(decoded.map((d) => `${d.action}/${d.predictionKind}/${d.priority}`)).toEqual([
      'created/raised/Medium',
      'updated/escalated/High',
      'commented/cleared/Low',
      'updated/raised/Medium',
      'updated/escalated/High',
    ]);
    expect(new Set(decoded.map((d) => d.caseId))).toEqual(new Set([created!.Id]));
    expect(events.every((e) => e.key === assetId)).toBe(true);
  });

  test('REQUEST_LIMIT_EXCEEDED, 503 and an expired session are retried: exactly one case', { timeout: TEST_MS }, async () => {
    const f = await fixture();
    const ev = prediction(uniqueName('EV'));
    await control.injectFault({ kind: 'request_limit', pathContains: '/sobjects/Case/', count: 1 });
    await control.injectFault({ kind: 'http503', pathContains: '/sobjects/Case/', count: 1 });
    await control.injectFault({ kind: 'expired_session', pathContains: '/sobjects/Case/', count: 1 });
    const opener = await f.start();
    const loginsBefore = metric(opener, 'pdm_case_opener_salesforce_logins');
    await f.send(ev);
    await waitFor('the case', async () => ((await casesOf(ev.episodeId)).length ? true : undefined));
    await waitFor('the case event', () => (metric(opener, 'pdm_case_opener_cases_total', { action: 'created' }) === 1 ? true : undefined));
    expect(await casesOf(ev.episodeId)).toHaveLength(1);
    expect(metric(opener, 'pdm_case_opener_salesforce_retries_total', { code: 'REQUEST_LIMIT_EXCEEDED' })).toBe(1);
    expect(metric(opener, 'pdm_case_opener_salesforce_retries_total', { code: 'SERVER_UNAVAILABLE' })).toBe(1);
    // The expired session is not a retry of ours: jsforce refreshed through our refresh function once.
    expect(metric(opener, 'pdm_case_opener_salesforce_logins')).toBe(loginsBefore + 1);
    expect(metric(opener, 'pdm_case_opener_retry_topic_sends_total')).toBe(0);
    expect(await control.pendingFaults()).toEqual([]);
    expect(metric(opener, 'pdm_case_opener_salesforce_api_used')).toBeGreaterThan(0);
  });

  test('a failure outlasting one delivery goes through the retry topic and still ends in one case', { timeout: TEST_MS }, async () => {
    const f = await fixture();
    const ev = prediction(uniqueName('EV'));
    // 429 with Retry-After 1 s on all 3 attempts of the first delivery.
    await control.injectFault({ kind: 'http429', delayMs: 1_000, pathContains: '/sobjects/Case/', count: 3 });
    const opener = await f.start({ attemptsPerDelivery: 3, maxTotalAttempts: 6, retryMaxDelayMs: 2_000 });
    await f.send(ev);
    await waitFor('the case', async () => ((await casesOf(ev.episodeId)).length ? true : undefined), 45_000);
    expect(await casesOf(ev.episodeId)).toHaveLength(1);
    expect(metric(opener, 'pdm_case_opener_retry_topic_sends_total')).toBe(1);
    expect(metric(opener, 'pdm_case_opener_salesforce_retries_total', { code: 'ERROR_HTTP_429' })).toBe(2);
    const retried = await readTopic(f.topics.caseRetry, (s) => s.length >= 1);
    expect(headerString(retried[0]!.headers, 'pdm-case-attempts')).toBe('3');
    expect(headerString(retried[0]!.headers, 'pdm-case-source-topic')).toBe(f.topics.predictions);
    expect(Number(headerString(retried[0]!.headers, 'pdm-case-next-attempt-at'))).toBeGreaterThan(T0);
  });

  test('permanent failures, exhausted retries and poison bytes reach <predictions>.dlq with reasons', { timeout: TEST_MS }, async () => {
    const f = await fixture();
    const tooLong = prediction('X'.repeat(300)); // PdM_Asset_Id__c holds 255 characters: STRING_TOO_LONG
    const exhausted = prediction(uniqueName('EV'));
    await control.injectFault({ kind: 'http503', pathContains: encodeURIComponent(exhausted.episodeId), count: 4 });
    const opener = await f.start({ attemptsPerDelivery: 2, maxTotalAttempts: 4 });
    await f.send(tooLong, exhausted);
    await producer.send({ topic: f.topics.predictions, messages: [{ key: 'bad', value: Buffer.from('not avro at all') }] });

    const dl = await readTopic(dlqTopic(f.topics.predictions), (s) => s.length >= 3, 45_000);
    const byKey = new Map(dl.map((d) => [d.key, d]));
    const perm = byKey.get(tooLong.assetId)!;
    expect(headerString(perm.headers, DLQ_HEADERS.reason)).toBe('case_write_failed');
    expect(headerString(perm.headers, DLQ_HEADERS.sourceTopic)).toBe(f.topics.predictions);
    expect(headerString(perm.headers, DLQ_HEADERS.service)).toBe('case-opener');
    expect(headerString(perm.headers, DLQ_HEADERS.error)).toContain('permanent failure: salesforce upsert Case: STRING_TOO_LONG (HTTP 400)');
    expect(perm.value!.equals(f.codec.encode(f.topics.predictions, tooLong))).toBe(true);

    const ex = byKey.get(exhausted.assetId)!;
    expect(headerString(ex.headers, DLQ_HEADERS.reason)).toBe('case_write_failed');
    expect(headerString(ex.headers, DLQ_HEADERS.error)).toContain('still failing after 4 attempts');
    // Its origin, not the retry topic, is named: the record was first read from the predictions topic.
    expect(headerString(ex.headers, DLQ_HEADERS.sourceTopic)).toBe(f.topics.predictions);
    expect(headerString(ex.headers, 'pdm-case-attempts')).toBe('2');

    const poison = byKey.get('bad')!;
    expect(headerString(poison.headers, DLQ_HEADERS.reason)).toBe('malformed_avro');
    expect(poison.value!.toString()).toBe('not avro at all');

    expect(await casesOf(exhausted.episodeId)).toHaveLength(0);
    expect(metric(opener, 'pdm_case_opener_dead_letters_total', { reason: 'case_write_failed' })).toBe(2);
    expect(metric(opener, 'pdm_case_opener_dead_letters_total', { reason: 'malformed_avro' })).toBe(1);
  });
});

/** A metric's value from a running service's registry (sum over labels when none given). */
function metric(s: RunningService, name: string, labels?: Record<string, string>): number {
  const text = s.metrics.render();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((kv) => {
      const [k, v] = kv.split('=');
      return [k!, v!.replace(/^"|"$/g, '')];
    }));
    if (labels && !Object.entries(labels).every(([k, v]) => ls[k] === v)) continue;
    sum += Number(m[3]);
  }
  return sum;
}
