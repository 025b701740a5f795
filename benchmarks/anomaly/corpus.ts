/**
 * A seeded, labelled corpus of univariate series for measuring anomaly scores
 * (`npm run eval:anomaly`). Made by the project, so it can be regenerated anywhere and
 * changes with the code that makes it, never by hand.
 *
 * Each series is one signal kind (daily and weekly cycles, trends, random walks, counts,
 * bursty traffic, step-like regimes, sparse signals, quantised values, very noisy and very
 * quiet ones, sawtooth fills, autocorrelated loads), sampled every 1 s to 1 h, 2,000 to
 * 20,000 points long, with 0 to 3 labelled anomalies of 8 kinds (spike, dip, level shift,
 * change of variance, change of shape or frequency, onset of drift, a burst of spikes, a
 * missing daily pattern). A labelled anomaly is a window of points starting at its onset.
 *
 * What makes an anomaly an anomaly here: it goes beyond what the series shows in its
 * healthy stretches (a spike is larger than the largest healthy noise excursion and than
 * 6 noise deviations; a shift or a drift reaches several noise deviations; a variance
 * change triples the noise at least), so a person looking at the plot would mark it. The
 * magnitudes are drawn from ranges, not tuned to a detector.
 *
 * A series is built from parts, so an anomaly can change the part it concerns: a slow
 * `level` (trend, random walk, weather, regimes), a zero-mean `cycle` (daily, weekly,
 * sawtooth, activity of a sparse signal), and `noise`; counts are Poisson draws around
 * level + cycle. Values are rounded as a sensor or a log would report them.
 */
import { deriveSeed, Rng } from '../../services/simulator/prng.ts';

export const SIGNAL_KINDS = [
  'daily',
  'weekly',
  'trend',
  'random_walk',
  'counts',
  'bursty',
  'regimes',
  'sparse',
  'quantised',
  'noisy',
  'quiet',
  'sawtooth',
  'autoregressive',
] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

export const ANOMALY_KINDS = ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst', 'missing_daily'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** One labelled anomaly: its window is points [start, end) of the series. */
export interface LabelledAnomaly {
  kind: AnomalyKind;
  /** Index of the onset. */
  start: number;
  /** Index one past the window's last point. */
  end: number;
}

export interface Series {
  /** e.g. "daily-007". */
  id: string;
  signal: SignalKind;
  /** Nominal sampling period, seconds (intervals jitter by up to ±20% on a third of the series). */
  samplePeriodSec: number;
  /** Epoch ms, strictly increasing. */
  ts: Float64Array;
  values: Float64Array;
  anomalies: LabelledAnomaly[];
}

export interface CorpusOptions {
  /** Default 20261207. */
  seed?: number;
  /** Series of each signal kind (default 16: 208 series). */
  seriesPerKind?: number;
}

export const DEFAULT_CORPUS_SEED = 20261207;
/** Share of each series at its start that is for learning: no anomaly starts before it. */
export const LEARNING_SHARE = 0.15;

const DAY_S = 86_400;

/** Sampling periods (s) each kind is drawn from: seconds for fast signals, up to an hour. */
const PERIODS: Record<SignalKind, readonly number[]> = {
  daily: [60, 120, 300, 600],
  weekly: [900, 1800, 3600],
  trend: [10, 60, 300, 3600],
  random_walk: [1, 5, 60],
  counts: [60, 300, 900],
  bursty: [60, 300],
  regimes: [5, 30, 60, 300],
  sparse: [60, 300, 3600],
  quantised: [60, 300, 3600],
  noisy: [1, 10, 60, 600],
  quiet: [1, 60, 600],
  sawtooth: [10, 60, 300],
  autoregressive: [10, 60, 300],
};

