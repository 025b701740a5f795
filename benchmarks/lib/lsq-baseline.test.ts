/**
 * The least-squares baseline of `npm run eval`: its incremental line equals simple-statistics'
 * least-squares fit over the same last 60 values (property test), and it raises exactly when
 * that line reaches the limit within the horizon, once per stretch where it does, on active
 * values only, and starts over after a repair.
 */
import fc from 'fast-check';
import { linearRegression } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { compileConfig, type Reading } from '../../services/core/index.ts';
import { LSQ_WINDOW, LsqBaseline } from './lsq-baseline.ts';

const cfg = compileConfig({
  assetTypes: {
    pump: {
      description: 'a pump',
      sensors: { temp_c: { unit: 'degC', min: -50, max: 200, samplePeriodSec: 3600 } },
      failureModes: { overheat: { sensors: ['temp_c'], direction: 'rising', limit: 100, horizonHours: 10, activeAbove: 0, description: 'hot' } },
    },
  },
});
const HOUR = 3_600_000;
const reading = (i: number, v: number): Reading => ({ assetId: 'p', assetType: 'pump', ts: Date.UTC(2026, 0, 1) + i * HOUR, values: { temp_c: v } });

/** Whether the naive fit over the last 60 (hour, value) pairs reaches 100 within 10 hours of `now`. */
function naiveHolds(points: [number, number][], now: number): boolean {
  const { m, b } = linearRegression(points.slice(-LSQ_WINDOW));
  const level = m * now + b;
  return level >= 100 || (m > 0 && (100 - level) / m <= 10);
}

describe('least-squares baseline', () => {
  it('raises at the first value where the naive fit over the last 60 reaches the limit within the horizon, once per stretch', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 3, noNaN: true }), { minLength: 60, maxLength: 400 }), (steps) => {
        const b = new LsqBaseline(cfg);
        const points: [number, number][] = [];
        let v = 50;
        let was = false;
        steps.forEach((s, i) => {
          v = Math.min(150, Math.max(1, v + s));
          points.push([i, v]);
          const raised = b.step(reading(i, v)).length > 0;
          const holds = points.length >= LSQ_WINDOW && naiveHolds(points, i);
          expect(raised).toBe(holds && !was);
          was = holds;
        });
      }),
      { numRuns: 100 },
    );
  });

  it('ignores idle values and starts over after a repair', () => {
    const b = new LsqBaseline(cfg);
    const raises: number[] = [];
    for (let i = 0; i < 200; i++) if (b.step(reading(i, i % 2 ? 0 : 40 + i * 0.4)).length) raises.push(i);
    // Active values (every other one) rise 0.8 a value: 100 is in reach from about value 100 on.
    expect(raises.length).toBe(1);
    b.reset('p');
    expect(b.step(reading(300, 99)).length).toBe(0);
  });
});
