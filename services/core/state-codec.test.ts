/**
 * State encoding across versions. A version 4 state (stored from the version 4 core of a
 * formula-made refrigerator whose compressor is wearing, mid-episode: fixtures/) decodes
 * into the current layout with its failure trackers, episodes and data-quality bookkeeping
 * intact and its anomaly evidence re-learning; a version 5 state (the same refrigerator)
 * decodes with nothing re-learning, and so do a version 6 state (the same refrigerator, every
 * number float64) and a version 7 one (no run model of the shift, no step agreement: they start empty); scoring on from them continues the open episode and predicts the failure
 * when a current state scored from the start does. The current encoding stores the sensors'
 * 32-bit slots in 4 bytes and trackers as index pairs, and refuses what it cannot read with a
 * clear error.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fridgeReadings } from './fixtures/fridge-readings.ts';
import { decodeState, DEFAULT_CONFIG, encodeState, newState, score, StateFormatError, type AssetState, type PredictionEvent } from './index.ts';
import { HISTOGRAM_BINS } from './histogram.ts';
import {
  HEADER_SLOTS,
  SENSOR_HISTOGRAM,
  SENSOR_JUMP_RUN,
  SENSOR_LEVEL_HIGH,
  SENSOR_LEVEL_LOW,
  SENSOR_MAX,
  SENSOR_MIN,
  SENSOR_READINGS,
  SENSOR_RUN_VALUE,
  SENSOR_SHIFT_RUNS,
  SENSOR_SLOT_IS_FLOAT32,
  SENSOR_SCORE,
  SENSOR_SLOTS,
  sensorOffset,
  STATE_VERSION,
} from './layout.ts';

const V4_BYTES = new Uint8Array(Buffer.from(readFileSync(new URL('./fixtures/fridge-state-v4.b64', import.meta.url), 'utf8'), 'base64'));
/** Where the stored state stopped: 9.5 days of one reading a minute, an episode open since minute 13,141. */
const CUT = 9.5 * 1440;
const V4_SENSOR_SLOTS = 33;

/** 32-bit slots per sensor block (layout.ts). */
const F32 = SENSOR_SLOT_IS_FLOAT32.filter((x) => x).length;
/** Slot k of a sensor block at the precision the current core keeps it. */
const atPrecision = (x: number, k: number): number => (SENSOR_SLOT_IS_FLOAT32[k] ? Math.fround(x) : x);
/** A histogram's mass in units of the next value's weight (what its scores read; the weights themselves may be rescaled). */
const relativeMass = (xs: Float64Array, from: number, bins: number): number => xs.subarray(from, from + bins).reduce((a, b) => a + b, 0) / xs[from + bins]!;

function run(st: AssetState, from: number, to: number): PredictionEvent[] {
  return fridgeReadings(from, to).flatMap((r) => score(st, r, DEFAULT_CONFIG).predictions);
}

/**
 * The predictions of a restored state scored on from CUT to day 11, and of the same fridge
 * scored from the start over the same span (the reference), with that fresh state after it.
 */
function scoredOnBeside(restored: AssetState): { continued: PredictionEvent[]; reference: PredictionEvent[]; fresh: AssetState } {
  const fresh = newState('fridge-0001-fixture', 'refrigerator', DEFAULT_CONFIG);
  run(fresh, 0, CUT);
  return { continued: run(restored, CUT, 11 * 1440), reference: run(fresh, CUT, 11 * 1440), fresh };
}

/**
 * A restored state that kept its statistics: scored on, it escalates the open episode a state
 * scored from the start escalates, within minutes of it, and its sensors' counts run on.
 */
function expectScoresOnUnbroken(restored: AssetState): void {
  const { continued, reference, fresh } = scoredOnBeside(restored);
  expect(continued.map((p) => p.kind)).toEqual(['escalated']);
  expect(reference.map((p) => p.kind)).toEqual(['escalated']);
  expect(continued[0]!.episodeStartTs).toBe(reference[0]!.episodeStartTs);
  expect(Math.abs(continued[0]!.ts - reference[0]!.ts)).toBeLessThan(15 * 60_000);
  expect(restored.f[sensorOffset(2) + SENSOR_READINGS]).toBe(fresh.f[sensorOffset(2) + SENSOR_READINGS]);
}

