/**
 * The heart of `pdm replay`: what a candidate configuration would have done to the cases,
 * compared with what happened. Pure: episodes in, rows and a summary out.
 *
 * Per asset and failure mode, an episode that happened (one case) is paired with at most one
 * episode of the candidate, and the other way round:
 * - two episodes pair when they stand for the same failure: the same next repair of the mode
 *   (or none yet), and their spans overlap or lie less than the mode's horizon apart (the
 *   core's own rule: a relapse within the horizon resumes the same episode);
 * - among the pairs that could form, the closest raises pair first, so one candidate episode
 *   that covers two of what happened takes the nearer one and the other stays unpaired.
 * A paired episode is a case the candidate would update (raised earlier or later by
 * `shiftHours`); an unpaired candidate episode is a case it would open; an unpaired episode
 * that happened is a case it would not open. Only rows with a raise inside [from, to] are
 * reported; pairing looks at the whole history on both sides, so an episode raised just
 * before `from` still pairs with its candidate raised just after.
 *
 * Lead time: the hours from the raise to the asset's next repair of that failure mode (a
 * maintenance event for the mode, or a full service), the proxy for when it failed; only
 * when the episode was still open at the repair. An episode that cleared on its own before
 * any repair had no lead time: it was a false alarm, or the failure never came.
 */
import type { Severity } from '../core/types.ts';
import type { Episode } from './episodes.ts';

const HOUR_MS = 3_600_000;

/** A maintenance event as the comparison needs it. */
export interface Repair {
  assetId: string;
  /** When the asset was back in service, epoch ms. */
  ts: number;
  /** The repaired failure mode; null for a full service (every mode). */
  failureMode: string | null;
}

/** The replayed span, epoch ms, both ends included. */
export interface Window {
  fromTs: number;
  toTs: number;
}

export type Outcome = 'would_open' | 'would_update' | 'would_not_open';

/** One side of a row: an episode and what followed it. */
export interface EpisodeView {
  episodeId: string;
  raisedTs: number;
  /** Its last clear, epoch ms, or null when open at the span's end. */
  endTs: number | null;
  peakSeverity: Severity;
  peakProbability: number;
  /** The asset's next repair of the mode after the raise, epoch ms, or null (none yet). */
  repairTs: number | null;
  /** Hours from the raise to that repair, when the episode was open until it; else null. */
  leadHours: number | null;
}

export interface ComparisonRow {
  outcome: Outcome;
  assetId: string;
  assetType: string;
  failureMode: string;
  /** The episode that happened (its case), or null for a case the candidate would open. */
  actual: EpisodeView | null;
  /** The candidate's episode, or null for a case it would not open. */
  candidate: EpisodeView | null;
  /** Candidate raise minus actual raise, hours (negative: earlier); only for would_update. */
  shiftHours: number | null;
  /** Salesforce case id of the actual episode, when case.events named one. */
  caseId: string | null;
}

/** Statistics of the reported rows, for the closing lines of the report. */
export interface ComparisonSummary {
  wouldOpen: number;
  wouldUpdate: number;
  wouldNotOpen: number;
  /** Of the would_update rows: raised earlier, at the same reading, later. */
  earlier: number;
  same: number;
  later: number;
  /** Median shift of the would_update rows, hours; null without any. */
  medianShiftHours: number | null;
  /** Repairs inside the window. */
  repairs: number;
  /** Of those, repairs an open episode had announced: what happened, and the candidate. */
  repairsAnnouncedActual: number;
  repairsAnnouncedCandidate: number;
  /** Median lead time before the repair of the window's episodes that had one, hours. */
  medianLeadHoursActual: number | null;
  medianLeadHoursCandidate: number | null;
  /** Episodes raised in the window that cleared on their own before any repair (false-alarm proxy). */
  clearedWithoutRepairActual: number;
  clearedWithoutRepairCandidate: number;
}

export interface Comparison {
  rows: ComparisonRow[];
  summary: ComparisonSummary;
}

