/**
 * The naive baseline of the core benchmark: for every reading, each sensor's rolling
 * statistics are recomputed from scratch over its last `window` raw values with the core's
 * reference implementation (services/core/reference.ts: simple-statistics mean, variance,
 * median, MAD), the oracle the core's property tests compare against. Its cost grows with
 * the window; the core's must not. Benchmark only, never the product's path.
 */
import { naiveWindowStats } from '../services/core/reference.ts';
import type { Reading } from '../services/core/types.ts';

/** Last `window` values of one sensor in a ring buffer (the statistics ignore order). */
interface SensorWindow {
  values: number[];
  /** Next slot to overwrite once the window is full. */
  next: number;
}

/** Naive scorer state for one asset: a raw window per sensor. */
export interface NaiveState {
  sensors: Map<string, SensorWindow>;
}

/** A fresh state (no history). */
export function naiveState(): NaiveState {
  return { sensors: new Map() };
}

function windowOf(state: NaiveState, name: string): SensorWindow {
  let w = state.sensors.get(name);
  if (!w) state.sensors.set(name, (w = { values: [], next: 0 }));
  return w;
}

/** Appends a value to a sensor's window, dropping the oldest when full. */
function push(w: SensorWindow, value: number, window: number): void {
  if (w.values.length < window) w.values.push(value);
  else {
    w.values[w.next] = value;
    w.next = (w.next + 1) % window;
  }
}

/** Fills the windows without computing anything (set-up, so timing starts with full windows). */
export function naiveFill(state: NaiveState, reading: Reading, window: number): void {
  for (const [name, v] of Object.entries(reading.values)) if (Number.isFinite(v)) push(windowOf(state, name), v, window);
}

/**
 * Scores one reading the naive way: per finite sensor value, push it into the window and
 * recompute the statistics over the whole window; the sensor's score is a squashed z-score
 * (robust from median/MAD or classical from mean/std, the larger), the reading's the maximum.
 * @returns the reading's score in [0, 1]
 */
export function naiveScore(state: NaiveState, reading: Reading, window: number): number {
  let worst = 0;
  for (const [name, v] of Object.entries(reading.values)) {
    if (!Number.isFinite(v)) continue;
    const w = windowOf(state, name);
    push(w, v, window);
    if (w.values.length < 2) continue;
    const st = naiveWindowStats(w.values);
    const std = Math.sqrt(st.sampleVariance);
    const robust = Math.abs(v - st.median) / Math.max(1.4826 * st.mad, 1e-12);
    const classical = std > 0 ? Math.abs(v - st.mean) / std : 0;
    const s = 1 - Math.exp(-Math.max(robust, classical) / 4);
    if (s > worst) worst = s;
  }
  return worst;
}
