/**
 * The fleet simulator is deterministic, its readings arrive in time order (except injected
 * out-of-order deliveries), and its ground truth is exact: the degraded sensor approaches
 * the limit and reaches it at failureTs, the asset is silent until repairTs, and a
 * maintenance event precedes its next reading.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/index.ts';
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
