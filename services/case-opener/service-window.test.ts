/** The recommended service window: margin before the earliest likely failure, fallbacks, minimum length. */
import { describe, expect, test } from 'vitest';
import { serviceWindow, serviceWindowProblems } from './service-window.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 10);
const ev = (low: number | null, mid: number | null, horizonHours = 72) => ({ ts: T0, predictedFailureLowTs: low, predictedFailureTs: mid, horizonHours });

describe('serviceWindow', () => {
  test('opens at the event and is due the margin before the interval lower bound', () => {
    expect(serviceWindow(ev(T0 + 24 * H, T0 + 30 * H), { marginHours: 4, minimumWindowHours: 1 })).toEqual({ earliestStartTs: T0, dueTs: T0 + 20 * H, marginKept: true });
  });
  test('falls back to the most likely failure, then to the horizon', () => {
    expect(serviceWindow(ev(null, T0 + 30 * H), { marginHours: 4, minimumWindowHours: 1 }).dueTs).toBe(T0 + 26 * H);
    expect(serviceWindow(ev(null, null, 72), { marginHours: 4, minimumWindowHours: 1 }).dueTs).toBe(T0 + 68 * H);
  });
  test('a failure nearer than margin + minimum keeps the minimum window and says so', () => {
    expect(serviceWindow(ev(T0 + 3 * H, T0 + 5 * H), { marginHours: 4, minimumWindowHours: 1 })).toEqual({ earliestStartTs: T0, dueTs: T0 + H, marginKept: false });
    // Exactly at the minimum the margin still holds.
    expect(serviceWindow(ev(T0 + 5 * H, null), { marginHours: 4, minimumWindowHours: 1 })).toEqual({ earliestStartTs: T0, dueTs: T0 + H, marginKept: true });
  });
  test('names bad options', () => {
    expect(serviceWindowProblems({ marginHours: -1, minimumWindowHours: 0 })).toEqual([
      'case-opener: serviceMarginHours=-1 must be a number >= 0',
      'case-opener: minimumServiceWindowHours=0 must be a number > 0',
    ]);
  });
});