/** Anomaly kinds that make sense on each signal kind. */
const ANOMALIES_OF: Record<SignalKind, readonly AnomalyKind[]> = {
  daily: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst', 'missing_daily'],
  weekly: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst', 'missing_daily'],
  trend: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  random_walk: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  counts: ['spike', 'dip', 'level_shift', 'variance', 'drift', 'burst', 'missing_daily'],
  bursty: ['spike', 'dip', 'level_shift', 'variance', 'drift', 'burst'],
  regimes: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  sparse: ['spike', 'level_shift', 'drift', 'burst'],
  quantised: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  noisy: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  quiet: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  sawtooth: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
  autoregressive: ['spike', 'dip', 'level_shift', 'variance', 'shape', 'drift', 'burst'],
};

/** The healthy series as parts, plus what the anomalies need to know about it. */
interface Parts {
  level: Float64Array;
  cycle: Float64Array;
  noise: Float64Array;
  /** Scale of the noise (a standard deviation, or the t distribution's scale). */
  sd: number;
  /** Largest healthy departure from level + cycle (noise excursions, natural bursts). */
  natural: number;
  /** `sd` is the step of the level (a walk, an autoregressive load), not of the noise. */
  innovation?: boolean;
  /** Counts: value = Poisson(level + cycle); noise unused. */
  poisson: boolean;
  /** Decimals the values are reported with (negative: rounded to a multiple of `quantum`). */
  decimals: number;
  quantum?: number;
  floor?: number;
  ceil?: number;
  /** The cycle at time t (s) with its frequency multiplied by `mul` (shape changes); absent: none. */
  cycleAt?: (tSec: number, mul: number) => number;
  /** Points per day when the series has a daily pattern (missing_daily needs it). */
  perDay?: number;
  /** Noise is drawn only where this is true (a sparse signal is exactly 0 while idle). */
  activeMask?: Uint8Array;
}

function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  for (;;) {
    p *= rng.next();
    if (p <= l) return k;
    k++;
  }
}

/** Student t with 3 degrees of freedom (heavy tails), unit scale. */
function t3(rng: Rng): number {
  let chi = 0;
  for (let k = 0; k < 3; k++) chi += rng.normal() ** 2;
  return rng.normal() / Math.sqrt(chi / 3);
}

/** An Ornstein–Uhlenbeck path: mean 0, standard deviation sd, memory tau (points). */
function ou(rng: Rng, n: number, sd: number, tau: number): Float64Array {
  const out = new Float64Array(n);
  let x = sd * rng.normal();
  const a = Math.exp(-1 / tau);
  const s = sd * Math.sqrt(1 - a * a);
  for (let i = 0; i < n; i++) {
    x = a * x + s * rng.normal();
    out[i] = x;
  }
  return out;
}

const maxAbs = (xs: Float64Array): number => xs.reduce((m, x) => (Math.abs(x) > m ? Math.abs(x) : m), 0);

/** Local hour of day (0–24) at epoch seconds t with a UTC offset. */
const hourOf = (tSec: number, tzH: number): number => ((((tSec / 3600 + tzH) % 24) + 24) % 24);

