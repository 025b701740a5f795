/**
 * The quality evaluation's own bookkeeping on a small fleet: every configured mode has a row,
 * shares lie in [0, 1], and the observability columns are consistent (the first active
 * reading after a quarter of a degradation comes no later than the first after a third), the
 * least-squares baseline is judged beside the product on every mode, the product beats it on
 * the run-to-failure fleet, and the demo's default fleet opens no false case.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../services/core/index.ts';
import { runDemoSeed } from './lib/demo-seeds.ts';
import { runEval, runRunToFailure, runToFailureChecks } from './eval.ts';

describe('runEval', () => {
  const res = runEval({ json: false, seed: 11, assetsPerType: 6, days: 24, samplePeriodSec: 300 }, () => {});
  const modes = [...DEFAULT_CONFIG.assetTypes.values()].flatMap((t) => t.failureModes.map((m) => `${t.name}/${m.name}`));

  it('reports every configured mode once, with shares in [0, 1]', () => {
    expect(res.modes.map((m) => `${m.assetType}/${m.failureMode}`).sort()).toEqual([...modes].sort());
    for (const m of res.modes) {
      expect(m.predicted).toBeGreaterThanOrEqual(0);
      expect(m.predicted).toBeLessThanOrEqual(1);
      expect(m.medianLeadShare).toBeGreaterThanOrEqual(0);
      expect(m.medianLeadShare).toBeLessThanOrEqual(1);
    }
    expect(res.modes.reduce((s, m) => s + m.failures, 0)).toBeGreaterThan(5);
  });

  it('gives observability bounds per mode, the quarter one at least the third one', () => {
    expect(res.bounds.map((b) => `${b.assetType}/${b.failureMode}`)).toEqual(res.modes.map((m) => `${m.assetType}/${m.failureMode}`));
    let withFailures = 0;
    res.bounds.forEach((b, i) => {
      if (res.modes[i]!.failures === 0) {
        expect(b.firstActiveAfterQuarter).toBe(0);
        return;
      }
      withFailures++;
      expect(b.firstActiveAfterQuarter).toBeLessThanOrEqual(0.75);
      expect(b.firstActiveAfterThird).toBeLessThanOrEqual(2 / 3);
      expect(b.firstActiveAfterQuarter).toBeGreaterThanOrEqual(b.firstActiveAfterThird);
    });
    expect(withFailures).toBeGreaterThan(3);
  });

  it('judges the least-squares baseline on every mode, with shares in [0, 1]', () => {
    for (const m of res.modes) {
      expect(m.baseline.predicted).toBeGreaterThanOrEqual(0);
      expect(m.baseline.predicted).toBeLessThanOrEqual(1);
      expect(m.baseline.falsePer1000AssetDays).toBeGreaterThanOrEqual(0);
    }
    // On days-long degradations of cycling signals a 60-value line raises all the time.
    expect(Math.max(...res.modes.map((m) => m.baseline.falsePer1000AssetDays))).toBeGreaterThan(100);
  });
});

describe('run-to-failure fleet', () => {
  it('the product predicts as many as the baseline, earlier, with no more false predictions', () => {
    const r = runRunToFailure(20261123);
    expect(r.machines).toBe(50);
    expect(runToFailureChecks(r).filter((c) => !c.pass)).toEqual([]);
    expect(r.product.predicted).toBe(50);
  });
});

describe('demo fleet, seed 14', () => {
  it('opens one case for the van whose coolant episode cleared over a parked weekend and resumed', () => {
    const d = runDemoSeed(14);
    expect(d.duplicateCases).toBe(0);
    expect(d.falseCases).toBe(0);
  });
});

describe('demo fleet, default seed (7)', () => {
  it('opens no false or duplicate case, predicts every failure, and scores under 1% of readings 0.5 or more', () => {
    const d = runDemoSeed(7);
    expect(d.falsePredictions).toEqual([]);
    expect(d.duplicateCases).toBe(0);
    expect(d.predicted).toBe(d.injectedFailures);
    expect(d.highScoreShare).toBeLessThan(0.01);
  });
});

