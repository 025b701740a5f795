/**
 * Benchmark fixtures: realistic, seeded passenger-EV readings (8 sensors, one per minute)
 * for several assets, built before any timing starts. The signals have what the core meets
 * in the field (noise, a daily temperature cycle, driving and charging phases, tire pressure
 * following temperature) so the benchmark times the detector's usual path, not a flat line
 * that some branch could short-circuit.
 */
import type { Reading } from '../../services/core/types.ts';
import { Rng } from '../../services/simulator/prng.ts';

/** Sample period of the fixtures, ms (the default configuration's samplePeriodSec is 60). */
export const SAMPLE_PERIOD_MS = 60_000;

/** First timestamp of every fixture series: 2026-01-05T00:00:00Z. */
export const FIXTURE_START_MS = Date.UTC(2026, 0, 5);

/** The 8 sensors of passenger_ev in the default configuration. */
export const EV_SENSORS = [
  'battery_cell_temp_c',
  'battery_soc_pct',
  'pack_voltage_v',
  'motor_temp_c',
  'tire_pressure_fl_kpa',
  'tire_pressure_fr_kpa',
  'tire_pressure_rl_kpa',
  'tire_pressure_rr_kpa',
] as const;

/** Uniform [0, 1) draws of a seeded stream (the simulator's mulberry32): deterministic fixtures. */
export function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** Standard normal from a uniform source (Box-Muller). */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Builds `count` consecutive readings of one healthy passenger_ev, starting at reading
 * `offset` of the asset's timeline (so later batches continue the same series in time).
 * @param assetIndex selects the asset's id, seed and personal offsets
 */
export function evReadings(assetIndex: number, offset: number, count: number): Reading[] {
  const rand = prng(0x9e3779b1 ^ (assetIndex * 7919 + offset * 31));
  const assetId = `bench-ev-${String(assetIndex).padStart(7, '0')}`;
  const ambientBase = 8 + (assetIndex % 13);
  const tireBase = 235 + (assetIndex % 7) * 3;
  const out: Reading[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const i = offset + k;
    const ts = FIXTURE_START_MS + i * SAMPLE_PERIOD_MS;
    const hourOfDay = (i / 60) % 24;
    const ambient = ambientBase + 6 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI);
    // Two drives a day (07-08h, 17-18h) and a charge at night (01-04h).
    const driving = (hourOfDay >= 7 && hourOfDay < 8) || (hourOfDay >= 17 && hourOfDay < 18);
    const charging = hourOfDay >= 1 && hourOfDay < 4;
    const dayPhase = hourOfDay < 1 ? hourOfDay + 24 : hourOfDay;
    const soc = charging ? 40 + (hourOfDay - 1) * 18 : Math.max(20, 94 - (dayPhase - 4) * 2.5);
    const load = driving ? 1 : charging ? 0.5 : 0;
    const cell = ambient + 4 + 10 * load + gaussian(rand) * 0.3;
    const motor = ambient + 35 * (driving ? 1 : 0) + gaussian(rand) * 0.8;
    const voltage = 330 + soc * 0.7 - (driving ? 6 : 0) + gaussian(rand) * 0.5;
    const tire = (d: number): number => tireBase + d + (ambient - 15) * 0.8 + 4 * load + gaussian(rand) * 0.6;
    out[k] = {
      assetId,
      assetType: 'passenger_ev',
      ts,
      values: {
        battery_cell_temp_c: cell,
        battery_soc_pct: soc + gaussian(rand) * 0.2,
        pack_voltage_v: voltage,
        motor_temp_c: motor,
        tire_pressure_fl_kpa: tire(0),
        tire_pressure_fr_kpa: tire(1),
        tire_pressure_rl_kpa: tire(-2),
        tire_pressure_rr_kpa: tire(-1),
      },
    };
  }
  return out;
}

/**
 * Interleaves per-asset series round robin (asset 0's reading 0, asset 1's reading 0, ...),
 * the order a scorer sees when many assets share a partition.
 */
export function roundRobin(series: readonly Reading[][]): Reading[] {
  const len = Math.min(...series.map((s) => s.length));
  const out: Reading[] = [];
  for (let i = 0; i < len; i++) for (const s of series) out.push(s[i]!);
  return out;
}
