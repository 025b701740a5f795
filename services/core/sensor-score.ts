/**
 * The anomaly score of one sensor value (causal: from the state before the reading and the
 * reading), folded into the sensor's block of the asset state:
 *  1. z = (x − robust location) / spread, spread = max(robust scale, ½·window std, floor);
 *  2. sparse raw score: |z| beyond `sparseZ` spreads, or a CUSUM (level shift, slow drift)
 *     beyond its decision interval; 0 inside the usual spread;
 *  3. likelihood calibration: the short average of raw scores against the larger of their
 *     long-run mean and their recent high-water mark (learned from past excursions, so the
 *     deviations a sensor shows in every cycle score little), in units of their long-run
 *     spread, mapped to a tail probability 2Φ(z)−1 ∈ [0, 1], so a score means the same on a
 *     noisy sensor and a quiet one.
 */
import {
  GENERIC_ABS_MAX,
  SENSOR_CUSUM_DOWN,
  SENSOR_CUSUM_UP,
  SENSOR_EXCURSION_PEAK,
  SENSOR_LAST_TS,
  SENSOR_LOCATION,
  SENSOR_MEAN_ABS_DEV,
  SENSOR_MEAN_INTERVAL_MS,
  SENSOR_RAW_HIGH_WATER,
  SENSOR_RAW_LONG_MEAN,
  SENSOR_RAW_LONG_VAR,
  SENSOR_RAW_SHORT,
  SENSOR_READINGS,
  SENSOR_SCORE,
  SENSOR_WINDOW,
} from './layout.ts';
import { erf, windowAdd, windowSampleStd } from './rolling.ts';
import type { CompiledConfig } from './types.ts';

/**
 * Scores value `x` of the sensor at offset `o` and folds it into the state. Returns the
 * calibrated score in [0, 1] (0 while learning). `min`, `max`: the sensor's physical range
 * (±GENERIC_ABS_MAX for generic sensors), passed as numbers so configured and generic
 * sensors share one monomorphic call.
 */
