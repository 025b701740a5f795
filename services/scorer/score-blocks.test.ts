/**
 * The scorer's columnar score blocks: what the core said about each reading survives the
 * trip through the block and back (blockScores) exactly, the raw values travel as received
 * (out-of-range and unknown sensors included), large chunks are sliced in order, and the
 * Avro schema accepts what the builder makes.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, newState, score, type Reading } from '../core/index.ts';
import { loadSchemaText } from '../kafka/codec.ts';
import { blockScores } from '../kafka/records.ts';
import { scoreRecord } from './records.ts';
import { MAX_BLOCK_BYTES, MAX_READINGS_PER_BLOCK, ScoreBlocks } from './score-blocks.ts';

const cfg = DEFAULT_CONFIG;
const blockType = avro.Type.forSchema(JSON.parse(loadSchemaText('scoreBlock')) as avro.Schema);

function fridgeReadings(assetId: string, count: number): Reading[] {
  const state = newState(assetId, 'refrigerator', cfg);
  const base = Date.UTC(2026, 0, 5);
  return Array.from({ length: count }, (_, i) => ({
    assetId,
    assetType: 'refrigerator',
    ts: base + i * 60_000,
    values: Object.fromEntries(state.sensors.map((s, k) => [s, 3 + k + Math.sin(i / 7 + k)])),
  }));
}

describe('ScoreBlocks', () => {
  it('round-trips every score record the core produced, through Avro, in reading order', () => {
    const blocks = new ScoreBlocks(cfg.version);
    const expected: ReturnType<typeof scoreRecord>[] = [];
    let state = newState('F-1', 'refrigerator', cfg);
    const readings = fridgeReadings('F-1', 400);
    // Bad input on the way: NaN, an out-of-range value, a sensor the type does not have.
    const set = (i: number, sensor: string, v: number) => (readings[i] = { ...readings[i]!, values: { ...readings[i]!.values, [sensor]: v } });
    set(100, state.sensors[0]!, Number.NaN);
    set(101, state.sensors[1]!, 1e9);
    set(102, 'door_open_count', 3);
    for (const r of readings) {
      const step = score(state, r, cfg);
      state = step.state;
      blocks.addReading(r, step, state.sensors);
      expected.push(scoreRecord(r, step, cfg.version));
    }
    const [block, ...rest] = blocks.records();
    expect(rest).toEqual([]);
    const decoded = blockType.fromBuffer(blockType.toBuffer(block)) as typeof block;
    const got = blockScores(decoded!);
    // NaN !== NaN: compare through a representation that keeps NaN distinct from a number.
    const show = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v));
    expect(show(got)).toBe(show(expected));
    expect(expected.some((e) => e.findings.length > 0)).toBe(true);
    expect(expected.some((e) => e.sensors.some((s) => s.learning))).toBe(true);
    // Raw values as received, the unknown sensor as its own column.
    expect(decoded!.columns).toEqual([...state.sensors, 'door_open_count']);
    expect(decoded!.readings[101]!.values[1]).toBe(1e9);
    expect(decoded!.readings[102]!.values[state.sensors.length]).toBe(3);
    expect(decoded!.readings[0]!.values[state.sensors.length]).toBeNaN();
  });

  it('slices an asset\'s readings into blocks of at most MAX_READINGS_PER_BLOCK, in order, maintenance on the last', () => {
    const blocks = new ScoreBlocks(cfg.version);
    let state = newState('F-2', 'refrigerator', cfg);
    const readings = fridgeReadings('F-2', MAX_READINGS_PER_BLOCK * 2 + 3);
    for (const r of readings) {
      const step = score(state, r, cfg);
      state = step.state;
      blocks.addReading(r, step, state.sensors);
    }
    blocks.addMaintenance('refrigerator', state.sensors, { assetId: 'F-2', ts: readings.at(-1)!.ts + 1, failureMode: state.modes[0]! }, 'field-service');
    const out = blocks.records();
    expect(out.map((b) => b.readings.length)).toEqual([MAX_READINGS_PER_BLOCK, MAX_READINGS_PER_BLOCK, 3]);
    expect(out.flatMap((b) => b.readings.map((r) => r.ts))).toEqual(readings.map((r) => r.ts));
    expect(out.map((b) => b.maintenance.length)).toEqual([0, 0, 1]);
    expect(out[2]!.maintenance[0]).toEqual({ ts: readings.at(-1)!.ts + 1, failureMode: state.modes[0]!, sensors: null, source: 'field-service' });
    for (const b of out) expect(blockType.isValid(b)).toBe(true);
  });

  it('keeps every block record under MAX_BLOCK_BYTES when each reading names other sensors', () => {
    const blocks = new ScoreBlocks(cfg.version);
    let state = newState('F-3', 'refrigerator', cfg);
    const readings = fridgeReadings('F-3', 60).map((r, i) => ({
      ...r,
      values: { ...r.values, ...Object.fromEntries(Array.from({ length: 250 }, (_, k) => [`junk_${i}_${k}`, k])) },
    }));
    for (const r of readings) {
      const step = score(state, r, cfg);
      state = step.state;
      blocks.addReading(r, step, state.sensors);
    }
    const out = blocks.records();
    expect(out.length).toBeGreaterThan(1);
    for (const b of out) expect(blockType.toBuffer(b).length).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
    expect(out.flatMap((b) => b.readings.map((r) => r.ts))).toEqual(readings.map((r) => r.ts));
  });

  it('keeps assets apart, in first-seen order', () => {
    const blocks = new ScoreBlocks(cfg.version);
    const a = fridgeReadings('A', 2);
    const b = fridgeReadings('B', 1);
    for (const r of [a[0]!, b[0]!, a[1]!]) {
      const st = newState(r.assetId, 'refrigerator', cfg);
      blocks.addReading(r, score(st, r, cfg), st.sensors);
    }
    expect(blocks.records().map((x) => [x.assetId, x.readings.length])).toEqual([['A', 2], ['B', 1]]);
  });
});
