/**
 * The scorer's pure per-record step (step.ts): outputs, dead letters and the replay rules,
 * without Kafka. The replay tests carry maintenance events: re-applying a repair that a
 * restored state already holds changes the state (its baselines re-learn again), so a
 * replay that did not skip it would diverge from the run that never stopped.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, decodeState, encodeState, newState, type Reading } from '../core/index.ts';
import { PoisonRecordError } from '../runtime/errors.ts';
import { newPartitionState, sweepExpired } from './partition-state.ts';
import { applyChunk, emptyChunkResult, type StepInput } from './step.ts';

const cfg = DEFAULT_CONFIG;
const ASSET = 'FRIDGE-7';
const sensors = newState(ASSET, 'refrigerator', cfg).sensors;
const mode = newState(ASSET, 'refrigerator', cfg).modes[0]!;

const src = (offset: number) => ({ topic: 'r', partition: 0, offset: String(offset), key: Buffer.from(ASSET), value: Buffer.from([offset]) });

function reading(i: number, values?: Record<string, number>): Reading {
  return {
    assetId: ASSET,
    assetType: 'refrigerator',
    ts: Date.UTC(2026, 0, 5) + i * 60_000,
    values: values ?? Object.fromEntries(sensors.map((s, k) => [s, 4 + k + Math.sin(i / 9 + k) * 0.5])),
  };
}

/** Readings at offsets 0..n-1, with a repair of the first failure mode at `repairAt`. */
function stream(n: number, repairAt: number): StepInput[] {
  return Array.from({ length: n }, (_, offset): StepInput =>
    offset === repairAt
      ? { kind: 'repair', event: { assetId: ASSET, ts: reading(offset).ts - 30_000, failureMode: mode }, source: 'field-service', offset, src: src(offset), recordTs: reading(offset).ts }
      : { kind: 'reading', reading: reading(offset), offset, src: src(offset), recordTs: reading(offset).ts },
  );
}

const bytes = (part: ReturnType<typeof newPartitionState>) => Buffer.from(encodeState(part.states.get(ASSET)!)).toString('base64');

