/**
 * The scoring rules of `npm run eval:anomaly` on hand-made cases: detection and delay inside
 * a window, false alarms as separate runs that touch no window, the learning share unscored,
 * and the F1 of events.
 */
import { describe, expect, it } from 'vitest';
import type { LabelledAnomaly } from './corpus.ts';
import { judgeSeries, median, summarise } from './judge.ts';

/** 100 points, the first 15 for learning; `hot` lists [from, to) runs scored 1. */
const series = (hot: [number, number][]): number[] => {
  const s = new Array<number>(100).fill(0);
  for (const [a, b] of hot) s.fill(1, a, b);
  return s;
};
const spike = (start: number, end: number): LabelledAnomaly => ({ kind: 'spike', start, end });

describe('judgeSeries', () => {
  it.each([
    ['nothing above the threshold', [], [spike(40, 60)], [false], 0, 65],
    ['detected at the onset', [[40, 42]], [spike(40, 60)], [true], 0, 65],
    ['detected late in the window, delay 0.5', [[50, 51]], [spike(40, 60)], [true], 0, 65],
    ['an alarm outside the window is a false alarm', [[70, 72]], [spike(40, 60)], [false], 1, 65],
    ['two separate runs outside are two', [[20, 22], [80, 81]], [spike(40, 60)], [false], 2, 65],
    ['a run that starts before the window and goes into it detects it, no false alarm', [[35, 41]], [spike(40, 60)], [true], 0, 65],
    ['a run that goes on past the window is the window\'s', [[55, 70]], [spike(40, 60)], [true], 0, 65],
    ['alarms in the learning share are not scored', [[5, 10]], [], [], 0, 85],
    ['a run open at the end counts', [[95, 100]], [], [], 1, 85],
  ] as [string, [number, number][], LabelledAnomaly[], boolean[], number, number][])('%s', (_, hot, anomalies, detected, falseAlarms, healthy) => {
    const out = judgeSeries(series(hot), anomalies, 0.5);
    expect(out.anomalies.map((a) => a.detected)).toEqual(detected);
    expect(out.falseAlarms).toBe(falseAlarms);
    expect(out.healthyPoints).toBe(healthy);
  });

  it('measures the delay as a share of the window', () => {
    expect(judgeSeries(series([[50, 51]]), [spike(40, 60)], 0.5).anomalies[0]!.delayShare).toBe(0.5);
    expect(judgeSeries(series([[40, 41]]), [spike(40, 60)], 0.5).anomalies[0]!.delayShare).toBe(0);
  });
});

describe('summarise', () => {
  it('gives shares, the median delay, false alarms per 10k healthy points and the F1 of events', () => {
    const s = summarise(
      [
        { kind: 'spike', detected: true, delayShare: 0 },
        { kind: 'dip', detected: true, delayShare: 0.5 },
        { kind: 'drift', detected: false, delayShare: null },
        { kind: 'burst', detected: true, delayShare: 1 },
      ],
      2,
      20_000,
    );
    expect(s.detected).toBe(0.75);
    expect(s.medianDelayShare).toBe(0.5);
    expect(s.falseAlarmsPer10k).toBe(1);
    // credit 1 + 0.75 + 0.5 = 2.25 of 4; precision 3 / 5
    const recall = 2.25 / 4;
    expect(s.f1).toBeCloseTo((2 * recall * 0.6) / (recall + 0.6), 12);
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
