/**
 * How `pdm replay` shows a comparison: a table for people (one row per case that would open,
 * update or not open, then the summary) and one JSON object for scripts. Pure: strings out.
 */
import type { Comparison, ComparisonRow, ComparisonSummary, EpisodeView, Window } from './compare.ts';

/** Where the history came from and how much of it was re-scored. */
export interface ReplayHistory {
  source: 'kafka' | 'csv';
  /** Where it was read: the readings topic, or the CSV file. */
  input: string;
  /** Configuration version of the candidate. */
  candidateConfig: string;
  /** The candidate's file (--config), or null for the defaults. */
  candidateFile: string | null;
  /** Configuration versions of what happened (the scorer's events, or the CSV's baseline). */
  actualConfigs: string[];
  /** Records scored from this time (epoch ms), or null: all history. */
  warmupFromTs: number | null;
  readings: number;
  assets: number;
  /** Maintenance events in the history. */
  repairs: number;
  /** Kafka only: records the scorer has not committed yet (left out of both sides). */
  unscored?: number;
  /** Kafka only: prediction and case records that could not be decoded (left out). */
  undecodable?: number;
}

const OUTCOME_TEXT = { would_open: 'would open', would_update: 'would update', would_not_open: 'would not open' } as const;

/** `2026-01-14 06:30` (UTC), or `-`. */
export function shortTime(ts: number | null | undefined): string {
  if (ts === null || ts === undefined) return '-';
  return new Date(ts).toISOString().slice(0, 16).replace('T', ' ');
}

const hours = (h: number | null, signed = false): string => (h === null ? '-' : `${signed && h > 0 ? '+' : ''}${h.toFixed(1)} h`);
const group = (n: number): string => n.toLocaleString('en-US');

function historyLine(h: ReplayHistory): string {
  const from = h.warmupFromTs === null ? 'all history' : `history from ${shortTime(h.warmupFromTs)}`;
  let line = `re-scored ${group(h.readings)} readings of ${group(h.assets)} assets (${from}) from ${h.input}; ${group(h.repairs)} maintenance events`;
  if (h.unscored) line += `; ${group(h.unscored)} records not yet scored by the scorer left out`;
  if (h.undecodable) line += `; ${group(h.undecodable)} undecodable prediction or case records left out`;
  return line;
}

function summaryLines(s: ComparisonSummary): string[] {
  const median = s.medianShiftHours === null ? '' : `; median ${hours(s.medianShiftHours, true)}`;
  return [
    `would open ${s.wouldOpen}, would update ${s.wouldUpdate} (${s.earlier} raised earlier, ${s.same} at the same time, ${s.later} later${median}), would not open ${s.wouldNotOpen}`,
    `repairs in the window: ${s.repairs}; announced by an open episode: ${s.repairsAnnouncedActual} as it happened, ${s.repairsAnnouncedCandidate} with the candidate`,
    `median lead time before the repair: ${hours(s.medianLeadHoursActual)} as it happened, ${hours(s.medianLeadHoursCandidate)} with the candidate; ` +
      `episodes that cleared without a repair: ${s.clearedWithoutRepairActual} as it happened, ${s.clearedWithoutRepairCandidate} with the candidate`,
  ];
}

/** The report as text: heading, table, summary (ends with a newline). */
export function formatReport(c: Comparison, w: Window, h: ReplayHistory): string {
  const what = h.source === 'kafka' ? 'what happened' : 'the baseline';
  const lines = [
    `pdm replay ${shortTime(w.fromTs)} to ${shortTime(w.toTs)} UTC: candidate ${h.candidateFile ?? 'the default configuration'} (version ${h.candidateConfig}) against ${what} (version ${h.actualConfigs.join(', ') || '-'})`,
    historyLine(h),
    '',
  ];
  if (c.rows.length === 0) {
    lines.push('No episode was raised in the window, by either configuration.');
  } else {
    const head = ['outcome', 'asset', 'failure mode', 'raised', 'candidate raises', 'shift', 'lead', 'candidate lead', 'case'];
    const cells = c.rows.map((r) => rowCells(r));
    const widths = head.map((t, i) => Math.max(t.length, ...cells.map((row) => row[i]!.length)));
    const fmt = (row: string[]) => row.map((t, i) => t.padEnd(widths[i]!)).join('  ').trimEnd();
    lines.push(fmt(head), ...cells.map(fmt));
  }
  lines.push('', ...summaryLines(c.summary), '');
  return lines.join('\n');
}

function rowCells(r: ComparisonRow): string[] {
  return [
    OUTCOME_TEXT[r.outcome],
    r.assetId,
    r.failureMode,
    shortTime(r.actual?.raisedTs),
    shortTime(r.candidate?.raisedTs),
    hours(r.shiftHours, true),
    hours(r.actual?.leadHours ?? null),
    hours(r.candidate?.leadHours ?? null),
    r.caseId ?? '-',
  ];
}

const iso = (ts: number | null): string | null => (ts === null ? null : new Date(ts).toISOString());
const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);

function viewJson(v: EpisodeView | null): Record<string, unknown> | null {
  if (v === null) return null;
  return {
    episodeId: v.episodeId,
    raised: iso(v.raisedTs),
    cleared: iso(v.endTs),
    peakSeverity: v.peakSeverity,
    peakProbability: round(v.peakProbability),
    repair: iso(v.repairTs),
    leadHours: round(v.leadHours),
  };
}

/** The report as one JSON object (times ISO 8601 UTC, hours to two decimals), without a newline. */
export function reportJson(c: Comparison, w: Window, h: ReplayHistory): string {
  const s = c.summary;
  return JSON.stringify({
    from: iso(w.fromTs),
    to: iso(w.toTs),
    source: h.source,
    input: h.input,
    candidateConfig: h.candidateConfig,
    candidateFile: h.candidateFile,
    actualConfigs: h.actualConfigs,
    history: {
      from: iso(h.warmupFromTs),
      readings: h.readings,
      assets: h.assets,
      repairs: h.repairs,
      ...(h.unscored !== undefined ? { unscored: h.unscored } : {}),
      ...(h.undecodable !== undefined ? { undecodable: h.undecodable } : {}),
    },
    summary: {
      ...s,
      medianShiftHours: round(s.medianShiftHours),
      medianLeadHoursActual: round(s.medianLeadHoursActual),
      medianLeadHoursCandidate: round(s.medianLeadHoursCandidate),
    },
    rows: c.rows.map((r) => ({
      outcome: r.outcome,
      assetId: r.assetId,
      assetType: r.assetType,
      failureMode: r.failureMode,
      shiftHours: round(r.shiftHours),
      caseId: r.caseId,
      actual: viewJson(r.actual),
      candidate: viewJson(r.candidate),
    })),
  });
}
