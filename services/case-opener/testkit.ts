/**
 * Shared kit of the case opener's integration tests: the real Kafka and schema registry of
 * the local stack, and an in-process Salesforce stand-in in strict mode (the integration
 * user's access comes from the shipped permission sets, password logins need the security
 * token), each test file with its own stand-in, topics and episodes. Test-only; no service
 * imports this.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { StandinControl } from '../../infra/salesforce-standin/control.ts';
import { STANDIN_CREDENTIALS, startServer, type RunningServer, type ServerOptions } from '../../infra/salesforce-standin/server.ts';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import type { PredictionEvent } from '../core/types.ts';
import type { SalesforceConnection } from '../kafka/env.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { readTopic, type ConsumedRecord } from '../kafka/testkit.ts';
import { ensureTopics, topicNames, type TopicNames } from '../kafka/topics.ts';
import type { RunningService } from '../runtime/service.ts';
import { startCaseOpener, type CaseOpenerOptions } from './opener.ts';

export const H = 3_600_000;
export const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
export { uniqueName };

/** One test file's world: a strict stand-in, an admin session on it, Kafka clients, and the openers it started. */
export class OpenerWorld {
  readonly stack = stackInfo();
  readonly kafka = new Kafka({ clientId: uniqueName('it-case-opener'), brokers: this.stack.kafka.brokers, logLevel: logLevel.NOTHING });
  server!: RunningServer;
  control!: StandinControl;
  /** An administrator's session: seeds Accounts and Assets, reads what the opener wrote (owner included), acts as a dispatcher. */
  admin!: jsforce.Connection;
  admin_!: Admin;
  producer!: Producer;
  private dataDir = '';
  private readonly running: RunningService[] = [];

  async setUp(server: Partial<ServerOptions> = {}): Promise<void> {
    this.dataDir = await mkdtemp(join(tmpdir(), 'pdm-case-opener-it-'));
    this.server = await startServer({ port: 0, dataDir: this.dataDir, strict: true, ...server });
    this.control = new StandinControl(this.server.loginUrl);
    const c = STANDIN_CREDENTIALS;
    this.admin = new jsforce.Connection({ oauth2: { loginUrl: this.server.loginUrl, clientId: c.clientId, clientSecret: c.clientSecret }, version: '62.0' });
    await this.admin.login(c.adminUsername, c.adminPassword + c.securityToken);
    this.admin_ = this.kafka.admin();
    await this.admin_.connect();
    this.producer = this.kafka.producer();
    await this.producer.connect();
  }