function healthy(kind: SignalKind, rng: Rng, n: number, period: number, tSec: Float64Array): Parts {
  const level = new Float64Array(n);
  const cycle = new Float64Array(n);
  const noise = new Float64Array(n);
  const tzH = rng.int(-8, 9);
  const fill = (sd: number, draw: () => number = () => rng.normal()): void => {
    for (let i = 0; i < n; i++) noise[i] = sd * draw();
  };
  switch (kind) {
    case 'daily': {
      const L = rng.uniform(10, 1000);
      const A = L * rng.uniform(0.1, 0.5);
      const phase = rng.uniform(0, 24);
      const h2 = rng.uniform(0, 0.4);
      const cycleAt = (t: number, mul: number): number => {
        const x = (2 * Math.PI * mul * (hourOf(t, tzH) - phase)) / 24;
        return A * (Math.sin(x) + h2 * Math.sin(2 * x));
      };
      const weather = ou(rng, n, 0.1 * A, (3 * DAY_S) / period);
      for (let i = 0; i < n; i++) {
        level[i] = L + weather[i]!;
        cycle[i] = cycleAt(tSec[i]!, 1);
      }
      const sd = A * rng.uniform(0.02, 0.12);
      fill(sd);
      return { level, cycle, noise, sd, natural: maxAbs(noise), poisson: false, decimals: 2, cycleAt, perDay: DAY_S / period };
    }
    case 'weekly': {
      // Business-hours load: high on weekdays 8–18 h, a little on weekends.
      const L = rng.uniform(20, 200);
      const A = L * rng.uniform(1, 4);
      const weekend = rng.uniform(0.1, 0.4);
      const cycleAt = (t: number, mul: number): number => {
        const h = hourOf(t, tzH);
        const day = Math.floor((t / 3600 + tzH) / 24);
        const dow = ((day + 3) % 7 + 7) % 7; // 0 = Monday (1970-01-01 was a Thursday)
        const x = (mul * (h - 8)) / 10; // 0..1 across business hours
        const frac = x - Math.floor(x);
        const inHours = mul === 1 ? h >= 8 && h < 18 : Math.floor(x) % 2 === 0;
        const bump = inHours ? Math.sin(Math.PI * frac) ** 0.5 : 0;
        return A * bump * (dow < 5 ? 1 : weekend);
      };
      for (let i = 0; i < n; i++) {
        level[i] = L;
        cycle[i] = cycleAt(tSec[i]!, 1);
      }
      const sd = (L + 0.3 * A) * rng.uniform(0.02, 0.08);
      fill(sd);
      return { level, cycle, noise, sd, natural: maxAbs(noise), poisson: false, decimals: 1, floor: 0, cycleAt, perDay: DAY_S / period };
    }
    case 'trend': {
      const L = rng.uniform(-50, 500);
      const sd = rng.uniform(0.5, 5);
      const total = (rng.chance(0.5) ? 1 : -1) * sd * rng.uniform(5, 40);
      for (let i = 0; i < n; i++) level[i] = L + (total * i) / n;
      fill(sd);
      return { level, cycle, noise, sd, natural: maxAbs(noise), poisson: false, decimals: 2 };
    }
    case 'random_walk': {
      let x = rng.uniform(20, 500);
      const step = x * rng.uniform(0.0005, 0.004);
      for (let i = 0; i < n; i++) {
        x += step * rng.normal();
        level[i] = x;
      }
      fill(0.2 * step);
      // The walk's step is what a jump is measured against.
      return { level, cycle, noise, sd: step, natural: 4 * step, poisson: false, decimals: 3, innovation: true };
    }
    case 'counts': {
      const lambda = rng.uniform(2, 30);
      const A = lambda * rng.uniform(0.3, 0.8);
      const phase = rng.uniform(0, 24);
      const cycleAt = (t: number, mul: number): number => A * Math.sin((2 * Math.PI * mul * (hourOf(t, tzH) - phase)) / 24);
      for (let i = 0; i < n; i++) {
        level[i] = lambda;
        cycle[i] = cycleAt(tSec[i]!, 1);
      }
      const sd = Math.sqrt(lambda);
      return { level, cycle, noise, sd, natural: 4 * sd, poisson: true, decimals: 0, floor: 0, cycleAt, perDay: DAY_S / period };
    }
    case 'bursty': {
      // Request counts with a daily cycle and healthy bursts (a batch job, a crawler).
      const lambda = rng.uniform(30, 400);
      const A = lambda * rng.uniform(0.2, 0.6);
      const phase = rng.uniform(0, 24);
      let burst = 0;
      let mult = 1;
      let peak = 1;
      for (let i = 0; i < n; i++) {
        if (burst === 0 && rng.chance(1 / 300)) {
          burst = rng.int(2, 10);
          mult = rng.uniform(1.5, 2.5);
        }
        const b = burst > 0 ? mult : 1;
        if (burst > 0) burst--;
        if (b > peak) peak = b;
        const c = A * Math.sin((2 * Math.PI * (hourOf(tSec[i]!, tzH) - phase)) / 24);
        level[i] = lambda * b;
        cycle[i] = c * b;
      }
      const sd = Math.sqrt(lambda);
      return { level, cycle, noise, sd, natural: (peak - 1) * (lambda + A) + 4 * sd, poisson: true, decimals: 0, floor: 0 };
    }
    case 'regimes': {
      // A machine switching among 2–4 operating levels (off, partial, full load).
      const k = rng.int(2, 4);
      const gap = rng.uniform(5, 50);
      const levels = Array.from({ length: k }, (_, j) => j * gap * rng.uniform(0.8, 1.2));
      const dwell = rng.uniform(20, 200);
      let j = rng.int(0, k - 1);
      for (let i = 0; i < n; i++) {
        if (rng.chance(1 / dwell)) j = (j + rng.int(1, k - 1)) % k;
        level[i] = levels[j]!;
      }
      const sd = gap * rng.uniform(0.01, 0.05);
      fill(sd);
      // A spike must stand out against the switches too, not only the noise.
      return { level, cycle, noise, sd, natural: Math.max(maxAbs(noise), 0.5 * gap), poisson: false, decimals: 2 };
    }
    case 'sparse': {
      // Exactly 0 while idle; now and then a run of activity (a pump, rainfall, a batch).
      const activity = rng.uniform(5, 20);
      const every = rng.uniform(80, 400);
      const mask = new Uint8Array(n);
      let left = 0;
      let amp = 0;
      let len = 1;
      for (let i = 0; i < n; i++) {
        if (left === 0 && rng.chance(1 / every)) {
          len = left = rng.int(5, 30);
          amp = activity * rng.uniform(0.7, 1.3);
        }
        if (left > 0) {
          const x = 1 - left / (len + 1);
          cycle[i] = amp * Math.sin(Math.PI * x) ** 0.3;
          mask[i] = 1;
          left--;
        }
      }
      const sd = 0.05 * activity;
      for (let i = 0; i < n; i++) noise[i] = mask[i] ? sd * rng.normal() : 0;
      return { level, cycle, noise, sd, natural: 1.3 * activity + maxAbs(noise), poisson: false, decimals: 2, floor: 0, activeMask: mask };
    }
    case 'quantised': {
      // A slow temperature reported in coarse steps.
      const L = rng.uniform(-10, 60);
      const wander = ou(rng, n, rng.uniform(1, 4), rng.uniform(200, 2000));
      const A = rng.chance(0.5) ? rng.uniform(1, 5) : 0;
      const phase = rng.uniform(0, 24);
      const cycleAt = (t: number, mul: number): number => A * Math.sin((2 * Math.PI * mul * (hourOf(t, tzH) - phase)) / 24);
      for (let i = 0; i < n; i++) {
        level[i] = L + wander[i]!;
        cycle[i] = cycleAt(tSec[i]!, 1);
      }
      const sd = rng.uniform(0.1, 0.3);
      fill(sd);
      const quantum = rng.pick([0.5, 1]);
      return { level, cycle, noise, sd: Math.max(sd, quantum), natural: maxAbs(noise) + quantum, poisson: false, decimals: -1, quantum, ...(A > 0 ? { cycleAt, perDay: DAY_S / period } : {}) };
    }
    case 'noisy': {
      const L = rng.uniform(0, 100);
      const s = rng.uniform(1, 5);
      const wander = ou(rng, n, s, rng.uniform(500, 3000));
      for (let i = 0; i < n; i++) level[i] = L + wander[i]!;
      fill(s, () => t3(rng));
      return { level, cycle, noise, sd: s, natural: maxAbs(noise), poisson: false, decimals: 2 };
    }
    case 'quiet': {
      const L = rng.uniform(1, 400);
      const sd = L * rng.uniform(1e-4, 1e-3);
      const wander = ou(rng, n, sd, rng.uniform(500, 3000));
      for (let i = 0; i < n; i++) level[i] = L + wander[i]!;
      fill(sd);
      const decimals = Math.max(0, Math.ceil(-Math.log10(sd / 3)));
      return { level, cycle, noise, sd, natural: maxAbs(noise), poisson: false, decimals };
    }
    case 'sawtooth': {
      // A tank filled slowly and emptied quickly (or the reverse), over and over.
      const L = rng.uniform(0, 50);
      const A = rng.uniform(20, 100);
      const P = rng.uniform(20, 200) * period;
      const rise = rng.chance(0.5) ? rng.uniform(0.7, 0.9) : rng.uniform(0.1, 0.3);
      const offset = rng.uniform(0, P);
      const cycleAt = (t: number, mul: number): number => {
        const x = ((((t + offset) * mul) / P) % 1 + 1) % 1;
        return A * (x < rise ? x / rise : (1 - x) / (1 - rise)) - A / 2;
      };
      for (let i = 0; i < n; i++) {
        level[i] = L + A / 2;
        cycle[i] = cycleAt(tSec[i]!, 1);
      }
      const sd = A * rng.uniform(0.005, 0.02);
      fill(sd);
      // The largest healthy step is the steep side of a tooth; a spike must stand out against it.
      const steep = A / (Math.min(rise, 1 - rise) * (P / period));
      return { level, cycle, noise, sd, natural: Math.max(maxAbs(noise), 0.5 * steep), poisson: false, decimals: 2, cycleAt };
    }
    case 'autoregressive': {
      // A load such as CPU utilization: strongly autocorrelated around its mean.
      const phi = rng.uniform(0.9, 0.99);
      const mean = rng.uniform(10, 60);
      const innov = rng.uniform(0.3, 2);
      let x = 0;
      for (let i = 0; i < n; i++) {
        x = phi * x + innov * rng.normal();
        level[i] = mean + x;
      }
      fill(0.3 * innov);
      return { level, cycle, noise, sd: innov, natural: 4 * innov, poisson: false, decimals: 2, floor: 0, ceil: 100, innovation: true };
    }
  }
}

