/**
 * The dashboards statically: the committed files are what dashboards.ts renders (so the
 * queries live in one place, queries.ts), every Flux query uses only the variables both
 * tools provide, every Prometheus query names metrics a service registers, and asset links
 * lead to the drill-down. dashboards.int.test.ts runs the Flux queries against InfluxDB.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRILL_DOWN_PATH } from '../../services/case-opener/case-content.ts';
import { renderedFiles, DASHBOARD_DIR } from './build.ts';
import { ASSET_DASHBOARD_UID, DASHBOARDS, fluxQueriesOf } from './dashboards.ts';
import { FLUX, PROM } from './queries.ts';
import { ASSET_LINK, grafanaFlux } from './render-grafana.ts';

const SERVICES = join(DASHBOARD_DIR, '..', '..', 'services');

/** The source of every non-test service file. */
function serviceSources(): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(SERVICES);
  return out.join('\n');
}

describe('dashboards as code', () => {
  it('are committed exactly as `npm run dashboards:build` renders them', () => {
    const files = renderedFiles();
    expect(files.size).toBe(DASHBOARDS.length * 2);
    for (const [rel, text] of files) expect(readFileSync(join(DASHBOARD_DIR, rel), 'utf8'), `${rel} is stale: npm run dashboards:build`).toBe(text);
    for (const dir of ['grafana', 'influxdb']) {
      expect(readdirSync(join(DASHBOARD_DIR, dir)).sort()).toEqual(DASHBOARDS.map((d) => `${d.uid}.json`).sort());
    }
  });

  it('give every query a unique id, and use every Flux query of queries.ts', () => {
    const ids = [...Object.values(FLUX), ...Object.values(PROM)].map((q) => q.id);
    expect(new Set(ids).size).toBe(ids.length);
    const used = new Set(DASHBOARDS.flatMap((d) => fluxQueriesOf(d).map((q) => q.id)));
    expect(Object.values(FLUX).map((q) => q.id).filter((id) => !used.has(id))).toEqual([]);
    const usedProm = new Set(DASHBOARDS.flatMap((d) => d.panels.flatMap((p) => (p.prom ?? []).map((q) => q.id))));
    expect(Object.values(PROM).map((q) => q.id).filter((id) => !usedProm.has(id))).toEqual([]);
  });

  it('use only the variables Grafana and InfluxDB provide, and the drill-down filters on the asset', () => {
    const known = new Set(['timeRangeStart', 'timeRangeStop', 'windowPeriod', 'bucket', 'asset_id']);
    for (const q of Object.values(FLUX)) {
      const vars = [...q.flux.matchAll(/\bv\.(\w+)/g)].map((m) => m[1]!);
      expect(vars.filter((v) => !known.has(v)), q.id).toEqual([]);
      expect(q.flux, q.id).toContain('from(bucket: v.bucket)');
    }
    const asset = DASHBOARDS.find((d) => d.uid === ASSET_DASHBOARD_UID)!;
    for (const p of asset.panels) expect(p.flux?.flux, p.title).toContain('r.asset_id == v.asset_id');
    expect(grafanaFlux(FLUX.assetSensors.flux)).toContain('r.asset_id == "${asset_id}"');
    expect(grafanaFlux(FLUX.assetSensors.flux)).toContain('from(bucket: v.defaultBucket)');
  });

  it('query only pdm_* metrics that a service registers', () => {
    const src = serviceSources();
    for (const q of Object.values(PROM)) {
      const names = [...q.expr.matchAll(/\b(pdm_[a-z_]+)/g)].map((m) => m[1]!);
      expect(names.length, q.id).toBeGreaterThan(0);
      for (const n of names) expect(src, `${q.id}: no service registers ${n}`).toMatch(new RegExp(`\\.(counter|gauge)\\(\\s*'${n}'`));
    }
  });

  it('link asset ids to the drill-down dashboard with the same time range', () => {
    expect(ASSET_LINK).toBe('/d/pdm-asset/?var-asset_id=${__value.raw}&${__url_time_range}');
    const grafana = JSON.parse(readFileSync(join(DASHBOARD_DIR, 'grafana', 'pdm-fleet.json'), 'utf8')) as { panels: { fieldConfig: { overrides: { properties: { value: { url: string }[] }[] }[] } }[] };
    const links = grafana.panels.flatMap((p) => p.fieldConfig.overrides.flatMap((o) => o.properties.flatMap((x) => x.value.map((l) => l.url))));
    expect(links).toEqual([ASSET_LINK]);
  });

  it("is where the case's dashboard link points", () => {
    expect(DRILL_DOWN_PATH).toBe(`d/${ASSET_DASHBOARD_UID}/`);
  });
});
