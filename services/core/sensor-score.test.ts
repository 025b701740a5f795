/**
 * Each kind of evidence of the anomaly score (sensor-score.ts) on the anomaly it is for, in
 * a generic sensor's series (what `pdm score` sees): the default configuration scores it 0.5
 * or more inside its window and stays below 0.5 on the healthy values before it, and that
 * evidence alone (every other one turned off) catches it too. Repeated identical values teach
 * the spreads and the jump calibration nothing (property test).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../simulator/prng.ts';
import { compileConfig, DEFAULT_CONFIG, newState, score, type CompiledConfig } from './index.ts';
import { SENSOR_JUMP_TAIL, SENSOR_SPREAD_SMOOTHED, SENSOR_SPREAD_STEP, SENSOR_SPREAD_STEP_SLOW, sensorOffset } from './layout.ts';

const T0 = Date.UTC(2026, 0, 5);
const ONSET = 4000;
const N = 4400;
const OFF = 1e-300;
const EVIDENCE = ['jump', 'surprise', 'shift', 'rarity', 'range', 'level', 'agreement'] as const;
type Evidence = (typeof EVIDENCE)[number];
const KEYS: Record<Evidence, string> = {
  jump: 'jumpTailProbability',
  surprise: 'surpriseTailProbability',
  shift: 'shiftTailProbability',
  rarity: 'rarityTailProbability',
  range: 'rangeBreakProbability',
  level: 'levelBreakProbability',
  agreement: 'stepAgreementTailProbability',
};
const only = (e: Evidence): CompiledConfig =>
  compileConfig({ detector: Object.fromEntries(EVIDENCE.filter((x) => x !== e).map((x) => [KEYS[x], OFF])) });

function scores(values: readonly number[], cfg: CompiledConfig): number[] {
  const st = newState('g', 'generic', cfg);
  return values.map((v, i) => score(st, { assetId: 'g', assetType: 'generic', ts: T0 + i * 60_000, values: { x: v } }, cfg).score);
}

const rng = new Rng(5);
const noise = (sd: number): number => sd * rng.normal();
/** A daily cycle of amplitude 10 with noise 0.3. */
const daily = (i: number): number => 50 + 10 * Math.sin((2 * Math.PI * i) / 1440) + noise(0.3);
/** A machine switching between 0 and 10 every 30–90 values, noise 0.1. */
function regimes(): number[] {
  let level = 0;
  let left = 0;
  return Array.from({ length: N }, () => {
    if (left-- <= 0) {
      level = level === 0 ? 10 : 0;
      left = rng.int(30, 90);
    }
    return level + noise(0.1);
  });
}

/** A random walk of unit steps (its own generator, so the other cases' values stay as they were). */
function walk(): number[] {
  const r = new Rng(7);
  let w = 100;
  return Array.from({ length: N }, () => (w += r.normal()));
}

const CASES: [string, Evidence, number[], number][] = [
  // A spike inside the cycle's range: nothing rare about the value, everything about the jump.
  ['a spike inside a daily cycle', 'jump', Array.from({ length: N }, (_, i) => daily(i) + (i === ONSET ? 5 : 0)), 5],
  // The noise quadruples for 200 values.
  ['a change of variance', 'surprise', Array.from({ length: N }, (_, i) => 20 + noise(i >= ONSET && i < ONSET + 200 ? 2 : 0.5)), 200],
  // A step of 2.5 noise deviations: no jump stands out, the level does.
  ['a small level shift', 'shift', Array.from({ length: N }, (_, i) => 20 + noise(1) + (i >= ONSET ? 2.5 : 0)), 200],
  // The machine stops between its two levels.
  ['a level the machine never takes', 'rarity', regimes().map((v, i) => (i >= ONSET && i < ONSET + 100 ? 5 + noise(0.1) : v)), 100],
  // A step beyond the range, smaller than the machine's usual switches.
  ['a value beyond the all-time range', 'range', regimes().map((v, i) => (i >= ONSET && i < ONSET + 50 ? 14 + noise(0.1) : v)), 50],
  // A drift of 0.12 noise deviations a value: no value breaks the range that the drift itself
  // keeps extending, but the level goes where it has never been.
  ['a level that creeps past everything the sensor has shown', 'level', Array.from({ length: N }, (_, i) => 20 + noise(1) + (i >= ONSET ? Math.min(12, 0.12 * (i - ONSET)) : 0)), 200],
  // An oscillation of 5 steps' amplitude and period 24 appears on the walk (a hunting
  // controller): every step a moderate one, but consecutive steps now agree for half a period.
  ['an oscillation that appears on a random walk', 'agreement', walk().map((v, i) => v + (i >= ONSET && i < ONSET + 300 ? 5 * Math.sin((2 * Math.PI * (i - ONSET)) / 24) : 0)), 300],
];

describe.each(CASES)('%s', (_, evidence, values, window) => {
  it('scores 0.5 or more in its window and less on the healthy values before it (default configuration)', () => {
    const s = scores(values, DEFAULT_CONFIG);
    expect(Math.max(...s.slice(ONSET, ONSET + window))).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...s.slice(DEFAULT_CONFIG.detector.learningReadings, ONSET))).toBeLessThan(0.5);
  });
  it(`is caught by the ${evidence} evidence alone`, () => {
    expect(Math.max(...scores(values, only(evidence)).slice(ONSET, ONSET + window))).toBeGreaterThanOrEqual(0.5);
  });
});

describe('repeated values', () => {
  it('teach the spreads and the jump calibration nothing (an idle signal reads 0 for hours)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 2, maxLength: 600 }), fc.integer({ min: 1, max: 18 }), (xs, k) => {
        const st = newState('g', 'generic', DEFAULT_CONFIG);
        let i = 0;
        const feed = (v: number): void => {
          score(st, { assetId: 'g', assetType: 'generic', ts: T0 + i++ * 60_000, values: { x: v } }, DEFAULT_CONFIG);
        };
        xs.forEach(feed);
        const o = sensorOffset(0);
        const slots = [SENSOR_SPREAD_SMOOTHED, SENSOR_SPREAD_STEP, SENSOR_SPREAD_STEP_SLOW, SENSOR_JUMP_TAIL, SENSOR_JUMP_TAIL + 1, SENSOR_JUMP_TAIL + 2];
        const before = slots.map((s) => st.f[o + s]);
        for (let r = 0; r < k; r++) feed(xs[xs.length - 1]!);
        expect(slots.map((s) => st.f[o + s])).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});
