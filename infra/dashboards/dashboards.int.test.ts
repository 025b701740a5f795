/**
 * Every Flux query of every dashboard file, as Grafana and InfluxDB would run it, against
 * InfluxDB after a simulated run (`runDemo` into a throwaway database), checked against what
 * the pipeline published on its Kafka topics: the assets at risk, the prediction events,
 * the asset's sensors and scores, the data-quality findings. A renamed measurement, tag or
 * field empties a series and fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfluxDB } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchDatabase, type BenchDatabase } from '../../benchmarks/lib/influx-db.ts';
import { DEFAULT_CONFIG } from '../../services/core/index.ts';
import type { PredictionEvent } from '../../services/core/types.ts';
import { runDemo, type DemoResult } from '../../services/demo/demo.ts';
import { createKafka } from '../../services/kafka/client.ts';
import { AvroCodec } from '../../services/kafka/codec.ts';
import { LOCAL_STACK_ENV, type PipelineEnv } from '../../services/kafka/env.ts';
import { readTopic } from '../../services/kafka/testkit.ts';
import { stackInfo } from '../test/stack-env.ts';
import { DASHBOARD_DIR } from './build.ts';
import { DASHBOARDS } from './dashboards.ts';
import { ANOMALY_THRESHOLD, FLUX, type FluxQuery } from './queries.ts';

type Row = Record<string, unknown>;
const HOUR = 3_600_000;

let db: BenchDatabase;
let env: PipelineEnv;
let run: DemoResult;
let events: PredictionEvent[];
/** The drill-down's asset: one whose injected failure was predicted. */
let assetId: string;
let assetType: string;
/** The end of the fleet dashboards' range: the failure time, while that episode is open. */
let atRiskTs: number;

beforeAll(async () => {
  const s = stackInfo();
  db = await benchDatabase(s.influx, `pdm_dashboards_${Date.now().toString(36)}`);
  env = {
    ...LOCAL_STACK_ENV,
    brokers: s.kafka.brokers,
    registryUrl: s.registry.url,
    partitions: 3,
    influx: db.influx,
    salesforce: { ...LOCAL_STACK_ENV.salesforce, ...s.salesforce },
  };
  run = await runDemo({ env, seed: 5, assetsPerType: 2, days: 14, samplePeriodSec: 120, ratePerSec: 0, failureShare: 0.5, timeoutSec: 600, progress: () => {} });
  expect(run.problems).toEqual([]);
  const codec = new AvroCodec(env.registryUrl);
  const records = await readTopic(createKafka({ brokers: env.brokers, clientId: 'dashboards-it' }), run.topics.predictions, { idleMs: 2_000 });
  events = await Promise.all(records.map(async (r) => (await codec.decode(r.value)) as PredictionEvent));
  const raised = events.filter((e) => e.kind === 'raised');
  // Predicted before it failed, and repaired within the run (the repair is an annotation).
  const failing = run.fleet.assets.find((a) => a.failures.some((f) => f.repairTs < run.endTs && raised.some((e) => e.assetId === a.assetId && e.failureMode === f.failureMode && e.ts < f.failureTs)))!;
  assetId = failing.assetId;
  assetType = failing.assetType;
  atRiskTs = failing.failures[0]!.failureTs;
}, 900_000);

afterAll(async () => {
  await db?.drop();
});

/** `option v = {...}` after the imports, as both tools put their variables before a query. */
function withVariables(flux: string, vars: Record<string, string>): string {
  const lines = flux.split('\n');
  const afterImports = lines.reduce((n, l, i) => (l.startsWith('import ') ? i + 1 : n), 0);
  const v = `option v = {${Object.entries(vars).map(([k, x]) => `${k}: ${x}`).join(', ')}}`;
  return [...lines.slice(0, afterImports), v, ...lines.slice(afterImports)].join('\n');
}

