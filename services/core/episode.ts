/**
 * Episodes of a failure mode and the prediction events they emit: an episode opens (a
 * `raised` event) after `minDurationMinutes` and `minRaiseReadings` active values above the
 * threshold, escalates by severity, reports large probability changes (`updated`), and
 * clears with hysteresis (`cleared`). Episode ids are deterministic, so a replay names the
 * same episode and a case opener's upsert finds the same case.
 */
import {
  EPISODE_ABOVE_SINCE_TS,
  EPISODE_BELOW_SINCE_TS,
  EPISODE_FRESH_COUNT,
  EPISODE_OPEN,
  EPISODE_REPORTED_P,
  EPISODE_SEVERITY,
  EPISODE_START_TS,
  episodeOffset,
  HOUR_MS,
  initEpisode,
  sensorOffset,
  SENSOR_RUN_VALUE,
  SENSOR_SCORE,
  trackerOffset,
  TRACKER_LEVEL,
  TRACKER_PROBABILITY,
  TRACKER_SLOPE_PER_HOUR,
  TRACKER_TREND_STT,
  TRACKER_TREND_STX,
  TRACKER_TREND_SXX,
  TRACKER_TREND_WEIGHT,
} from './layout.ts';
import { hoursToLimit } from './tracker.ts';
import type { AssetState, CompiledAssetType, CompiledConfig, Evidence, PredictionEvent, Severity } from './types.ts';

const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Severity index (into SEVERITIES) of probability `p` against the mode's threshold. */
export function severityOf(p: number, threshold: number): number {
  const q = threshold >= 1 ? 1 : (p - threshold) / (1 - threshold);
  return q < 0.25 ? 0 : q < 0.5 ? 1 : q < 0.8 ? 2 : 3;
}