  async tearDown(): Promise<void> {
    for (const s of this.running) await s.stop().catch(() => undefined);
    await this.producer?.disconnect();
    await this.admin_?.disconnect();
    await this.server?.close();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /** The product's connection: the integration user, password flow with the security token. */
  connection(over: Partial<SalesforceConnection> = {}): SalesforceConnection {
    const c = STANDIN_CREDENTIALS;
    return {
      loginUrl: this.server.loginUrl, authFlow: 'password', username: c.username, password: c.password, securityToken: c.securityToken,
      clientId: c.clientId, clientSecret: c.clientSecret, apiVersion: '62.0', ...over,
    };
  }

  /** Fresh topics (3 partitions) with the prediction schema registered. */
  async topics(): Promise<{ topics: TopicNames; codec: AvroCodec }> {
    const topics = topicNames(`${uniqueName('t')}.`);
    await ensureTopics(this.admin_, topics, { partitions: 3 });
    const codec = new AvroCodec(this.stack.registry.url);
    await codec.registerValueSchema(topics.predictions, loadSchemaText('prediction'));
    return { topics, codec };
  }

  /** Starts a case opener on `topics` with short test backoffs; stopped at tear-down. */
  async start(topics: TopicNames, over: Partial<CaseOpenerOptions> = {}): Promise<RunningService> {
    const s = await startCaseOpener({
      brokers: this.stack.kafka.brokers,
      registryUrl: this.stack.registry.url,
      topics,
      salesforce: this.connection(),
      dashboardUrl: 'http://127.0.0.1:8086/dash',
      groupId: uniqueName('g-case-opener'),
      retryMinDelayMs: 50,
      retryMaxDelayMs: 500,
      retryTopicBaseDelayMs: 1_000,
      ...over,
    });
    this.running.push(s);
    return s;
  }

  async send(topics: TopicNames, codec: AvroCodec, ...evs: PredictionEvent[]): Promise<void> {
    await this.producer.send({ topic: topics.predictions, messages: evs.map((ev) => ({ key: ev.assetId, value: codec.encode(topics.predictions, ev) })) });
  }

  /** An Asset (serial number = asset id) under a new Account, as a real org requires. */
  async asset(assetId: string): Promise<string> {
    const account = await this.admin.sobject('Account').create({ Name: `Owner of ${assetId}` });
    const asset = await this.admin.sobject('Asset').create({ Name: `EV ${assetId}`, SerialNumber: assetId, AccountId: account.id });
    return asset.id!;
  }

  /** Every case of an episode, with the fields a scheduler sees. */
  async cases(episodeId: string): Promise<CaseRecord[]> {
    const res = await this.admin.query<Record<string, unknown>>(`SELECT ${CASE_FIELDS.join(', ')} FROM Case WHERE PdM_Episode_Id__c = '${episodeId}'`);
    return res.records.map(({ attributes: _a, ...r }) => r as CaseRecord);
  }

  /** The episode's one case; fails when there is none or more than one. */
  async oneCase(episodeId: string): Promise<CaseRecord> {
    const rows = await this.cases(episodeId);
    if (rows.length !== 1) throw new Error(`expected exactly one case for ${episodeId}, found ${rows.length}`);
    return rows[0]!;
  }

  async comments(caseId: string): Promise<string[]> {
    return (await this.admin.query<{ CommentBody: string }>(`SELECT CommentBody FROM CaseComment WHERE ParentId = '${caseId}'`)).records.map((r) => r.CommentBody);
  }

  /** Decoded case events of a topic, once `count` have arrived. */
  async caseEvents(topics: TopicNames, codec: AvroCodec, count: number): Promise<CaseEventRecord[]> {
    const raw = await readTopic(this.kafka, topics.cases, { until: (r) => r.length >= count, timeoutMs: 30_000, idleMs: 30_000 });
    return Promise.all(raw.map(async (r: ConsumedRecord) => ({ ...((await codec.decode(r.value)) as CaseEventRecord), key: r.key?.toString() ?? '' })));
  }

  /** Every access token the stand-in ever issued (to search logs for them). */
  async issuedTokens(): Promise<string[]> {
    const state = JSON.parse(await readFile(join(this.dataDir, 'salesforce-standin.json'), 'utf8')) as { sessions: { accessToken: string }[] };
    return state.sessions.map((s) => s.accessToken);
  }
}

/** The Case fields the tests compare (content a scheduler sees, owner and window included). */
export const CASE_FIELDS = [
  'Id', 'Subject', 'Description', 'Priority', 'Status', 'Origin', 'OwnerId', 'AssetId', 'PdM_Asset_Id__c', 'PdM_Failure_Mode__c', 'PdM_Severity__c',
  'PdM_Probability__c', 'PdM_Predicted_Failure__c', 'PdM_Predicted_Failure_Low__c', 'PdM_Predicted_Failure_High__c', 'PdM_Dashboard_Url__c',
  'PdM_Event_Ts__c', 'PdM_Service_Earliest_Start__c', 'PdM_Service_Due__c', 'PdM_Service_Window_Status__c',
] as const;
export type CaseRecord = Record<(typeof CASE_FIELDS)[number], string | number | null>;

export interface CaseEventRecord {
  action: string;
  caseId: string;
  episodeId: string;
  predictionKind: string;
  priority: string;
  predictionTs: number;
  key: string;
}

/** A prediction of the EV battery failure mode; `over` changes any field. */
export function prediction(assetId: string, over: Partial<PredictionEvent> = {}): PredictionEvent {
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

/** The escalation of `raised` one hour later: critical, failure nearer (lower bound 10 h out). */
export function escalation(raised: PredictionEvent, over: Partial<PredictionEvent> = {}): PredictionEvent {
  return { ...raised, kind: 'escalated', ts: raised.ts + H, severity: 'critical', probability: 0.93, predictedFailureTs: raised.ts + 12 * H, predictedFailureLowTs: raised.ts + 10 * H, ...over };
}

/** The clearing of `raised` five hours later. */
export function clearing(raised: PredictionEvent, over: Partial<PredictionEvent> = {}): PredictionEvent {
  return { ...raised, kind: 'cleared', ts: raised.ts + 5 * H, severity: 'low', probability: 0.05, ...over };
}

/** Polls `fn` until it returns something other than undefined/false; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A metric's value from a running service's registry (sum over label sets matching `labels`). */
export function metric(s: RunningService, name: string, labels?: Record<string, string>): number {
  return s.metrics.value(name, labels);
}

/** Expected ISO form of an epoch-ms datetime as Salesforce returns it. */
export const sfTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');
