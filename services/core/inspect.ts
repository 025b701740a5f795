/**
 * Read-only views into an asset state for tests, tools and the CLI: what the core keeps per
 * sensor, by name, without exposing the slot layout.
 */
import { HISTOGRAM_BINS } from './histogram.ts';
import { SENSOR_HISTOGRAM, SENSOR_MAX, SENSOR_MIN, SENSOR_READINGS, sensorOffset } from './layout.ts';
import type { AssetState } from './types.ts';

/** A sensor's value distribution as the core keeps it: its all-time range and decaying bin weights. */
export interface SensorHistogram {
  /** Values folded into the sensor's statistics. */
  values: number;
  min: number;
  max: number;
  /** HISTOGRAM_BINS weights over [min, max]: a value added `age` values before the next one weighs decay^age. */
  bins: number[];
}

/** The value histogram of `sensor` in `state`, or undefined if the state has no such sensor. */
export function sensorHistogram(state: AssetState, sensor: string): SensorHistogram | undefined {
  const i = state.sensors.indexOf(sensor);
  if (i < 0) return undefined;
  const o = sensorOffset(i);
  const f = state.f;
  return {
    values: f[o + SENSOR_READINGS]!,
    min: f[o + SENSOR_MIN]!,
    max: f[o + SENSOR_MAX]!,
    bins: Array.from({ length: HISTOGRAM_BINS }, (_, b) => {
      const w = f[o + SENSOR_HISTOGRAM + HISTOGRAM_BINS]!;
      return w > 0 ? f[o + SENSOR_HISTOGRAM + b]! / w : 0;
    }),
  };
}
