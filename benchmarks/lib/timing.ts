/**
 * Timing for hot-path benchmarks: fixtures are built by the caller before timing, each
 * measurement runs a warm-up first (so the JIT has optimised the code we time, not the
 * interpreter), then several repetitions, and reports the median, which a single hiccup
 * from another process on a shared machine cannot move the way it moves a mean.
 */

/** Result of {@link measure}. */
export interface Measurement {
  /** Median operations per second over the repetitions. */
  opsPerSec: number;
  /** Median nanoseconds per operation (1e9 / opsPerSec). */
  nsPerOp: number;
  /** Every repetition's operations per second, in run order. */
  repetitions: number[];
  /** Operations timed per repetition. */
  opsPerRepetition: number;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Untimed runs before the timed ones. Default 1. */
  warmups?: number;
  /** Timed runs; the median is reported. Default 5. */
  repetitions?: number;
}

/**
 * Times `run(rep)`, which performs some operations and returns how many it performed
 * (an operation here is one reading). `rep` counts from 0 over warm-ups then timed runs, so a
 * stateful benchmark can feed fresh data to each run.
 */
export function measure(run: (rep: number) => number, opts: MeasureOptions = {}): Measurement {
  return measureInterleaved({ run }, opts).run;
}

/**
 * Times several benchmarks of the same code side by side: every warm-up and repetition runs
 * each of `runs` in turn (rep by rep, in the order given), so all of them time the code as
 * the JIT left it after the same history. Measured one after another, the same core timed
 * 3.02 µs a reading first and 3.25 µs after three more configurations had warmed it up
 * (deoptimisations as fresh states learn, then other optimised code): a ratio between two
 * such figures measured the order as much as the code.
 */
export function measureInterleaved<K extends string>(runs: Record<K, (rep: number) => number>, opts: MeasureOptions = {}): Record<K, Measurement> {
  const warmups = opts.warmups ?? 1;
  const reps = opts.repetitions ?? 5;
  const keys = Object.keys(runs) as K[];
  const rates = new Map<K, number[]>(keys.map((k) => [k, []]));
  const ops = new Map<K, number>();
  for (let rep = 0; rep < warmups + reps; rep++) {
    for (const k of keys) {
      const t0 = process.hrtime.bigint();
      const n = runs[k](rep);
      const ns = Number(process.hrtime.bigint() - t0);
      if (rep < warmups) continue;
      rates.get(k)!.push((n * 1e9) / Math.max(ns, 1));
      ops.set(k, n);
    }
  }
  const out = {} as Record<K, Measurement>;
  for (const k of keys) {
    const r = rates.get(k)!;
    const opsPerSec = median(r);
    out[k] = { opsPerSec, nsPerOp: 1e9 / opsPerSec, repetitions: r, opsPerRepetition: ops.get(k) ?? 0 };
  }
  return out;
}

/** Median of a non-empty list (mean of the two middle values for an even length). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