const keyOf = (e: { assetId: string; failureMode: string }): string => `${e.assetId}\u0000${e.failureMode}`;

/** The asset's repairs that end `mode`'s episodes, sorted by time. */
function repairsByMode(repairs: readonly Repair[]): (assetId: string, mode: string) => number[] {
  const byAsset = new Map<string, Repair[]>();
  for (const r of repairs) {
    const list = byAsset.get(r.assetId);
    if (list) list.push(r);
    else byAsset.set(r.assetId, [r]);
  }
  const memo = new Map<string, number[]>();
  return (assetId, mode) => {
    const k = `${assetId}\u0000${mode}`;
    let ts = memo.get(k);
    if (ts === undefined) {
      ts = (byAsset.get(assetId) ?? []).filter((r) => r.failureMode === null || r.failureMode === mode).map((r) => r.ts);
      ts.sort((a, b) => a - b);
      memo.set(k, ts);
    }
    return ts;
  };
}

/** First value of sorted `ts` at or after `t`, or null. */
function nextAtOrAfter(ts: readonly number[], t: number): number | null {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo < ts.length ? ts[lo]! : null;
}

function view(ep: Episode, repairTs: number | null): EpisodeView {
  const openAtRepair = repairTs !== null && (ep.endTs === null || ep.endTs >= repairTs);
  return {
    episodeId: ep.episodeId,
    raisedTs: ep.raisedTs,
    endTs: ep.endTs,
    peakSeverity: ep.peakSeverity,
    peakProbability: ep.peakProbability,
    repairTs,
    leadHours: openAtRepair ? (repairTs - ep.raisedTs) / HOUR_MS : null,
  };
}

