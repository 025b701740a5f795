import { describe, expect, it } from 'vitest';
import { compareEpisodes } from './compare.ts';
import type { Episode } from './episodes.ts';
import { formatReport, reportJson, shortTime, type ReplayHistory } from './report.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 0, 14);
const WINDOW = { fromTs: T, toTs: T + 72 * H };

const ep = (id: string, assetId: string, raisedH: number, endH: number | null): Episode => ({
  episodeId: id,
  assetId,
  assetType: 'hvac_unit',
  failureMode: 'refrigerant_leak',
  raisedTs: T + raisedH * H,
  endTs: endH === null ? null : T + endH * H,
  peakSeverity: 'critical',
  peakProbability: 0.91234,
  horizonHours: 72,
  configVersion: 'v1',
});

const HISTORY: ReplayHistory = {
  source: 'kafka',
  input: 'telemetry.readings',
  candidateConfig: 'v2',
  candidateFile: 'low.json',
  actualConfigs: ['v1'],
  warmupFromTs: null,
  readings: 32_596,
  assets: 10,
  repairs: 2,
  unscored: 0,
  undecodable: 0,
};

const comparison = compareEpisodes(
  [ep('a1', 'HVAC-1', 10, 40), ep('a2', 'HVAC-2', 20, 30)],
  [ep('c1', 'HVAC-1', 4.5, 40), ep('c3', 'HVAC-3', 50, null)],
  [{ assetId: 'HVAC-1', ts: T + 40 * H, failureMode: 'refrigerant_leak' }, { assetId: 'HVAC-3', ts: T + 80 * H, failureMode: null }],
  new Map([['a1', '500000000000001AAA']]),
  WINDOW,
);

describe('the replay report', () => {
  it('shows one row per case, then the summary', () => {
    expect(formatReport(comparison, WINDOW, HISTORY)).toBe(
      [
        'pdm replay 2026-01-14 00:00 to 2026-01-17 00:00 UTC: candidate low.json (version v2) against what happened (version v1)',
        're-scored 32,596 readings of 10 assets (all history) from telemetry.readings; 2 maintenance events',
        '',
        'outcome         asset   failure mode      raised            candidate raises  shift   lead    candidate lead  case',
        'would update    HVAC-1  refrigerant_leak  2026-01-14 10:00  2026-01-14 04:30  -5.5 h  30.0 h  35.5 h          500000000000001AAA',
        'would not open  HVAC-2  refrigerant_leak  2026-01-14 20:00  -                 -       -       -               -',
        'would open      HVAC-3  refrigerant_leak  -                 2026-01-16 02:00  -       -       30.0 h          -',
        '',
        'would open 1, would update 1 (1 raised earlier, 0 at the same time, 0 later; median -5.5 h), would not open 1',
        'repairs in the window: 1; announced by an open episode: 1 as it happened, 1 with the candidate',
        'median lead time before the repair: 30.0 h as it happened, 32.8 h with the candidate; episodes that cleared without a repair: 1 as it happened, 0 with the candidate',
        '',
      ].join('\n'),
    );
  });

  it('says so when nothing was raised, and names what was left out', () => {
    const empty = compareEpisodes([], [], [], new Map(), WINDOW);
    const text = formatReport(empty, WINDOW, { ...HISTORY, source: 'csv', input: 'fleet.csv', candidateFile: null, warmupFromTs: T - 10 * 24 * H, unscored: 1_500, undecodable: 2 });
    expect(text.split('\n').slice(0, 4)).toEqual([
      'pdm replay 2026-01-14 00:00 to 2026-01-17 00:00 UTC: candidate the default configuration (version v2) against the baseline (version v1)',
      're-scored 32,596 readings of 10 assets (history from 2026-01-04 00:00) from fleet.csv; 2 maintenance events; 1,500 records not yet scored by the scorer left out; 2 undecodable prediction or case records left out',
      '',
      'No episode was raised in the window, by either configuration.',
    ]);
  });

  it('gives the same as one JSON object, times in ISO 8601 and hours to two decimals', () => {
    const json = JSON.parse(reportJson(comparison, WINDOW, HISTORY)) as Record<string, unknown>;
    expect(json).toMatchObject({
      from: '2026-01-14T00:00:00.000Z',
      to: '2026-01-17T00:00:00.000Z',
      source: 'kafka',
      candidateConfig: 'v2',
      candidateFile: 'low.json',
      actualConfigs: ['v1'],
      history: { from: null, readings: 32_596, assets: 10, repairs: 2, unscored: 0, undecodable: 0 },
      summary: { wouldOpen: 1, wouldUpdate: 1, wouldNotOpen: 1, medianShiftHours: -5.5, medianLeadHoursCandidate: 32.75 },
    });
    expect((json.rows as unknown[])[0]).toEqual({
      outcome: 'would_update',
      assetId: 'HVAC-1',
      assetType: 'hvac_unit',
      failureMode: 'refrigerant_leak',
      shiftHours: -5.5,
      caseId: '500000000000001AAA',
      actual: { episodeId: 'a1', raised: '2026-01-14T10:00:00.000Z', cleared: '2026-01-15T16:00:00.000Z', peakSeverity: 'critical', peakProbability: 0.91, repair: '2026-01-15T16:00:00.000Z', leadHours: 30 },
      candidate: { episodeId: 'c1', raised: '2026-01-14T04:30:00.000Z', cleared: '2026-01-15T16:00:00.000Z', peakSeverity: 'critical', peakProbability: 0.91, repair: '2026-01-15T16:00:00.000Z', leadHours: 35.5 },
    });
    expect(reportJson(comparison, WINDOW, HISTORY)).not.toContain('\n');
  });

  it('writes times in UTC to the minute', () => {
    expect(shortTime(Date.UTC(2026, 0, 14, 6, 30, 59))).toBe('2026-01-14 06:30');
    expect(shortTime(null)).toBe('-');
  });
});
