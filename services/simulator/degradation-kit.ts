/**
 * Test support for the failure trackers' ablation tests: one healthy simulated asset whose
 * sensor is mixed toward a limit over a known window, and the lead share at which a
 * configuration first raises the mode. Pure; used by *.test.ts files only.
 */
import { DEFAULT_CONFIG, newState, score, type CompiledConfig, type Reading } from '../core/index.ts';
import { createFleet } from './fleet.ts';

/** Start of the simulated fortnight, epoch ms. */
export const KIT_T0 = Date.UTC(2026, 0, 5);
export const HOUR = 3_600_000;

/**
 * Readings of one healthy `type` asset over 14 days whose `sensor` values mix toward `limit`
 * from `start` over `length` ms as v·(1−k) + limit·k with k = share^1.25; with `activeAbove`,
 * only values above it are mixed (the machine's working phase).
 */
export function degradedReadings(
  type: string,
  seed: number,
  sensor: string,
  limit: number,
  start: number,
  length: number,
  activeAbove = -Infinity,
): Reading[] {
  const fleet = createFleet({ seed, assetsPerType: 1, assetTypes: [type], startTs: KIT_T0, days: 14, failureShare: 0, qualityFaultShare: 0 }, DEFAULT_CONFIG);
  return [...fleet.readings()].map((r) => {
    const v = r.values[sensor];
    if (v === undefined || r.ts < start || r.ts >= start + length || !(v > activeAbove)) return r;
    const k = ((r.ts - start) / length) ** 1.25;
    return { ...r, values: { ...r.values, [sensor]: v * (1 - k) + limit * k } };
  });
}

/** Share of the degradation left when `mode` is first raised: 0 when never, −1 when before it started. */
export function leadShare(readings: Reading[], cfg: CompiledConfig, mode: string, start: number, length: number): number {
  const r0 = readings[0]!;
  const st = newState(r0.assetId, r0.assetType, cfg);
  for (const r of readings) {
    const raised = score(st, r, cfg).predictions.find((p) => p.kind === 'raised' && p.failureMode === mode);
    if (raised) return raised.ts < start ? -1 : 1 - (raised.ts - start) / length;
  }
  return 0;
}