async function query(flux: string): Promise<Row[]> {
  const api = new InfluxDB({ url: env.influx.url, token: env.influx.token, timeout: 60_000 }).getQueryApi(env.influx.org);
  return (await api.collectRows<Row>(flux)).map(({ result: _r, table: _t, ...row }) => row);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The range each query runs over: the whole run, or up to the moment the drill-down asset is at risk. */
function rangeOf(q: FluxQuery): [number, number] {
  return q.id.startsWith('fleet_') ? [run.startTs, atRiskTs] : [run.startTs, run.endTs + 24 * HOUR];
}

/** Runs `q` as the Grafana file and as the InfluxDB template carry it; both must return the same rows. */
async function runBoth(q: FluxQuery): Promise<Row[]> {
  const [start, stop] = rangeOf(q);
  const common = { timeRangeStart: iso(start), timeRangeStop: iso(stop), windowPeriod: '1h' };
  const g = grafanaText.get(q.id);
  const i = influxText.get(q.id);
  expect(g, `${q.id} not in any Grafana file`).toBeDefined();
  expect(i, `${q.id} not in any InfluxDB template`).toBeDefined();
  // Grafana interpolates ${asset_id} into the text and provides v.defaultBucket.
  const grafanaRows = await query(withVariables(g!.replaceAll('${asset_id}', assetId), { ...common, defaultBucket: `"${env.influx.bucket}"` }));
  const influxRows = await query(withVariables(i!, { ...common, bucket: `"${env.influx.bucket}"`, asset_id: `"${assetId}"` }));
  expect(influxRows).toEqual(grafanaRows);
  return grafanaRows;
}

/** Query text by query id, read from the committed files (what ops import). */
const grafanaText = new Map<string, string>();
const influxText = new Map<string, string>();
const byFlux = new Map(Object.values(FLUX).map((q) => [q.flux, q.id]));
for (const d of DASHBOARDS) {
  const g = JSON.parse(readFileSync(join(DASHBOARD_DIR, 'grafana', `${d.uid}.json`), 'utf8')) as {
    panels: { targets: { refId: string; query?: string }[] }[];
    annotations: { list: { target?: { refId: string; query: string } }[] };
    templating: { list: { name: string; query?: unknown }[] };
  };
  for (const p of g.panels) for (const t of p.targets) if (t.query) grafanaText.set(t.refId, t.query);
  for (const a of g.annotations.list) if (a.target) grafanaText.set(a.target.refId, a.target.query);
  const assetVar = g.templating.list.find((v) => v.name === 'asset_id');
  if (assetVar && d.assetVariable) grafanaText.set(d.assetVariable.id, String(assetVar.query));
  const t = JSON.parse(readFileSync(join(DASHBOARD_DIR, 'influxdb', `${d.uid}.json`), 'utf8')) as { kind: string; spec: { query?: string; charts?: { queries?: { query: string }[] }[] } }[];
  const texts = t.flatMap((o) => [...(o.spec.query ? [o.spec.query] : []), ...(o.spec.charts ?? []).flatMap((c) => (c.queries ?? []).map((x) => x.query))]);
  for (const text of texts) influxText.set(byFlux.get(text) ?? `unknown: ${text.slice(0, 60)}`, text);
}

/** The latest event per asset and failure mode at or before `ts`, kept when still open. */
function openAt(ts: number): PredictionEvent[] {
  const latest = new Map<string, PredictionEvent>();
  for (const e of events.filter((x) => x.ts <= ts).sort((a, b) => a.ts - b.ts)) latest.set(`${e.assetId}|${e.failureMode}`, e);
  return [...latest.values()].filter((e) => e.kind !== 'cleared');
}

const num = (v: unknown) => Number(v);
const inUnit = (rows: Row[]) => rows.every((r) => num(r._value) >= 0 && num(r._value) <= 1);
const sorted = <T>(xs: T[]) => [...xs].sort();
const SEVERITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };

