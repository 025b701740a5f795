/**
 * A seeded synthetic history of a fleet, as the sink would have written it to InfluxDB:
 * readings, anomaly scores, predictions (open and cleared episodes) and repairs, turned into
 * line protocol by the sink's own mapping (services/influx-sink/points.ts), so the web
 * pages and their benchmark read exactly what production holds. It is not the simulator:
 * no physics, no scoring, only the shapes and the volumes (100,000 assets in a minute),
 * with a known truth (which assets are at risk, with which episode) to assert against.
 * Test and benchmark kit; no service imports it.
 */
import { DEFAULT_CONFIG } from '../core/index.ts';
import type { PredictionEvent, Severity } from '../core/types.ts';
import { blockLines, predictionLines } from '../influx-sink/points.ts';
import type { ScoreBlockRecord } from '../kafka/records.ts';
import { Rng } from '../simulator/prng.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface HistoryOptions {
  seed: number;
  /** Assets in all, spread round-robin over the configured asset types. */
  assets: number;
  /** Asset id prefix, so that runs never meet (`<prefix>passenger_ev-000001`). */
  idPrefix: string;
  startTs: number;
  days: number;
  /** Sampling period of most assets, minutes (a coarse history keeps 100,000 assets cheap to write). */
  samplePeriodMin: number;
  /** The first `denseAssets` assets are sampled every `densePeriodSec` instead (the asset page's realistic case). */
  denseAssets: number;
  densePeriodSec: number;
  /** Share of assets with an episode still open at the end (every dense asset is one). */
  atRiskShare: number;
  /** Share of assets with an episode that was raised, cleared and repaired. */
  clearedShare: number;
}

export const DEFAULT_HISTORY: Readonly<Omit<HistoryOptions, 'assets' | 'idPrefix'>> = Object.freeze({
  seed: 14,
  startTs: Date.UTC(2026, 0, 5),
  days: 7,
  samplePeriodMin: 360,
  denseAssets: 20,
  densePeriodSec: 120,
  atRiskShare: 0.02,
  clearedShare: 0.03,
});

/** An episode of the history: what the web pages must show for it. */
export interface HistoryEpisode {
  episodeId: string;
  failureMode: string;
  startTs: number;
  /** Events in time order; the last one's kind says whether it is open. */
  events: Omit<PredictionEvent, 'evidence'>[];
  /** The repair that followed a cleared episode. */
  repairTs: number | null;
}

export interface HistoryAsset {
  assetId: string;
  assetType: string;
  dense: boolean;
  episodes: HistoryEpisode[];
  /** Time of its last reading. */
  lastTs: number;
}

const TYPES = [...DEFAULT_CONFIG.assetTypes.values()].filter((t) => !t.generic);
const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];

/** The assets of the history and their episodes, without the readings (cheap: the truth tests assert against). */
export function historyAsset(o: HistoryOptions, index: number): HistoryAsset {
  const type = TYPES[index % TYPES.length]!;
  const rng = new Rng((o.seed * 2_654_435_761 + index * 40_503) >>> 0);
  const assetId = `${o.idPrefix}${type.name}-${String(index + 1).padStart(6, '0')}`;
  const endTs = o.startTs + o.days * 24 * HOUR;
  const dense = index < o.denseAssets;
  const draw = rng.next();
  const episodes: HistoryEpisode[] = [];
  const mode = type.failureModes[rng.int(0, type.failureModes.length - 1)]!;
  const event = (kind: PredictionEvent['kind'], episodeStartTs: number, ts: number, severity: Severity, probability: number, failureTs: number | null) => ({
    kind,
    episodeId: `${assetId}:${mode.name}:${episodeStartTs}`,
    assetId,
    assetType: type.name,
    failureMode: mode.name,
    episodeStartTs,
    ts,
    severity,
    probability,
    horizonHours: mode.horizonHours,
    predictedFailureTs: failureTs,
    predictedFailureLowTs: failureTs === null ? null : failureTs - 6 * HOUR,
    predictedFailureHighTs: failureTs === null ? null : failureTs + 12 * HOUR,
    configVersion: DEFAULT_CONFIG.version,
  });
  if (dense || draw < o.atRiskShare) {
    // Open: raised in the last third, escalated once or twice, failure predicted after the end.
    const start = roundTo(endTs - rng.uniform(0.15, 0.3) * (endTs - o.startTs), MINUTE);
    const failureTs = roundTo(endTs + rng.uniform(6, 96) * HOUR, MINUTE);
    const severity = SEVERITIES[rng.int(0, 3)]!;
    const p0 = rng.uniform(0.55, 0.7);
    const events = [event('raised', start, start, 'low', p0, failureTs)];
    const steps = SEVERITIES.indexOf(severity);
    for (let s = 1; s <= steps; s++) events.push(event('escalated', start, start + s * ((endTs - start) / (steps + 1)), SEVERITIES[s]!, Math.min(0.99, p0 + s * 0.1), failureTs));
    for (const e of events) e.ts = roundTo(e.ts, MINUTE);
    episodes.push({ episodeId: events[0]!.episodeId, failureMode: mode.name, startTs: start, events, repairTs: null });
  } else if (draw < o.atRiskShare + o.clearedShare) {
    const start = roundTo(o.startTs + rng.uniform(0.1, 0.4) * (endTs - o.startTs), MINUTE);
    const failureTs = roundTo(start + rng.uniform(12, 48) * HOUR, MINUTE);
    const repairTs = failureTs - HOUR;
    const events = [event('raised', start, start, 'medium', rng.uniform(0.55, 0.8), failureTs), event('cleared', start, repairTs, 'low', 0.05, null)];
    episodes.push({ episodeId: events[0]!.episodeId, failureMode: mode.name, startTs: start, events, repairTs });
  }
  const period = dense ? o.densePeriodSec * 1000 : o.samplePeriodMin * MINUTE;
  const lastTs = o.startTs + Math.floor((endTs - 1 - o.startTs) / period) * period;
  return { assetId, assetType: type.name, dense, episodes, lastTs };
}