export function scoreSensor(f: Float64Array, o: number, x: number, ts: number, min: number, max: number, cfg: CompiledConfig): number {
  const derived = cfg.derived;
  const det = cfg.detector;
  const n = f[o + SENSOR_READINGS]!;
  const med = f[o + SENSOR_LOCATION]!;
  const mad = f[o + SENSOR_MEAN_ABS_DEV]!;
  const wsd = windowSampleStd(f, o + SENSOR_WINDOW);
  const range = max - min;
  // A physical range bounds how fine a spread can be; generic sensors have none (their
  // ±GENERIC_ABS_MAX bounds only keep arithmetic finite) and must not get a range floor.
  const floor = Math.max(range < 2 * GENERIC_ABS_MAX ? range * 1e-5 : 0, Math.abs(med) * 1e-9, 1e-12);
  const robust = 1.2533 * mad; // mean absolute deviation → standard deviation (normal)
  const spread = Math.max(robust, 0.5 * wsd, floor);
  const learning = n < det.learningReadings;

  let z = (x - med) / spread;
  if (!(z === z)) z = 0; // NaN only from ∞/∞, impossible with bounded inputs; kept as a guard
  if (z > 1e6) z = 1e6;
  else if (z < -1e6) z = -1e6;
  const rp = Math.abs(z) > det.sparseZ ? Math.abs(z) - det.sparseZ : 0;
  const zc = z > 4 ? 4 : z < -4 ? -4 : z;
  let cpos = f[o + SENSOR_CUSUM_UP]! + zc - det.cusumK;
  let cneg = f[o + SENSOR_CUSUM_DOWN]! - zc - det.cusumK;
  if (cpos < 0) cpos = 0;
  if (cneg < 0) cneg = 0;
  const cmax = cpos > cneg ? cpos : cneg;
  const rc = cmax > det.cusumH ? 2 * (cmax / det.cusumH - 1) : 0;
  // After a shift is signalled, restart the sums so the alarm does not latch forever
  // while the robust location catches up with the new level.
  if (cmax > 2 * det.cusumH) {
    cpos = 0;
    cneg = 0;
  }
  const r = rp > rc ? rp : rc;

  const as = derived.shortAlpha;
  const rshort = f[o + SENSOR_RAW_SHORT]! + as * (r - f[o + SENSOR_RAW_SHORT]!);
  const rmean = f[o + SENSOR_RAW_LONG_MEAN]!;
  const rvar = f[o + SENSOR_RAW_LONG_VAR]!;
  // The short average is compared with the larger of its long-run mean and its recent
  // high-water mark (decaying with `extremeHalfLifeReadings`): deviations the sensor shows in every
  // cycle (a valve's fills, a drum's spins, a thermostat's swings) reach the mark again and
  // again and score little, while a new extreme scores high.
  const hw = f[o + SENSOR_RAW_HIGH_WATER]! * derived.extremeDecay;
  const zl = (rshort - (hw > rmean ? hw : rmean)) / Math.sqrt(rvar + det.likelihoodVarFloor);
  let s = learning || !(zl > 0) ? 0 : erf(zl * Math.SQRT1_2);
  if (!(s >= 0)) s = 0;
  else if (s > 1) s = 1;
  if (learning) {
    // Raw scores before the location and spread settle are meaningless (the first values
    // deviate hugely from a location of 0): the long-run distribution starts after learning,
    // from a prior of mean 0 and variance 1 raw-score units, and adapts from there.
    f[o + SENSOR_RAW_LONG_MEAN] = 0;
    f[o + SENSOR_RAW_LONG_VAR] = 1;
    f[o + SENSOR_RAW_HIGH_WATER] = 0;
    f[o + SENSOR_EXCURSION_PEAK] = 0;
  } else {
    // The mark learns an excursion (a run of readings with a raw score) when it ends, so a
    // lasting shift keeps scoring against the mark from before it; and by at most a quarter
    // of a long-run deviation per excursion, so a deviation that recurs (a cycle) lifts it
    // over a few occurrences while a one-off spike barely moves it and the next spike still
    // scores high.
    const exc = f[o + SENSOR_EXCURSION_PEAK]!;
    if (r > 0) {
      f[o + SENSOR_RAW_HIGH_WATER] = hw;
      f[o + SENSOR_EXCURSION_PEAK] = rshort > exc ? rshort : exc;
    } else {
      const cap = hw + 0.25 * Math.sqrt(rvar + det.likelihoodVarFloor);
      f[o + SENSOR_RAW_HIGH_WATER] = exc > hw ? (exc < cap ? exc : cap) : hw;
      f[o + SENSOR_EXCURSION_PEAK] = 0;
    }
    const al = derived.longAlpha;
    const dr = r - rmean;
    f[o + SENSOR_RAW_LONG_MEAN] = rmean + al * dr;
    f[o + SENSOR_RAW_LONG_VAR] = (1 - al) * (rvar + al * dr * dr);
  }
  f[o + SENSOR_RAW_SHORT] = rshort;
  f[o + SENSOR_CUSUM_UP] = cpos;
  f[o + SENSOR_CUSUM_DOWN] = cneg;
  f[o + SENSOR_SCORE] = s;

  // Robust location (Huber-type exponentially weighted M-estimate) and scale (clipped mean
  // absolute deviation). Plain running averages while learning, so they start unbiased.
  const ar = learning ? 1 / (n + 1) : derived.robustAlpha;
  const dev = x - med;
  const clip = learning ? Infinity : 3 * spread;
  const step = dev > clip ? clip : dev < -clip ? -clip : dev;
  f[o + SENSOR_LOCATION] = med + ar * step;
  const ad = n === 0 ? 0 : Math.abs(dev); // the first value has no location to deviate from
  f[o + SENSOR_MEAN_ABS_DEV] = mad + ar * ((ad > 4 * spread && !learning ? 4 * spread : ad) - mad);
  windowAdd(f, o + SENSOR_WINDOW, x, cfg.detector.windowSize / 4);

  const last = f[o + SENSOR_LAST_TS]!;
  if (last === last) f[o + SENSOR_MEAN_INTERVAL_MS] = n < 2 ? ts - last : f[o + SENSOR_MEAN_INTERVAL_MS]! + 0.05 * (ts - last - f[o + SENSOR_MEAN_INTERVAL_MS]!);
  f[o + SENSOR_LAST_TS] = ts;
  f[o + SENSOR_READINGS] = n + 1;
  return s;
}
