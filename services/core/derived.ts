/**
 * What the hot path derives from a configuration once: per-value smoothing factors of the
 * anomaly evidence, the logs of its calibration probabilities, and memos of the decays the
 * failure trackers ask for. They live in the compiled configuration (`cfg.derived`), so the core keeps no module-level state: two
 * configurations in one process never share a memo, and a configuration's results do not
 * depend on what was scored with another before.
 *
 * The memos are scratch space, not state: a memo returns exactly decay(x) for every x, so
 * outputs never depend on what it remembers. They make the configuration object mutable
 * inside (the configuration itself stays frozen); a configuration is used by one thread.
 */
import type { DetectorParams } from './types.ts';

/** 2^(−x), the decay of an exponential average after x half-lives (exp is cheaper than pow). */
export function decay(halfLives: number): number {
  return Math.exp(-halfLives * Math.LN2);
}

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
  /** Smoothing factors per value (1 − 2^(−1/half-life)) of the anomaly statistics. */
  spreadAlpha: number;
  slowSpreadAlpha: number;
  surpriseAlpha: number;
  shiftFastAlpha: number;
  shiftSlowAlpha: number;
  rarityAlpha: number;
  levelBreakAlpha: number;
  jumpRunAlpha: number;
  /** Growth per value of the value histogram's weights (2^(1/windowSize): the older ones decay relative to it). */
  histogramGrowth: number;
  /** Natural logs of the probabilities that score 0.5. */
  lnJumpHalf: number;
  lnRarityHalf: number;
  lnSurpriseHalf: number;
  lnShiftHalf: number;
  lnRangeHalf: number;
  lnLevelBreakHalf: number;
  lnJumpRunHalf: number;
  decays: TrackerDecays;
}

const alpha = (halfLife: number): number => 1 - decay(1 / halfLife);

/** Derives the hot path's factors from validated detector parameters. */
export function deriveParams(d: Readonly<DetectorParams>): DerivedParams {
  return Object.freeze({
    spreadAlpha: alpha(d.spreadHalfLifeReadings),
    slowSpreadAlpha: alpha(d.slowSpreadHalfLifeReadings),
    surpriseAlpha: alpha(d.surpriseHalfLifeReadings),
    shiftFastAlpha: alpha(d.shiftFastHalfLifeReadings),
    shiftSlowAlpha: alpha(d.shiftSlowHalfLifeReadings),
    rarityAlpha: alpha(d.rarityHalfLifeReadings),
    levelBreakAlpha: alpha(d.levelBreakHalfLifeReadings),
    jumpRunAlpha: alpha(d.jumpRunHalfLifeReadings),
    histogramGrowth: 1 / decay(1 / d.windowSize),
    lnJumpHalf: Math.log(d.jumpTailProbability),
    lnRarityHalf: Math.log(d.rarityTailProbability),
    lnSurpriseHalf: Math.log(d.surpriseTailProbability),
    lnShiftHalf: Math.log(d.shiftTailProbability),
    lnRangeHalf: Math.log(d.rangeBreakProbability),
    lnLevelBreakHalf: Math.log(d.levelBreakProbability),
    lnJumpRunHalf: Math.log(d.jumpRunTailProbability),
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
