/**
 * Evidence of the failure trackers (issue 3). Sparse and intermittent signals: a washing
 * machine's inlet flow is present only while it fills, a few minutes a day, so a tracker
 * whose memory is counted in activity hours alone is days of wall time behind a change; the
 * trackers' level and trend therefore also forget with wall time (bounded per value, so one
 * odd value after a pause cannot set the level), and a raise needs several fresh active
 * values above the threshold. Quiet signals: a level many of its own healthy deviations
 * beyond its envelope and trending toward the limit is evidence while still a small share
 * of the way to the limit. Also: the validation of the parameters that govern both.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig, ConfigError, DEFAULT_CONFIG, newState, score, type CompiledConfig, type Reading } from './index.ts';
import { createFleet } from '../simulator/fleet.ts';

const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const SENSOR = 'water_inlet_flow_lpm';
const MODE = 'inlet_valve_clog';
/** The trackers as before this change: activity-time memory only, one value may raise. */
const activityOnly = compileConfig({ detector: { levelWallHalfLifeHours: 1e6, trendWallHalfLifeHours: 1e6, minRaiseReadings: 1 } });

function washer(seed: number, days: number): Reading[] {
  const fleet = createFleet({ seed, assetsPerType: 1, assetTypes: ['washing_machine'], startTs: T0, days, failureShare: 0, qualityFaultShare: 0 }, DEFAULT_CONFIG);
  return [...fleet.readings()];
}

const active = (v: number | undefined): v is number => v !== undefined && v > DEFAULT_CONFIG.assetTypes.get('washing_machine')!.failureModes.find((m) => m.name === MODE)!.activeAbove!;

describe('a sparse signal (a washing machine fill flow)', () => {
  const seeds = [3, 5, 8];

  it('a slow clog is raised earlier than with activity-time memory, and before half its course on average', () => {
    const start = T0 + 9 * 24 * HOUR;
    const length = 120 * HOUR;
    let sum = 0;
    for (const seed of seeds) {
      const readings = washer(seed, 16).map((r) => {
        const v = r.values[SENSOR];
        if (r.ts < start || r.ts >= start + length || !active(v)) return r;
        const k = ((r.ts - start) / length) ** 1.25;
        return { ...r, values: { ...r.values, [SENSOR]: v * (1 - k) + 2 * k } };
      });
      const lead = (cfg: CompiledConfig): number => {
        const st = newState(readings[0]!.assetId, 'washing_machine', cfg);
        for (const r of readings) {
          const raised = score(st, r, cfg).predictions.find((p) => p.kind === 'raised');
          if (raised) {
            expect(raised.failureMode, `seed ${seed}`).toBe(MODE);
            expect(raised.ts, `seed ${seed}: never before the clog starts`).toBeGreaterThanOrEqual(start);
            return 1 - (raised.ts - start) / length;
          }
        }
        return 0;
      };
      const now = lead(DEFAULT_CONFIG);
      const old = lead(activityOnly);
      // Before this change the core raised these at 0.11, 0.25 and 0.41.
      expect(now, `seed ${seed}`).toBeGreaterThan(0.45);
      expect(now, `seed ${seed}: ${now} vs ${old}`).toBeGreaterThanOrEqual(old);
      sum += now;
    }
    expect(sum / seeds.length).toBeGreaterThan(0.5);
  });

  it('bursts of sensor noise while idle raise nothing on a healthy machine', () => {
    for (const seed of seeds) {
      // An hour of noise (sd 0.4 L/min, clipped at 0) on the idle flow sensor every morning.
      let z = seed;
      const noise = (): number => {
        z = (z * 1103515245 + 12345) % 2 ** 31;
        const u = (z + 1) / (2 ** 31 + 1);
        z = (z * 1103515245 + 12345) % 2 ** 31;
        return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * z) / 2 ** 31);
      };
      const noisy = washer(seed, 16).map((r) => {
        const hourOfDay = ((r.ts - T0) / HOUR) % 24;
        const v = r.values[SENSOR];
        return v === 0 && hourOfDay >= 5 && hourOfDay < 6 ? { ...r, values: { ...r.values, [SENSOR]: Math.max(0, 0.4 * noise()) } } : r;
      });
      const st = newState(noisy[0]!.assetId, 'washing_machine', DEFAULT_CONFIG);
      const raised = noisy.flatMap((r) => score(st, r, DEFAULT_CONFIG).predictions).filter((p) => p.kind === 'raised');
      expect(raised, `seed ${seed}`).toEqual([]);
    }
  });
});

