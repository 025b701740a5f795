/**
 * Run-to-failure fleets are what the evaluation says they are: seeded, one reading per cycle
 * of a day until the failure cycle, every sensor worn to within its noise of its limit at the
 * end and near its healthy level at the start, noise of about a week of the average trend,
 * and the asset type's modes name those limits with a 72-cycle horizon.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../core/index.ts';
import { createRunToFailureFleet, RUN_TO_FAILURE_HORIZON_CYCLES, RUN_TO_FAILURE_TYPE, RUN_TO_FAILURE_TYPE_NAME } from './run-to-failure.ts';

const DAY = 86_400_000;

describe('run-to-failure fleet', () => {
  const fleet = createRunToFailureFleet({ seed: 3, machines: 20, startTs: Date.UTC(2025, 0, 1) });
  const readings = [...fleet.readings()];
  const cfg = compileConfig({ assetTypes: { [RUN_TO_FAILURE_TYPE_NAME]: RUN_TO_FAILURE_TYPE } });
  const at = cfg.assetTypes.get(RUN_TO_FAILURE_TYPE_NAME)!;

  it('configures one mode per sensor at its limit, with a 72-cycle horizon', () => {
    expect(at.failureModes.map((m) => [m.sensors, m.horizonHours])).toEqual(at.sensors.map((s) => [[s.name], 72 * 24]));
    expect(RUN_TO_FAILURE_HORIZON_CYCLES).toBe(72);
  });

  it('reads each machine once a cycle from cycle 0 until its failure cycle, and the same for a seed', () => {
    for (const m of fleet.machines) {
      const mine = readings.filter((r) => r.assetId === m.assetId);
      expect(mine.length).toBe(m.failureCycle);
      expect(m.failureCycle).toBeGreaterThanOrEqual(150);
      expect(m.failureCycle).toBeLessThanOrEqual(350);
      mine.forEach((r, c) => c > 0 && expect(r.ts - mine[c - 1]!.ts).toBe(DAY));
      expect(m.failureTs - mine[mine.length - 1]!.ts).toBe(DAY);
    }
    expect([...createRunToFailureFleet({ seed: 3, machines: 20, startTs: Date.UTC(2025, 0, 1) }).readings()]).toEqual(readings);
  });

  it('wears every sensor from near its healthy level to within its noise of the limit', () => {
    for (const m of fleet.machines) {
      const mine = readings.filter((r) => r.assetId === m.assetId);
      for (const mode of at.failureModes) {
        const s = mode.sensors[0]!;
        const first = mine.slice(0, 10).map((r) => r.values[s]!);
        const last = mine.slice(-3).map((r) => r.values[s]!);
        const gap = Math.abs(mode.limit - first[0]!);
        const sd = (7 * gap) / m.failureCycle;
        // Within 4 noise deviations of the limit at the end, far from it at the start.
        for (const v of last) expect(Math.abs(v - mode.limit)).toBeLessThan(4 * sd + 0.02 * gap);
        for (const v of first) expect(Math.abs(v - mode.limit)).toBeGreaterThan(0.8 * gap);
      }
    }
  });
});