/** Magnitude of a spike: beyond 6 noise deviations (`sd`) and beyond the largest healthy excursion (`natural`). */
export const spikeSize = (rng: Rng, sd: number, natural: number): number => Math.max(rng.uniform(6, 12) * sd, rng.uniform(1.2, 2) * natural);
/**
 * Magnitude of a sustained change (shift, drift's end, oscillation): several noise deviations,
 * and a fifth to a half of the deviation of the series' structure (its cycle, regimes, walk),
 * so that on a series whose pattern dwarfs its noise the change shows against the pattern too.
 */
export const shiftSize = (rng: Rng, sd: number, natural: number, structureSd: number): number =>
  Math.max(rng.uniform(6, 12) * sd, rng.uniform(0.5, 1) * natural, rng.uniform(0.2, 0.5) * structureSd);

/**
 * How `k` anomalies' windows are laid out on a series of `n` points: each window `w` points
 * long, the first segment starting at `from` (a fifth in, after the learning share), one
 * segment of `seg` points per anomaly so that windows never overlap.
 */
export function windowPlan(n: number, k: number): { w: number; from: number; seg: number } {
  return {
    w: Math.max(50, Math.min(1000, Math.round((0.1 * n) / Math.max(1, k)))),
    from: Math.ceil(0.2 * n),
    seg: Math.floor((n - Math.ceil(0.2 * n)) / Math.max(1, k)),
  };
}

