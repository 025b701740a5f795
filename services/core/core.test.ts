/**
 * Contract tests of the scoring core: configuration validation (every problem at once,
 * with path and reason), state encoding (round trip mid-run equals the uninterrupted run,
 * unknown versions rejected), and scores that stay in [0, 1] and finite for any input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileConfig,
  ConfigError,
  decodeState,
  DEFAULT_CONFIG,
  encodeState,
  newState,
  score,
  StateFormatError,
  StateVersionError,
  stateVersion,
  UnknownAssetTypeError,
  type Reading,
  type Step,
  type AssetState,
} from './index.ts';
import { createFleet } from '../simulator/fleet.ts';

const T0 = Date.UTC(2026, 0, 5);

/** Everything a step produces except the state object itself. */
const output = (s: Step<AssetState>): unknown => ({ ...s, state: undefined });

describe('compileConfig', () => {
  it('compiles the defaults: five asset types plus generic, frozen', () => {
    expect([...DEFAULT_CONFIG.assetTypes.keys()]).toEqual([
      'passenger_ev',
      'delivery_van',
      'refrigerator',
      'washing_machine',
      'hvac_unit',
      'generic',
    ]);
    const ev = DEFAULT_CONFIG.assetTypes.get('passenger_ev')!;
    expect(ev.sensors).toHaveLength(8);
    expect(ev.failureModes.find((m) => m.name === 'tire_pressure_loss')).toMatchObject({ direction: 'falling', limit: 160, threshold: 0.5 });
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
  });

  it('merges a partial user file over the defaults', () => {
    const cfg = compileConfig({ version: 'site-7', detector: { windowSize: 64 }, assetTypes: { refrigerator: { failureModes: { cooling_loss: { threshold: 0.8 } } } } });
    expect(cfg.version).toBe('site-7');
    expect(cfg.detector.windowSize).toBe(64);
    const fridge = cfg.assetTypes.get('refrigerator')!;
    expect(fridge.failureModes.find((m) => m.name === 'cooling_loss')).toMatchObject({ threshold: 0.8, limit: 8 });
  });

  it('reports every problem at once, each with its path and reason', () => {
    let err: unknown;
    try {
      compileConfig({
        version: 3,
        detector: { shiftFastHalfLifeReadings: 300, bogus: 1 },
        assetTypes: {
          refrigerator: { failureModes: { cooling_loss: { limit: 900, direction: 'up' }, extra: { sensors: ['nope'], direction: 'rising', limit: 1, horizonHours: -1 } } },
          generic: { description: 'x', sensors: {} },
        },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues).toEqual([
      { path: 'version', message: 'must be a non-empty string, got number 3' },
      { path: 'detector.bogus', message: expect.stringMatching(/^unknown detector parameter \(known: windowSize, /) },
      { path: 'detector.shiftSlowHalfLifeReadings', message: 'must be greater than detector.shiftFastHalfLifeReadings (300), got 230' },
      { path: 'assetTypes.refrigerator.failureModes.cooling_loss.direction', message: 'must be "rising" or "falling", got "up"' },
      { path: 'assetTypes.refrigerator.failureModes.cooling_loss.limit', message: 'must lie inside the physical range of cabinet_temp_c (-30, 50), got 900' },
      { path: 'assetTypes.refrigerator.failureModes.extra.sensors[0]', message: 'unknown sensor "nope" (not in assetTypes.refrigerator.sensors)' },
      { path: 'assetTypes.refrigerator.failureModes.extra.horizonHours', message: 'must be between 0.01 and 100000, got -1' },
      { path: 'assetTypes.generic', message: 'is reserved: generic sensors are discovered from the readings' },
    ]);
    expect((err as Error).message).toContain('invalid configuration (8 problems):\n  version: must be a non-empty string, got number 3\n');
    expect((err as Error).message).toContain('  assetTypes.refrigerator.failureModes.cooling_loss.limit: must lie inside the physical range of cabinet_temp_c (-30, 50), got 900');
  });

  it('rejects a non-object file and a sensor range that is upside down', () => {
    expect(() => compileConfig([1])).toThrow(new ConfigError([{ path: '$', message: 'must be an object, got an array' }]));
    expect(() => compileConfig({ assetTypes: { pump: { description: 'p', sensors: { flow: { unit: 'L/min', min: 5, max: 1 } }, failureModes: {} } } })).toThrow(
      'assetTypes.pump.sensors.flow.max: must be greater than min (5), got 1',
    );
  });

  it('rejects a sensor range beyond the magnitude the state can hold (32-bit spreads), rather than scoring 0 on such values', () => {
    expect(() => compileConfig({ assetTypes: { meter: { description: 'm', sensors: { energy_j: { unit: 'J', min: 0, max: 1e20 } }, failureModes: {} } } })).toThrow(
      'assetTypes.meter.sensors.energy_j.max: must be between -1000000000000000 and 1000000000000000, got 100000000000000000000',
    );
  });
});

describe('newState', () => {
  it('rejects an unknown asset type, naming it and the configured ones', () => {
    expect(() => newState('a', 'toaster', DEFAULT_CONFIG)).toThrow(UnknownAssetTypeError);
    expect(() => newState('a', 'toaster', DEFAULT_CONFIG)).toThrow(
      'unknown asset type "toaster" (configured: passenger_ev, delivery_van, refrigerator, washing_machine, hvac_unit, generic)',
    );
  });

  it('generic assets discover their sensors from the readings', () => {
    const st = newState('g', 'generic', DEFAULT_CONFIG);
    const step = score(st, { assetId: 'g', assetType: 'generic', ts: T0, values: { rpm: 1200, temp: 40 } }, DEFAULT_CONFIG);
    expect(step.state.sensors).toEqual(['rpm', 'temp']);
    expect(step.sensors.map((s) => [s.sensor, s.learning])).toEqual([
      ['rpm', true],
      ['temp', true],
    ]);
    expect(step.predictions).toEqual([]);
  });
});

describe('state encoding', () => {
  // Issue 3's target is 4 KiB per 8-sensor asset; a sensor beyond 8 brings its block (52
  // numbers since state version 8, 264 bytes with 38 of them stored as 32-bit floats), its
  // name and its trackers: the 9-sensor van in 4.75 KiB.
  it('fits 4 KiB per 8 sensors for every default asset type (the 9-sensor van in 4.75 KiB)', () => {
    for (const [type, at] of DEFAULT_CONFIG.assetTypes) {
      if (at.generic) continue;
      const st = newState(`${type}-0001-with-a-long-asset-id`, type, DEFAULT_CONFIG);
      expect(encodeState(st).length).toBeLessThanOrEqual(4096 + 768 * Math.max(0, at.sensorNames.length - 8));
    }
  });

  it('decoding mid-run and continuing gives exactly the outputs of never stopping (long runs)', () => {
    const fleet = createFleet(
      { seed: 7, assetsPerType: 1, startTs: T0, days: 12, failureShare: 1, qualityFaultShare: 1 },
      DEFAULT_CONFIG,
    );
    const readings = [...fleet.readings()];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: readings.length - 1 }), fc.integer({ min: 1, max: 4 }), (cut, cuts) => {
        const a = new Map<string, AssetState>();
        const b = new Map<string, AssetState>();
        const get = (m: Map<string, AssetState>, r: Reading): AssetState =>
          m.get(r.assetId) ?? m.set(r.assetId, newState(r.assetId, r.assetType, DEFAULT_CONFIG)).get(r.assetId)!;
        const cutAt = new Set(Array.from({ length: cuts }, (_, k) => Math.floor((cut * (k + 1)) / cuts)));
        for (let i = 0; i < readings.length; i++) {
          const r = readings[i]!;
          if (cutAt.has(i)) for (const [id, st] of b) b.set(id, decodeState(encodeState(st)));
          const sa = score(get(a, r), r, DEFAULT_CONFIG);
          const sb = score(get(b, r), r, DEFAULT_CONFIG);
          if (JSON.stringify(output(sa)) !== JSON.stringify(output(sb))) expect(output(sb)).toEqual(output(sa));
        }
        for (const [id, st] of a) expect(encodeState(b.get(id)!)).toEqual(encodeState(st));
      }),
      { numRuns: 3 },
    );
  }, 120_000);

  it('rejects an unknown state version with a clear error, never a silent reset', () => {
    const bytes = encodeState(newState('a', 'refrigerator', DEFAULT_CONFIG));
    bytes[4] = 99;
    expect(() => decodeState(bytes)).toThrow(StateVersionError);
    // From the header alone too, for a caller that decodes later (the scorer's restore).
    expect(() => stateVersion(bytes)).toThrow(StateVersionError);
    bytes[4] = 8;
    expect(stateVersion(bytes)).toBe(8);
    bytes[4] = 99;
    expect(() => decodeState(bytes)).toThrow(
      'cannot decode asset state: version 99 is not supported (this build reads version 4 to 8); refusing to reset it silently: deploy a build that knows this version or clear the state explicitly',
    );
  });

  it('rejects bytes that are not a state', () => {
    expect(() => decodeState(new Uint8Array([1, 2, 3]))).toThrow(new StateFormatError('cannot decode asset state: missing "PDMS" header (not a state, or corrupted)'));
    expect(() => stateVersion(new Uint8Array([1, 2, 3]))).toThrow(new StateFormatError('cannot decode asset state: missing "PDMS" header (not a state, or corrupted)'));
    const bytes = encodeState(newState('a', 'refrigerator', DEFAULT_CONFIG));
    expect(() => decodeState(bytes.subarray(0, bytes.length - 8))).toThrow(/^cannot decode asset state: truncated at byte \d+ of \d+$/);
  });
});

