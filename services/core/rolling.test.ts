/**
 * Property tests of the incremental statistics: the block window (rolling.ts) and the
 * window the scorer keeps per sensor must equal a naive recompute with simple-statistics
 * over the same span (reference.ts) within 1e-9 relative.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig } from './config.ts';
import { naiveCoreWindowStats, naiveRollingStats } from './reference.ts';
import { windowAdd, windowSampleStd, windowSpan, windowStats, WINDOW_SLOTS } from './rolling.ts';
import { sensorWindowStats } from './inspect.ts';
import { newState } from './layout.ts';
import { score } from './score.ts';

/**
 * |a − b| within 1e-9 of the larger magnitude (or of the data's scale); 1e-300 absolute
 * covers squares of values below 1e-150, which underflow to subnormals in any method.
 */
function close(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= Math.max(1e-9 * Math.max(Math.abs(a), Math.abs(b), scale), 1e-300);
}

const windowSizes = fc.constantFrom(8, 12, 64, 100, 256);
const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 700 });

describe('block window', () => {
  it('covers whole blocks: between 3w/4 and w of the latest values', () => {
    expect(windowSpan(0, 64)).toBe(0);
    expect(windowSpan(15, 64)).toBe(15);
    expect(windowSpan(48, 64)).toBe(48);
    expect(windowSpan(63, 64)).toBe(63);
    expect(windowSpan(64, 64)).toBe(48);
    expect(windowSpan(1000, 64)).toBe(48 + (1000 % 16));
  });

  it('mean and variance equal the naive recompute over the same span (1e-9 relative)', () => {
    fc.assert(
      fc.property(values, windowSizes, (xs, w) => {
        const f = new Float64Array(WINDOW_SLOTS);
        const naive = naiveCoreWindowStats(xs, w);
        const out = { n: 0, mean: 0, m2: 0 };
        const scale = Math.max(...xs.map(Math.abs));
        xs.forEach((x, i) => {
          windowAdd(f, 0, x, w / 4);
          windowStats(f, 0, out);
          const ref = naive[i]!;
          expect(out.n).toBe(ref.n);
          expect(close(out.mean, ref.mean, scale)).toBe(true);
          expect(close(out.m2 / out.n, ref.variance, scale * scale)).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('windowSampleStd has exactly the bits of sqrt(M2 / (n − 1)) from windowStats', () => {
    fc.assert(
      fc.property(values, windowSizes, (xs, w) => {
        const f = new Float64Array(WINDOW_SLOTS);
        const out = { n: 0, mean: 0, m2: 0 };
        expect(windowSampleStd(f, 0)).toBe(0);
        for (const x of xs) {
          windowAdd(f, 0, x, w / 4);
          windowStats(f, 0, out);
          expect(windowSampleStd(f, 0)).toBe(out.n > 1 ? Math.sqrt(out.m2 / (out.n - 1)) : 0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the scorer keeps the same window per sensor (generic asset, through score())', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 400 }),
        windowSizes,
        (raw, w) => {
          const cfg = compileConfig({ detector: { windowSize: w } });
          // Distinct values so no run of equal values is taken for a stuck sensor.
          const xs = raw.map((x, i) => x + i * 1e-3);
          const st = newState('g', 'generic', cfg);
          xs.forEach((x, i) => score(st, { assetId: 'g', assetType: 'generic', ts: 1e12 + i * 1000, values: { a: x } }, cfg));
          const got = sensorWindowStats(st, 'a')!;
          const ref = naiveCoreWindowStats(xs, w)[xs.length - 1]!;
          const scale = Math.max(...xs.map(Math.abs));
          expect(got.n).toBe(ref.n);
          expect(close(got.mean, ref.mean, scale)).toBe(true);
          expect(close(got.sampleVariance, ref.sampleVariance, scale * scale)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the naive rolling reference recomputes the last `window` values at every position', () => {
    const r = naiveRollingStats([1, 2, 3, 4, 10], 3);
    expect(r.map((s) => s.n)).toEqual([1, 2, 3, 3, 3]);
    expect(r[4]!.mean).toBeCloseTo(17 / 3, 12);
    expect(r[4]!.median).toBe(4);
    expect(r[2]!.mad).toBe(1);
  });
});
