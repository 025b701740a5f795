/**
 * A configuration change keeps what every asset learned: a state scored under one
 * configuration, stored and restored, scores on under changed thresholds, detector
 * parameters and an added sensor without re-learning its sensors and without losing its
 * open episode. (The scorer restores states from its changelog exactly this way; the
 * real-stack version of this test is in services/scorer/scorer.int.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { fridgeReadings } from './fixtures/fridge-readings.ts';
import { compileConfig, decodeState, DEFAULT_CONFIG, encodeState, newState, score, type AssetState, type CompiledConfig, type PredictionEvent } from './index.ts';

/** Nine and a half days of one reading a minute: learned, and the compressor's episode open. */
const CUT = 9.5 * 1440;

const CHANGED: CompiledConfig = compileConfig({
  version: 'tuned',
  detector: { raiseThreshold: 0.4, spreadHalfLifeReadings: 50, surpriseTailProbability: 1e-3, clearMinutes: 600 },
  assetTypes: {
    refrigerator: {
      sensors: { door_open_s: { unit: 's', min: 0, max: 3600, samplePeriodSec: 60 } },
      failureModes: { compressor_failure: { threshold: 0.45 } },
    },
  },
});

const withDoor = (from: number, to: number) => fridgeReadings(from, to).map((r) => ({ ...r, values: { ...r.values, door_open_s: 0 } }));

function run(st: AssetState, readings: ReturnType<typeof fridgeReadings>, cfg: CompiledConfig): PredictionEvent[] {
  return readings.flatMap((r) => score(st, r, cfg).predictions);
}

describe('a configuration change', () => {
  const before = newState('fridge-0001-fixture', 'refrigerator', DEFAULT_CONFIG);
  const opened = run(before, fridgeReadings(0, CUT), DEFAULT_CONFIG);
  const episode = opened.filter((p) => p.kind === 'raised').at(-1)!;

  it('keeps every sensor learned: only the added sensor starts learning', () => {
    expect(episode).toBeDefined();
    const restored = decodeState(encodeState(before));
    const next = score(restored, withDoor(CUT, CUT + 1)[0]!, CHANGED);
    expect(Object.fromEntries(next.sensors.map((s) => [s.sensor, s.learning]))).toEqual({
      cabinet_temp_c: false, evaporator_temp_c: false, compressor_current_a: false, ambient_temp_c: false, door_open_s: true,
    });
    // Without the stored state, the same reading under the new configuration learns from scratch.
    const fresh = score(newState('fridge-0001-fixture', 'refrigerator', CHANGED), withDoor(CUT, CUT + 1)[0]!, CHANGED);
    expect(fresh.sensors.every((s) => s.learning)).toBe(true);
  });

  it("keeps a state decoded against the new configuration laid out as stored until its next reading, which re-lays it out", () => {
    const bytes = encodeState(before);
    const against = decodeState(bytes, { config: CHANGED });
    const fridge = CHANGED.assetTypes.get('refrigerator')!;
    expect(against.sensors).not.toBe(fridge.sensorNames);
    expect(against.sensors).toEqual(before.sensors);
    const readings = withDoor(CUT, CUT + 300);
    const plain = decodeState(bytes);
    expect(readings.map((r) => score(against, r, CHANGED).score)).toEqual(readings.map((r) => score(plain, r, CHANGED).score));
    expect(against.sensors).toBe(fridge.sensorNames);
  });

  it('keeps the open episode: the new thresholds apply to it, no second episode opens', () => {
    const restored = decodeState(encodeState(before));
    const events = run(restored, withDoor(CUT, 11 * 1440), CHANGED);
    const compressor = events.filter((p) => p.failureMode === 'compressor_failure');
    expect(compressor.length).toBeGreaterThan(0);
    expect(compressor.some((p) => p.kind === 'raised')).toBe(false);
    expect(new Set(compressor.map((p) => p.episodeId))).toEqual(new Set([episode.episodeId]));
    expect(compressor.every((p) => p.episodeStartTs === episode.episodeStartTs)).toBe(true);
  });

  it('scores differently under the new parameters (they are applied, not ignored)', () => {
    const a = decodeState(encodeState(before));
    const b = decodeState(encodeState(before));
    const readings = withDoor(CUT, CUT + 600);
    const under = (st: AssetState, cfg: CompiledConfig) => readings.map((r) => score(st, r, cfg).score);
    expect(under(a, CHANGED)).not.toEqual(under(b, DEFAULT_CONFIG));
  });
});
