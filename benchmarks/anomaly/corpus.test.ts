/**
 * The labelled corpus is what issue 12 asks for, and the same for a seed: at least 200
 * series over 13 kinds of signal, sampled from a second to an hour, 2,000 to 20,000 points,
 * with anomalies of all 8 kinds (some series with none), each window inside the series and
 * after its learning share, windows apart; timestamps strictly increasing, values finite.
 */
import { describe, expect, it } from 'vitest';
import { ANOMALY_KINDS, createCorpus, LEARNING_SHARE, SIGNAL_KINDS } from './corpus.ts';

describe('anomaly corpus', () => {
  const corpus = createCorpus();

  it('has the breadth the issue asks for', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((s) => s.signal))).toEqual(new Set(SIGNAL_KINDS));
    expect(SIGNAL_KINDS.length).toBeGreaterThanOrEqual(10);
    expect(new Set(corpus.flatMap((s) => s.anomalies.map((a) => a.kind)))).toEqual(new Set(ANOMALY_KINDS));
    expect(corpus.filter((s) => s.anomalies.length === 0).length).toBeGreaterThan(10);
    const periods = corpus.map((s) => s.samplePeriodSec);
    expect(Math.min(...periods)).toBe(1);
    expect(Math.max(...periods)).toBe(3600);
    const lengths = corpus.map((s) => s.values.length);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(20000);
  });

  it('labels windows inside each series, after its learning share, apart from each other', () => {
    for (const s of corpus) {
      const n = s.values.length;
      const ws = [...s.anomalies].sort((a, b) => a.start - b.start);
      ws.forEach((a, i) => {
        expect(a.start).toBeGreaterThanOrEqual(Math.floor(LEARNING_SHARE * n));
        expect(a.end).toBeGreaterThan(a.start);
        expect(a.end).toBeLessThanOrEqual(n);
        if (i > 0) expect(a.start).toBeGreaterThanOrEqual(ws[i - 1]!.end);
      });
      for (let i = 1; i < n; i++) expect(s.ts[i]!).toBeGreaterThan(s.ts[i - 1]!);
      expect(s.values.every(Number.isFinite)).toBe(true);
    }
  });

  it('is the same for a seed and different for another', () => {
    const again = createCorpus({ seriesPerKind: 2 });
    const first = corpus.filter((s) => Number(s.id.slice(-3)) < 2);
    expect(again.map((s) => [s.id, Array.from(s.values.slice(0, 50)), s.anomalies])).toEqual(first.map((s) => [s.id, Array.from(s.values.slice(0, 50)), s.anomalies]));
    expect(Array.from(createCorpus({ seed: 1, seriesPerKind: 1 })[0]!.values.slice(0, 50))).not.toEqual(Array.from(corpus[0]!.values.slice(0, 50)));
  });
});
