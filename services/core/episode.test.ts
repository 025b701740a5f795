/**
 * The episode state machine (episode.ts), driven with chosen probabilities: a raise needs
 * the threshold held for minDurationMinutes with minRaiseReadings fresh values; a clear
 * needs the probability below half the threshold for clearMinutes with minClearReadings
 * fresh values, and comes with a fresh value (silence, a machine switched off for a weekend,
 * is no recovery); a relapse within the horizon after a clear resumes the same episode, so
 * a case opener updates the case it has instead of opening a second one; a repair forgets it.
 */
import { describe, expect, it } from 'vitest';
import { stepEpisode } from './episode.ts';
import { DEFAULT_CONFIG, maintain, newState, type PredictionEvent } from './index.ts';

const at = DEFAULT_CONFIG.assetTypes.get('refrigerator')!;
const M = at.failureModes.findIndex((m) => m.name === 'compressor_failure');
const T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;

/** Steps [minute, p, fresh] in order; returns the events as "kind@minute episodeStartMinute". */
function drive(steps: readonly (readonly [number, number, boolean])[], st = newState('f', 'refrigerator', DEFAULT_CONFIG)): string[] {
  const out: PredictionEvent[] = [];
  for (const [minute, p, fresh] of steps) stepEpisode(st, at, M, T0 + minute * MIN, p, fresh, DEFAULT_CONFIG, out);
  return out.map((e) => `${e.kind}@${(e.ts - T0) / MIN} from ${(e.episodeStartTs - T0) / MIN}`);
}
/** `count` steps every `every` minutes from `from`, all with probability p. */
const run = (from: number, count: number, every: number, p: number, fresh = true): [number, number, boolean][] =>
  Array.from({ length: count }, (_, i) => [from + i * every, p, fresh]);

describe('episodes', () => {
  it('raise after the minimum duration with enough fresh values, not on held ones', () => {
    expect(drive(run(0, 61, 1, 0.6, false))).toEqual([]);
    expect(drive([...run(0, 2, 1, 0.6), ...run(2, 60, 1, 0.6, false)])).toEqual([]);
    expect(drive(run(0, 61, 1, 0.6))).toEqual(['raised@60 from 60']);
  });

  it('clear after 18 h below half the threshold with fresh values, on a fresh value', () => {
    const raise = run(0, 61, 1, 0.6);
    // 18 h of fresh healthy values: cleared at the first fresh value 18 h after p fell.
    expect(drive([...raise, ...run(61, 19 * 60, 1, 0.1)]).slice(1)).toEqual(['cleared@1141 from 60']);
  });

  it('does not clear over a silence: a weekend with the machine off, then the degradation again', () => {
    const raise = run(0, 61, 1, 0.6);
    // Five fresh low values on Friday evening, then two days of held values (no fresh one).
    const weekend = [...run(61, 5, 1, 0.1), ...run(66, 48 * 60, 1, 0.1, false)];
    const monday = run(66 + 48 * 60, 30, 1, 0.7);
    // The same episode goes on and escalates; no clear came in between.
    expect(drive([...raise, ...weekend, ...monday]).slice(1)).toEqual([`escalated@${66 + 48 * 60} from 60`]);
  });

  it('resumes the same episode when a cleared failure relapses within the horizon (72 h)', () => {
    const raise = run(0, 61, 1, 0.6);
    const recovered = run(61, 19 * 60, 1, 0.1);
    const relapse = run(61 + 19 * 60 + 60, 61, 1, 0.6);
    expect(drive([...raise, ...recovered, ...relapse]).slice(1)).toEqual(['cleared@1141 from 60', `raised@${61 + 19 * 60 + 120} from 60`]);
  });

  it('opens a new episode for a relapse after the horizon, or after a repair', () => {
    const raise = run(0, 61, 1, 0.6);
    const recovered = run(61, 19 * 60, 1, 0.1);
    const late = 1141 + 73 * 60;
    expect(drive([...raise, ...recovered, ...run(late, 61, 1, 0.6)]).slice(1)).toEqual(['cleared@1141 from 60', `raised@${late + 60} from ${late + 60}`]);
    const st = newState('f', 'refrigerator', DEFAULT_CONFIG);
    drive([...raise, ...recovered], st);
    maintain(st, { assetId: 'f', ts: T0 + 1200 * MIN, failureMode: 'compressor_failure' }, DEFAULT_CONFIG);
    expect(drive(run(1300, 61, 1, 0.6), st)).toEqual(['raised@1360 from 1360']);
  });
});