const roundTo = (v: number, step: number) => Math.round(v / step) * step;

/**
 * The line protocol of asset `index`: its readings and scores as score blocks (the mapping
 * the sink applies to the scorer's records), its prediction events and its repair.
 */
export function historyLines(o: HistoryOptions, index: number): string[] {
  const a = historyAsset(o, index);
  const type = DEFAULT_CONFIG.assetTypes.get(a.assetType)!;
  const rng = new Rng((o.seed * 7_919 + index * 104_729) >>> 0);
  const columns = type.sensors.map((s) => s.name);
  const period = a.dense ? o.densePeriodSec * 1000 : o.samplePeriodMin * MINUTE;
  const open = a.episodes.find((e) => e.events.at(-1)!.kind !== 'cleared');
  const cleared = a.episodes.find((e) => e.repairTs !== null);
  const degraded = (open ?? cleared) ? type.failureModes.find((m) => m.name === (open ?? cleared)!.failureMode)! : undefined;
  const degradedSensor = degraded ? columns.indexOf(degraded.sensors[0]!) : -1;
  const base = type.sensors.map((s) => (Number.isFinite(s.min) && Number.isFinite(s.max) ? s.min + (s.max - s.min) * rng.uniform(0.35, 0.5) : 50));
  const spread = type.sensors.map((s) => (Number.isFinite(s.min) && Number.isFinite(s.max) ? (s.max - s.min) * 0.01 : 1));
  const readings: ScoreBlockRecord['readings'] = [];
  const lines: string[] = [];
  const flush = () => {
    if (readings.length === 0) return;
    lines.push(...blockLines({ assetId: a.assetId, assetType: a.assetType, configVersion: DEFAULT_CONFIG.version, columns, readings: readings.splice(0), maintenance: [] }));
  };
  for (let ts = o.startTs; ts <= a.lastTs; ts += period) {
    // Degradation: the degraded sensor moves toward its mode's limit through the episode.
    const ep = open && ts >= open.startTs ? open : cleared && ts >= cleared.startTs && ts < cleared.repairTs! ? cleared : undefined;
    const progress = ep ? Math.min(1, (ts - ep.startTs) / (24 * HOUR)) : 0;
    const values = base.map((b, i) => {
      const v = b + spread[i]! * rng.normal();
      return i === degradedSensor && ep ? v + (degraded!.limit - b) * 0.7 * progress : v;
    });
    const scores = columns.map((_, i) => (i === degradedSensor && ep ? Math.min(1, 0.3 + 0.7 * progress) : Math.max(0, Math.min(1, Math.abs(rng.normal()) * 0.05))));
    const score = Math.max(...scores);
    readings.push({ ts, score, health: 1 - score * (ep ? 0.9 : 0.5), values, scores, learning: [], findings: rng.chance(0.002) ? [{ kind: 'stuck', sensor: columns[rng.int(0, columns.length - 1)]!, detail: 'synthetic' }] : [] });
    if (readings.length >= 500) flush();
  }
  flush();
  for (const e of a.episodes) for (const ev of e.events) lines.push(...predictionLines({ ...ev }));
  for (const e of a.episodes) {
    if (e.repairTs !== null) lines.push(...blockLines({ assetId: a.assetId, assetType: a.assetType, configVersion: DEFAULT_CONFIG.version, columns, readings: [], maintenance: [{ ts: e.repairTs, failureMode: e.failureMode, sensors: null, source: 'work_order' }] }));
  }
  return lines;
}

/**
 * Writes the history of `o.assets` assets to InfluxDB through the v2 write API, `concurrency`
 * batches of about `batchLines` lines in flight. Returns the number of lines written.
 */
export async function writeHistory(o: HistoryOptions, influx: { url: string; bucket: string; token: string; org: string }, opts: { batchLines?: number; concurrency?: number; onProgress?: (assets: number, lines: number) => void } = {}): Promise<number> {
  const batchLines = opts.batchLines ?? 20_000;
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  const url = `${influx.url}/api/v2/write?org=${encodeURIComponent(influx.org)}&bucket=${encodeURIComponent(influx.bucket)}&precision=ms`;
  const send = async (body: string) => {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Token ${influx.token}`, 'content-type': 'text/plain; charset=utf-8' }, body, signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`InfluxDB write: HTTP ${res.status} ${await res.text()}`);
  };
  let batch: string[] = [];
  const dispatch = async () => {
    const body = batch.join('\n');
    written += batch.length;
    batch = [];
    const p = send(body).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= (opts.concurrency ?? 3)) await Promise.race(inFlight);
  };
  for (let i = 0; i < o.assets; i++) {
    for (const l of historyLines(o, i)) batch.push(l);
    if (batch.length >= batchLines) await dispatch();
    if (opts.onProgress && i % 5_000 === 4_999) opts.onProgress(i + 1, written);
  }
  if (batch.length > 0) await dispatch();
  await Promise.all(inFlight);
  return written;
}
