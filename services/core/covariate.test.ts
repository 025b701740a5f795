/**
 * Covariate-conditioned failure trackers (a mode's `covariates`): configuration errors name
 * the path and the cause; a degradation of a sensor that follows another one (a part's
 * temperature following the ambient's daily and weather swings) is predicted earlier than
 * from the raw values, whose healthy envelope is the swing's maximum; a healthy asset raises
 * nothing; the fit survives an encode/decode exactly.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig, ConfigError, decodeState, encodeState, newState, score, type CompiledConfig, type Reading } from './index.ts';

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

function firstRaise(cfg: CompiledConfig, readings: Reading[]): number | undefined {
  const st = newState('kiln-1', 'kiln', cfg);
  for (const r of readings) {
    const s = score(st, r, cfg);
    const raised = s.predictions.find((p) => p.kind === 'raised' && p.failureMode === 'overheating');
    if (raised) return raised.ts;
  }
  return undefined;
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
    expect(firstRaise(kilnConfig(['ambient_c']), kilnReadings(20, undefined))).toBeUndefined();
  });

  it('predicts a degradation earlier than the raw values do', () => {
    const readings = kilnReadings(17, degradeAt);
    const withCov = firstRaise(kilnConfig(['ambient_c']), readings);
    const raw = firstRaise(kilnConfig(undefined), readings);
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
