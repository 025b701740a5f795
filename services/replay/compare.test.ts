import { describe, expect, it } from 'vitest';
import { compareEpisodes, type Repair } from './compare.ts';
import type { Episode } from './episodes.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 0, 10);
const WINDOW = { fromTs: T, toTs: T + 100 * H };
const MODE = 'battery_thermal_runaway';

/** An episode of EV-1's battery mode raised `raisedH` hours after T, ended `endH` hours after T (null: open). */
function ep(id: string, raisedH: number, endH: number | null, over: Partial<Episode> = {}): Episode {
  return {
    episodeId: id,
    assetId: 'EV-1',
    assetType: 'passenger_ev',
    failureMode: MODE,
    raisedTs: T + raisedH * H,
    endTs: endH === null ? null : T + endH * H,
    peakSeverity: 'high',
    peakProbability: 0.8,
    horizonHours: 72,
    configVersion: 'v1',
    ...over,
  };
}
const repair = (h: number, failureMode: string | null = MODE, assetId = 'EV-1'): Repair => ({ assetId, ts: T + h * H, failureMode });

/** outcome, actual id, candidate id, shift hours of each row. */
const summaryOf = (actual: Episode[], candidate: Episode[], repairs: Repair[] = [], window = WINDOW) =>
  compareEpisodes(actual, candidate, repairs, new Map(), window).rows.map((r) => [r.outcome, r.actual?.episodeId ?? null, r.candidate?.episodeId ?? null, r.shiftHours]);

