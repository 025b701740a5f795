import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, maintain, newState, score } from '../core/index.ts';
import type { AssetState, PredictionEvent } from '../core/types.ts';
import type { StepInput } from '../scorer/step.ts';
import { createFleet } from '../simulator/fleet.ts';
import { episodesOf } from './episodes.ts';
import { Rescorer } from './rescore.ts';

const T0 = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;
// Seed 1 at this size injects failures into 4 of its 10 assets, each raised by the default configuration.
const fleet = createFleet({ seed: 1, assetsPerType: 2, startTs: T0, days: 12, samplePeriodSec: 300, failureShare: 0.6 }, DEFAULT_CONFIG);

/** The fleet's records as the readings topic holds them: 2 partitions by asset, in delivery order. */
function partitions(): Map<number, StepInput[]> {
  const out = new Map<number, StepInput[]>([[0, []], [1, []]]);
  const parts = new Map<string, number>();
  const partOf = (id: string): number => {
    if (!parts.has(id)) parts.set(id, parts.size % 2);
    return parts.get(id)!;
  };
  for (const e of fleet.events()) {
    const id = e.type === 'reading' ? e.reading.assetId : e.event.assetId;
    const list = out.get(partOf(id))!;
    const base = { offset: list.length, src: { topic: 't', partition: 0, offset: String(list.length), key: null, value: null } };
    if (e.type === 'reading') list.push({ ...base, kind: 'reading', reading: e.reading, recordTs: e.reading.ts });
    else list.push({ ...base, kind: 'repair', event: e.event, source: 'simulator', recordTs: e.event.ts });
  }
  return out;
}

/** Every prediction event of the fleet scored with the core directly, asset by asset. */
function coreEvents(): PredictionEvent[] {
  const states = new Map<string, AssetState>();
  const out: PredictionEvent[] = [];
  for (const e of fleet.events()) {
    if (e.type === 'reading') {
      const step = score(states.get(e.reading.assetId) ?? newState(e.reading.assetId, e.reading.assetType, DEFAULT_CONFIG), e.reading, DEFAULT_CONFIG);
      states.set(e.reading.assetId, step.state);
      out.push(...step.predictions);
    } else {
      const st = states.get(e.event.assetId);
      if (st) out.push(...maintain(st, e.event, DEFAULT_CONFIG).predictions);
    }
  }
  return out;
}

function rescore(toTs: number, warmupFromTs = -Infinity, chunk = 1_000): Rescorer {
  const r = new Rescorer({ cfg: DEFAULT_CONFIG, toTs, warmupFromTs, stateTtlMs: 30 * DAY });
  for (const [p, inputs] of partitions()) for (let i = 0; i < inputs.length; i += chunk) r.apply(p, inputs.slice(i, i + chunk));
  return r;
}

describe('Rescorer', () => {
  const all = coreEvents();

  it('gives the episodes the core gives, whatever the chunking', () => {
    const expected = episodesOf(all);
    expect(expected).toHaveLength(4);
    expect(rescore(Infinity).episodes()).toEqual(expected);
    expect(rescore(Infinity, -Infinity, 7).episodes()).toEqual(expected);
    expect(rescore(Infinity).counts()).toEqual({ readings: 32_596, repairs: 4, assets: 10 });
  });

  it('stops each asset at the span end: episodes as they stood then', () => {
    const to = T0 + 10.5 * DAY;
    const got = rescore(to).episodes();
    expect(got).toEqual(episodesOf(all, to));
    expect(got.some((e) => e.endTs === null)).toBe(true); // open at the end, cleared later
    expect(rescore(to).counts().readings).toBeLessThan(32_596);
  });

  it('with a warm-up, starts the states there: shorter than the learning period, nothing is raised', () => {
    expect(rescore(Infinity, T0 + 9 * DAY).episodes()).toEqual([]);
    // A warm-up reaching back to the start is all history.
    expect(rescore(Infinity, T0).episodes()).toEqual(episodesOf(all));
  });
});