describe('a quiet signal (bearing vibration)', () => {
  const cases = [
    ['washing_machine', 'bearing_wear', 'drum_vibration_mm_s', 25, 2],
    ['hvac_unit', 'fan_bearing_wear', 'fan_vibration_mm_s', 18, 1],
  ] as const;
  // The departure evidence is off in the comparison's both arms, which isolates the significance.
  const noDeparture = { departureDevStart: 999, departureDevFull: 1000 };
  const significanceOnly = compileConfig({ detector: noDeparture });
  const noSignificance = compileConfig({ detector: { ...noDeparture, significanceDev: 1000 } });
  it.each(cases)('%s/%s: the significance of the deviation raises earlier, never before the wear starts', (type, mode, sensor, limit, activeAbove) => {
    const start = T0 + 9 * 24 * HOUR;
    const length = 120 * HOUR;
    for (const seed of [3, 5, 8]) {
      const fleet = createFleet({ seed, assetsPerType: 1, assetTypes: [type], startTs: T0, days: 16, failureShare: 0, qualityFaultShare: 0 }, DEFAULT_CONFIG);
      const readings = [...fleet.readings()].map((r) => {
        const v = r.values[sensor];
        if (v === undefined || r.ts < start || r.ts >= start + length || !(v > activeAbove)) return r;
        const k = ((r.ts - start) / length) ** 1.25;
        return { ...r, values: { ...r.values, [sensor]: v * (1 - k) + limit * k } };
      });
      const lead = (cfg: CompiledConfig): number => {
        const st = newState(readings[0]!.assetId, type, cfg);
        for (const r of readings) {
          const raised = score(st, r, cfg).predictions.find((p) => p.kind === 'raised');
          if (raised) {
            expect(raised.failureMode, `seed ${seed}`).toBe(mode);
            expect(raised.ts, `seed ${seed}`).toBeGreaterThanOrEqual(start);
            return 1 - (raised.ts - start) / length;
          }
        }
        return 0;
      };
      const now = lead(DEFAULT_CONFIG);
      // Before this change the core raised these at 0.54 to 0.66 of the way from the end.
      expect(now, `seed ${seed}`).toBeGreaterThan(0.68);
      expect(lead(significanceOnly), `seed ${seed}`).toBeGreaterThan(lead(noSignificance) + 0.02);
    }
  });
});

describe('validation of the tracker evidence parameters', () => {
  it('names each bad value by its path', () => {
    let err: unknown;
    try {
      compileConfig({ detector: { levelWallHalfLifeHours: 0, trendWallHalfLifeHours: 'x', levelMaxWeight: 1.5, minRaiseReadings: 2.5, significanceDev: -1 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      { path: 'detector.levelWallHalfLifeHours', message: 'must be between 0.001 and 1000000, got 0' },
      { path: 'detector.trendWallHalfLifeHours', message: 'must be a finite number, got "x"' },
      { path: 'detector.levelMaxWeight', message: 'must be between 0.001 and 1, got 1.5' },
      { path: 'detector.minRaiseReadings', message: 'must be an integer, got 2.5' },
      { path: 'detector.significanceDev', message: 'must be between 0.1 and 1000, got -1' },
    ]);
  });

  it('has documented defaults', () => {
    expect(DEFAULT_CONFIG.detector).toMatchObject({
      levelWallHalfLifeHours: 2,
      trendWallHalfLifeHours: 24,
      levelMaxWeight: 0.25,
      minRaiseReadings: 3,
      significanceDev: 4,
      departureDevStart: 2.5,
      departureDevFull: 4,
    });
  });
});