/** Standard deviation of level + cycle over the learning share (the healthy pattern's size). */
function structureSd(p: Parts): number {
  const m = Math.max(2, Math.floor(LEARNING_SHARE * p.level.length));
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < m; i++) {
    const v = p.level[i]! + p.cycle[i]!;
    s += v;
    s2 += v * v;
  }
  return Math.sqrt(Math.max(0, s2 / m - (s / m) ** 2));
}

/** Applies one anomaly to the parts; `extra` collects additive changes to the final value. */
function inject(a: LabelledAnomaly, p: Parts, rng: Rng, tSec: Float64Array, extra: Float64Array): void {
  const n = p.level.length;
  const structure = structureSd(p);
  let sign = rng.chance(0.5) ? 1 : -1;
  // Downward on a series with a floor (counts, loads, a sparse signal's idle 0) only where the
  // value stays clear of it: a spike clipped at 0 is no anomaly on a signal that often reads 0.
  const room = (i: number, size: number): boolean => p.floor === undefined || p.level[i]! + p.cycle[i]! - size > p.floor + 0.5 * size;
  const w = a.end - a.start;
  switch (a.kind) {
    case 'spike': {
      const size = spikeSize(rng, p.sd, p.natural);
      if (sign < 0 && !room(a.start, size)) sign = 1;
      extra[a.start]! += sign * size;
      break;
    }
    case 'dip': {
      const d = rng.int(3, Math.max(3, Math.min(20, Math.floor(w / 5))));
      const size = spikeSize(rng, p.sd, p.natural);
      for (let i = a.start; i < Math.min(n, a.start + d); i++) extra[i]! -= size;
      break;
    }
    case 'level_shift': {
      const size = shiftSize(rng, p.sd, p.natural, structure);
      if (sign < 0 && !room(a.start, size)) sign = 1;
      for (let i = a.start; i < n; i++) p.level[i]! += sign * size;
      // A sparse signal's shifted idle level is a reading like any other, with noise.
      if (p.activeMask) for (let i = a.start; i < n; i++) if (!p.activeMask[i]) p.noise[i] = p.sd * rng.normal();
      break;
    }
    case 'variance': {
      const k = rng.uniform(3, 6);
      for (let i = a.start; i < a.end; i++) {
        if (p.poisson || p.innovation) extra[i]! += (k - 1) * p.sd * rng.normal();
        else if (p.activeMask && !p.activeMask[i]) extra[i]! += (k - 1) * p.sd * rng.normal();
        else p.noise[i]! *= k;
      }
      break;
    }
    case 'shape': {
      if (p.cycleAt) {
        const mul = rng.pick([2, 3, 0.5]);
        for (let i = a.start; i < a.end; i++) p.cycle[i] = p.cycleAt(tSec[i]!, mul);
      } else {
        // No cycle to change: an oscillation appears (a hunting controller, a loose part).
        const amp = shiftSize(rng, p.sd, p.natural, structure) / 2;
        const per = rng.uniform(8, 30);
        for (let i = a.start; i < a.end; i++) p.cycle[i]! += amp * Math.sin((2 * Math.PI * (i - a.start)) / per);
      }
      break;
    }
    case 'drift': {
      // On a walk, a drift must outrun what the walk itself covers in the window.
      const walk = p.innovation ? rng.uniform(2, 4) * Math.sqrt(w) * p.sd : 0;
      const size = Math.max(rng.uniform(1.5, 2.5) * shiftSize(rng, p.sd, p.natural, structure), walk);
      if (sign < 0 && !room(a.start, size)) sign = 1;
      for (let i = a.start; i < n; i++) p.level[i]! += sign * size * Math.min(1, (i - a.start) / w);
      if (p.activeMask) for (let i = a.start; i < n; i++) if (!p.activeMask[i]) p.noise[i] = p.sd * rng.normal();
      break;
    }
    case 'burst': {
      const k = rng.int(3, 8);
      const span = Math.max(k, Math.floor(w / 4));
      for (let j = 0; j < k; j++) {
        const i = j === 0 ? a.start : a.start + rng.int(1, span - 1);
        const size = rng.uniform(0.8, 1.2) * spikeSize(rng, p.sd, p.natural);
        extra[i]! += (rng.chance(0.5) && room(i, size) ? -1 : 1) * size;
      }
      break;
    }
    case 'missing_daily':
      for (let i = a.start; i < a.end; i++) p.cycle[i] = 0;
      break;
  }
}

