/**
 * `pdm web` against the real InfluxDB and Kafka: a seeded synthetic history (history-kit.ts,
 * written through the sink's own line mapping) in a throwaway database, case events on a
 * topic of this test's own, and the pages and the charts' API read over HTTP and compared
 * with the history's truth: which assets are at risk, in which order, with which case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchDatabase, type BenchDatabase } from '../../benchmarks/e2e/fixtures.ts';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { DEFAULT_CONFIG } from '../core/index.ts';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { ensureTopics, topicNames } from '../kafka/topics.ts';
import { FleetReader, MAX_POINTS } from './fleet-reader.ts';
import { DEFAULT_HISTORY, historyAsset, writeHistory, type HistoryAsset, type HistoryOptions } from './history-kit.ts';
import { startWeb, type RunningWeb } from './server.ts';

const ASSETS = 300;
const history: HistoryOptions = { ...DEFAULT_HISTORY, assets: ASSETS, idPrefix: `${uniqueName('web').replace(/-/g, '')}-`, denseAssets: 2, atRiskShare: 0.2, clearedShare: 0.1 };
const truth: HistoryAsset[] = Array.from({ length: ASSETS }, (_, i) => historyAsset(history, i));
const RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };
/** The open episodes in the order the fleet page lists them. */
const atRisk = truth
  .flatMap((a) => a.episodes.filter((e) => e.events.at(-1)!.kind !== 'cleared').map((e) => ({ asset: a, episode: e, last: e.events.at(-1)! })))
  .sort((x, y) => RANK[y.last.severity]! - RANK[x.last.severity]! || y.last.probability - x.last.probability);

let db: BenchDatabase;
let web: RunningWeb;
/** Case ids published for the first ten open episodes. */
const caseIds = new Map<string, string>();

const get = (path: string) => fetch(`${web.url}${path}`, { redirect: 'manual' });
const html = async (path: string) => {
  const res = await get(path);
  return { status: res.status, text: await res.text() };
};
/** Asset ids of the fleet table's rows, in order. */
const rowsOf = (text: string) => [...text.matchAll(/<tr class="sev-\w+" data-asset="([^"]+)">/g)].map((m) => m[1]!);

