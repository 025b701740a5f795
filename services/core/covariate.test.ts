/**
 * Covariate-conditioned failure trackers (a mode's `covariates`): configuration errors name
 * the path and the cause; a degradation of a sensor that follows another one (a part's
 * temperature following the ambient's daily and weather swings) is predicted earlier than
 * from the raw values, whose healthy envelope is the swing's maximum; a healthy asset raises
 * nothing; the fit survives an encode/decode exactly; on a machine that runs a few hours a
 * day (a pump whose pressure follows its speed) the fit learns per hour of running, not per
 * idle night, and a repair of the covariate's own part makes the tracker re-learn.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig, ConfigError, decodeState, encodeState, maintain, newState, score, type CompiledConfig, type Reading } from './index.ts';

const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const STEP = 120_000;

/** A kiln whose part temperature is the ambient's plus 20 °C, failing toward 80 °C. */
function kilnConfig(covariates: string[] | undefined): CompiledConfig {
  return compileConfig({
    assetTypes: {
      kiln: {
        description: 'test asset',
        sensors: {
          part_temp_c: { unit: 'degC', min: -40, max: 150, samplePeriodSec: 120 },
          ambient_c: { unit: 'degC', min: -40, max: 60, samplePeriodSec: 120 },
        },
        failureModes: {
          overheating: {
            sensors: ['part_temp_c'], direction: 'rising', limit: 80, horizonHours: 72,
            ...(covariates === undefined ? {} : { covariates }),
            description: 'part temperature rising toward the limit',
          },
        },
      },
    },
  });
}

/** Deterministic noise (a linear congruential generator mapped to roughly N(0, 1)). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return () => u() + u() + u() + u() - 2;
}

/**
 * `days` of readings every 2 minutes: ambient = 15 + 8·sin(day) + 5·sin(5-day weather);
 * part = ambient + 20, plus a degradation from `degradeAt` that reaches the limit after 96 h
 * (the convex mix healthy·(1−k) + 80·k, k = share of the degradation elapsed).
 */
function kilnReadings(days: number, degradeAt: number | undefined): Reading[] {
  const rnd = noise(42);
  const out: Reading[] = [];
  for (let ts = T0; ts < T0 + days * 24 * HOUR; ts += STEP) {
    const h = (ts - T0) / HOUR;
    const amb = 15 + 8 * Math.sin((2 * Math.PI * h) / 24) + 5 * Math.sin((2 * Math.PI * h) / 120) + 0.2 * rnd();
    let part = amb + 20 + 0.3 * rnd();
    if (degradeAt !== undefined && ts >= degradeAt) {
      const k = Math.min(1, (ts - degradeAt) / (96 * HOUR));
      part = part * (1 - k) + 80 * k;
    }
    out.push({ assetId: 'kiln-1', assetType: 'kiln', ts, values: { part_temp_c: part, ambient_c: amb } });
  }
  return out;
}

/**
 * The times at which `mode` is raised over `readings` (one asset's), scored from a new state
 * with `cfg`: one configuration, or the one in force at each reading's time. A `repair` is
 * applied before the first reading at or after its time.
 */
function raises(
  cfg: CompiledConfig | ((ts: number) => CompiledConfig),
  readings: Reading[],
  mode: string,
  repair?: { ts: number; failureMode: string },
): number[] {
  const cfgAt = typeof cfg === 'function' ? cfg : (): CompiledConfig => cfg;
  const { assetId, assetType } = readings[0]!;
  const st = newState(assetId, assetType, cfgAt(readings[0]!.ts));
  const out: number[] = [];
  let repaired = repair === undefined;
  for (const r of readings) {
    const c = cfgAt(r.ts);
    if (!repaired && r.ts >= repair!.ts) {
      maintain(st, { assetId, ts: repair!.ts, failureMode: repair!.failureMode }, c);
      repaired = true;
    }
    for (const p of score(st, r, c).predictions) if (p.kind === 'raised' && p.failureMode === mode) out.push(p.ts);
  }
  return out;
}

