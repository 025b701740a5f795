/**
 * Run-to-failure fleets: machines that wear slowly and monotonically from their first cycle
 * until one of their sensors reaches its end-of-life limit, read once per cycle, with no
 * daily pattern and noise comparable to a week of the trend (the shape of public
 * turbofan-engine data sets, made here from a seed). The evaluation measures failure
 * prediction on them beside the simulator's fleets, whose degradations are days long and
 * whose signals cycle with use.
 *
 * A machine's wear w(c) = (e^{a·c/T} − 1) / (e^a − 1) rises from 0 at cycle 0 to 1 at its
 * failure cycle T (a ∈ [2, 5]: slow at first, faster toward the end); each of its four
 * sensors reads h + (L − h)·w(c) + noise, with h its healthy level (drawn per machine), L
 * the configured limit, and a noise deviation of 7 cycles of the average trend, 7·|L − h|/T.
 * All four sensors reach their limits at T; the machine's last reading is at cycle T − 1.
 * Pure: no clock, no I/O; a seed gives the same fleet.
 */
import type { Reading } from '../core/types.ts';
import type { RawAssetType } from '../core/default-config.ts';
import { deriveSeed, Rng } from './prng.ts';

/** Name of the asset type run-to-failure machines report as (see RUN_TO_FAILURE_TYPE). */
export const RUN_TO_FAILURE_TYPE_NAME = 'turbofan';
const CYCLE_MS = 86_400_000;
/** Cycles ahead a prediction is for: the failure modes' horizon is this many cycles. */
export const RUN_TO_FAILURE_HORIZON_CYCLES = 72;

/** The four sensors: healthy level range, limit, unit, physical range. */
const SENSORS = [
  { name: 'exhaust_gas_temp_c', unit: 'degC', healthy: [1400, 1415], limit: 1435, min: 0, max: 2000, mode: 'exhaust_overtemperature' },
  { name: 'compressor_outlet_pressure_kpa', unit: 'kPa', healthy: [5520, 5560], limit: 5440, min: 0, max: 10000, mode: 'compressor_efficiency_loss' },
  { name: 'core_speed_rpm', unit: 'rpm', healthy: [9040, 9060], limit: 9100, min: 0, max: 20000, mode: 'core_speed_limit' },
  { name: 'bypass_ratio', unit: 'ratio', healthy: [8.40, 8.46], limit: 8.62, min: 0, max: 20, mode: 'bypass_degradation' },
] as const;

/**
 * The asset type of run-to-failure machines, to merge into a configuration (`assetTypes`):
 * one failure mode per sensor, its limit the end-of-life value, its horizon 72 cycles of a
 * day each.
 */
export const RUN_TO_FAILURE_TYPE: RawAssetType = {
  description: 'Run-to-failure machine: one reading per cycle (a day), slow monotone wear toward end-of-life limits',
  sensors: Object.fromEntries(SENSORS.map((s) => [s.name, { unit: s.unit, min: s.min, max: s.max, samplePeriodSec: CYCLE_MS / 1000 }])),
  failureModes: Object.fromEntries(
    SENSORS.map((s) => [
      s.mode,
      {
        sensors: [s.name],
        direction: s.limit > s.healthy[1] ? 'rising' : 'falling',
        limit: s.limit,
        horizonHours: (RUN_TO_FAILURE_HORIZON_CYCLES * CYCLE_MS) / 3_600_000,
        description: `${s.name} reaching its end-of-life value`,
      },
    ]),
  ),
};

export interface RunToFailureOptions {
  seed: number;
  machines: number;
  startTs: number;
  /** Failure cycles are drawn in [minLife, maxLife] (defaults 150 and 350). */
  minLife?: number;
  maxLife?: number;
}

export interface RunToFailureMachine {
  assetId: string;
  /** Cycle of the failure (the machine reads cycles 0 .. failureCycle − 1). */
  failureCycle: number;
  failureTs: number;
  /** Failure modes (one per sensor), all reaching their limits at failureTs. */
  failureModes: readonly string[];
}

export interface RunToFailureFleet {
  machines: RunToFailureMachine[];
  /** Readings of all machines merged in time order. */
  readings(): Iterable<Reading>;
}

/** Creates a seeded run-to-failure fleet (see the file header for the model). */
export function createRunToFailureFleet(o: RunToFailureOptions): RunToFailureFleet {
  const lo = o.minLife ?? 150;
  const hi = o.maxLife ?? 350;
  const plans = Array.from({ length: o.machines }, (_, i) => {
    const rng = new Rng(deriveSeed(o.seed, i));
    const T = rng.int(lo, hi);
    const a = rng.uniform(2, 5);
    const healthy = SENSORS.map((s) => rng.uniform(s.healthy[0], s.healthy[1]));
    const offset = rng.uniform(0, CYCLE_MS / 2);
    return { assetId: `${RUN_TO_FAILURE_TYPE_NAME}-${String(i + 1).padStart(4, '0')}`, T, a, healthy, rng, offset };
  });
  const machines = plans.map((p) => ({
    assetId: p.assetId,
    failureCycle: p.T,
    failureTs: Math.round(o.startTs + p.offset + p.T * CYCLE_MS),
    failureModes: SENSORS.map((s) => s.mode),
  }));
  function* readings(): Generator<Reading> {
    // Fresh streams per pass, so the fleet reads the same every time it is iterated.
    const gens = plans.map((p) => ({ p, rng: new Rng(deriveSeed(o.seed ^ 0x5eed, plans.indexOf(p))) }));
    const maxT = Math.max(...plans.map((p) => p.T));
    for (let c = 0; c < maxT; c++) {
      for (const { p, rng } of gens) {
        if (c >= p.T) continue;
        const w = (Math.exp((p.a * c) / p.T) - 1) / (Math.exp(p.a) - 1);
        const values: Record<string, number> = {};
        SENSORS.forEach((s, k) => {
          const h = p.healthy[k]!;
          const sd = (7 * Math.abs(s.limit - h)) / p.T;
          values[s.name] = Math.round((h + (s.limit - h) * w + sd * rng.normal()) * 1000) / 1000;
        });
        yield { assetId: p.assetId, assetType: RUN_TO_FAILURE_TYPE_NAME, ts: Math.round(o.startTs + p.offset + c * CYCLE_MS), values };
      }
    }
  }
  return { machines, readings };
}