describe('a version 4 state', () => {
  const v4 = decodeState(V4_BYTES);
  const raw = new Float64Array(V4_BYTES.buffer.slice(V4_BYTES.length - 8 * (4 + 4 * V4_SENSOR_SLOTS + 2 * 19 + 2 * 7)));

  it('decodes into the current version with its names, trackers, episodes and run bookkeeping', () => {
    expect(v4.version).toBe(STATE_VERSION);
    expect(v4.sensors).toEqual(['cabinet_temp_c', 'evaporator_temp_c', 'compressor_current_a', 'ambient_temp_c']);
    expect(v4.pairs).toEqual(['compressor_failure/compressor_current_a', 'cooling_loss/cabinet_temp_c']);
    expect(v4.f.length).toBe(HEADER_SLOTS + 4 * SENSOR_SLOTS + 2 * 19 + 2 * 7);
    // Everything after the sensor blocks is the version 4 numbers, bit for bit.
    expect(Array.from(v4.f.subarray(HEADER_SLOTS + 4 * SENSOR_SLOTS))).toEqual(Array.from(raw.subarray(4 + 4 * V4_SENSOR_SLOTS)));
    for (let i = 0; i < 4; i++) {
      expect(v4.f[sensorOffset(i) + SENSOR_READINGS]).toBe(0);
      expect(v4.f[sensorOffset(i) + SENSOR_RUN_VALUE]).toBe(raw[4 + i * V4_SENSOR_SLOTS + 3]);
    }
  });

  it('scores on with its open episode: the escalation belongs to it, nothing new opens, and the predicted failure agrees with a state scored from the start', () => {
    const { continued, reference } = scoredOnBeside(v4);
    expect(continued.map((p) => p.kind)).toEqual(['escalated']);
    expect(continued[0]!.episodeStartTs).toBe(fridgeReadings(13_141, 13_142)[0]!.ts);
    // The trackers learn as in version 4 but for how they count idle time between values
    // (version 5 forgets by the gap beyond the sampling period only), so the two runs agree
    // to within minutes, not to the bit.
    expect(reference.map((p) => p.kind)).toEqual(['escalated']);
    expect(Math.abs(continued[0]!.ts - reference[0]!.ts)).toBeLessThan(15 * 60_000);
    expect(Math.abs(continued[0]!.predictedFailureTs! - reference[0]!.predictedFailureTs!)).toBeLessThan(15 * 60_000);
  });
});

describe('a version 5 state', () => {
  // The same refrigerator stored at the same minute by the version 5 core (8 histogram bins,
  // no level extremes): fixtures/fridge-state-v5.b64.
  const V5_BYTES = new Uint8Array(Buffer.from(readFileSync(new URL('./fixtures/fridge-state-v5.b64', import.meta.url), 'utf8'), 'base64'));
  const V5_SENSOR_SLOTS = SENSOR_HISTOGRAM + 9;
  const v5 = decodeState(V5_BYTES);
  const raw = new Float64Array(V5_BYTES.buffer.slice(V5_BYTES.length - 8 * (4 + 4 * V5_SENSOR_SLOTS + 2 * 19 + 2 * 7)));

  it('decodes with every statistic kept: the histogram re-binned with its mass, the level extremes at the all-time range', () => {
    expect(v5.version).toBe(STATE_VERSION);
    expect(v5.f.length).toBe(HEADER_SLOTS + 4 * SENSOR_SLOTS + 2 * 19 + 2 * 7);
    expect(Array.from(v5.f.subarray(HEADER_SLOTS + 4 * SENSOR_SLOTS))).toEqual(Array.from(raw.subarray(4 + 4 * V5_SENSOR_SLOTS)));
    for (let i = 0; i < 4; i++) {
      const from = 4 + i * V5_SENSOR_SLOTS;
      const to = sensorOffset(i);
      expect(Array.from(v5.f.subarray(to, to + SENSOR_HISTOGRAM))).toEqual(Array.from(raw.subarray(from, from + SENSOR_HISTOGRAM), atPrecision));
      expect(v5.f[to + SENSOR_READINGS]).toBeGreaterThan(13_000);
      const mass = relativeMass(v5.f, to + SENSOR_HISTOGRAM, HISTOGRAM_BINS);
      expect(Math.abs(mass / relativeMass(raw, from + SENSOR_HISTOGRAM, 8) - 1)).toBeLessThan(1e-6);
      expect([v5.f[to + SENSOR_LEVEL_LOW], v5.f[to + SENSOR_LEVEL_HIGH]]).toEqual([raw[from + SENSOR_MIN], raw[from + SENSOR_MAX]]);
    }
  });

  it('scores on without re-learning, and continues its open episode as a state scored from the start does', () => expectScoresOnUnbroken(v5));
});