/** True when `a` and `b` (same asset and mode, same next repair) stand for one failure. */
function samefailure(a: Episode, b: Episode): boolean {
  const [first, second] = a.raisedTs <= b.raisedTs ? [a, b] : [b, a];
  if (first.endTs === null || first.endTs >= second.raisedTs) return true; // spans overlap
  return second.raisedTs - first.endTs <= Math.max(a.horizonHours, b.horizonHours) * HOUR_MS;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Compares the episodes that happened with the candidate's.
 * @param actual episodes read from failure.predictions (see episodesOf), up to the window's end
 * @param candidate episodes of the replay with the candidate configuration, up to the same end
 * @param repairs every maintenance event of the assets, also after the window (lead times)
 * @param cases episode id → Salesforce case id (case.events); empty when unknown
 */
export function compareEpisodes(
  actual: readonly Episode[],
  candidate: readonly Episode[],
  repairs: readonly Repair[],
  cases: ReadonlyMap<string, string>,
  window: Window,
): Comparison {
  const repairTimes = repairsByMode(repairs);
  const nextRepair = (ep: Episode) => nextAtOrAfter(repairTimes(ep.assetId, ep.failureMode), ep.raisedTs);
  const group = (eps: readonly Episode[]) => {
    const m = new Map<string, Episode[]>();
    for (const ep of eps) {
      const list = m.get(keyOf(ep));
      if (list) list.push(ep);
      else m.set(keyOf(ep), [ep]);
    }
    return m;
  };
  const actualBy = group(actual);
  const candidateBy = group(candidate);
  const inWindow = (ts: number) => ts >= window.fromTs && ts <= window.toTs;
  const rows: ComparisonRow[] = [];

  for (const key of new Set([...actualBy.keys(), ...candidateBy.keys()])) {
    const as = actualBy.get(key) ?? [];
    const cs = candidateBy.get(key) ?? [];
    const pairs: { a: number; c: number; d: number }[] = [];
    as.forEach((a, i) => {
      const ra = nextRepair(a);
      cs.forEach((c, j) => {
        if (nextRepair(c) === ra && samefailure(a, c)) pairs.push({ a: i, c: j, d: Math.abs(c.raisedTs - a.raisedTs) });
      });
    });
    // Closest raises first; ties in index order, so the result does not depend on Map order.
    pairs.sort((x, y) => x.d - y.d || x.a - y.a || x.c - y.c);
    const pairedA = new Map<number, number>();
    const pairedC = new Set<number>();
    for (const p of pairs) {
      if (pairedA.has(p.a) || pairedC.has(p.c)) continue;
      pairedA.set(p.a, p.c);
      pairedC.add(p.c);
    }
    const row = (outcome: Outcome, a: Episode | null, c: Episode | null): void => {
      const ep = (a ?? c)!;
      if (!(a !== null && inWindow(a.raisedTs)) && !(c !== null && inWindow(c.raisedTs))) return;
      rows.push({
        outcome,
        assetId: ep.assetId,
        assetType: ep.assetType,
        failureMode: ep.failureMode,
        actual: a === null ? null : view(a, nextRepair(a)),
        candidate: c === null ? null : view(c, nextRepair(c)),
        shiftHours: a !== null && c !== null ? (c.raisedTs - a.raisedTs) / HOUR_MS : null,
        caseId: a === null ? null : (cases.get(a.episodeId) ?? null),
      });
    };
    as.forEach((a, i) => {
      const j = pairedA.get(i);
      row(j === undefined ? 'would_not_open' : 'would_update', a, j === undefined ? null : cs[j]!);
    });
    cs.forEach((c, j) => {
      if (!pairedC.has(j)) row('would_open', null, c);
    });
  }
  rows.sort((x, y) => firstRaise(x) - firstRaise(y) || cmp(x.assetId, y.assetId) || cmp(x.failureMode, y.failureMode));
  return { rows, summary: summarize(rows, actual, candidate, repairs, nextRepair, window) };
}

const firstRaise = (r: ComparisonRow): number => Math.min(r.actual?.raisedTs ?? Infinity, r.candidate?.raisedTs ?? Infinity);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function summarize(
  rows: readonly ComparisonRow[],
  actual: readonly Episode[],
  candidate: readonly Episode[],
  repairs: readonly Repair[],
  nextRepair: (ep: Episode) => number | null,
  window: Window,
): ComparisonSummary {
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
  const shifts = rows.filter((r) => r.outcome === 'would_update').map((r) => r.shiftHours!);
  const inWindow = (ts: number) => ts >= window.fromTs && ts <= window.toTs;
  const windowRepairs = repairs.filter((r) => inWindow(r.ts));
  /** Repairs (asset, time) some episode was open until: the failures that side announced. */
  const announced = (eps: readonly Episode[]) => {
    const set = new Set<string>();
    for (const ep of eps) {
      const v = view(ep, nextRepair(ep));
      if (v.leadHours !== null) set.add(`${ep.assetId}\u0000${v.repairTs}`);
    }
    return windowRepairs.filter((r) => set.has(`${r.assetId}\u0000${r.ts}`)).length;
  };
  const sides = (pick: (r: ComparisonRow) => EpisodeView | null) => {
    const views = rows.map(pick).filter((v): v is EpisodeView => v !== null && inWindow(v.raisedTs));
    return {
      leads: views.map((v) => v.leadHours).filter((h): h is number => h !== null),
      clearedAlone: views.filter((v) => v.endTs !== null && (v.repairTs === null || v.endTs < v.repairTs)).length,
    };
  };
  const a = sides((r) => r.actual);
  const c = sides((r) => r.candidate);
  return {
    wouldOpen: count('would_open'),
    wouldUpdate: count('would_update'),
    wouldNotOpen: count('would_not_open'),
    earlier: shifts.filter((s) => s < 0).length,
    same: shifts.filter((s) => s === 0).length,
    later: shifts.filter((s) => s > 0).length,
    medianShiftHours: median(shifts),
    repairs: windowRepairs.length,
    repairsAnnouncedActual: announced(actual),
    repairsAnnouncedCandidate: announced(candidate),
    medianLeadHoursActual: median(a.leads),
    medianLeadHoursCandidate: median(c.leads),
    clearedWithoutRepairActual: a.clearedAlone,
    clearedWithoutRepairCandidate: c.clearedAlone,
  };
}
