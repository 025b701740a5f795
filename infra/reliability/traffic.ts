/**
 * What the reliability scenarios send, and what must come out of it: a seeded fleet (readings
 * and the repairs after its failures) under a scenario's own asset-id namespace, the bad
 * records a scenario interleaves with it, and the outputs an uninterrupted single scorer
 * gives for the good ones, computed offline with the same core (the scorer's outputs are a
 * deterministic function of each asset's records in order, so whatever fails in between, the
 * pipeline must produce exactly these).
 */
import type { Message } from 'kafkajs';
import { DEFAULT_CONFIG, maintain, newState, score, type AssetState, type Reading } from '../../services/core/index.ts';
import type { AvroCodec } from '../../services/kafka/codec.ts';
import { recordWriterKey } from '../../services/kafka/codec.ts';
import { createFleet, type FleetAsset, type FleetEvent } from '../../services/simulator/fleet.ts';

export interface TrafficOptions {
  seed: number;
  /** Prefix of every asset id (`<ns>-<type>-<nnnn>`), so that runs never share assets. */
  ns: string;
  assetsPerType: number;
  days: number;
  samplePeriodSec: number;
  /** Share of assets that degrade and fail (default 0.5). */
  failureShare?: number;
}

export interface ExpectedPrediction {
  key: string;
  episodeId: string;
  kind: string;
  assetId: string;
}

export interface Traffic {
  events: FleetEvent[];
  assets: FleetAsset[];
  /** `assetId|ts` of every good reading. */
  readingKeys: Set<string>;
  /** `assetId|ts` → the asset score an uninterrupted scorer gives it. */
  expectedScores: Map<string, number>;
  /** Every prediction event of an uninterrupted scorer, keyed `episodeId|kind|ts`. */
  expectedPredictions: ExpectedPrediction[];
  /** Episodes with a raise: each must have exactly one case. */
  raisedEpisodes: Set<string>;
}

export function makeTraffic(o: TrafficOptions): Traffic {
  const fleet = createFleet(
    // No quality faults: every good reading has a unique (asset, time), so duplicates are the pipeline's.
    { seed: o.seed, assetsPerType: o.assetsPerType, startTs: Date.UTC(2026, 0, 5), days: o.days, samplePeriodSec: o.samplePeriodSec, failureShare: o.failureShare ?? 0.5, qualityFaultShare: 0 },
    DEFAULT_CONFIG,
  );
  const id = (a: string) => `${o.ns}-${a}`;
  const events: FleetEvent[] = [];
  for (const e of fleet.events()) {
    events.push(e.type === 'reading' ? { type: 'reading', reading: { ...e.reading, assetId: id(e.reading.assetId) } } : { type: 'maintenance', event: { ...e.event, assetId: id(e.event.assetId) } });
  }
  const states = new Map<string, AssetState>();
  const readingKeys = new Set<string>();
  const expectedScores = new Map<string, number>();
  const expectedPredictions: ExpectedPrediction[] = [];
  const raisedEpisodes = new Set<string>();
  const note = (p: { episodeId: string; kind: string; ts: number; assetId: string }) => {
    expectedPredictions.push({ key: `${p.episodeId}|${p.kind}|${p.ts}`, episodeId: p.episodeId, kind: p.kind, assetId: p.assetId });
    if (p.kind === 'raised') raisedEpisodes.add(p.episodeId);
  };
  for (const e of events) {
    if (e.type === 'maintenance') {
      const st = states.get(e.event.assetId);
      if (!st) continue;
      const res = maintain(st, e.event, DEFAULT_CONFIG);
      states.set(e.event.assetId, res.state);
      res.predictions.forEach(note);
      continue;
    }
    const r: Reading = e.reading;
    const st = states.get(r.assetId) ?? newState(r.assetId, r.assetType, DEFAULT_CONFIG);
    const step = score(st, r, DEFAULT_CONFIG);
    states.set(r.assetId, step.state);
    const key = `${r.assetId}|${r.ts}`;
    readingKeys.add(key);
    expectedScores.set(key, step.score);
    step.predictions.forEach(note);
  }
  return { events, assets: fleet.assets.map((a) => ({ ...a, assetId: id(a.assetId) })), readingKeys, expectedScores, expectedPredictions, raisedEpisodes };
}

/** Wire-format messages of the traffic's events, keyed by asset (maintenance events as their own record type). */
export function encodeEvents(codec: AvroCodec, topic: string, maintenanceName: string, events: readonly FleetEvent[]): Message[] {
  const mKey = recordWriterKey(topic, maintenanceName);
  return events.map((e) =>
    e.type === 'reading'
      ? { key: e.reading.assetId, value: codec.encode(topic, e.reading) }
      : { key: e.event.assetId, value: codec.encode(mKey, { assetId: e.event.assetId, ts: e.event.ts, failureMode: e.event.failureMode ?? null, sensors: e.event.sensors ?? null, source: 'reliability' }) },
  );
}
