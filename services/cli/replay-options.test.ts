import { describe, expect, it } from 'vitest';
import { compileReplayOptions, DEFAULT_REPLAY, ReplayOptionsError } from './replay-options.ts';

const FORMS = 'ISO 8601 such as 2026-01-14T00:00:00Z or "2026-01-14 06:00", or epoch seconds or milliseconds';

function problems(o: Parameters<typeof compileReplayOptions>[0]): readonly string[] {
  try {
    compileReplayOptions(o);
  } catch (err) {
    expect(err).toBeInstanceOf(ReplayOptionsError);
    return (err as ReplayOptionsError).problems;
  }
  throw new Error('expected a ReplayOptionsError');
}

describe('compileReplayOptions', () => {
  it('reads the span in the forms pdm score reads times, all history by default', () => {
    const c = compileReplayOptions({ from: '2026-01-14', to: '1768608000' });
    expect(c).toEqual({ fromTs: Date.UTC(2026, 0, 14), toTs: Date.UTC(2026, 0, 17), warmupFromTs: -Infinity, stallTimeoutMs: DEFAULT_REPLAY.stallTimeoutMs });
    expect(Object.isFrozen(c)).toBe(true);
    expect(compileReplayOptions({ from: '2026-01-14 06:00', to: '2026-01-14T08:00:00+01:00' })).toMatchObject({ fromTs: Date.UTC(2026, 0, 14, 6), toTs: Date.UTC(2026, 0, 14, 7) });
  });

  it('starts the states the warm-up before --from', () => {
    expect(compileReplayOptions({ from: '2026-01-14', to: '2026-01-15', warmupDays: '7.5' }).warmupFromTs).toBe(Date.UTC(2026, 0, 6, 12));
    expect(compileReplayOptions({ from: '2026-01-14', to: '2026-01-15', warmupDays: '0' }).warmupFromTs).toBe(Date.UTC(2026, 0, 14));
  });

  it('names every problem at once', () => {
    expect(problems({})).toEqual([`--from is required (${FORMS})`, `--to is required (${FORMS})`]);
    expect(problems({ from: 'yesterday', to: '2026-02-30', warmupDays: '-1' })).toEqual([
      `--from "yesterday" is not a time (${FORMS})`,
      `--to "2026-02-30" is not a time (${FORMS})`,
      '--warmup-days "-1" is not a number of days ≥ 0',
    ]);
    expect(problems({ from: '2026-01-15', to: '2026-01-14', warmupDays: 'week' })).toEqual([
      '--from 2026-01-15T00:00:00.000Z is not before --to 2026-01-14T00:00:00.000Z',
      '--warmup-days "week" is not a number of days ≥ 0',
    ]);
    expect(problems({ from: '2026-01-14', to: '2026-01-14' })).toEqual(['--from 2026-01-14T00:00:00.000Z is not before --to 2026-01-14T00:00:00.000Z']);
  });
});
