import { describe, expect, it } from 'vitest';
import type { PredictionEvent } from '../core/types.ts';
import { EpisodeBuilder, episodesOf } from './episodes.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 0, 10);

/** A prediction event of episode `id` (started at `start`) at `ts`. */
function event(kind: PredictionEvent['kind'], id: string, start: number, ts: number, over: Partial<PredictionEvent> = {}): PredictionEvent {
  return {
    kind,
    episodeId: id,
    assetId: 'EV-1',
    assetType: 'passenger_ev',
    failureMode: 'battery_thermal_runaway',
    episodeStartTs: start,
    ts,
    severity: 'low',
    probability: 0.55,
    horizonHours: 72,
    predictedFailureTs: null,
    predictedFailureLowTs: null,
    predictedFailureHighTs: null,
    evidence: [],
    configVersion: 'v1',
    ...over,
  };
}

describe('episodesOf', () => {
  it('folds an episode: raised at its start, worst severity and probability, ended by its clear', () => {
    const eps = episodesOf([
      event('raised', 'ep-a', T, T),
      event('escalated', 'ep-a', T, T + H, { severity: 'critical', probability: 0.95 }),
      event('updated', 'ep-a', T, T + 2 * H, { severity: 'high', probability: 0.8 }),
      // A repair's clear: probability 0, the severity the episode had.
      event('cleared', 'ep-a', T, T + 3 * H, { severity: 'critical', probability: 0, configVersion: 'v2' }),
    ]);
    expect(eps).toEqual([
      {
        episodeId: 'ep-a', assetId: 'EV-1', assetType: 'passenger_ev', failureMode: 'battery_thermal_runaway',
        raisedTs: T, endTs: T + 3 * H, peakSeverity: 'critical', peakProbability: 0.95, horizonHours: 72, configVersion: 'v2',
      },
    ]);
  });

  it('keeps an episode open when a relapse resumed it after a clear, with its first raise', () => {
    const [ep] = episodesOf([
      event('raised', 'ep-a', T, T),
      event('cleared', 'ep-a', T, T + 20 * H),
      event('raised', 'ep-a', T, T + 30 * H),
    ]);
    expect(ep).toMatchObject({ raisedTs: T, endTs: null });
  });

  it('ignores events after the span end, so an episode cleared later is open at the end', () => {
    const events = [event('raised', 'ep-a', T, T), event('cleared', 'ep-a', T, T + 5 * H), event('raised', 'ep-b', T + 9 * H, T + 9 * H)];
    expect(episodesOf(events, T + 4 * H)).toEqual([expect.objectContaining({ episodeId: 'ep-a', endTs: null })]);
    expect(episodesOf(events, T + 5 * H).map((e) => [e.episodeId, e.endTs])).toEqual([['ep-a', T + 5 * H]]);
  });

  it('takes an episode whose raise is before the history kept (retention) from its start time', () => {
    expect(episodesOf([event('escalated', 'ep-a', T - 50 * H, T, { severity: 'medium' })])).toEqual([
      expect.objectContaining({ raisedTs: T - 50 * H, endTs: null, peakSeverity: 'medium' }),
    ]);
  });

  it('orders episodes by raise, then asset, mode and id, whatever the order events came in', () => {
    const b = new EpisodeBuilder();
    b.add(event('raised', 'ep-z', T + H, T + H, { assetId: 'EV-2' }));
    b.add(event('raised', 'ep-y', T, T, { assetId: 'EV-2' }));
    b.add(event('raised', 'ep-x', T, T, { assetId: 'EV-1', failureMode: 'motor_overheat' }));
    b.add(event('raised', 'ep-w', T, T, { assetId: 'EV-1' }));
    expect(b.episodes().map((e) => e.episodeId)).toEqual(['ep-w', 'ep-x', 'ep-y', 'ep-z']);
  });
});
