/**
 * The real-series check's injection and parsing, on a made-up background (the recorded series
 * are fetched from PyPI by the benchmark, not by the tests): labelled windows after the
 * learning share and apart, the series unchanged before the first onset, the same copies for
 * the same seed, a floor respected, missing daily patterns only where there is a day.
 */
import { describe, expect, it } from 'vitest';
import { LEARNING_SHARE } from './corpus.ts';
import { backgroundScales, injectVariants } from './real-inject.ts';
import { parseColumn, type Background } from './real-series.ts';

function background(perDay?: number, floor?: number): Background {
  const n = 3000;
  const ts = Float64Array.from({ length: n }, (_, i) => Date.UTC(2010, 0, 1) + i * 3_600_000);
  let s = 1;
  const noise = (): number => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4;
  const values = Float64Array.from({ length: n }, (_, i) => 10 + 3 * Math.sin((2 * Math.PI * i) / 24) + noise());
  return { id: 'made-up/temp', ts, values, perDay, floor };
}

describe('anomalies injected on a real background', () => {
  it('labels windows after the learning share, apart, and leaves the series as it was before the first onset', () => {
    const bg = background(24);
    const variants = injectVariants(bg, 7, 40);
    expect(variants).toHaveLength(40);
    let labelled = 0;
    for (const v of variants) {
      const ws = [...v.anomalies].sort((a, b) => a.start - b.start);
      for (const [i, a] of ws.entries()) {
        expect(a.start).toBeGreaterThanOrEqual(Math.floor(LEARNING_SHARE * bg.values.length));
        expect(a.end).toBeGreaterThan(a.start);
        expect(a.end).toBeLessThanOrEqual(bg.values.length);
        if (i > 0) expect(a.start).toBeGreaterThanOrEqual(ws[i - 1]!.end);
      }
      labelled += ws.length;
      const first = ws[0]?.start ?? bg.values.length;
      expect(Array.from(v.values.subarray(0, first))).toEqual(Array.from(bg.values.subarray(0, first)));
      if (ws.length > 0) expect(Array.from(v.values)).not.toEqual(Array.from(bg.values));
      else expect(Array.from(v.values)).toEqual(Array.from(bg.values));
    }
    expect(labelled).toBeGreaterThan(40);
    expect(new Set(variants.flatMap((v) => v.anomalies.map((a) => a.kind)))).toContain('missing_daily');
  });

  it('gives the same copies for the same seed and others for another', () => {
    const bg = background(24);
    const a = injectVariants(bg, 7, 5);
    const b = injectVariants(bg, 7, 5);
    const c = injectVariants(bg, 8, 5);
    expect(a.map((v) => Array.from(v.values))).toEqual(b.map((v) => Array.from(v.values)));
    expect(a.map((v) => Array.from(v.values))).not.toEqual(c.map((v) => Array.from(v.values)));
  });

  it('keeps changes upward on a series with a floor, and no missing day without a daily cycle', () => {
    const bg = background(undefined, 0);
    for (const v of injectVariants(bg, 3, 30)) {
      expect(v.anomalies.some((a) => a.kind === 'missing_daily')).toBe(false);
      const noVariance = v.anomalies.every((a) => a.kind !== 'variance');
      for (let i = 0; i < v.values.length; i++) {
        expect(v.values[i]!).toBeGreaterThanOrEqual(0);
        if (noVariance) expect(v.values[i]!).toBeGreaterThanOrEqual(bg.values[i]! - 1e-9);
      }
    }
  });

  it('estimates the noise from the steps, not from the cycle', () => {
    const { noise, structure } = backgroundScales(background().values);
    expect(noise).toBeGreaterThan(0.05);
    expect(noise).toBeLessThan(1);
    expect(structure).toBeGreaterThan(2);
  });
});

describe('a recorded series read from CSV', () => {
  it('skips empty values and repeated times, and names what it cannot read', () => {
    const text = 'date,co2\r\n19580329,316.1\r\n19580405,\r\n19580412,317.6\r\n19580412,317.7\r\n';
    const t = (s: string): number => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));
    const { ts, values } = parseColumn(text, 'co2/co2', 'date', t, 'co2');
    expect(Array.from(values)).toEqual([316.1, 317.6]);
    expect(Array.from(ts)).toEqual([Date.UTC(1958, 2, 29), Date.UTC(1958, 3, 12)]);
    expect(() => parseColumn(text, 'co2/co2', 'date', t, 'ppm')).toThrow(/columns date and ppm expected, found date, co2/);
    expect(() => parseColumn('date,v\nyesterday,1\n', 'x/v', 'date', () => NaN, 'v')).toThrow(/unreadable time "yesterday"/);
  });
});
