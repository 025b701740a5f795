/**
 * The fleet view's test fixture: a seeded synthetic history (history-kit.ts) in a throwaway
 * InfluxDB database, case events for the first open episodes on a topic prefix of its own,
 * and `startWeb` on a free port; with the truth the pages must show. Used by the HTTP and
 * the browser tests. Test-only.
 */
import { benchDatabase, type BenchDatabase } from '../../benchmarks/lib/influx-db.ts';
import { uniqueName, type StackInfo } from '../../infra/test/stack-env.ts';
import { createKafka } from '../kafka/client.ts';
import type { InfluxConnection } from '../kafka/env.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { ensureTopics, topicNames } from '../kafka/topics.ts';
import { DEFAULT_HISTORY, historyAsset, writeHistory, type HistoryAsset, type HistoryEpisode, type HistoryOptions } from './history-kit.ts';
import { startWeb, type RunningWeb } from './server.ts';

const RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };

export interface AtRisk {
  asset: HistoryAsset;
  episode: HistoryEpisode;
  last: HistoryEpisode['events'][number];
}

export interface WebFixture {
  web: RunningWeb;
  /** The throwaway database's connection. */
  influx: InfluxConnection;
  history: HistoryOptions;
  truth: HistoryAsset[];
  /** Open episodes in the order the fleet page lists them. */
  atRisk: AtRisk[];
  /** Case id per episode id, for the first `cases` open episodes. */
  caseIds: Map<string, string>;
  stop(): Promise<void>;
}

export async function startWebFixture(stack: StackInfo, opts: { assets: number; cases: number; pageSize: number }): Promise<WebFixture> {
  const history: HistoryOptions = { ...DEFAULT_HISTORY, assets: opts.assets, idPrefix: `${uniqueName('web').replace(/-/g, '')}-`, denseAssets: 2, atRiskShare: 0.2, clearedShare: 0.1 };
  const truth = Array.from({ length: history.assets }, (_, i) => historyAsset(history, i));
  const atRisk = truth
    .flatMap((asset) => asset.episodes.filter((e) => e.events.at(-1)!.kind !== 'cleared').map((episode) => ({ asset, episode, last: episode.events.at(-1)! })))
    .sort((x, y) => RANK[y.last.severity]! - RANK[x.last.severity]! || y.last.probability - x.last.probability);
  const db: BenchDatabase = await benchDatabase(stack.influx, `pdm_web_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`);
  try {
    await writeHistory(history, db.influx);
    const prefix = `${uniqueName('web')}.`;
    const topics = topicNames(prefix);
    const kafka = createKafka({ brokers: stack.kafka.brokers, clientId: 'web-fixture' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { partitions: 2 });
    await admin.disconnect();
    const codec = new AvroCodec(stack.registry.url);
    await codec.registerValueSchema(topics.cases, loadSchemaText('caseEvent'));
    const caseIds = new Map<string, string>();
    const messages = atRisk.slice(0, opts.cases).map(({ asset, episode, last }, i) => {
      const caseId = `500${String(i).padStart(15, '0')}`;
      caseIds.set(episode.episodeId, caseId);
      const value = { action: 'created', caseId, episodeId: episode.episodeId, assetId: asset.assetId, failureMode: episode.failureMode, severity: last.severity, priority: 'High', predictionKind: last.kind, predictionTs: last.ts, writtenAt: last.ts + 1_000 };
      return { key: asset.assetId, value: codec.encode(topics.cases, value) };
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.cases, messages });
    await producer.disconnect();
    const web = await startWeb({ port: 0, influx: db.influx, brokers: stack.kafka.brokers, registryUrl: stack.registry.url, topics, groupPrefix: prefix, caseUrl: 'https://sf.example.com/lightning/r/Case/{caseId}/view', pageSize: opts.pageSize });
    await web.cases.caughtUp;
    return { web, influx: db.influx, history, truth, atRisk, caseIds, stop: async () => { await web.stop(); await db.drop(); } };
  } catch (err) {
    await db.drop();
    throw err;
  }
}
