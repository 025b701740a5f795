/**
 * The fleet simulator is deterministic, its readings arrive in time order (except injected
 * out-of-order deliveries), and its ground truth is exact: the degraded sensor approaches
 * the limit and reaches it at failureTs, the asset is silent until repairTs, and a
 * maintenance event precedes its next reading.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/index.ts';
import type { Reading } from '../core/types.ts';
import { createFleet, type FleetEvent } from './fleet.ts';

const T0 = Date.UTC(2026, 0, 5);
// 25 days: a week of learning, then room for degradations of up to 10 days.
const opts = { seed: 42, assetsPerType: 2, startTs: T0, days: 25, failureShare: 1, qualityFaultShare: 0.5 };

describe('createFleet', () => {
  const fleet = createFleet(opts, DEFAULT_CONFIG);
  const events: FleetEvent[] = [...fleet.events()];

  it('is deterministic for a seed and differs across seeds', () => {
    const again = [...createFleet(opts, DEFAULT_CONFIG).events()];
    expect(JSON.stringify(again)).toBe(JSON.stringify(events));
    const first = createFleet({ ...opts, seed: 43, days: 1 }, DEFAULT_CONFIG).readings()[Symbol.iterator]().next().value!;
    expect(first.values).not.toEqual(fleet.readings()[Symbol.iterator]().next().value!.values);
  });

  it('names assets per type and injects a failure on every asset', () => {
    expect(fleet.assets.map((a) => a.assetId).slice(0, 5)).toEqual([
      'passenger_ev-0001',
      'delivery_van-0001',
      'refrigerator-0001',
      'washing_machine-0001',
      'hvac_unit-0001',
    ]);
    for (const a of fleet.assets) expect(a.failures).toHaveLength(1);
  });

  it('delivers in time order except injected out-of-order readings', () => {
    const late = new Set(fleet.assets.flatMap((a) => a.qualityFaults.filter((q) => q.kind === 'out_of_order').map((q) => a.assetId)));
    let last = -Infinity;
    for (const e of events) {
      const ts = e.type === 'reading' ? e.reading.ts : e.event.ts;
      if (ts < last) expect(e.type === 'reading' && late.has(e.reading.assetId)).toBe(true);
      last = Math.max(last, ts);
    }
  });

  it('has exact ground truth: the sensor nears the limit at failureTs, silence until repair, then maintenance', () => {
    for (const a of fleet.assets) {
      const f = a.failures[0]!;
      const mode = DEFAULT_CONFIG.assetTypes.get(a.assetType)!.failureModes.find((m) => m.name === f.failureMode)!;
      const mine = events.filter((e) => (e.type === 'reading' ? e.reading.assetId : e.event.assetId) === a.assetId);
      const readings = mine.flatMap((e) => (e.type === 'reading' ? [e.reading] : []));
      expect(readings.some((r) => r.ts >= f.failureTs && r.ts < f.repairTs)).toBe(false);
      const mi = mine.findIndex((e) => e.type === 'maintenance');
      expect(mine[mi]).toEqual({ type: 'maintenance', event: { assetId: a.assetId, ts: f.repairTs, failureMode: f.failureMode } });
      const next = mine[mi + 1];
      if (next) expect(next.type === 'reading' && next.reading.ts >= f.repairTs).toBe(true);
      // Intermittent signals (a valve's flow, a running engine's oil pressure) show the
      // degradation only while active, which need not be the last minutes: skip those here.
      if (mode.activeAbove !== undefined || mode.activeBelow !== undefined) continue;
      const before = readings.filter((r) => r.ts < f.failureTs && r.ts > f.failureTs - 6 * 3_600_000).map((r) => r.values[f.sensor]).filter((v): v is number => v !== undefined && Number.isFinite(v));
      expect(before.length).toBeGreaterThan(0);
      const closest = Math.min(...before.map((v) => Math.abs(v - mode.limit)));
      const range = DEFAULT_CONFIG.assetTypes.get(a.assetType)!.sensors.find((s) => s.name === f.sensor)!;
      expect(closest / (range.max - range.min)).toBeLessThan(0.02);
    }
  });
});

describe('engine wear on a van', () => {
  // Oil and water pumps wear only while the engine turns: the degradation pauses while the
  // van is parked, and the failure comes while the engine runs, not in the night.
  const vans = createFleet(
    { seed: 7, assetsPerType: 40, assetTypes: ['delivery_van'], startTs: T0, days: 20, failureShare: 1, qualityFaultShare: 0 },
    DEFAULT_CONFIG,
  );
  const engine = new Set(['oil_pressure_loss', 'coolant_overheating']);
  const failures = vans.assets.flatMap((a) => a.failures.filter((f) => engine.has(f.failureMode)).map((f) => ({ a, f })));
  const firstIn = new Map<string, Reading>();
  const lastBefore = new Map<string, Reading>();
  const onReadings = new Map<string, Reading[]>(); // engine-on readings in the degradation
  for (const r of vans.readings()) {
    const f = failures.find((x) => x.a.assetId === r.assetId)?.f;
    if (!f || r.ts < f.degradationStartTs || r.ts >= f.failureTs) continue;
    if (!firstIn.has(r.assetId)) firstIn.set(r.assetId, r);
    lastBefore.set(r.assetId, r);
    if ((r.values.engine_speed_rpm ?? 0) >= 600) (onReadings.get(r.assetId) ?? onReadings.set(r.assetId, []).get(r.assetId)!).push(r);
  }

  it('starts and fails while the engine runs, with the degraded sensor at the limit at the end', () => {
    expect(failures.length).toBeGreaterThan(10);
    let seenStart = 0;
    for (const { a, f } of failures) {
      // The start may fall in a connectivity gap; when a reading follows soon, the engine runs.
      const first = firstIn.get(a.assetId)!;
      if (first.ts - f.degradationStartTs < 30 * 60_000) {
        seenStart++;
        expect(first.values.engine_speed_rpm).toBeGreaterThan(0);
      }
      const r = lastBefore.get(a.assetId)!;
      expect(f.failureTs - r.ts).toBeLessThan(30 * 60_000);
      expect(r.values.engine_speed_rpm).toBeGreaterThanOrEqual(600); // the engine runs
      const limit = f.failureMode === 'oil_pressure_loss' ? 100 : 115;
      expect(Math.abs(r.values[f.sensor]! - limit)).toBeLessThan(8);
    }
    expect(seenStart).toBeGreaterThan(0.8 * failures.length);
  });

  it('pauses while parked: the oil pressure drops no more over a night than over the same driving by day', () => {
    // Engine-on readings come a minute apart. Across a park of 8 h or more, compare the mean
    // of the last hour of driving before it with the hour that starts 30 min after (the
    // coolant warm again); by day, the same 90 min of driving apart without the park. Wear
    // in wall time would add a tenth to a third of the way to the limit over each night.
    const excess: number[] = [];
    const mean = (xs: Reading[]): number => xs.reduce((s, r) => s + r.values.oil_pressure_kpa!, 0) / xs.length;
    for (const { a, f } of failures) {
      if (f.failureMode !== 'oil_pressure_loss') continue;
      const on = onReadings.get(a.assetId) ?? [];
      for (let i = 150; i + 90 <= on.length; i++) {
        if (on[i]!.ts - on[i - 1]!.ts < 8 * 3_600_000) continue;
        const spread = (from: number, to: number): number => on[to - 1]!.ts - on[from]!.ts;
        // Each window must be one stretch of driving (no other park inside).
        if (spread(i - 150, i - 90) > 2 * 3_600_000 || spread(i - 60, i) > 2 * 3_600_000 || spread(i + 30, i + 90) > 2 * 3_600_000) continue;
        const earlier = mean(on.slice(i - 150, i - 90));
        const before = mean(on.slice(i - 60, i));
        const after = mean(on.slice(i + 30, i + 90));
        excess.push(before - after - (earlier - before));
      }
    }
    expect(excess.length).toBeGreaterThan(10);
    expect(excess.reduce((s, d) => s + d, 0) / excess.length).toBeLessThan(12);
  });
});
