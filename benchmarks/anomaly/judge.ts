/**
 * How anomaly scores are judged against labelled windows (`npm run eval:anomaly`):
 * - the first LEARNING_SHARE (15%) of each series is for learning and not scored;
 * - an anomaly is detected when the score reaches the threshold inside its window; its delay
 *   is the position of the first such point as a share of the window (0 at the onset), and
 *   its credit 1 − ½·delay (earlier is worth more; a detection at the window's end is worth
 *   half of one at the onset);
 * - every separate run of scored points at or above the threshold that touches no window is
 *   a false alarm (a run that starts before a window and goes on into it, or starts in one
 *   and goes on past it, is that window's, not a false alarm);
 * - healthy points are the scored points outside every window.
 * The best single threshold over the corpus maximises the F1 of events: recall = total
 * credit / anomalies, precision = detections / (detections + false alarms).
 * Pure functions on arrays, so they are tested on hand-made cases.
 */
import { LEARNING_SHARE, type AnomalyKind, type LabelledAnomaly } from './corpus.ts';

/** Outcome of one labelled anomaly at one threshold. */
export interface AnomalyOutcome {
  kind: AnomalyKind;
  detected: boolean;
  /** Share of the window before the first point at or above the threshold; null when missed. */
  delayShare: number | null;
}

/** Outcome of one series at one threshold. */
export interface SeriesOutcome {
  anomalies: AnomalyOutcome[];
  falseAlarms: number;
  healthyPoints: number;
}

/** First scored index of a series of length n. */
export const firstScored = (n: number): number => Math.floor(LEARNING_SHARE * n);

/** 1 for points inside some window, else 0. */
export function windowMask(n: number, anomalies: readonly LabelledAnomaly[]): Uint8Array {
  const m = new Uint8Array(n);
  for (const a of anomalies) m.fill(1, Math.max(0, a.start), Math.min(n, a.end));
  return m;
}

/** Judges one series' scores at `threshold` (see the file header for the rules). */
export function judgeSeries(
  scores: ArrayLike<number>,
  anomalies: readonly LabelledAnomaly[],
  threshold: number,
  mask: Uint8Array = windowMask(scores.length, anomalies),
): SeriesOutcome {
  const n = scores.length;
  const from = firstScored(n);
  const outcomes: AnomalyOutcome[] = anomalies.map((a) => {
    for (let i = Math.max(a.start, from); i < Math.min(a.end, n); i++)
      if (scores[i]! >= threshold) return { kind: a.kind, detected: true, delayShare: (i - a.start) / (a.end - a.start) };
    return { kind: a.kind, detected: false, delayShare: null };
  });
  let falseAlarms = 0;
  let healthyPoints = 0;
  let inRun = false;
  let runTouches = false;
  for (let i = from; i < n; i++) {
    if (!mask[i]) healthyPoints++;
    if (scores[i]! >= threshold) {
      if (!inRun) {
        inRun = true;
        runTouches = false;
      }
      if (mask[i]) runTouches = true;
    } else if (inRun) {
      inRun = false;
      if (!runTouches) falseAlarms++;
    }
  }
  if (inRun && !runTouches) falseAlarms++;
  return { anomalies: outcomes, falseAlarms, healthyPoints };
}

/** Totals over any set of outcomes. */
export interface Summary {
  anomalies: number;
  /** Share of anomalies detected, in [0, 1] (0 when there are none). */
  detected: number;
  /** Median delay share of the detected ones (null when none was detected). */
  medianDelayShare: number | null;
  falseAlarms: number;
  healthyPoints: number;
  /** False alarms per 10,000 healthy points. */
  falseAlarmsPer10k: number;
  /** Sum of the detections' credits (1 − ½·delay). */
  credit: number;
  /** F1 of events (see the file header). */
  f1: number;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Summarises anomaly outcomes and false-alarm counts (which may come from different sets). */
export function summarise(anomalies: readonly AnomalyOutcome[], falseAlarms: number, healthyPoints: number): Summary {
  const hits = anomalies.filter((a) => a.detected);
  const credit = hits.reduce((s, a) => s + 1 - 0.5 * a.delayShare!, 0);
  const recall = anomalies.length === 0 ? 0 : credit / anomalies.length;
  const precision = hits.length + falseAlarms === 0 ? 0 : hits.length / (hits.length + falseAlarms);
  return {
    anomalies: anomalies.length,
    detected: anomalies.length === 0 ? 0 : hits.length / anomalies.length,
    medianDelayShare: median(hits.map((a) => a.delayShare!)),
    falseAlarms,
    healthyPoints,
    falseAlarmsPer10k: healthyPoints === 0 ? 0 : (1e4 * falseAlarms) / healthyPoints,
    credit,
    f1: recall + precision === 0 ? 0 : (2 * recall * precision) / (recall + precision),
  };
}

/** Totals over judged series: their anomalies, false alarms and healthy points together. */
export function summariseSeries(outcomes: readonly SeriesOutcome[]): Summary {
  return summarise(
    outcomes.flatMap((o) => o.anomalies),
    outcomes.reduce((n, o) => n + o.falseAlarms, 0),
    outcomes.reduce((n, o) => n + o.healthyPoints, 0),
  );
}

/** Thresholds the best-threshold search tries: a grid over [0.05, 0.95] and the tail near 1. */
export const THRESHOLDS: readonly number[] = [
  ...Array.from({ length: 37 }, (_, i) => Math.round((0.05 + 0.025 * i) * 1000) / 1000),
  0.96, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 0.99998, 0.99999,
];
