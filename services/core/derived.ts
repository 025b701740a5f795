/**
 * What the hot path derives from a configuration once: per-value smoothing factors of the
 * anomaly evidence, the logs of its calibration probabilities, and a memo of the time step
 * and decays the failure trackers ask for. They live in the compiled configuration
 * (`cfg.derived`), so the core keeps no module-level state: two configurations in one process
 * never share a memo, and a configuration's results do not depend on what was scored with
 * another before.
 *
 * The memo is scratch space, not state: it returns exactly what it would compute from
 * scratch, so outputs never depend on what it remembers. They make the configuration object mutable
 * inside (the configuration itself stays frozen); a configuration is used by one thread.
 */
import { HOUR_MS } from './layout.ts';
import type { DetectorParams } from './types.ts';

/** 2^(−x), the decay of an exponential average after x half-lives (exp is cheaper than pow). */
export function decay(halfLives: number): number {
  return Math.exp(-halfLives * Math.LN2);
}

/**
 * The time step of a failure tracker's update and every decay it implies, remembered for the
 * last (gap, idle time) pair it was asked for. Readings mostly arrive at a fixed period, so
 * the trackers of a reading (and of consecutive readings) ask for the same step again and
 * again: one comparison then stands for eight divisions and six Math.exp calls a tracker.
 * The numbers are computed exactly as from scratch, so no output depends on what the memo
 * held before.
 */
export class TrackerStep {
  private gapMs = NaN;
  private idle = NaN;
  /** Activity hours of the step (the gap capped at gapCapPeriods periods): the trend's time axis. */
  time = 0;
  /** Hours the statistics learn by: `time` capped at maxActivityHoursPerValue. */
  dt = 0;
  /** Whether the level forgets by wall time (the idle time) rather than by activity. */
  levelByWall = false;
  /** Decays (2^−half-lives) over this step of the level, the values' scatter, the trend, the healthy baseline (and the covariate fit), and the trough toward and away from its fast side. */
  levelDecay = 1;
  scatterDecay = 1;
  trendDecay = 1;
  baseDecay = 1;
  troughFastDecay = 1;
  troughSlowDecay = 1;
  constructor(private readonly d: Readonly<DetectorParams>) {}

  /** Sets the step to a capped gap of `gapMs` after `idleMs` of idle time (both ms). */
  set(gapMs: number, idleMs: number): this {
    // ±0 compare equal here, and every number below is the same for +0 and −0.
    if (gapMs === this.gapMs && idleMs === this.idle) return this;
    const d = this.d;
    this.gapMs = gapMs;
    this.idle = idleMs;
    const perValue = d.maxActivityHoursPerValue * HOUR_MS;
    this.time = gapMs / HOUR_MS;
    const dt = (gapMs < perValue ? gapMs : perValue) / HOUR_MS;
    this.dt = dt;
    const wall = idleMs / HOUR_MS / d.levelWallHalfLifeHours;
    const act = dt / d.levelHalfLifeHours;
    this.levelByWall = wall > act;
    this.levelDecay = decay(wall > act ? wall : act);
    this.scatterDecay = decay(act);
    const tWall = idleMs / HOUR_MS / d.trendWallHalfLifeHours;
    const tAct = dt / d.trendHalfLifeHours;
    this.trendDecay = decay(tWall > tAct ? tWall : tAct);
    this.baseDecay = decay(dt / d.baseHalfLifeHours);
    this.troughFastDecay = decay(dt / d.troughFastHalfLifeHours);
    this.troughSlowDecay = decay(dt / d.troughSlowHalfLifeHours);
    return this;
  }
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
  lnShiftRunHalf: number;
  lnStepAgreementHalf: number;
  /** The failure trackers' time step and decays (scratch: see TrackerStep). */
  trackerStep: TrackerStep;
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
    lnShiftRunHalf: Math.log(d.shiftRunTailProbability),
    lnStepAgreementHalf: Math.log(d.stepAgreementTailProbability),
    trackerStep: new TrackerStep(d),
  });
}