describe('applyChunk', () => {
  it('scores readings into blocks, applies a repair, and marks the asset dirty at its first change', () => {
    const part = newPartitionState(0);
    const out = applyChunk(part, stream(400, 300), cfg, 1_000);
    expect(out.counts.readings).toBe(399);
    expect(out.counts.maintenance.get('applied')).toBe(1);
    const [block] = out.blocks.records();
    expect(block!.readings).toHaveLength(399);
    expect(block!.maintenance).toEqual([{ ts: reading(300).ts - 30_000, failureMode: mode, sensors: null, source: 'field-service' }]);
    expect(part.dirty.get(ASSET)).toEqual({ at: 1_000, offset: 0 });
    expect(out.deadLetters).toEqual([]);
  });

  it('gives the same outputs and state when a chunk is applied slice by slice into one result', () => {
    const all = stream(400, 300);
    const whole = newPartitionState(0);
    const once = applyChunk(whole, all, cfg, 1_000);
    const sliced = newPartitionState(0);
    const into = emptyChunkResult(cfg);
    for (let i = 0; i < all.length; i += 128) expect(applyChunk(sliced, all.slice(i, i + 128), cfg, 1_000, Infinity, into)).toBe(into);
    expect(into.blocks.records()).toEqual(once.blocks.records());
    expect(into.counts).toEqual(once.counts);
    expect(into.predictions).toEqual(once.predictions);
    expect(bytes(sliced)).toBe(bytes(whole));
    expect(sliced.dirty).toEqual(whole.dirty);
  });

  it('replays without output, skipping what the restored state holds, and ends in the state of the run that never stopped', () => {
    const all = stream(600, 450);
    // The run that never stopped.
    const straight = newPartitionState(0);
    applyChunk(straight, all, cfg, 0);

    // A checkpoint written after offset 500 (it holds the repair), the partition's marker at
    // 420 (another asset was dirty since then), the group committed up to 600.
    const upTo500 = newPartitionState(0);
    applyChunk(upTo500, all.slice(0, 501), cfg, 0);
    // Restored as a restore leaves it: encoded, decoded at the asset's first record.
    const restored = newPartitionState(0, new Map(), new Map(), new Map([[ASSET, encodeState(upTo500.states.get(ASSET)!)]]));
    restored.replayUntil = 600n;
    restored.restoredOffsets = new Map([[ASSET, 500]]);
    expect([restored.states.size, restored.stored.size]).toEqual([0, 1]);
    const out = applyChunk(restored, all.slice(420), cfg, 0);
    expect([restored.states.size, restored.stored.size]).toEqual([1, 0]);
    expect(out.blocks.size).toBe(0);
    expect(out.predictions).toEqual([]);
    expect(out.counts.readings).toBe(0);
    expect(out.counts.replayed).toBe(99); // offsets 501..599
    expect(bytes(restored)).toBe(bytes(straight));

    // The same replay without the skip applies the repair a second time: the states part.
    const careless = newPartitionState(0, new Map([[ASSET, decodeState(encodeState(upTo500.states.get(ASSET)!))]]));
    careless.replayUntil = 600n;
    applyChunk(careless, all.slice(420), cfg, 0);
    expect(bytes(careless)).not.toBe(bytes(straight));
  });

  it('dead-letters poison, unknown asset types and invalid maintenance, and scores a reading with a bad value on the rest', () => {
    const part = newPartitionState(0);
    applyChunk(part, stream(50, -1), cfg, 0);
    const bad = reading(60, { ...reading(60).values, [sensors[0]!]: 1e9 });
    const inputs: StepInput[] = [
      { kind: 'poison', error: new PoisonRecordError('bytes are not a valid record of schema id 3', 'malformed_avro'), offset: 50, src: src(50), recordTs: 0 },
      { kind: 'reading', reading: { ...reading(51), assetId: 'X-1', assetType: 'warp_drive' }, offset: 51, src: src(51), recordTs: 0 },
      { kind: 'repair', event: { assetId: ASSET, ts: reading(52).ts, failureMode: 'warp_core_breach' }, source: 'x', offset: 52, src: src(52), recordTs: 0 },
      { kind: 'repair', event: { assetId: 'NEVER-SEEN', ts: reading(53).ts }, source: 'x', offset: 53, src: src(53), recordTs: 0 },
      { kind: 'reading', reading: bad, offset: 54, src: src(54), recordTs: 0 },
    ];
    const out = applyChunk(part, inputs, cfg, 0);
    expect(out.deadLetters.map((d) => [d.src.offset, d.error.reason, d.error.message])).toEqual([
      ['50', 'malformed_avro', 'r[0]@50: decode record'],
      ['51', 'unknown_asset_type', expect.stringMatching(/^r\[0\]@51: .*warp_drive/)],
      ['52', 'invalid_record', expect.stringMatching(/^r\[0\]@52: maintenance event for FRIDGE-7: failure mode "warp_core_breach" is not configured/)],
      ['54', 'invalid_value', expect.stringMatching(new RegExp(`^r\\[0\\]@54: ${sensors[0]}: value 1000000000 outside physical range`))],
    ]);
    expect(out.counts.maintenance.get('no_state')).toBe(1);
    expect(out.counts.readings).toBe(1);
    const [block] = out.blocks.records();
    // The bad value travels as received; its sensor is not scored.
    expect(block!.readings[0]!.values[0]).toBe(1e9);
    expect(block!.readings[0]!.scores[0]).toBeNaN();
    expect(part.states.has('X-1')).toBe(false);
  });

  it('writes no dead letter again for poison met during a replay', () => {
    const part = newPartitionState(0);
    part.replayUntil = 10n;
    const out = applyChunk(part, [{ kind: 'poison', error: new PoisonRecordError('bad', 'malformed_avro'), offset: 3, src: src(3), recordTs: 0 }], cfg, 0);
    expect(out.deadLetters).toEqual([]);
  });

  it('expires an asset silent past the TTL by record time: its next reading starts a fresh state, and a sweep removes it', () => {
    const ttl = 3_600_000;
    const inputs = stream(300, -1);
    const part = newPartitionState(0);
    applyChunk(part, inputs.slice(0, 200), cfg, 0, ttl);
    expect(part.lastSeen.get(ASSET)).toBe(reading(199).ts);
    // Another asset keeps the partition's clock going; ours is silent for two hours.
    const other = (i: number): StepInput => ({ kind: 'reading', reading: { ...reading(i), assetId: 'OTHER-1' }, offset: 1_000 + i, src: src(1_000 + i), recordTs: reading(i).ts });
    applyChunk(part, [other(320)], cfg, 0, ttl);
    expect(sweepExpired(part, ttl)).toEqual([ASSET]);
    expect(part.states.has(ASSET)).toBe(false);
    expect(part.states.has('OTHER-1')).toBe(true);

    // Without the sweep the outcome is the same: the next reading finds the state expired.
    const lazy = newPartitionState(0);
    applyChunk(lazy, inputs.slice(0, 200), cfg, 0, ttl);
    const late = { ...inputs[250]!, recordTs: reading(199).ts + ttl + 1 } as StepInput;
    const out = applyChunk(lazy, [late], cfg, 0, ttl);
    expect(out.counts.expired).toBe(1);
    const fresh = newPartitionState(0);
    applyChunk(fresh, [late], cfg, 0, ttl);
    expect(bytes(lazy)).toBe(bytes(fresh));

    // A restored state not decoded yet expires alike, by sweep or at its next reading.
    const storedOnly = () => newPartitionState(0, new Map(), new Map([[ASSET, reading(199).ts]]), new Map([[ASSET, encodeState(part2.states.get(ASSET)!)]]));
    const part2 = newPartitionState(0);
    applyChunk(part2, inputs.slice(0, 200), cfg, 0, ttl);
    const swept = storedOnly();
    swept.clockMs = reading(199).ts + ttl + 1;
    expect(sweepExpired(swept, ttl)).toEqual([ASSET]);
    expect([swept.states.size, swept.stored.size]).toEqual([0, 0]);
    const unswept = storedOnly();
    expect(applyChunk(unswept, [late], cfg, 0, ttl).counts.expired).toBe(1);
    expect(bytes(unswept)).toBe(bytes(fresh));
  });
});