describe('scores for adversarial input', () => {
  const weird = fc.oneof(
    fc.double(),
    fc.constantFrom(NaN, Infinity, -Infinity, 1e308, -1e308, -0, 0, 5e-324, 1e15, -1e15, 1e16),
    fc.double({ min: -100, max: 100, noNaN: true }),
  );
  const reading = (type: string, sensors: string[]) =>
    fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: -120_000, max: 86_400_000 }), fc.constant(60_000)),
      values: fc.dictionary(fc.constantFrom(...sensors, 'unknown_x'), weird, { maxKeys: sensors.length + 1 }),
    }).map((r) => ({ ...r, type }));

  for (const type of ['generic', 'passenger_ev', 'washing_machine']) {
    it(`stays in [0, 1] and finite, and the state stays usable (${type})`, () => {
      const sensors = type === 'generic' ? ['a', 'b', 'c'] : [...DEFAULT_CONFIG.assetTypes.get(type)!.sensorNames];
      fc.assert(
        fc.property(fc.array(reading(type, sensors), { minLength: 1, maxLength: 300 }), (rs) => {
          const st = newState('x', type, DEFAULT_CONFIG);
          let ts = T0;
          const check = (s: Step<AssetState>): void => {
            for (const x of [s.score, s.health, ...s.sensors.map((q) => q.score), ...s.predictions.map((p) => p.probability)]) {
              expect(Number.isFinite(x)).toBe(true);
              expect(x).toBeGreaterThanOrEqual(0);
              expect(x).toBeLessThanOrEqual(1);
            }
          };
          for (const r of rs) {
            ts += r.dt;
            check(score(st, { assetId: 'x', assetType: type, ts, values: r.values }, DEFAULT_CONFIG));
          }
          // Afterwards, ordinary readings still score normally and the state round-trips.
          for (let i = 1; i <= 5; i++) {
            const values = Object.fromEntries(sensors.map((s, k) => [s, 1 + k + 0.1 * i]));
            check(score(st, { assetId: 'x', assetType: type, ts: ts + i * 60_000 + 1e9, values }, DEFAULT_CONFIG));
          }
          expect(decodeState(encodeState(st)).f).toEqual(st.f);
        }),
        { numRuns: 150 },
      );
    });
  }
});