describe('a version 6 state', () => {
  // The same refrigerator stored at the same minute by the version 6 core (every number
  // float64, no jump run): fixtures/fridge-state-v6.b64.
  const V6_BYTES = new Uint8Array(Buffer.from(readFileSync(new URL('./fixtures/fridge-state-v6.b64', import.meta.url), 'utf8'), 'base64'));
  const V6_SENSOR_SLOTS = SENSOR_JUMP_RUN;
  const rest = 2 * 19 + 2 * 7;
  const v6 = decodeState(V6_BYTES);
  const raw = new Float64Array(V6_BYTES.buffer.slice(V6_BYTES.length - 8 * (HEADER_SLOTS + 4 * V6_SENSOR_SLOTS + rest)));

  it('decodes with every statistic kept: 64-bit slots bit for bit, 32-bit ones rounded, histograms with their shape, a jump run learning', () => {
    expect(v6.version).toBe(STATE_VERSION);
    expect(v6.f.length).toBe(HEADER_SLOTS + 4 * SENSOR_SLOTS + rest);
    expect(Array.from(v6.f.subarray(0, HEADER_SLOTS))).toEqual(Array.from(raw.subarray(0, HEADER_SLOTS)));
    expect(Array.from(v6.f.subarray(HEADER_SLOTS + 4 * SENSOR_SLOTS))).toEqual(Array.from(raw.subarray(HEADER_SLOTS + 4 * V6_SENSOR_SLOTS)));
    for (let i = 0; i < 4; i++) {
      const o = sensorOffset(i);
      const from = HEADER_SLOTS + i * V6_SENSOR_SLOTS;
      expect(v6.f[o + SENSOR_READINGS]).toBeGreaterThan(13_000);
      for (let k = 0; k < V6_SENSOR_SLOTS; k++) {
        if (k >= SENSOR_HISTOGRAM && k <= SENSOR_HISTOGRAM + HISTOGRAM_BINS) continue;
        expect(v6.f[o + k], `sensor ${i} slot ${k}`).toBe(atPrecision(raw[from + k]!, k));
      }
      // The weights may have been scaled back below float32's range; their ratios hold.
      const h = o + SENSOR_HISTOGRAM;
      for (let b = 0; b < HISTOGRAM_BINS; b++) {
        const was = raw[from + SENSOR_HISTOGRAM + b]! / raw[from + SENSOR_HISTOGRAM + HISTOGRAM_BINS]!;
        expect(Math.abs(v6.f[h + b]! / v6.f[h + HISTOGRAM_BINS]! - was)).toBeLessThanOrEqual(1e-6 * was);
        expect(Math.fround(v6.f[h + b]!)).toBe(v6.f[h + b]);
      }
      expect(Array.from(v6.f.subarray(o + SENSOR_JUMP_RUN, o + SENSOR_SLOTS))).toEqual(new Array(SENSOR_SLOTS - SENSOR_JUMP_RUN).fill(0));
    }
  });

  it('scores on without re-learning, and continues its open episode as a state scored from the start does', () => expectScoresOnUnbroken(v6));
});

