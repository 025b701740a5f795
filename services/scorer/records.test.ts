import { describe, expect, it } from 'vitest';
import { dueForCheckpoint } from './checkpoints.ts';
import { splitBySize } from './partition-transactions.ts';
import { maintenanceProblem, RECORD_LIMITS, validMaintenance, validReading } from './records.ts';
import { DEFAULT_CONFIG, newState } from '../core/index.ts';

/** A plausible sample time (2026-01-05). */
const T = Date.UTC(2026, 0, 5);

const msg = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes) });

describe('splitBySize', () => {
  it('keeps every message, in order, and no request over the limit', () => {
    const input = [
      { topic: 'a', messages: [msg(300), msg(300), msg(300)] },
      { topic: 'b', messages: [msg(100), msg(600)] },
    ];
    const out = splitBySize(input, 700);
    const sizes = out.map((req) => req.reduce((n, t) => n + t.messages.reduce((k, m) => k + (m.value as Buffer).length + 1, 0), 0));
    expect(sizes.every((s) => s <= 700)).toBe(true);
    const flat = out.flatMap((req) => req.flatMap((t) => t.messages.map((m) => `${t.topic}:${(m.value as Buffer).length}`)));
    expect(flat).toEqual(['a:300', 'a:300', 'a:300', 'b:100', 'b:600']);
    expect(out).toHaveLength(3);
  });
  it('sends a single oversized message alone rather than dropping it', () => {
    const out = splitBySize([{ topic: 'a', messages: [msg(10), msg(5000), msg(10)] }], 100);
    expect(out.map((r) => r[0]!.messages.length)).toEqual([1, 1, 1]);
  });
});

describe('validReading', () => {
  it('names what is wrong', () => {
    expect(validReading({ assetId: '', assetType: 'x', ts: 1, values: {} })).toBe('assetId is empty');
    expect(validReading({ assetId: 'a', assetType: 'x', ts: -5, values: {} })).toBe('ts -5 is not a positive epoch-ms time');
    // The changelog's checkpoint marker key starts with NUL: no asset id may look like it.
    expect(validReading({ assetId: '\u0000checkpoint', assetType: 'x', ts: T, values: {} })).toBe('assetId "\\u0000checkpoint" contains control characters');
    expect(validReading({ assetId: 'a', assetType: 'x', ts: T, values: {} })).toEqual({ assetId: 'a', assetType: 'x', ts: T, values: {} });
  });

  it('refuses what exceeds a limit, naming the limit (absurd records from the poison tests)', () => {
    const r = (over: Record<string, unknown>) => ({ assetId: 'a', assetType: 'x', ts: T, values: { s: 1 }, ...over });
    expect(validReading(r({ assetId: 'x'.repeat(100_000) }))).toBe(`assetId of 100000 characters exceeds the limit of ${RECORD_LIMITS.assetIdChars}`);
    expect(validReading(r({ assetType: 't'.repeat(65) }))).toBe(`assetType of 65 characters exceeds the limit of ${RECORD_LIMITS.nameChars}`);
    const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`s${i}`, i]));
    expect(validReading(r({ values: many }))).toBe(`reading carries 20000 values; the limit is ${RECORD_LIMITS.values}`);
    expect(validReading(r({ values: { ['n'.repeat(100)]: 1 } }))).toBe(`sensor name "${'n'.repeat(40)}"… is empty or longer than ${RECORD_LIMITS.sensorNameChars} characters`);
    expect(validReading(r({ values: { '': 1 } }))).toBe(`sensor name "" is empty or longer than ${RECORD_LIMITS.sensorNameChars} characters`);
    expect(validReading(r({ ts: 1_764_576_000 }))).toBe('ts 1764576000 is before 2000-01-01: ts is epoch milliseconds UTC (epoch seconds times 1000), and the device clock must be set');
    // The future is judged against the Kafka record's timestamp, so a replay decides the same.
    expect(validReading(r({ ts: T + 25 * 3_600_000 }), T)).toBe(`ts ${new Date(T + 25 * 3_600_000).toISOString()} is 25.0 h ahead of its Kafka record's timestamp (limit 24 h)`);
    expect(validReading(r({ ts: 32_503_680_000_000 }), T)).toMatch(/^ts 3000-01-01T00:00:00\.000Z is \d+\.\d h ahead of its Kafka record's timestamp/);
    expect(validReading(r({ ts: T + 3_600_000 }), T)).toEqual(r({ ts: T + 3_600_000 }));
    expect(validMaintenance({ assetId: 'v', ts: T, failureMode: 'm'.repeat(65) })).toBe(`failureMode of 65 characters exceeds the limit of ${RECORD_LIMITS.nameChars}`);
  });
});

