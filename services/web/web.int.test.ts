/**
 * `pdm web` against the real InfluxDB and Kafka: a seeded synthetic history (history-kit.ts,
 * written through the sink's own line mapping) in a throwaway database, case events on a
 * topic of this test's own, and the pages and the charts' API read over HTTP and compared
 * with the history's truth: which assets are at risk, in which order, with which case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from '../../infra/test/stack-env.ts';
import { DEFAULT_CONFIG } from '../core/index.ts';
import { FleetReader, MAX_POINTS } from './fleet-reader.ts';
import type { RunningWeb } from './server.ts';
import { startWebFixture, type WebFixture } from './web-fixture.ts';

let f: WebFixture;
let web: RunningWeb;

const get = (path: string) => fetch(`${web.url}${path}`, { redirect: 'manual' });
const html = async (path: string) => {
  const res = await get(path);
  return { status: res.status, text: await res.text() };
};
/** Asset ids of the fleet table's rows, in order. */
const rowsOf = (text: string) => [...text.matchAll(/<tr class="sev-\w+" data-asset="([^"]+)">/g)].map((m) => m[1]!);

beforeAll(async () => {
  f = await startWebFixture(stackInfo(), { assets: 300, cases: 10, pageSize: 25 });
  web = f.web;
}, 180_000);

afterAll(async () => {
  await f?.stop();
});

describe('pdm web on a synthetic fleet', () => {
  it('lists the assets at risk first, most severe and most probable first, paged, with their cases', async () => {
    expect(web.cases.size).toBe(10);
    const first = await html('/');
    expect(first.status).toBe(200);
    expect(rowsOf(first.text)).toEqual(f.atRisk.slice(0, 25).map((r) => r.asset.assetId));
    expect(first.text).toContain(`1–25 of ${f.atRisk.length}`);
    for (const [episodeId, caseId] of f.caseIds) {
      const row = f.atRisk.find((r) => r.episode.episodeId === episodeId)!;
      expect(first.text).toContain(`<a class="case" href="https://sf.example.com/lightning/r/Case/${caseId}/view">${caseId}</a>`);
      expect(first.text).toContain(`<a class="asset" href="/asset/${encodeURIComponent(row.asset.assetId)}">`);
    }
    const e = f.atRisk[0]!.last;
    expect(first.text).toContain(`${new Date(e.predictedFailureLowTs!).toISOString().slice(0, 16).replace('T', ' ')} UTC – ${new Date(e.predictedFailureHighTs!).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    for (const sev of ['critical', 'high', 'medium', 'low']) {
      expect(first.text).toContain(`<div class="card sev-${sev}"><span class="n">${f.atRisk.filter((r) => r.last.severity === sev).length}</span>`);
    }
    const second = await html('/?offset=25');
    expect(rowsOf(second.text)).toEqual(f.atRisk.slice(25, 50).map((r) => r.asset.assetId));
    expect(second.text).toContain('rel="prev" href="/?offset=0"');
  });

  it("shows an asset's episodes with their case, its repairs, and the range ending at its latest reading", async () => {
    const open = f.atRisk[0]!;
    const page = await html(`/asset/${encodeURIComponent(open.asset.assetId)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<h1>${open.asset.assetId} <span class="muted">${open.asset.assetType}</span></h1>`);
    expect(page.text).toContain(`>${f.caseIds.get(open.episode.episodeId)}</a>`);
    expect(page.text).toContain(`<td>${open.episode.failureMode}</td><td>open</td>`);
    const end = open.asset.lastTs + 60_000;
    expect(page.text).toContain(`"seriesUrl":"/api/asset/${encodeURIComponent(open.asset.assetId)}/series?from=${end - 7 * 86_400_000}&to=${end}"`);
    const repaired = f.truth.find((a) => a.episodes.some((e) => e.repairTs !== null))!;
    const rp = await html(`/asset/${encodeURIComponent(repaired.assetId)}`);
    expect(rp.text).toContain(`<td>${repaired.episodes[0]!.failureMode}</td><td>cleared</td>`);
    expect(rp.text).toContain(`<td>${new Date(repaired.episodes[0]!.repairTs!).toISOString().slice(0, 16).replace('T', ' ')} UTC</td><td>${repaired.episodes[0]!.failureMode}</td><td>work_order</td>`);
  });

  it('serves the charts of a dense asset: every sensor, every score, health, at most MAX_POINTS points', async () => {
    const dense = f.truth.find((a) => a.dense)!;
    const sensors = DEFAULT_CONFIG.assetTypes.get(dense.assetType)!.sensors.map((s) => s.name);
    const from = f.history.startTs;
    const to = f.history.startTs + f.history.days * 86_400_000;
    const res = await get(`/api/asset/${encodeURIComponent(dense.assetId)}/series?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const s = (await res.json()) as { windowMs: number; readings: { ts: number[]; fields: Record<string, (number | null)[]> }; scores: { ts: number[]; fields: Record<string, (number | null)[]> } };
    expect(Object.keys(s.readings.fields).sort()).toEqual([...sensors].sort());
    expect(Object.keys(s.scores.fields).sort()).toEqual(['health', 'score', ...sensors.map((n) => `score_${n}`)].sort());
    expect(s.scores.ts.length).toBeGreaterThan(MAX_POINTS / 2);
    expect(s.scores.ts.length).toBeLessThanOrEqual(MAX_POINTS);
    for (const v of [...Object.values(s.scores.fields).flat()]) if (v !== null) expect(v >= 0 && v <= 1).toBe(true);
    // The same range aggregated by Flux (the path of long ranges) draws the same picture.
    const reader = new FleetReader(f.influx, 30_000, 0);
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