describe('a version 7 state', () => {
  // The same refrigerator stored at the same minute by the version 7 core (32-bit slots in 4
  // bytes, no run model of the shift, no step agreement): fixtures/fridge-state-v7.b64.
  const V7_BYTES = new Uint8Array(Buffer.from(readFileSync(new URL('./fixtures/fridge-state-v7.b64', import.meta.url), 'utf8'), 'base64'));
  const V7_SENSOR_SLOTS = SENSOR_SHIFT_RUNS;
  const v7 = decodeState(V7_BYTES);

  it('decodes with every statistic kept bit for bit, an empty run model and a step agreement learning', () => {
    expect(V7_BYTES[4]).toBe(7);
    expect(v7.version).toBe(STATE_VERSION);
    expect(v7.f.length).toBe(HEADER_SLOTS + 4 * SENSOR_SLOTS + 2 * 19 + 2 * 7);
    // The current core scored from the start to the same minute holds the same numbers in every
    // slot version 7 had (the run model and the step agreement feed none of them but the last
    // score) and in the trackers and episodes.
    const fresh = newState('fridge-0001-fixture', 'refrigerator', DEFAULT_CONFIG);
    run(fresh, 0, CUT);
    expect(V7_BYTES.length).toBe(encodeState(fresh).length - 4 * 4 * (SENSOR_SLOTS - V7_SENSOR_SLOTS));
    expect(Array.from(v7.f.subarray(0, HEADER_SLOTS))).toEqual(Array.from(fresh.f.subarray(0, HEADER_SLOTS)));
    expect(Array.from(v7.f.subarray(HEADER_SLOTS + 4 * SENSOR_SLOTS))).toEqual(Array.from(fresh.f.subarray(HEADER_SLOTS + 4 * SENSOR_SLOTS)));
    for (let i = 0; i < 4; i++) {
      const o = sensorOffset(i);
      expect(v7.f[o + SENSOR_READINGS]).toBeGreaterThan(13_000);
      // The last score may differ: the version 7 core had neither new evidence to score with.
      for (let k = 0; k < V7_SENSOR_SLOTS; k++) if (k !== SENSOR_SCORE) expect(v7.f[o + k], `sensor ${i} slot ${k}`).toBe(fresh.f[o + k]);
      expect(Array.from(v7.f.subarray(o + V7_SENSOR_SLOTS, o + SENSOR_SLOTS))).toEqual(new Array(SENSOR_SLOTS - V7_SENSOR_SLOTS).fill(0));
    }
  });

  it('scores on without re-learning, and continues its open episode as a state scored from the start does', () => expectScoresOnUnbroken(v7));
});