/**
 * Whether an anomaly kind can show on these parts at all: a missing daily pattern needs a
 * pattern that stands out of the noise (4 noise deviations), and a dip on a series with a
 * floor (counts, loads) needs a typical level at least 4 noise deviations above the floor,
 * or the dip is just the floor, which such a series reads anyway.
 */
function visible(kind: AnomalyKind, p: Parts): boolean {
  if (kind === 'missing_daily') return p.perDay !== undefined && maxAbs(p.cycle) >= 4 * p.sd;
  if (kind === 'dip' && p.floor !== undefined) {
    const typical = [...p.level].map((l, i) => l + p.cycle[i]!).sort((a, b) => a - b)[p.level.length >> 1]!;
    return typical - p.floor >= 4 * p.sd;
  }
  return true;
}

/**
 * Places `k` anomalies of the given kinds after the learning share, with windows that do not
 * overlap. A missing daily pattern starts where the cycle rises through its mean (its onset:
 * from there on the series visibly lacks the pattern) and its window is one day.
 */
function place(kinds: AnomalyKind[], p: Parts, rng: Rng, n: number): LabelledAnomaly[] {
  const { w, from, seg } = windowPlan(n, kinds.length);
  const out: LabelledAnomaly[] = [];
  kinds.forEach((kind, j) => {
    const lo = from + j * seg;
    const win = kind === 'missing_daily' ? Math.round(p.perDay!) : w;
    const hi = lo + seg - win - 1;
    let start = hi > lo ? rng.int(lo, hi) : lo;
    if (kind === 'missing_daily') {
      // Walk forward to the cycle's next upward crossing of its mean that starts a day with
      // a pattern worth the name (a weekday's business hours, not a quiet weekend).
      const big = 0.5 * maxAbs(p.cycle);
      const half = Math.round(p.perDay! / 2);
      const rises = (s: number): boolean => {
        if (!(p.cycle[s - 1]! <= 0 && p.cycle[s]! > 0)) return false;
        for (let i = s; i < Math.min(n, s + half); i++) if (p.cycle[i]! > big) return true;
        return false;
      };
      let s = start;
      while (s < hi && !rises(s)) s++;
      start = s;
    }
    out.push({ kind, start, end: Math.min(n, start + win) });
  });
  return out;
}

