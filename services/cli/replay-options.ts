/**
 * The settings of `pdm replay`: defaults in one constant, compiled once into a frozen config that
 * names every bad setting at once (the CLI turns the problems into one usage error).
 */
import { parseTimestamp } from './timestamp.ts';

const DAY_MS = 86_400_000;

export interface ReplayOptions {
  /** Start of the compared span: ISO 8601 or epoch seconds/milliseconds (as `pdm score` reads times). Required. */
  from?: string;
  /** End of the compared span, included; same forms. Required. */
  to?: string;
  /**
   * Days of history before `from` to score first, so that the states have learned (a number
   * ≥ 0), or undefined for all of it. Default undefined: from the start of the topic or file,
   * which is what the scorer saw, so that the configuration the scorer ran reproduces what
   * happened exactly. A warm-up shorter than the detector's learning period (the failure
   * trackers' `modeLearningHours`, 7 days by default) cannot raise anything early in the span.
   */
  warmupDays?: string;
}

/** Defaults of the replay (also the ones the CLI's help names). */
export const DEFAULT_REPLAY = Object.freeze({
  /** Undefined: all history before `from`. */
  warmupDays: undefined as number | undefined,
  /**
   * Longest a Kafka read may go without progress before it gives up, ms: long enough for a
   * producer's open transaction to end (Kafka's default transaction timeout is 60 s).
   */
  stallTimeoutMs: 120_000,
});

export interface ReplayConfig {
  fromTs: number;
  toTs: number;
  /** Epoch ms from which records are scored; -Infinity for all history. */
  warmupFromTs: number;
  stallTimeoutMs: number;
}

/** Bad replay settings; `problems` names each one. */
export class ReplayOptionsError extends Error {
  override readonly name = 'ReplayOptionsError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

const TIME_FORMS = 'ISO 8601 such as 2026-01-14T00:00:00Z or "2026-01-14 06:00", or epoch seconds or milliseconds';

/**
 * Validates the options into a frozen config.
 * @throws ReplayOptionsError naming every problem (each starts with the option's name).
 */
export function compileReplayOptions(o: ReplayOptions): Readonly<ReplayConfig> {
  const problems: string[] = [];
  const time = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) {
      problems.push(`--${name} is required (${TIME_FORMS})`);
      return undefined;
    }
    const ts = parseTimestamp(v);
    if (ts === undefined) problems.push(`--${name} "${v}" is not a time (${TIME_FORMS})`);
    return ts;
  };
  const fromTs = time('from', o.from);
  const toTs = time('to', o.to);
  if (fromTs !== undefined && toTs !== undefined && fromTs >= toTs) {
    problems.push(`--from ${new Date(fromTs).toISOString()} is not before --to ${new Date(toTs).toISOString()}`);
  }
  let warmupDays = DEFAULT_REPLAY.warmupDays;
  if (o.warmupDays !== undefined) {
    const d = Number(o.warmupDays);
    if (o.warmupDays.trim() === '' || !Number.isFinite(d) || d < 0) problems.push(`--warmup-days "${o.warmupDays}" is not a number of days ≥ 0`);
    else warmupDays = d;
  }
  if (problems.length > 0) throw new ReplayOptionsError(problems);
  return Object.freeze({
    fromTs: fromTs!,
    toTs: toTs!,
    warmupFromTs: warmupDays === undefined ? -Infinity : fromTs! - warmupDays * DAY_MS,
    stallTimeoutMs: DEFAULT_REPLAY.stallTimeoutMs,
  });
}