describe('the current encoding', () => {
  it('round-trips exactly and stores trackers as index pairs (smaller than names)', () => {
    const st = newState('fridge-0001-fixture', 'refrigerator', DEFAULT_CONFIG);
    run(st, 0, 2000);
    const bytes = encodeState(st);
    const back = decodeState(bytes);
    expect(back).toEqual({ ...st, version: STATE_VERSION });
    expect(encodeState(back)).toEqual(bytes);
    // Every 32-bit slot of a sensor block in 4 bytes, every other number in 8.
    const numbers = 8 * st.f.length - 4 * F32 * st.sensors.length;
    // Header and names before the numbers: version 4 spent 2 + length bytes a tracker name,
    // this one 4 bytes a tracker (either is then padded to 8 bytes).
    const names = st.pairs.reduce((n, p) => n + 2 + p.length, 0);
    const head = bytes.length - numbers;
    const v4Head = V4_BYTES.length - 8 * (4 + 4 * V4_SENSOR_SLOTS + 2 * 19 + 2 * 7);
    expect(Math.abs(head - (v4Head - names + 4 * st.pairs.length))).toBeLessThan(8);
  });

  it("decodes into the caller's arrays and the configuration's own name lists when given them, and scores on the same", () => {
    const st = newState('fridge-0001-fixture', 'refrigerator', DEFAULT_CONFIG);
    run(st, 0, 2000);
    const bytes = encodeState(st);
    const slab = new Float64Array(2 * st.f.length);
    const at = DEFAULT_CONFIG.assetTypes.get('refrigerator')!;
    const shared = decodeState(bytes, { numbers: (n) => slab.subarray(n, 2 * n), config: DEFAULT_CONFIG });
    expect(shared.f.buffer).toBe(slab.buffer);
    expect(shared.f.byteOffset).toBe(8 * st.f.length);
    expect(shared.sensors).toBe(at.sensorNames);
    expect(shared.modes).toBe(at.modeNames);
    expect(shared.pairs).toBe(at.pairNames);
    const own = decodeState(bytes);
    expect(own.sensors).not.toBe(at.sensorNames);
    expect({ ...shared, f: [...shared.f] }).toEqual({ ...own, f: [...own.f] });
    const steps = (x: AssetState) => fridgeReadings(2000, 2600).map((r) => score(x, r, DEFAULT_CONFIG)).map(({ state: _, ...step }) => step);
    expect(steps(shared)).toEqual(steps(own));
    expect(encodeState(shared)).toEqual(encodeState(own));
  });

  it('holds every 32-bit slot at float32 precision after any values, so the 4-byte encoding loses nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ min: -1e15, max: 1e15, noNaN: true }), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 700 }), (xs) => {
        const st = newState('g', 'generic', DEFAULT_CONFIG);
        xs.forEach((v, i) => score(st, { assetId: 'g', assetType: 'generic', ts: 1_000 * (i + 1), values: { v } }, DEFAULT_CONFIG));
        for (let k = 0; k < SENSOR_SLOTS; k++) if (SENSOR_SLOT_IS_FLOAT32[k]) expect(Math.fround(st.f[sensorOffset(0) + k]!)).toBe(st.f[sensorOffset(0) + k]);
        expect(decodeState(encodeState(st))).toEqual({ ...st, version: STATE_VERSION });
      }),
      { numRuns: 60 },
    );
  });

  it('writes and reads names in any UTF-8, as TextEncoder and TextDecoder do (lone surrogates as U+FFFD)', () => {
    const utf8 = (x: string) => new TextDecoder().decode(new TextEncoder().encode(x));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), (id, sensor) => {
        const st = newState(id, 'generic', DEFAULT_CONFIG);
        score(st, { assetId: id, assetType: 'generic', ts: 1_000, values: { [sensor]: 1.5 } }, DEFAULT_CONFIG);
        const bytes = encodeState(st);
        const back = decodeState(bytes);
        expect(back.assetId).toBe(utf8(id));
        expect(back.sensors).toEqual([utf8(sensor)]);
        const idBytes = new TextEncoder().encode(id);
        expect(new DataView(bytes.buffer).getUint16(6, true)).toBe(idBytes.length);
        expect([...bytes.subarray(8, 8 + idBytes.length)]).toEqual([...idBytes]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a tracker that is not one of its own mode/sensor pairs', () => {
    const st = newState('x', 'refrigerator', DEFAULT_CONFIG);
    expect(() => encodeState({ ...st, pairs: ['compressor_failure/door_sensor', st.pairs[1]!] })).toThrow(
      new RangeError('tracker "compressor_failure/door_sensor" is not "mode/sensor" of the state\'s own modes and sensors'),
    );
  });

  it('reports a tracker index out of range as a format error', () => {
    const st = newState('x', 'refrigerator', DEFAULT_CONFIG);
    const bytes = encodeState(st);
    const strings = (xs: readonly string[]): number => 2 + xs.reduce((n, s) => n + 2 + s.length, 0);
    const firstTracker = 4 + 2 + (2 + 1) + (2 + 'refrigerator'.length) + strings(st.sensors) + strings(st.modes) + 2;
    new DataView(bytes.buffer).setUint16(firstTracker, 9, true);
    expect(() => decodeState(bytes)).toThrow(new StateFormatError(`cannot decode asset state: tracker index out of range at byte ${firstTracker + 4}`));
  });
});