describe('covariate configuration', () => {
  it('rejects an unknown covariate, the mode’s own sensor and more than one, naming the path', () => {
    const mode = (covariates: unknown): unknown => ({
      assetTypes: {
        refrigerator: { failureModes: { compressor_failure: { covariates } } },
      },
    });
    expect(() => compileConfig(mode(['nope']))).toThrow(
      new ConfigError([
        { path: 'assetTypes.refrigerator.failureModes.compressor_failure.covariates[0]', message: 'unknown sensor "nope" (not in assetTypes.refrigerator.sensors)' },
      ]),
    );
    expect(() => compileConfig(mode(['compressor_current_a']))).toThrow(
      new ConfigError([
        {
          path: 'assetTypes.refrigerator.failureModes.compressor_failure.covariates[0]',
          message: 'sensor "compressor_current_a" is one of the mode\'s own sensors; a covariate must be another sensor',
        },
      ]),
    );
    expect(() => compileConfig(mode(['ambient_temp_c', 'cabinet_temp_c']))).toThrow(
      new ConfigError([
        { path: 'assetTypes.refrigerator.failureModes.compressor_failure.covariates', message: 'must be an array of at most 1 sensor name, got an array' },
      ]),
    );
    const ok = compileConfig(mode(['ambient_temp_c'])).assetTypes.get('refrigerator')!;
    expect(ok.failureModes.find((m) => m.name === 'compressor_failure')!.covariates).toEqual([ok.sensorIndex.get('ambient_temp_c')]);
    expect(ok.pairCovSlots).toEqual([0, -1]);
    expect(ok.covFits).toBe(1);
  });
});

describe('covariate-conditioned tracker', () => {
  const degradeAt = T0 + 12 * 24 * HOUR;

  it('raises nothing on a healthy asset whose sensor swings with its covariate', () => {
    expect(raises(kilnConfig(['ambient_c']), kilnReadings(20, undefined), 'overheating')[0]).toBeUndefined();
  });

  it('predicts a degradation earlier than the raw values do', () => {
    const readings = kilnReadings(17, degradeAt);
    const withCov = raises(kilnConfig(['ambient_c']), readings, 'overheating')[0];
    const raw = raises(kilnConfig(undefined), readings, 'overheating')[0];
    expect(withCov).toBeDefined();
    expect(raw).toBeDefined();
    const leadCov = (degradeAt + 96 * HOUR - withCov!) / (96 * HOUR);
    const leadRaw = (degradeAt + 96 * HOUR - raw!) / (96 * HOUR);
    expect(withCov!).toBeGreaterThanOrEqual(degradeAt);
    expect(leadCov).toBeGreaterThan(leadRaw + 0.1);
  });

  it('continues exactly after an encode/decode of a state with a covariate fit', () => {
    const cfg = kilnConfig(['ambient_c']);
    const readings = kilnReadings(15, degradeAt);
    const a = newState('kiln-1', 'kiln', cfg);
    let b = newState('kiln-1', 'kiln', cfg);
    const half = Math.floor(readings.length / 2);
    readings.forEach((r, i) => {
      const sa = score(a, r, cfg);
      if (i === half) b = decodeState(encodeState(b));
      const sb = score(b, r, cfg);
      expect(sb.predictions).toEqual(sa.predictions);
    });
    expect(encodeState(b)).toEqual(encodeState(a));
  });
});

/** A pump whose outlet pressure follows its speed, failing toward 100 kPa (a worn impeller). */
function pumpConfig(covariates: string[] | undefined): CompiledConfig {
  return compileConfig({
    assetTypes: {
      pump: {
        description: 'test asset',
        sensors: {
          outlet_kpa: { unit: 'kPa', min: 0, max: 1000, samplePeriodSec: 120 },
          speed_rpm: { unit: 'rpm', min: 0, max: 4000, samplePeriodSec: 120 },
        },
        failureModes: {
          pressure_loss: {
            sensors: ['outlet_kpa'], direction: 'falling', limit: 100, horizonHours: 72, activeAbove: 30,
            ...(covariates === undefined ? {} : { covariates }),
            description: 'outlet pressure falling toward the limit',
          },
          seal_wear: { sensors: ['speed_rpm'], direction: 'falling', limit: 500, horizonHours: 72, activeAbove: 600, description: 'test mode' },
        },
      },
    },
  });
}

/**
 * `days` of readings every 2 minutes from a pump that runs 07:00–11:00 and 13:00–15:00 at a
 * speed drawn per 15 minutes in [1000, 3000] rpm (a start reads 250 rpm and 45 kPa), pressure
 * 60 + 0.1·speed; a degradation from `degradeAt` reaches the limit after 30 h of running
 * (the convex mix healthy·(1−k) + 100·k, k = share of that running done).
 */