beforeAll(async () => {
  const s = stackInfo();
  db = await benchDatabase(s.influx, `pdm_web_${Date.now().toString(36)}`);
  await writeHistory(history, db.influx);
  const prefix = `${uniqueName('web')}.`;
  const topics = topicNames(prefix);
  const kafka = createKafka({ brokers: s.kafka.brokers, clientId: 'web-it' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics, { partitions: 2 });
  await admin.disconnect();
  const codec = new AvroCodec(s.registry.url);
  await codec.registerValueSchema(topics.cases, loadSchemaText('caseEvent'));
  const producer = kafka.producer();
  await producer.connect();
  const messages = atRisk.slice(0, 10).map(({ asset, episode, last }, i) => {
    const caseId = `500${String(i).padStart(15, '0')}`;
    caseIds.set(episode.episodeId, caseId);
    const value = { action: 'created', caseId, episodeId: episode.episodeId, assetId: asset.assetId, failureMode: episode.failureMode, severity: last.severity, priority: 'High', predictionKind: last.kind, predictionTs: last.ts, writtenAt: last.ts + 1_000 };
    return { key: asset.assetId, value: codec.encode(topics.cases, value) };
  });
  await producer.send({ topic: topics.cases, messages });
  await producer.disconnect();
  web = await startWeb({ port: 0, influx: db.influx, brokers: s.kafka.brokers, registryUrl: s.registry.url, topics, groupPrefix: prefix, caseUrl: 'https://sf.example.com/lightning/r/Case/{caseId}/view', pageSize: 25 });
  await web.cases.caughtUp;
}, 180_000);

afterAll(async () => {
  await web?.stop();
  await db?.drop();
});

describe('pdm web on a synthetic fleet', () => {
  it('lists the assets at risk first, most severe and most probable first, paged, with their cases', async () => {
    expect(web.cases.size).toBe(10);
    const first = await html('/');
    expect(first.status).toBe(200);
    expect(rowsOf(first.text)).toEqual(atRisk.slice(0, 25).map((r) => r.asset.assetId));
    expect(first.text).toContain(`1–25 of ${atRisk.length}`);
    for (const [episodeId, caseId] of caseIds) {
      const row = atRisk.find((r) => r.episode.episodeId === episodeId)!;
      expect(first.text).toContain(`<a class="case" href="https://sf.example.com/lightning/r/Case/${caseId}/view">${caseId}</a>`);
      expect(first.text).toContain(`<a class="asset" href="/asset/${encodeURIComponent(row.asset.assetId)}">`);
    }
    const e = atRisk[0]!.last;
    expect(first.text).toContain(`${new Date(e.predictedFailureLowTs!).toISOString().slice(0, 16).replace('T', ' ')} UTC – ${new Date(e.predictedFailureHighTs!).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    for (const sev of ['critical', 'high', 'medium', 'low']) {
      expect(first.text).toContain(`<div class="card sev-${sev}"><span class="n">${atRisk.filter((r) => r.last.severity === sev).length}</span>`);
    }
    const second = await html('/?offset=25');
    expect(rowsOf(second.text)).toEqual(atRisk.slice(25, 50).map((r) => r.asset.assetId));
    expect(second.text).toContain('rel="prev" href="/?offset=0"');
  });

  it("shows an asset's episodes with their case, its repairs, and the range ending at its latest reading", async () => {
    const open = atRisk[0]!;
    const page = await html(`/asset/${encodeURIComponent(open.asset.assetId)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<h1>${open.asset.assetId} <span class="muted">${open.asset.assetType}</span></h1>`);
    expect(page.text).toContain(`>${caseIds.get(open.episode.episodeId)}</a>`);
    expect(page.text).toContain(`<td>${open.episode.failureMode}</td><td>open</td>`);
    const end = open.asset.lastTs + 60_000;
    expect(page.text).toContain(`"seriesUrl":"/api/asset/${encodeURIComponent(open.asset.assetId)}/series?from=${end - 7 * 86_400_000}&to=${end}"`);
    const repaired = truth.find((a) => a.episodes.some((e) => e.repairTs !== null))!;
    const rp = await html(`/asset/${encodeURIComponent(repaired.assetId)}`);
    expect(rp.text).toContain(`<td>${repaired.episodes[0]!.failureMode}</td><td>cleared</td>`);
    expect(rp.text).toContain(`<td>${new Date(repaired.episodes[0]!.repairTs!).toISOString().slice(0, 16).replace('T', ' ')} UTC</td><td>${repaired.episodes[0]!.failureMode}</td><td>work_order</td>`);
  });

  it('serves the charts of a dense asset: every sensor, every score, health, at most MAX_POINTS points', async () => {
    const dense = truth.find((a) => a.dense)!;
    const sensors = DEFAULT_CONFIG.assetTypes.get(dense.assetType)!.sensors.map((s) => s.name);
    const from = history.startTs;
    const to = history.startTs + history.days * 86_400_000;
    const res = await get(`/api/asset/${encodeURIComponent(dense.assetId)}/series?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const s = (await res.json()) as { windowMs: number; readings: { ts: number[]; fields: Record<string, (number | null)[]> }; scores: { ts: number[]; fields: Record<string, (number | null)[]> } };
    expect(Object.keys(s.readings.fields).sort()).toEqual([...sensors].sort());
    expect(Object.keys(s.scores.fields).sort()).toEqual(['health', 'score', ...sensors.map((n) => `score_${n}`)].sort());
    expect(s.scores.ts.length).toBeGreaterThan(MAX_POINTS / 2);
    expect(s.scores.ts.length).toBeLessThanOrEqual(MAX_POINTS);
    for (const v of [...Object.values(s.scores.fields).flat()]) if (v !== null) expect(v >= 0 && v <= 1).toBe(true);
    // The same range aggregated by Flux (the path of long ranges) draws the same picture.
    const reader = new FleetReader(db.influx, 30_000, 0);
    const agg = await reader.series(dense.assetId, from, to);
    expect(Object.keys(agg.scores.fields).sort()).toEqual(Object.keys(s.scores.fields).sort());
    const peak = (xs: (number | null)[]) => Math.max(...xs.filter((x): x is number => x !== null));
    expect(peak(agg.scores.fields.score!)).toBeCloseTo(peak(s.scores.fields.score!), 6);
  });

  it("opens a case's drill-down link on the asset page with the episode's window", async () => {
    const res = await get('/d/pdm-asset/?var-asset_id=EV%2042&from=1767571200000&to=1767657600000');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/asset/EV%2042?from=1767571200000&to=1767657600000');
  });

  it('answers unknown assets, bad ranges and unknown pages with their status and reason', async () => {
    const unknown = await html(`/asset/${encodeURIComponent('no "such" \\ ${asset}')}`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('InfluxDB holds no reading, score or prediction of this asset.');
    const bad = await html('/asset/x?from=20&to=10');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('from must be before to (1970-01-01T00:00:00.020Z ≥ 1970-01-01T00:00:00.010Z)');
    const notTime = await html('/api/asset/x/series?from=yesterday&to=10');
    expect(notTime.status).toBe(400);
    expect(notTime.text).toContain('from=yesterday: not a time (epoch ms or YYYY-MM-DDTHH:MM UTC)');
    expect((await html('/nope')).status).toBe(404);
    expect(web.metrics.counter('pdm_web_requests_total', '').get({ route: 'fleet', status: '200' })).toBeGreaterThanOrEqual(2);
  });
});
