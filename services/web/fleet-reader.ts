/**
 * What the fleet view shows, read from InfluxDB with the Flux of queries.ts and shaped for
 * the pages: the open predictions (counted and paged), one asset's series, episodes and
 * repairs. Nothing is cached or copied: every page load asks InfluxDB.
 */
import { InfluxDB, type QueryApi } from '@influxdata/influxdb-client';
import type { InfluxConnection } from '../kafka/env.ts';
import {
  assetEventsFlux,
  assetPointCountFlux,
  assetRawFlux,
  assetLatestFlux,
  assetMaintenanceFlux,
  assetSeriesFlux,
  fleetOverviewFlux,
  predictionDetailsFlux,
  raisedPerDayFlux,
  recentlyClearedFlux,
} from './queries.ts';

type Row = Record<string, unknown>;

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

/** One open prediction of the fleet page. */
export interface AtRiskRow {
  assetId: string;
  assetType: string;
  failureMode: string;
  severity: string;
  kind: string;
  probability: number;
  /** Time of the latest event, epoch ms. */
  lastEventTs: number;
  episodeId: string | null;
  episodeStartTs: number | null;
  predictedFailureTs: number | null;
  predictedFailureLowTs: number | null;
  predictedFailureHighTs: number | null;
}

export interface FleetOverview {
  /** Open predictions per severity (every severity present, 0 when none). */
  bySeverity: Record<string, number>;
  byMode: { failureMode: string; open: number }[];
  openTotal: number;
  page: AtRiskRow[];
  recentlyCleared: { ts: number; assetId: string; assetType: string; failureMode: string; episodeId: string }[];
  raisedPerDay: { ts: number[]; count: number[] };
}

/** Columns of one measurement's series: shared timestamps (epoch ms) and one array per field (null where absent). */
export interface SeriesColumns {
  ts: number[];
  fields: Record<string, (number | null)[]>;
}

export interface AssetSeries {
  fromMs: number;
  toMs: number;
  /** Width of the windows the series were aggregated into, ms. */
  windowMs: number;
  readings: SeriesColumns;
  scores: SeriesColumns;
}

export interface EpisodeEvent {
  ts: number;
  kind: string;
  severity: string;
  probability: number;
  predictedFailureTs: number | null;
  predictedFailureLowTs: number | null;
  predictedFailureHighTs: number | null;
}

export interface Episode {
  episodeId: string;
  failureMode: string;
  startTs: number;
  open: boolean;
  events: EpisodeEvent[];
}

export interface AssetSummary {
  assetId: string;
  /** Null when InfluxDB holds no score of this asset. */
  assetType: string | null;
  lastTs: number | null;
  health: number | null;
  episodes: Episode[];
  maintenance: { ts: number; failureMode: string; source: string; sensors: string }[];
}

/** Most windows a chart series is aggregated into by Flux (long ranges): enough for a page-wide chart. */
export const MAX_WINDOWS = 200;
/** Most points a chart series gets when the raw values are read and bucketed here (short ranges). */
export const MAX_POINTS = 600;
/**
 * Up to this many readings in the range, the raw values are read and bucketed here; beyond,
 * Flux aggregates. Measured on InfluxDB 1.8 (benchmarks/README.md): a raw pivot of 5,040
 * readings took 90-240 ms where aggregating them into 200 windows took 450-900 ms.
 */
export const RAW_READINGS_LIMIT = 20_000;
const MIN_WINDOW_MS = 60_000;

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const time = (v: unknown): number => Date.parse(str(v));
/** An epoch-ms field that may be missing (pivot leaves null; InfluxDB 1.8 may give 0). */
const optMs = (v: unknown): number | null => (v === null || v === undefined || v === '' || Number(v) <= 0 ? null : Number(v));

/** Window width for a range: at most `windows` windows, whole minutes, at least one minute. */
export function windowFor(fromMs: number, toMs: number, windows = MAX_WINDOWS): number {
  return Math.max(MIN_WINDOW_MS, Math.ceil((toMs - fromMs) / windows / MIN_WINDOW_MS) * MIN_WINDOW_MS);
}

/** How a field is reduced per window: scores keep their peak, health its trough, raw values their mean. */
export function reducerOf(field: string): 'mean' | 'max' | 'min' {
  return field === 'health' ? 'min' : field === 'score' || field.startsWith('score_') ? 'max' : 'mean';
}

