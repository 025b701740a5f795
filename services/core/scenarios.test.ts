/**
 * Scenario tests on simulated assets (the seeded fleet simulator gives realistic healthy
 * signals): every failure mode is predicted before the failure, escalates, clears with
 * hysteresis after recovery and carries a deterministic episode id; every data-quality
 * fault is reported as a finding, never as a prediction, and does not corrupt the state.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, encodeState, episodeId, newState, score, type PredictionEvent, type Reading } from './index.ts';
import { createFleet } from '../simulator/fleet.ts';

const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const cfg = DEFAULT_CONFIG;

function healthy(type: string, seed: number, days = 14): Reading[] {
  return [...createFleet({ seed, assetsPerType: 1, assetTypes: [type], startTs: T0, days, failureShare: 0, qualityFaultShare: 0 }, cfg).readings()];
}

function run(readings: Reading[]): { predictions: PredictionEvent[]; findings: { ts: number; kind: string; sensor?: string }[]; state: Uint8Array } {
  const r0 = readings[0]!;
  const st = newState(r0.assetId, r0.assetType, cfg);
  const predictions: PredictionEvent[] = [];
  const findings: { ts: number; kind: string; sensor?: string }[] = [];
  for (const r of readings) {
    const s = score(st, r, cfg);
    predictions.push(...s.predictions);
    for (const f of s.findings) findings.push({ ts: r.ts, kind: f.kind, ...(f.sensor === undefined ? {} : { sensor: f.sensor }) });
  }
  return { predictions, findings, state: encodeState(st) };
}

const modes = [...cfg.assetTypes.values()].flatMap((at) => at.failureModes.map((m) => ({ type: at.name, mode: m })));

describe('failure modes', () => {
  for (const { type, mode } of modes) {
    it(`${type}/${mode.name}: raised before failure, escalates, clears after recovery, deterministic id`, () => {
      const sensor = mode.sensors[0]!;
      const start = T0 + 9 * 24 * HOUR;
      // The limit would be reached at start + length; slow modes (a week's horizon) degrade slowly.
      const length = (mode.horizonHours >= 150 ? 120 : 48) * HOUR;
      const healAt = start + 0.85 * length;
      const active = (v: number): boolean =>
        (mode.activeAbove === undefined || v > mode.activeAbove) && (mode.activeBelow === undefined || v < mode.activeBelow);
      // Data until 3 days after the recovery: the clear hysteresis (clearMinutes) is 18 h.
      const readings = healthy(type, 11, Math.ceil((healAt - T0) / (24 * HOUR)) + 3).map((r) => {
        const v = r.values[sensor];
        if (v === undefined || r.ts < start || r.ts >= healAt || !active(v)) return r;
        const k = ((r.ts - start) / length) ** 1.2;
        return { ...r, values: { ...r.values, [sensor]: v * (1 - k) + mode.limit * k } };
      });
      const { predictions } = run(readings);
      const mine = predictions.filter((p) => p.failureMode === mode.name);
      const raised = mine.find((p) => p.kind === 'raised');
      expect(raised, 'a prediction is raised').toBeDefined();
      expect(raised!.ts).toBeGreaterThanOrEqual(start);
      expect(raised!.ts).toBeLessThan(healAt);
      const episode = mine.filter((p) => p.episodeStartTs === raised!.episodeStartTs);
      expect(episode.some((p) => p.kind === 'escalated') || raised!.severity === 'critical').toBe(true);
      const cleared = episode.find((p) => p.kind === 'cleared');
      expect(cleared, 'the episode clears after recovery').toBeDefined();
      expect(cleared!.ts).toBeGreaterThanOrEqual(healAt + cfg.detector.clearMinutes * 60_000);
      expect(cleared!.ts).toBeLessThan(healAt + 48 * HOUR);
      for (const p of episode) {
        expect(p.episodeId).toBe(episodeId(raised!.assetId, mode.name, raised!.ts));
        expect(p.configVersion).toBe(cfg.version);
      }
      expect(raised!.evidence.map((e) => e.sensor)).toEqual([...mode.sensors]);
      expect(raised!.evidence.find((e) => e.sensor === sensor)!.limit).toBe(mode.limit);
      // Nothing else is predicted on this otherwise healthy asset, and a replay is identical.
      expect(predictions.filter((p) => p.failureMode !== mode.name)).toEqual([]);
      expect(run(readings).predictions).toEqual(predictions);
    });
  }
});

describe('data-quality faults', () => {
  const type = 'refrigerator';
  const sensor = 'cabinet_temp_c';
  const base = healthy(type, 5);
  const from = T0 + 9 * 24 * HOUR;
  const to = from + 3 * HOUR;
  const inFault = (r: Reading): boolean => r.ts >= from && r.ts < to;
  const withValue = (v: (r: Reading) => number | undefined): Reading[] =>
    base.map((r) => {
      if (!inFault(r)) return r;
      const values: Record<string, number> = { ...r.values };
      const x = v(r);
      if (x === undefined) delete values[sensor];
      else values[sensor] = x;
      return { ...r, values };
    });
  const omitted = run(withValue(() => undefined));

  it('the healthy baseline predicts nothing', () => {
    expect(run(base).predictions).toEqual([]);
  });

  const cases: [string, () => number][] = [
    ['nan', () => NaN],
    ['infinite', () => Infinity],
    ['out_of_range', () => 999],
  ];
  it.each(cases)('%s values are findings, not predictions, and never reach the state', (kind, v) => {
    const res = run(withValue(v));
    const mine = res.findings.filter((f) => f.kind === kind);
    expect(mine.length).toBe(base.filter(inFault).length);
    expect(mine.every((f) => f.sensor === sensor && f.ts >= from && f.ts < to)).toBe(true);
    expect(res.predictions).toEqual([]);
    // Bit for bit the state of a run in which the sensor was simply absent.
    expect(res.state).toEqual(omitted.state);
  });

  it('a stale sensor is reported after 10 sample periods of silence', () => {
    const stale = omitted.findings.filter((f) => f.kind === 'stale');
    expect(stale.length).toBeGreaterThan(100);
    // Silence counts from the last value seen, up to one (jittered) period before the fault.
    expect(stale.every((f) => f.sensor === sensor && f.ts >= from + 8 * 60_000 && f.ts < to)).toBe(true);
    expect(omitted.predictions).toEqual([]);
  });

  it('a stuck sensor is reported and its frozen value is not learned', () => {
    let frozen: number | undefined;
    const res = run(withValue((r) => (frozen ??= r.values[sensor])));
    const stuck = res.findings.filter((f) => f.kind === 'stuck');
    expect(stuck.length).toBeGreaterThan(100);
    expect(stuck[0]!.ts).toBeGreaterThanOrEqual(from + cfg.detector.stuckMinutes * 60_000);
    expect(stuck.every((f) => f.sensor === sensor && f.ts < to)).toBe(true);
    expect(res.predictions).toEqual([]);
  });

  it('duplicates are rejected and leave the state exactly as without them', () => {
    const dup = base.flatMap((r) => (inFault(r) ? [r, { ...r, values: { ...r.values } }] : [r]));
    const res = run(dup);
    expect(res.findings.filter((f) => f.kind === 'duplicate').length).toBe(base.filter(inFault).length);
    expect(res.predictions).toEqual([]);
    expect(res.state).toEqual(run(base).state);
  });

  it('out-of-order readings are rejected and leave the state as if never received', () => {
    const late = new Set<Reading>();
    const out: Reading[] = [];
    for (let i = 0; i < base.length; i++) {
      const r = base[i]!;
      const next = base[i + 1];
      if (inFault(r) && next && i % 5 === 0) {
        out.push(next, r); // r arrives after its successor
        late.add(r);
        i++;
      } else out.push(r);
    }
    const res = run(out);
    expect(res.findings.filter((f) => f.kind === 'out_of_order').length).toBe(late.size);
    expect(res.predictions).toEqual([]);
    expect(res.state).toEqual(run(base.filter((r) => !late.has(r))).state);
  });

  it('unknown sensors are reported by name', () => {
    const res = run(base.slice(0, 3).map((r) => ({ ...r, values: { ...r.values, door_open: 1 } })));
    expect(res.findings).toEqual(base.slice(0, 3).map((r) => ({ ts: r.ts, kind: 'unknown_sensor', sensor: 'door_open' })));
  });
});