/** Deterministic episode id: FNV-1a (two 32-bit lanes) of asset, mode and start time. */
export function episodeId(assetId: string, failureMode: string, episodeStartTs: number): string {
  const s = `${assetId}\u0000${failureMode}\u0000${episodeStartTs}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  const hex = (h: number): string => (h >>> 0).toString(16).padStart(8, '0');
  return `ep-${hex(h1)}${hex(h2)}`;
}

/** The prediction event of mode `m`'s episode at `ts`, with the evidence of each of its trackers. */
export function buildEvent(
  kind: PredictionEvent['kind'],
  state: AssetState,
  at: CompiledAssetType,
  m: number,
  ts: number,
  p: number,
  cfg: CompiledConfig,
): PredictionEvent {
  const f = state.f;
  const ns = state.sensors.length;
  const np = state.pairs.length;
  const mode = at.failureModes[m]!;
  const eo = episodeOffset(ns, np, m);
  const start = f[eo + EPISODE_START_TS]!;
  const evidence: Evidence[] = [];
  let best = -1;
  let bestP = -1;
  at.pairs.forEach((pr, j) => {
    if (pr.mode !== m) return;
    const po = trackerOffset(ns, j);
    const so = sensorOffset(pr.sensor);
    const htl = hoursToLimit(f, po, mode, cfg);
    const pp = f[po + TRACKER_PROBABILITY]!;
    if (pp > bestP) {
      bestP = pp;
      best = j;
    }
    evidence.push({
      sensor: at.sensors[pr.sensor]!.name,
      value: f[so + SENSOR_RUN_VALUE]!,
      score: f[so + SENSOR_SCORE]!,
      trendPerHour: f[po + TRACKER_SLOPE_PER_HOUR]!,
      limit: mode.limit,
      hoursToLimit: htl === htl ? htl : null,
    });
  });
  let predictedFailureTs: number | null = null;
  let predictedFailureLowTs: number | null = null;
  let predictedFailureHighTs: number | null = null;
  if (best >= 0) {
    const po = trackerOffset(ns, best);
    const htl = hoursToLimit(f, po, mode, cfg);
    if (htl === htl) {
      const sgn = mode.direction === 'rising' ? 1 : -1;
      const toward = sgn * f[po + TRACKER_SLOPE_PER_HOUR]!;
      const rem = sgn * (mode.limit - f[po + TRACKER_LEVEL]!);
      const W = f[po + TRACKER_TREND_WEIGHT]!;
      const ctt = f[po + TRACKER_TREND_STT]!;
      const ctx = f[po + TRACKER_TREND_STX]!;
      const resid = W > 2 && ctt > 0 ? Math.max(0, f[po + TRACKER_TREND_SXX]! - (ctx * ctx) / ctt) / (W - 2) : 0;
      const se = ctt > 0 ? Math.sqrt(resid / ctt) : 0;
      predictedFailureTs = Math.round(ts + htl * HOUR_MS);
      if (rem <= 0 || toward <= 0) {
        predictedFailureLowTs = predictedFailureTs;
        predictedFailureHighTs = predictedFailureTs;
      } else {
        predictedFailureLowTs = Math.round(ts + (rem / (toward + 2 * se)) * HOUR_MS);
        const slow = toward - 2 * se;
        // A trend not clearly above zero bounds nothing: report 10× the estimate as the far end.
        predictedFailureHighTs = Math.round(ts + (slow > toward * 0.1 ? rem / slow : 10 * htl) * HOUR_MS);
      }
    }
  }
  const sev = kind === 'cleared' ? f[eo + EPISODE_SEVERITY]! : severityOf(p, mode.threshold);
  return {
    kind,
    episodeId: episodeId(state.assetId, mode.name, start),
    assetId: state.assetId,
    assetType: state.assetType,
    failureMode: mode.name,
    episodeStartTs: start,
    ts,
    severity: SEVERITIES[sev]!,
    probability: p < 0 ? 0 : p > 1 ? 1 : p,
    horizonHours: mode.horizonHours,
    predictedFailureTs,
    predictedFailureLowTs,
    predictedFailureHighTs,
    evidence,
    configVersion: cfg.version,
  };
}

/**
 * Runs the episode state machine of mode m at time ts with probability p. `fresh`: whether
 * one of the mode's trackers took an active value with this reading (p is recomputed only
 * then, and held between; a raise needs `minRaiseReadings` fresh values at or above the
 * threshold as well as `minDurationMinutes`, so one odd value of a sparse signal, held for
 * hours until the next active value, cannot raise alone).
 */
export function stepEpisode(
  state: AssetState,
  at: CompiledAssetType,
  m: number,
  ts: number,
  p: number,
  fresh: boolean,
  cfg: CompiledConfig,
  out: PredictionEvent[],
): void {
  const f = state.f;
  const det = cfg.detector;
  const mode = at.failureModes[m]!;
  const eo = episodeOffset(state.sensors.length, state.pairs.length, m);
  const thr = mode.threshold;
  if (f[eo + EPISODE_OPEN] === 0) {
    if (p >= thr) {
      if (!(f[eo + EPISODE_ABOVE_SINCE_TS]! === f[eo + EPISODE_ABOVE_SINCE_TS]!)) {
        f[eo + EPISODE_ABOVE_SINCE_TS] = ts;
        f[eo + EPISODE_FRESH_COUNT] = 0;
      }
      if (fresh) f[eo + EPISODE_FRESH_COUNT] = f[eo + EPISODE_FRESH_COUNT]! + 1;
      if (ts - f[eo + EPISODE_ABOVE_SINCE_TS]! >= det.minDurationMinutes * 60_000 && f[eo + EPISODE_FRESH_COUNT]! >= det.minRaiseReadings) {
        // A relapse within the horizon of an episode that cleared without a repair resumes it:
        // the same failure is still coming, so the same episode (and case) carries on.
        const clearedAt = f[eo + EPISODE_BELOW_SINCE_TS]!;
        const resume = clearedAt === clearedAt && ts - clearedAt <= mode.horizonHours * HOUR_MS;
        f[eo + EPISODE_OPEN] = 1;
        if (!resume) f[eo + EPISODE_START_TS] = ts;
        f[eo + EPISODE_SEVERITY] = severityOf(p, thr);
        f[eo + EPISODE_REPORTED_P] = p;
        f[eo + EPISODE_BELOW_SINCE_TS] = NaN;
        f[eo + EPISODE_FRESH_COUNT] = 0;
        out.push(buildEvent('raised', state, at, m, ts, p, cfg));
      }
    } else f[eo + EPISODE_ABOVE_SINCE_TS] = NaN;
    return;
  }
  if (p < thr * det.clearRatio) {
    // Recovery is shown by the machine working healthily, not by silence: the clear needs
    // fresh values below the clear level as well as the time (a van parked for a weekend in the
    // middle of a degradation holds its last probability and must not end its episode), and
    // it comes with a fresh value.
    if (!(f[eo + EPISODE_BELOW_SINCE_TS]! === f[eo + EPISODE_BELOW_SINCE_TS]!)) {
      f[eo + EPISODE_BELOW_SINCE_TS] = ts;
      f[eo + EPISODE_FRESH_COUNT] = 0;
    }
    if (fresh) f[eo + EPISODE_FRESH_COUNT] = f[eo + EPISODE_FRESH_COUNT]! + 1;
    if (fresh && ts - f[eo + EPISODE_BELOW_SINCE_TS]! >= det.clearMinutes * 60_000 && f[eo + EPISODE_FRESH_COUNT]! >= det.minClearReadings) {
      out.push(buildEvent('cleared', state, at, m, ts, p, cfg));
      const start = f[eo + EPISODE_START_TS]!;
      initEpisode(f, eo);
      f[eo + EPISODE_START_TS] = start;
      f[eo + EPISODE_BELOW_SINCE_TS] = ts;
    }
    return;
  }
  f[eo + EPISODE_BELOW_SINCE_TS] = NaN;
  const sev = severityOf(p, thr);
  if (sev > f[eo + EPISODE_SEVERITY]!) {
    f[eo + EPISODE_SEVERITY] = sev;
    f[eo + EPISODE_REPORTED_P] = p;
    out.push(buildEvent('escalated', state, at, m, ts, p, cfg));
  } else if (Math.abs(p - f[eo + EPISODE_REPORTED_P]!) >= det.updateDelta) {
    f[eo + EPISODE_REPORTED_P] = p;
    out.push(buildEvent('updated', state, at, m, ts, p, cfg));
  }
}
