import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config.ts';
import { TrackerStep } from './derived.ts';

const fields = (s: TrackerStep) => ({
  time: s.time,
  dt: s.dt,
  levelByWall: s.levelByWall,
  levelDecay: s.levelDecay,
  scatterDecay: s.scatterDecay,
  trendDecay: s.trendDecay,
  baseDecay: s.baseDecay,
  troughFastDecay: s.troughFastDecay,
  troughSlowDecay: s.troughSlowDecay,
});

describe('TrackerStep', () => {
  const det = DEFAULT_CONFIG.detector;
  // (capped gap, idle time) pairs in ms: a regular period, the same gap with another idle
  // time, a long idle spell, the first value (0, 0), and back.
  const steps: Array<[number, number]> = [
    [60_000, 0],
    [60_000, 0],
    [60_000, 3_600_000],
    [600_000, 0],
    [0, 0],
    [60_000, 0],
    [60_000, 7 * 3_600_000],
    [3_600_000, 86_400_000],
  ];

  it('gives for every step exactly what a fresh one computes, whatever it was asked before', () => {
    const memo = new TrackerStep(det);
    for (const [gap, idle] of steps) expect(fields(memo.set(gap, idle))).toEqual(fields(new TrackerStep(det).set(gap, idle)));
  });

  it('forgets the level by wall time only past the activity it learns by, and caps the learning step', () => {
    const regular = new TrackerStep(det).set(60_000, 0);
    expect(regular.levelByWall).toBe(false);
    expect(regular.time).toBe(60_000 / 3_600_000);
    expect(regular.levelDecay).toBeCloseTo(2 ** -(regular.dt / det.levelHalfLifeHours), 12);
    const idle = new TrackerStep(det).set(60_000, 30 * 86_400_000);
    expect(idle.levelByWall).toBe(true);
    expect(idle.levelDecay).toBeLessThan(regular.levelDecay);
    const long = new TrackerStep(det).set(100 * 3_600_000, 0);
    expect(long.time).toBe(100);
    expect(long.dt).toBe(det.maxActivityHoursPerValue);
  });
});