/** Builds the corpus (deterministic for a seed). */
export function createCorpus(opts: CorpusOptions = {}): Series[] {
  const seed = opts.seed ?? DEFAULT_CORPUS_SEED;
  const perKind = opts.seriesPerKind ?? 16;
  const out: Series[] = [];
  SIGNAL_KINDS.forEach((signal, ki) => {
    for (let s = 0; s < perKind; s++) {
      const rng = new Rng(deriveSeed(seed, ki * 1000 + s));
      const period = rng.pick(PERIODS[signal]);
      const minN = signal === 'daily' || signal === 'counts' || signal === 'quantised' ? Math.ceil((6 * DAY_S) / period) : 2000;
      const lo = Math.max(2000, Math.min(minN, 20000));
      const n = Math.round(Math.exp(rng.uniform(Math.log(lo), Math.log(20000))));
      const jitter = rng.chance(1 / 3) ? 0.2 : 0;
      const t0 = Date.UTC(2025, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23));
      const ts = new Float64Array(n);
      const tSec = new Float64Array(n);
      let t = t0;
      for (let i = 0; i < n; i++) {
        ts[i] = t;
        tSec[i] = t / 1000;
        t += Math.max(1, Math.round(period * 1000 * (1 + jitter * rng.uniform(-1, 1))));
      }
      const p = healthy(signal, rng, n, period, tSec);
      const extra = new Float64Array(n);
      const count = rng.chance(0.15) ? 0 : rng.int(1, 3);
      const allowed = ANOMALIES_OF[signal].filter((a) => visible(a, p));
      const kinds = Array.from({ length: count }, () => rng.pick(allowed));
      const anomalies = count === 0 ? [] : place(kinds, p, rng, n);
      for (const a of anomalies) inject(a, p, rng, tSec, extra);
      const values = new Float64Array(n);
      const scale = 10 ** Math.max(0, p.decimals);
      for (let i = 0; i < n; i++) {
        const base = p.level[i]! + p.cycle[i]!;
        let v = p.poisson ? poisson(rng, base) + extra[i]! : base + p.noise[i]! + extra[i]!;
        if (p.floor !== undefined && v < p.floor) v = p.floor;
        if (p.ceil !== undefined && v > p.ceil) v = p.ceil;
        values[i] = p.quantum !== undefined ? Math.round(v / p.quantum) * p.quantum : Math.round(v * scale) / scale;
      }
      out.push({ id: `${signal}-${String(s).padStart(3, '0')}`, signal, samplePeriodSec: period, ts, values, anomalies });
    }
  });
  return out;
}