const EXPECTATIONS: Record<string, (rows: Row[]) => void> = {
  fleet_assets_at_risk: (rows) => {
    const open = openAt(atRiskTs);
    expect(open.map((e) => e.assetId)).toContain(assetId);
    expect(rows.map((r) => num(r._value))).toEqual([new Set(open.map((e) => e.assetId)).size]);
  },
  fleet_open_by_mode_severity: (rows) => {
    const want = new Map<string, number>();
    for (const e of openAt(atRiskTs)) want.set(`${e.failureMode}|${e.severity}`, (want.get(`${e.failureMode}|${e.severity}`) ?? 0) + 1);
    expect(new Map(rows.map((r) => [`${String(r.failure_mode)}|${String(r.severity)}`, num(r.open)]))).toEqual(want);
  },
  fleet_at_risk_table: (rows) => {
    const open = openAt(atRiskTs);
    expect(sorted(rows.map((r) => `${String(r.asset_id)}|${String(r.failure_mode)}|${String(r.kind)}|${String(r.severity)}|${Date.parse(String(r.last_event))}`))).toEqual(sorted(open.map((e) => `${e.assetId}|${e.failureMode}|${e.kind}|${e.severity}|${e.ts}`)));
    const keys = rows.map((r) => [SEVERITY_RANK[String(r.severity)]!, num(r.probability)] as const);
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]![0] > keys[i]![0] || (keys[i - 1]![0] === keys[i]![0] && keys[i - 1]![1] >= keys[i]![1])).toBe(true);
    for (const r of rows) expect(num(r.probability)).toBeGreaterThan(0);
  },
  fleet_anomaly_share: (rows) => {
    expect(sorted([...new Set(rows.map((r) => String(r.asset_type)))])).toEqual(sorted([...new Set(run.fleet.assets.map((a) => a.assetType))]));
    expect(inUnit(rows)).toBe(true);
    expect(rows.some((r) => num(r._value) > 0)).toBe(true);
  },
  fleet_health_by_type: (rows) => {
    expect(new Set(rows.map((r) => String(r.asset_type))).size).toBe(new Set(run.fleet.assets.map((a) => a.assetType)).size);
    expect(inUnit(rows)).toBe(true);
  },
  fleet_raised_per_window: (rows) => {
    const raised = events.filter((e) => e.kind === 'raised' && e.ts >= run.startTs && e.ts < atRiskTs);
    expect(rows.reduce((n, r) => n + num(r._value), 0)).toBe(raised.length);
    expect(sorted([...new Set(rows.map((r) => String(r.failure_mode)))])).toEqual(sorted([...new Set(raised.map((e) => e.failureMode))]));
  },
  asset_ids: (rows) => {
    expect(rows.map((r) => String(r._value))).toEqual(sorted([...new Set(events.map((e) => e.assetId))]));
  },
  asset_sensors: (rows) => {
    const sensors = DEFAULT_CONFIG.assetTypes.get(assetType)!.sensors.map((s) => s.name);
    expect(sorted([...new Set(rows.map((r) => String(r._field)))])).toEqual(sorted(sensors));
    expect(rows.every((r) => r.asset_id === assetId && Number.isFinite(num(r._value)))).toBe(true);
  },
  asset_sensor_scores: (rows) => {
    const sensors = DEFAULT_CONFIG.assetTypes.get(assetType)!.sensors.map((s) => `score_${s.name}`);
    expect(sorted([...new Set(rows.map((r) => String(r._field)))])).toEqual(sorted(sensors));
    expect(inUnit(rows)).toBe(true);
    expect(rows.some((r) => num(r._value) >= ANOMALY_THRESHOLD)).toBe(true);
  },
  asset_health: (rows) => {
    expect(sorted([...new Set(rows.map((r) => String(r._field)))])).toEqual(['health', 'score']);
    expect(inUnit(rows)).toBe(true);
    expect(Math.min(...rows.filter((r) => r._field === 'health').map((r) => num(r._value)))).toBeLessThan(0.5);
  },
  asset_prediction_events: (rows) => {
    const mine = events.filter((e) => e.assetId === assetId).sort((a, b) => a.ts - b.ts);
    expect(rows.map((r) => [r.kind, r.failure_mode, r.severity])).toEqual(mine.map((e) => [e.kind, e.failureMode, e.severity]));
    expect(rows.every((r) => String(r.text).startsWith(`${String(r.kind)} ${String(r.failure_mode)} (`))).toBe(true);
  },
  asset_maintenance: (rows) => {
    const repaired = run.fleet.assets.find((a) => a.assetId === assetId)!.failures;
    expect(rows.map((r) => r.failure_mode)).toEqual(repaired.map((f) => f.failureMode));
    expect(rows.map((r) => Date.parse(String(r._time)))).toEqual(repaired.map((f) => f.repairTs));
  },
  asset_episodes: (rows) => {
    const mine = events.filter((e) => e.assetId === assetId).sort((a, b) => b.ts - a.ts);
    expect(rows.map((r) => [r.episode_id, r.kind, num(r.probability)])).toEqual(mine.map((e) => [e.episodeId, e.kind, e.probability]));
  },
  pipeline_scores_stored: (rows) => {
    const stored = rows.reduce((n, r) => n + num(r._value), 0);
    expect(stored).toBeGreaterThan(0.9 * run.summary.readings);
    expect(stored).toBeLessThanOrEqual(run.summary.readings);
  },
  quality_by_kind: (rows) => {
    const injected = new Set(run.fleet.assets.flatMap((a) => a.qualityFaults.map((f) => f.kind)));
    expect(rows.length).toBeGreaterThan(0);
    for (const k of new Set(rows.map((r) => String(r.kind)))) expect(['stale', 'stuck', 'nan', 'infinite', 'out_of_range', 'duplicate', 'out_of_order', 'unknown_sensor']).toContain(k);
    expect([...injected].some((k) => rows.some((r) => r.kind === k))).toBe(true);
    expect(rows.every((r) => num(r._value) >= 1)).toBe(true);
  },
  quality_by_sensor: (rows) => {
    const sensors = new Set([...DEFAULT_CONFIG.assetTypes.values()].flatMap((t) => t.sensors.map((s) => s.name)));
    sensors.add('(reading)');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => sensors.has(String(r.sensor)) && num(r.findings) >= 1)).toBe(true);
    expect(rows.map((r) => num(r.findings))).toEqual(rows.map((r) => num(r.findings)).sort((a, b) => b - a));
  },
  quality_top_assets: (rows) => {
    const ids = new Set(run.fleet.assets.map((a) => a.assetId));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(20);
    expect(rows.every((r) => ids.has(String(r.asset_id)))).toBe(true);
    expect(rows.map((r) => num(r.findings))).toEqual(rows.map((r) => num(r.findings)).sort((a, b) => b - a));
  },
};

describe('dashboard queries on a simulated run', () => {
  it('every query of the committed files has expectations, and nothing else is in them', () => {
    const ids = Object.values(FLUX).map((q) => q.id).sort();
    expect([...grafanaText.keys()].sort()).toEqual(ids);
    expect([...influxText.keys()].sort()).toEqual(ids);
    expect(Object.keys(EXPECTATIONS).sort()).toEqual(ids);
  });

  for (const q of Object.values(FLUX)) {
    it(`${q.id}: ${q.description}`, async () => {
      const rows = await runBoth(q);
      expect(rows.length, `${q.id} returned nothing`).toBeGreaterThan(0);
      EXPECTATIONS[q.id]!(rows);
    });
  }
});