describe('compareEpisodes: which cases the candidate would open, update or not open', () => {
  it.each([
    {
      name: 'the same episode raised earlier: would update, negative shift',
      actual: [ep('a1', 20, 50)], candidate: [ep('c1', 14, 50)],
      rows: [['would_update', 'a1', 'c1', -6]],
    },
    {
      name: 'raised later, still before the actual one cleared: would update, positive shift',
      actual: [ep('a1', 20, 50)], candidate: [ep('c1', 45, 50)],
      rows: [['would_update', 'a1', 'c1', 25]],
    },
    {
      name: 'an episode only the candidate raises: would open',
      actual: [], candidate: [ep('c1', 10, 30)],
      rows: [['would_open', null, 'c1', null]],
    },
    {
      name: 'an episode the candidate does not raise: would not open',
      actual: [ep('a1', 10, 30)], candidate: [],
      rows: [['would_not_open', 'a1', null, null]],
    },
    {
      name: 'within the horizon after the other one ended: the same failure (the core resumes such a relapse)',
      actual: [ep('a1', 10, 20)], candidate: [ep('c1', 80, null)],
      rows: [['would_update', 'a1', 'c1', 70]],
    },
    {
      name: 'more than the horizon apart: two failures',
      actual: [ep('a1', 0, 5)], candidate: [ep('c1', 80, null)],
      rows: [['would_not_open', 'a1', null, null], ['would_open', null, 'c1', null]],
    },
    {
      name: 'one candidate episode spanning two actual ones: updates the nearer, the other would not open',
      actual: [ep('a1', 10, 20), ep('a2', 40, 60)], candidate: [ep('c1', 36, 60)],
      rows: [['would_not_open', 'a1', null, null], ['would_update', 'a2', 'c1', -4]],
    },
    {
      name: 'another failure mode or asset is another case',
      actual: [ep('a1', 10, 30)], candidate: [ep('c1', 10, 30, { failureMode: 'motor_overheat' }), ep('c2', 10, 30, { assetId: 'EV-2' })],
      rows: [['would_not_open', 'a1', null, null], ['would_open', null, 'c1', null], ['would_open', null, 'c2', null]],
    },
  ])('$name', ({ actual, candidate, rows }) => {
    expect(summaryOf(actual, candidate)).toEqual(rows);
  });

  it('does not pair episodes a repair separates: each announced its own failure', () => {
    // The candidate's episode ended at the first repair; the actual one came after it, before the second.
    expect(summaryOf([ep('a1', 40, 60)], [ep('c1', 10, 30)], [repair(30), repair(60)])).toEqual([
      ['would_open', null, 'c1', null],
      ['would_not_open', 'a1', null, null],
    ]);
    // A repair of another failure mode of the asset does not separate them.
    expect(summaryOf([ep('a1', 40, 60)], [ep('c1', 10, null)], [repair(30, 'motor_overheat'), repair(60)])).toEqual([['would_update', 'a1', 'c1', -30]]);
  });

  it('reports rows with a raise in the window, pairing across its start', () => {
    const window = { fromTs: T + 20 * H, toTs: T + 50 * H };
    // Actual raised before the window, the candidate inside it: still the same case, reported.
    expect(summaryOf([ep('a1', 15, 40)], [ep('c1', 25, 40)], [], window)).toEqual([['would_update', 'a1', 'c1', 10]]);
    // Both outside: left out; a case opened inside it: reported.
    expect(summaryOf([ep('a1', 5, 10), ep('a2', 51, null)], [ep('c1', 5, 10), ep('c2', 30, 35, { assetId: 'EV-2' })], [], window)).toEqual([
      ['would_open', null, 'c2', null],
    ]);
    // The window's ends are included.
    expect(summaryOf([ep('a1', 20, null)], [ep('c1', 50, null)], [], window)).toEqual([['would_update', 'a1', 'c1', 30]]);
  });

  it('gives the lead time to the next repair of the mode when the episode was open until it', () => {
    const { rows } = compareEpisodes(
      [ep('a1', 20, 50), ep('a2', 10, 15, { failureMode: 'motor_overheat' })],
      [ep('c1', 14, 50)],
      // A full service (null) ends every mode: the motor episode had cleared on its own before it.
      [repair(50), repair(70, null), repair(90)],
      new Map([['a1', '500000000000001AAA']]),
      WINDOW,
    );
    expect(rows.map((r) => [r.actual?.episodeId, r.actual?.repairTs, r.actual?.leadHours, r.candidate?.leadHours ?? null, r.caseId])).toEqual([
      ['a2', T + 70 * H, null, null, null],
      ['a1', T + 50 * H, 30, 36, '500000000000001AAA'],
    ]);
  });

  it('has no lead time without a repair yet, and counts an episode open at the repair after the window', () => {
    const { rows } = compareEpisodes([ep('a1', 20, null)], [ep('c1', 20, null, { assetId: 'EV-9' })], [repair(130)], new Map(), WINDOW);
    expect(rows.map((r) => [r.outcome, (r.actual ?? r.candidate)!.leadHours])).toEqual([
      ['would_not_open', 110],
      ['would_open', null],
    ]);
  });

  it('sums the rows up: outcomes, shifts, repairs announced, lead times, episodes that cleared alone', () => {
    const { summary } = compareEpisodes(
      [ep('a1', 20, 50), ep('a2', 10, 12, { assetId: 'EV-2' }), ep('a3', 30, 60, { assetId: 'EV-3' })],
      [ep('c1', 14, 50), ep('c3', 30, 60, { assetId: 'EV-3' }), ep('c4', 40, 45, { assetId: 'EV-4' })],
      [repair(50), repair(60, MODE, 'EV-3'), repair(95, MODE, 'EV-5'), repair(150)],
      new Map(),
      WINDOW,
    );
    expect(summary).toEqual({
      wouldOpen: 1,
      wouldUpdate: 2,
      wouldNotOpen: 1,
      earlier: 1,
      same: 1,
      later: 0,
      medianShiftHours: -3,
      repairs: 3,
      repairsAnnouncedActual: 2,
      repairsAnnouncedCandidate: 2,
      medianLeadHoursActual: 30,
      medianLeadHoursCandidate: 33,
      clearedWithoutRepairActual: 1,
      clearedWithoutRepairCandidate: 1,
    });
  });

  it('gives nulls for medians of nothing', () => {
    expect(compareEpisodes([], [], [], new Map(), WINDOW).summary).toMatchObject({ wouldOpen: 0, medianShiftHours: null, medianLeadHoursActual: null, medianLeadHoursCandidate: null });
  });
});
