import { describe, expect, it } from 'vitest';
import { uniqueName } from './stack-env.ts';
import { staleTestTopics } from './stale-topics.ts';

describe('stale test topics', () => {
  const now = Date.UTC(2026, 11, 7, 3, 0, 0);
  const at = (ms: number, prefix: string, rest = '.telemetry.readings') => `${prefix}-${ms.toString(36)}-a1b2c3${rest}`;

  it('picks topics uniqueName() made more than the age ago, whatever their prefix', () => {
    const old = now - 2 * 3_600_000;
    const topics = [at(old, 't'), at(old, 'rp-empty', '.anomaly.scores.dlq'), at(old, 'evo-bad', '-x'), at(now - 60_000, 't'), at(now - 60_000, 'sc')];
    expect(staleTestTopics(topics, now, 3_600_000)).toEqual(topics.slice(0, 3));
  });

  it('leaves every other topic alone: the demo, a user, names that only look alike', () => {
    const topics = ['demo-20261206t234012.telemetry.readings', 'telemetry.readings', 'rel-zombie-4d10cc54.scorer.state', 'fleet-zzzzzzzz-abcdef.readings', 'fleet-00000001-abcdef.readings'];
    expect(staleTestTopics(topics, now, 0)).toEqual([]);
  });

  it('also picks what an interrupted e2e benchmark left (its run time in base 36 too)', () => {
    expect(staleTestTopics(['bench-e2e-mxcjyhck-tp.telemetry.readings'], Date.UTC(2026, 11, 7, 3), 3_600_000)).toEqual(['bench-e2e-mxcjyhck-tp.telemetry.readings']);
  });

  it('recognises the names uniqueName() makes now', () => {
    const name = `${uniqueName('t')}.telemetry.readings`;
    expect(staleTestTopics([name], Date.now() + 3_600_001, 3_600_000)).toEqual([name]);
    expect(staleTestTopics([name], Date.now(), 3_600_000)).toEqual([]);
  });
});
