import { describe, expect, it } from 'vitest';
import { naiveFill, naiveScore, naiveState } from './naive.ts';
import type { Reading } from '../services/core/types.ts';

const reading = (i: number, v: number): Reading => ({ assetId: 'n', assetType: 'generic', ts: i * 60_000, values: { x: v } });

describe('naive baseline', () => {
  it('scores a spike high and ordinary values low, over the last `window` values only', () => {
    const st = naiveState();
    for (let i = 0; i < 64; i++) naiveFill(st, reading(i, 10 + (i % 4)), 64);
    const ordinary = naiveScore(st, reading(64, 11), 64);
    const spike = naiveScore(st, reading(65, 60), 64);
    expect(ordinary).toBeGreaterThanOrEqual(0);
    expect(ordinary).toBeLessThan(0.3);
    expect(spike).toBeGreaterThan(0.9);
    expect(spike).toBeLessThanOrEqual(1);
    expect(st.sensors.get('x')!.values).toHaveLength(64);
  });

  it('ignores non-finite values', () => {
    const st = naiveState();
    expect(naiveScore(st, reading(0, NaN), 8)).toBe(0);
    expect(st.sensors.get('x')?.values ?? []).toHaveLength(0);
  });
});