/**
 * Raw rows bucketed into windows of `windowMs` from `fromMs`, each stamped with its window's
 * end (as Flux's aggregateWindow does), each field reduced by {@link reducerOf}.
 */
export function bucketRows(rows: readonly Row[], fromMs: number, windowMs: number): { ts: number; field: string; value: number }[] {
  const acc = new Map<string, { ts: number; field: string; n: number; v: number; how: 'mean' | 'max' | 'min' }>();
  for (const r of rows) {
    const t = time(r._time);
    const end = fromMs + (Math.floor((t - fromMs) / windowMs) + 1) * windowMs;
    for (const [field, raw] of Object.entries(r)) {
      if (field.startsWith('_') || field === 'result' || field === 'table' || raw === null || raw === undefined || raw === '') continue;
      const v = Number(raw);
      if (!Number.isFinite(v)) continue;
      const key = `${field}|${end}`;
      const a = acc.get(key);
      if (!a) acc.set(key, { ts: end, field, n: 1, v, how: reducerOf(field) });
      else {
        a.n += 1;
        a.v = a.how === 'mean' ? a.v + v : a.how === 'max' ? Math.max(a.v, v) : Math.min(a.v, v);
      }
    }
  }
  return [...acc.values()].map((a) => ({ ts: a.ts, field: a.field, value: a.how === 'mean' ? a.v / a.n : a.v }));
}

/** Rows of (time, field, value) as aligned columns. */
export function toColumns(rows: readonly { ts: number; field: string; value: number }[]): SeriesColumns {
  const ts = [...new Set(rows.map((r) => r.ts))].sort((a, b) => a - b);
  const at = new Map(ts.map((t, i) => [t, i]));
  const fields: Record<string, (number | null)[]> = {};
  for (const name of [...new Set(rows.map((r) => r.field))].sort()) fields[name] = new Array<number | null>(ts.length).fill(null);
  for (const r of rows) fields[r.field]![at.get(r.ts)!] = r.value;
  return { ts, fields };
}

export class FleetReader {
  private readonly api: QueryApi;
  /** `rawReadingsLimit`: see {@link RAW_READINGS_LIMIT} (0 always aggregates in Flux). */
  constructor(private readonly influx: InfluxConnection, timeoutMs = 60_000, private readonly rawReadingsLimit = RAW_READINGS_LIMIT) {
    this.api = new InfluxDB({ url: influx.url, token: influx.token, timeout: timeoutMs }).getQueryApi(influx.org);
  }

  private rows(flux: string): Promise<Row[]> {
    return this.api.collectRows<Row>(flux);
  }

