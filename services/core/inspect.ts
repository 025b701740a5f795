/**
 * Read-only views into an asset state for tests, tools and the CLI: the statistics the
 * core keeps per sensor, by name, without exposing the slot layout.
 */
import { SENSOR_WINDOW, sensorOffset } from './layout.ts';
import { windowStats } from './rolling.ts';
import type { AssetState } from './types.ts';

/** Rolling window statistics of one sensor: count, mean, population and sample variance. */
export interface SensorWindowStats {
  n: number;
  mean: number;
  variance: number;
  sampleVariance: number;
}

/** The windowed statistics of `sensor` in `state`, or undefined if the state has no such sensor. */
export function sensorWindowStats(state: AssetState, sensor: string): SensorWindowStats | undefined {
  const i = state.sensors.indexOf(sensor);
  if (i < 0) return undefined;
  const s = windowStats(state.f, sensorOffset(i) + SENSOR_WINDOW, { n: 0, mean: 0, m2: 0 });
  return { n: s.n, mean: s.mean, variance: s.n > 0 ? s.m2 / s.n : 0, sampleVariance: s.n > 1 ? s.m2 / (s.n - 1) : 0 };
}
