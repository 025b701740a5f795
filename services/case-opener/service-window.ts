/**
 * When to send someone: the recommended service window of a prediction, a pure function of
 * the event (no clock), so a replayed event writes the same window.
 *
 * The window opens at the event (the newest reading that raised or escalated the
 * prediction: "now" in the stream's time) and is due before the lower bound of the
 * predicted failure interval, less a configured margin, so the visit lands before the
 * earliest likely failure. Without an interval it falls back to the most likely failure
 * time, then to the end of the probability's horizon. A window that the margin would close
 * before it opens (the failure is too near) keeps a minimum length and says so: the visit
 * is due as soon as possible.
 */
import type { PredictionEvent } from '../core/types.ts';

const HOUR_MS = 3_600_000;

/** Tuning of the window. */
export interface ServiceWindowOptions {
  /** Hours between the visit's due time and the earliest likely failure. Default 4. */
  marginHours: number;
  /** Shortest window, hours, when the margin cannot be kept (a ServiceAppointment must be due after it may start). Default 1. */
  minimumWindowHours: number;
}

export const DEFAULT_SERVICE_WINDOW: ServiceWindowOptions = Object.freeze({ marginHours: 4, minimumWindowHours: 1 });

/** A recommended service window, epoch ms. */
export interface ServiceWindow {
  earliestStartTs: number;
  dueTs: number;
  /** False when the failure is nearer than margin + minimum window: the due time is the minimum window, not the margin. */
  marginKept: boolean;
}

/** The window of a raised or escalated prediction (see the file comment). */
export function serviceWindow(ev: Pick<PredictionEvent, 'ts' | 'predictedFailureTs' | 'predictedFailureLowTs' | 'horizonHours'>, opts: ServiceWindowOptions = DEFAULT_SERVICE_WINDOW): ServiceWindow {
  const earliestStartTs = ev.ts;
  const failureLow = ev.predictedFailureLowTs ?? ev.predictedFailureTs ?? ev.ts + ev.horizonHours * HOUR_MS;
  const due = failureLow - opts.marginHours * HOUR_MS;
  const soonest = earliestStartTs + opts.minimumWindowHours * HOUR_MS;
  return due >= soonest ? { earliestStartTs, dueTs: due, marginKept: true } : { earliestStartTs, dueTs: soonest, marginKept: false };
}

/** Names every problem with window options (for the service's compile step). */
export function serviceWindowProblems(o: ServiceWindowOptions): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(o.marginHours) || o.marginHours < 0) problems.push(`case-opener: serviceMarginHours=${o.marginHours} must be a number >= 0`);
  if (!Number.isFinite(o.minimumWindowHours) || o.minimumWindowHours <= 0) problems.push(`case-opener: minimumServiceWindowHours=${o.minimumWindowHours} must be a number > 0`);
  return problems;
}