  /** The fleet page: figures, one page of open predictions with their details, recent clears, raised per day. */
  async fleet(offset: number, limit: number): Promise<FleetOverview> {
    const b = this.influx.bucket;
    const [overview, cleared, perDay] = await Promise.all([this.rows(fleetOverviewFlux(b, offset, limit)), this.rows(recentlyClearedFlux(b, 10)), this.rows(raisedPerDayFlux(b))]);
    const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    const byMode: FleetOverview['byMode'] = [];
    const page: AtRiskRow[] = [];
    for (const r of overview) {
      if (r.result === 'severity') bySeverity[str(r.severity)] = Number(r._value);
      else if (r.result === 'mode') byMode.push({ failureMode: str(r.failure_mode), open: Number(r._value) });
      else if (r.result === 'page') {
        page.push({
          assetId: str(r.asset_id), assetType: str(r.asset_type), failureMode: str(r.failure_mode), severity: str(r.severity), kind: str(r.kind),
          probability: Number(r._value), lastEventTs: time(r._time),
          episodeId: null, episodeStartTs: null, predictedFailureTs: null, predictedFailureLowTs: null, predictedFailureHighTs: null,
        });
      }
    }
    byMode.sort((a, b) => b.open - a.open || a.failureMode.localeCompare(b.failureMode));
    // Flux's sort is not stable across equal keys: keep the page's order deterministic.
    const rank = (s: string) => SEVERITIES.length - SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);
    page.sort((a, b) => rank(b.severity) - rank(a.severity) || b.probability - a.probability || a.assetId.localeCompare(b.assetId) || a.failureMode.localeCompare(b.failureMode));
    if (page.length > 0) {
      const times = page.map((p) => p.lastEventTs);
      const details = await this.rows(predictionDetailsFlux(b, [...new Set(page.map((p) => p.assetId))], Math.min(...times), Math.max(...times)));
      const byEvent = new Map(details.map((d) => [`${str(d.asset_id)}|${str(d.failure_mode)}|${time(d._time)}`, d]));
      for (const p of page) {
        const d = byEvent.get(`${p.assetId}|${p.failureMode}|${p.lastEventTs}`);
        if (!d) continue;
        p.episodeId = str(d.episode_id) || null;
        p.episodeStartTs = optMs(d.episode_start_ts);
        p.predictedFailureTs = optMs(d.predicted_failure_ts);
        p.predictedFailureLowTs = optMs(d.predicted_failure_low_ts);
        p.predictedFailureHighTs = optMs(d.predicted_failure_high_ts);
      }
    }
    return {
      bySeverity,
      byMode,
      openTotal: Object.values(bySeverity).reduce((n, v) => n + v, 0),
      page,
      recentlyCleared: cleared.map((r) => ({ ts: time(r._time), assetId: str(r.asset_id), assetType: str(r.asset_type), failureMode: str(r.failure_mode), episodeId: str(r._value) })),
      raisedPerDay: { ts: perDay.map((r) => time(r._time)), count: perDay.map((r) => Number(r._value)) },
    };
  }

  /** The asset page's header, episodes and repairs. */
  async asset(assetId: string): Promise<AssetSummary> {
    const b = this.influx.bucket;
    const [latest, events, repairs] = await Promise.all([this.rows(assetLatestFlux(b, assetId)), this.rows(assetEventsFlux(b, assetId)), this.rows(assetMaintenanceFlux(b, assetId))]);
    const episodes = new Map<string, Episode>();
    for (const r of events) {
      const id = str(r.episode_id);
      let e = episodes.get(id);
      if (!e) {
        e = { episodeId: id, failureMode: str(r.failure_mode), startTs: optMs(r.episode_start_ts) ?? time(r._time), open: true, events: [] };
        episodes.set(id, e);
      }
      e.events.push({
        ts: time(r._time), kind: str(r.kind), severity: str(r.severity), probability: Number(r.probability),
        predictedFailureTs: optMs(r.predicted_failure_ts), predictedFailureLowTs: optMs(r.predicted_failure_low_ts), predictedFailureHighTs: optMs(r.predicted_failure_high_ts),
      });
      e.open = r.kind !== 'cleared';
    }
    const l = latest[0];
    return {
      assetId,
      assetType: l ? str(l.asset_type) : (events[0] ? str(events[0].asset_type) : null),
      lastTs: l ? time(l._time) : null,
      health: l ? Number(l._value) : null,
      episodes: [...episodes.values()].sort((a, b) => b.startTs - a.startTs),
      maintenance: repairs.map((r) => ({ ts: time(r._time), failureMode: str(r.failure_mode), source: str(r.source), sensors: str(r.sensors) })),
    };
  }

  /**
   * The asset's charts over [fromMs, toMs): raw values bucketed here into at most
   * MAX_POINTS points per series when the range holds up to RAW_READINGS_LIMIT readings,
   * else aggregated by Flux into at most MAX_WINDOWS windows.
   */
  async series(assetId: string, fromMs: number, toMs: number): Promise<AssetSeries> {
    const b = this.influx.bucket;
    const [count] = await this.rows(assetPointCountFlux(b, assetId, fromMs, toMs));
    const readings: { ts: number; field: string; value: number }[] = [];
    const scores: { ts: number; field: string; value: number }[] = [];
    let windowMs: number;
    if (Number(count?._value ?? 0) <= this.rawReadingsLimit) {
      windowMs = windowFor(fromMs, toMs, MAX_POINTS);
      const [raw, rawScores] = await Promise.all([this.rows(assetRawFlux(b, assetId, 'reading', fromMs, toMs)), this.rows(assetRawFlux(b, assetId, 'anomaly_score', fromMs, toMs))]);
      readings.push(...bucketRows(raw, fromMs, windowMs));
      scores.push(...bucketRows(rawScores, fromMs, windowMs));
    } else {
      windowMs = windowFor(fromMs, toMs);
      for (const r of await this.rows(assetSeriesFlux(b, assetId, fromMs, toMs, windowMs))) {
        (r._measurement === 'reading' ? readings : scores).push({ ts: time(r._time), field: str(r._field), value: Number(r._value) });
      }
    }
    return { fromMs, toMs, windowMs, readings: toColumns(readings), scores: toColumns(scores) };
  }
}
