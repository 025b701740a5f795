/**
 * What the hot path derives from a configuration once: per-reading smoothing factors of the
 * anomaly statistics, and memos of the decays the failure trackers ask for. They live in
 * the compiled configuration (`cfg.derived`), so the core keeps no module-level state: two
 * configurations in one process never share a memo, and a configuration's results do not
 * depend on what was scored with another before.
 *
 * The memos are scratch space, not state: a memo returns exactly decay(x) for every x, so
 * outputs never depend on what it remembers. They make the configuration object mutable
 * inside (the configuration itself stays frozen); a configuration is used by one thread.
 */
import { decay } from './rolling.ts';
import type { DetectorParams } from './types.ts';

/**
 * decay() remembering its last argument. Readings mostly arrive at a fixed period, so the
 * trackers of a reading (and of consecutive readings) see the same time step again and again:
 * the same argument gives the same bits without another Math.exp. One memo per half-life,
 * since each tracker update asks for several different ones in turn.
 */
export class DecayMemo {
  private arg = NaN;
  private val = NaN;
  /** 2^(−halfLives), as decay(); exact whatever the memo held before. */
  of(halfLives: number): number {
    // ±0 compare equal here, and decay(+0) === decay(−0) === 1, so the memo is exact.
    if (halfLives !== this.arg) {
      this.arg = halfLives;
      this.val = decay(halfLives);
    }
    return this.val;
  }
}

/** The decay memos of the failure trackers, one per half-life they use. */
export interface TrackerDecays {
  level: DecayMemo;
  scatter: DecayMemo;
  trend: DecayMemo;
  base: DecayMemo;
  troughFast: DecayMemo;
  troughSlow: DecayMemo;
  covariate: DecayMemo;
}

/** Factors and memos derived from the detector parameters (see the file header). */
export interface DerivedParams {
  /** Smoothing factor per reading of the short average of raw scores. */
  shortAlpha: number;
  /** Smoothing factor per reading of the raw scores' long-run mean and variance. */
  longAlpha: number;
  /** Smoothing factor per reading of the robust location and scale. */
  robustAlpha: number;
  /** Decay per reading (not a smoothing factor) of the raw scores' high-water mark. */
  extremeDecay: number;
  decays: TrackerDecays;
}

/** Derives the hot path's factors from validated detector parameters. */
export function deriveParams(d: Readonly<DetectorParams>): DerivedParams {
  return Object.freeze({
    shortAlpha: 1 - decay(1 / d.shortHalfLifeReadings),
    longAlpha: 1 - decay(1 / d.longHalfLifeReadings),
    robustAlpha: 1 - decay(1 / d.robustHalfLifeReadings),
    extremeDecay: decay(1 / d.extremeHalfLifeReadings),
    decays: Object.freeze({
      level: new DecayMemo(),
      scatter: new DecayMemo(),
      trend: new DecayMemo(),
      base: new DecayMemo(),
      troughFast: new DecayMemo(),
      troughSlow: new DecayMemo(),
      covariate: new DecayMemo(),
    }),
  });
}