function pumpReadings(days: number, degradeAt: number | undefined): Reading[] {
  const degradeHours = 30;
  const rnd = noise(7);
  const out: Reading[] = [];
  let speed = 2000;
  let ranMs = 0;
  for (let ts = T0; ts < T0 + days * 24 * HOUR; ts += STEP) {
    const h = ((ts - T0) / HOUR) % 24;
    const on = (h >= 7 && h < 11) || (h >= 13 && h < 15);
    const starting = on && (h === 7 || h === 13);
    if ((ts - T0) % (15 * 60_000) === 0) speed = 2000 + 1000 * Math.max(-1, Math.min(1, rnd() / 1.2));
    let rpm = on ? (starting ? 250 : speed + 20 * rnd()) : 0;
    let kpa = on ? (starting ? 45 : 60 + 0.1 * rpm + 3 * rnd()) : Math.abs(rnd());
    if (degradeAt !== undefined && ts >= degradeAt && on && !starting) {
      ranMs += STEP;
      const k = Math.min(1, ranMs / (degradeHours * HOUR));
      kpa = kpa * (1 - k) + 100 * k;
    }
    out.push({ assetId: 'pump-1', assetType: 'pump', ts, values: { outlet_kpa: kpa, speed_rpm: rpm } });
  }
  return out;
}

describe('covariate-conditioned tracker on a machine that runs a few hours a day', () => {
  const degradeAt = T0 + 12 * 24 * HOUR;
  // 30 h of running at 6 h a day: the limit comes on the fifth day, at 15:00.
  const failAt = degradeAt + 4 * 24 * HOUR + 15 * HOUR;

  it('raises nothing on a healthy pump', () => {
    expect(raises(pumpConfig(['speed_rpm']), pumpReadings(24, undefined), 'pressure_loss')).toEqual([]);
  });

  it('predicts a worn impeller within the first half of its wear, well before the raw pressure does', () => {
    const readings = pumpReadings(17, degradeAt);
    const withCov = raises(pumpConfig(['speed_rpm']), readings, 'pressure_loss')[0];
    const raw = raises(pumpConfig(undefined), readings, 'pressure_loss')[0];
    expect(withCov).toBeGreaterThanOrEqual(degradeAt);
    const lead = (t: number | undefined): number => (t === undefined ? 0 : (failAt - t) / (failAt - degradeAt));
    expect(lead(withCov)).toBeGreaterThan(0.5);
    expect(lead(withCov)).toBeGreaterThan(lead(raw) + 0.2);
  });

  it('re-learns when the covariate’s own part is repaired: a new speed sensor reading 15% high raises nothing', () => {
    const repairTs = T0 + 12 * 24 * HOUR;
    const readings = pumpReadings(24, undefined).map((r) =>
      r.ts < repairTs ? r : { ...r, values: { ...r.values, speed_rpm: 1.15 * r.values.speed_rpm! } },
    );
    const cfg = pumpConfig(['speed_rpm']);
    expect(raises(cfg, readings, 'pressure_loss', { ts: repairTs, failureMode: 'seal_wear' })).toEqual([]);
    // Without the repair event the same readings are a pressure loss (the fit still expects the
    // old sensor's speeds), which is what the reset prevents.
    expect(raises(cfg, readings, 'pressure_loss').length).toBeGreaterThan(0);
  });

  it('takes up a covariate added by a configuration change: the tracker re-learns with its fit', () => {
    const readings = pumpReadings(20, degradeAt + 3 * 24 * HOUR);
    const before = pumpConfig(undefined);
    const after = pumpConfig(['speed_rpm']);
    const change = T0 + 3 * 24 * HOUR;
    const raised = raises((ts) => (ts < change ? before : after), readings, 'pressure_loss')[0];
    const fresh = raises(after, readings, 'pressure_loss')[0];
    expect(raised).toBeDefined();
    // Within the hour of an asset that had the covariate from its first reading (a fit that
    // never learns again leaves the values unadjusted: 18 h later here).
    expect(Math.abs(raised! - fresh!)).toBeLessThan(HOUR);
  });
});
