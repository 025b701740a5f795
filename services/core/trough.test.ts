/**
 * The failure trackers' cycle trough: on a signal that cycles with use (a refrigerator's
 * cabinet under its thermostat, a drive motor between trips) a degradation lifts the low
 * point of the cycle as well as the highs, and the low point is the steadier of the two, so
 * a prediction comes earlier with the trough than from the smoothed level alone. Disabling
 * the trough (a margin that puts its envelope beyond the limit) is the comparison.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig } from './index.ts';
import { degradedReadings, HOUR, KIT_T0 as T0, leadShare } from '../simulator/degradation-kit.ts';

// The departure evidence is off in both arms: it often raises first on these signals, and the
// comparison is of the trough against the level alone.
const noDeparture = { departureDevStart: 999, departureDevFull: 1000 };
const withTroughCfg = compileConfig({ detector: noDeparture });
const noTrough = compileConfig({ detector: { ...noDeparture, troughMarginDev: 1000 } });

describe.each([
  // Minimum mean gain in lead share over three seeds: the thermostat's cut-out is a sharp
  // trough; a motor's idle temperature follows the weather, so it gains less. (Since the
  // level's envelope margin is the level's own scatter, the level alone raises earlier on
  // the refrigerator, so the trough adds less on top: 0.018 here, from 0.03 before.)
  ['refrigerator', 'cooling_loss', 'cabinet_temp_c', 8, 0.01],
  ['passenger_ev', 'motor_overheating', 'motor_temp_c', 150, 0.005],
])('cycle trough on %s/%s', (type, mode, sensor, limit, minGain) => {
  const start = T0 + 9 * 24 * HOUR;
  const length = 72 * HOUR;
  const seeds = [3, 5, 8];
  it('raises earlier than the smoothed level alone, never before the degradation', () => {
    for (const seed of seeds) {
      const readings = degradedReadings(type, seed, sensor, limit, start, length);
      const withTrough = leadShare(readings, withTroughCfg, mode, start, length);
      const levelOnly = leadShare(readings, noTrough, mode, start, length);
      expect(withTrough, `seed ${seed}`).toBeGreaterThan(0);
      expect(levelOnly, `seed ${seed}`).toBeGreaterThanOrEqual(0);
      expect(withTrough, `seed ${seed}: ${withTrough} vs ${levelOnly}`).toBeGreaterThanOrEqual(levelOnly);
    }
  });
  it('on average gains lead time over the level alone', () => {
    let gain = 0;
    for (const seed of seeds) {
      const readings = degradedReadings(type, seed, sensor, limit, start, length);
      gain += leadShare(readings, withTroughCfg, mode, start, length) - leadShare(readings, noTrough, mode, start, length);
    }
    expect(gain / seeds.length).toBeGreaterThan(minGain);
  });
});
