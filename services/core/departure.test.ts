/**
 * The failure trackers' departure evidence: a signal held near a set point (a van's
 * thermostat-regulated coolant, an HVAC compressor's current) has a healthy envelope widened
 * once by a hot day or a full load, so its degradation covers a good share of the way to the
 * limit before the level passes that envelope by much. Its departure from the healthy
 * baseline, in units of the level's healthy deviation, shows it earlier. Disabling the
 * departure (thresholds no level reaches) is the comparison.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig, ConfigError, DEFAULT_CONFIG } from './index.ts';
import { createFleet } from '../simulator/fleet.ts';
import { degradedReadings, HOUR, KIT_T0 as T0, leadShare } from '../simulator/degradation-kit.ts';

const noDeparture = compileConfig({ detector: { departureDevStart: 999, departureDevFull: 1000 } });

describe.each([
  // Minimum mean gain in lead share over four seeds (measured: 0.010 and 0.13). The van's
  // coolant gains little here, where one van's 72 h degradation mostly falls on shifts that
  // show it plainly; over the evaluation's fleets its median lead share went from 0.44 to 0.52.
  ['delivery_van', 'coolant_overheating', 'engine_coolant_temp_c', 115, 80, 0.005],
  ['hvac_unit', 'compressor_overload', 'compressor_current_a', 32, 5, 0.05],
] as const)('departure evidence on %s/%s', (type, mode, sensor, limit, activeAbove, minGain) => {
  const start = T0 + 9 * 24 * HOUR;
  const length = 72 * HOUR;
  const seeds = [3, 5, 8, 13];
  it('raises earlier than without it on average, never before the degradation, never later', () => {
    let gain = 0;
    for (const seed of seeds) {
      const readings = degradedReadings(type, seed, sensor, limit, start, length, activeAbove);
      const withIt = leadShare(readings, DEFAULT_CONFIG, mode, start, length);
      const without = leadShare(readings, noDeparture, mode, start, length);
      expect(withIt, `seed ${seed}`).toBeGreaterThan(0);
      expect(without, `seed ${seed}`).toBeGreaterThanOrEqual(0);
      expect(withIt, `seed ${seed}: ${withIt} vs ${without}`).toBeGreaterThanOrEqual(without);
      gain += withIt - without;
    }
    expect(gain / seeds.length).toBeGreaterThan(minGain);
  });
  it('raises nothing on the healthy asset', () => {
    for (const seed of seeds) {
      const fleet = createFleet({ seed, assetsPerType: 1, assetTypes: [type], startTs: T0, days: 14, failureShare: 0, qualityFaultShare: 0 }, DEFAULT_CONFIG);
      const readings = [...fleet.readings()];
      expect(leadShare(readings, DEFAULT_CONFIG, mode, T0, 1), `seed ${seed}`).toBe(0);
    }
  });
});

describe('validation of the departure parameters', () => {
  it('needs the full level above the start, named by its path', () => {
    let err: unknown;
    try {
      compileConfig({ detector: { departureDevStart: 5, departureDevFull: 3 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      { path: 'detector.departureDevFull', message: 'must be greater than detector.departureDevStart (5), got 3' },
    ]);
  });
});