describe('dueForCheckpoint', () => {
  // Assets a..e first changed at t = 0, 1, 2, 30, 31 s, at offsets 0, 10, 20, 300, 310.
  const dirty = new Map([
    ['a', { at: 0, offset: 0 }],
    ['b', { at: 1_000, offset: 10 }],
    ['c', { at: 2_000, offset: 20 }],
    ['d', { at: 30_000, offset: 300 }],
    ['e', { at: 31_000, offset: 310 }],
  ]);
  it('takes the oldest states due after the interval, in first-change order', () => {
    expect(dueForCheckpoint(dirty, 11_500, 320, 100, 10_000, 50_000)).toEqual(['a', 'b']);
    expect(dueForCheckpoint(dirty, 9_999, 320, 100, 10_000, 50_000)).toEqual([]);
  });
  it('counts readings too: a state far behind the partition is due early', () => {
    expect(dueForCheckpoint(dirty, 5_000, 315, 100, 10_000, 300)).toEqual(['a', 'b']);
  });
  it('takes at most `limit` states that are merely due, but always the overdue ones', () => {
    // At 14.5 s: a, b and c are due, none overdue (1.5 × 10 s = 15 s): the limit of 1 holds.
    expect(dueForCheckpoint(dirty, 14_500, 320, 1, 10_000, 50_000)).toEqual(['a']);
    // At 16.5 s: a and b are overdue, c (14.5 s) is merely due and over the limit of 1.
    expect(dueForCheckpoint(dirty, 16_500, 320, 1, 10_000, 50_000)).toEqual(['a', 'b']);
    expect(dueForCheckpoint(dirty, 16_500, 320, 3, 10_000, 50_000)).toEqual(['a', 'b', 'c']);
  });
});

describe('maintenance events', () => {
  it('maps the Avro record to the core shape and names what is wrong', () => {
    expect(validMaintenance({ assetId: 'v', ts: T, failureMode: null, sensors: null, source: 'x' })).toEqual({ assetId: 'v', ts: T });
    expect(validMaintenance({ assetId: 'v', ts: T, failureMode: 'm', sensors: ['s'], source: 'x' })).toEqual({ assetId: 'v', ts: T, failureMode: 'm', sensors: ['s'] });
    expect(validMaintenance({ assetId: ' ', ts: T })).toBe('assetId is empty');
    expect(validMaintenance({ assetId: 'v', ts: 0 })).toBe('ts 0 is not a positive epoch-ms time');
  });
  it('refuses a failure mode or sensor the asset type does not have', () => {
    const state = newState('F-1', 'refrigerator', DEFAULT_CONFIG);
    const mode = state.modes[0]!;
    expect(maintenanceProblem(state, { assetId: 'F-1', ts: 1, failureMode: mode })).toBeUndefined();
    expect(maintenanceProblem(state, { assetId: 'F-1', ts: 1 })).toBeUndefined();
    expect(maintenanceProblem(state, { assetId: 'F-1', ts: 1, failureMode: 'warp_core_breach', sensors: ['flux_capacitor'] })).toBe(
      `maintenance event for F-1: failure mode "warp_core_breach" is not configured for asset type refrigerator (modes: ${state.modes.join(', ')}); sensor "flux_capacitor" is not a sensor of asset F-1 (${state.sensors.join(', ')})`,
    );
  });
});
