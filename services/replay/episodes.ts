/**
 * Prediction events folded into episodes, the unit a case stands for: one per asset, failure
 * mode and episode id, with when it was raised, whether it was still open at the end of the
 * replayed span, and the worst it got. Both sides of a replay go through this: the events that
 * happened (read from failure.predictions) and the ones the candidate configuration gives.
 *
 * Folding is incremental (an {@link EpisodeBuilder} keeps one small record per episode, never
 * the events), so a long history costs memory per episode, not per event. Pure.
 */
import type { PredictionEvent, Severity } from '../core/types.ts';

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/** One prediction episode of one asset and failure mode, as far as the events up to the span's end tell. */
export interface Episode {
  episodeId: string;
  assetId: string;
  assetType: string;
  failureMode: string;
  /**
   * When it was raised, epoch ms: the episode's start (the reading that opened it). A relapse
   * that resumed the episode keeps the first raise, as its case does.
   */
  raisedTs: number;
  /** When its last `cleared` event came, epoch ms, or null when it was open at the span's end. */
  endTs: number | null;
  peakSeverity: Severity;
  /** Highest probability of its events, in [0, 1]. */
  peakProbability: number;
  /** The failure mode's horizon, hours (from its events). */
  horizonHours: number;
  /** Configuration version of its newest event. */
  configVersion: string;
}

/** Folds prediction events, in any order per episode's time, into episodes. */
export class EpisodeBuilder {
  private readonly byId = new Map<string, Episode & { lastTs: number; lastKind: PredictionEvent['kind'] }>();

  /**
   * @param untilTs events after this time (epoch ms) are ignored: the span's end, so that both
   *   sides of a comparison see the same history. Default: no limit.
   */
  constructor(private readonly untilTs = Infinity) {}

  add(e: PredictionEvent): void {
    if (e.ts > this.untilTs) return;
    let ep = this.byId.get(e.episodeId);
    if (ep === undefined) {
      ep = {
        episodeId: e.episodeId,
        assetId: e.assetId,
        assetType: e.assetType,
        failureMode: e.failureMode,
        raisedTs: e.episodeStartTs,
        endTs: null,
        peakSeverity: e.severity,
        peakProbability: e.probability,
        horizonHours: e.horizonHours,
        configVersion: e.configVersion,
        lastTs: -Infinity,
        lastKind: e.kind,
      };
      this.byId.set(e.episodeId, ep);
    }
    // A cleared event carries the severity the episode had, and probability 0 after a repair.
    if (e.kind !== 'cleared') {
      if (SEVERITY_RANK[e.severity] > SEVERITY_RANK[ep.peakSeverity]) ep.peakSeverity = e.severity;
      if (e.probability > ep.peakProbability) ep.peakProbability = e.probability;
    }
    // Events of one episode come in time order from one partition; `>=` keeps the later of
    // two at the same instant (a repair's clear after the reading that escalated).
    if (e.ts >= ep.lastTs) {
      ep.lastTs = e.ts;
      ep.lastKind = e.kind;
      ep.configVersion = e.configVersion;
      ep.endTs = e.kind === 'cleared' ? e.ts : null;
    }
  }

  /** The episodes so far, ordered by raise time, then asset, mode and id (a stable order for reports). */
  episodes(): Episode[] {
    return [...this.byId.values()]
      .map(({ lastTs: _t, lastKind: _k, ...ep }) => ep)
      .sort((a, b) => a.raisedTs - b.raisedTs || cmp(a.assetId, b.assetId) || cmp(a.failureMode, b.failureMode) || cmp(a.episodeId, b.episodeId));
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The episodes of `events` up to `untilTs` (epoch ms; default no limit). */
export function episodesOf(events: Iterable<PredictionEvent>, untilTs = Infinity): Episode[] {
  const b = new EpisodeBuilder(untilTs);
  for (const e of events) b.add(e);
  return b.episodes();
}
