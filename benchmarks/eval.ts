/**
 * Detection quality of the scoring core, measured on a seeded simulated fleet with the
 * default configuration (the same one the speed benchmark runs).
 *
 *   npx tsx benchmarks/eval.ts [--json] [--seed N] [--assets-per-type N] [--days N] [--sample-period-sec N]
 *
 * Per failure mode it prints: failures injected, share predicted before they happen (a
 * `raised` event of that mode between the degradation start and the failure), median lead
 * share (lead time / degradation length) and false predictions per 1,000 healthy asset-days
 * (raises of that mode outside any [degradation start, repair] window of that mode on that
 * asset, over the type's healthy asset-days: observed time after the trackers' learning
 * period, minus degradation and down time). `qualityFaultsReportedAsFailures` counts false
 * raises during a sensor or delivery fault or within 2 hours after it. With --json the last
 * line is one JSON object. Progress goes to stderr.
 *
 * With --bounds it also prints, per mode, the median lead share of a prediction made at the
 * first reading that shows the degraded sensor active (engine running, compressor on, water
 * flowing) once a quarter, and once a third, of the degradation has passed. Most
 * degradations progress in wall time, so while a machine is idle its sensor hides the
 * progress: where the quarter column is near 0.5, a detector meets the lead target only by
 * predicting from what the first quarter of the degradation shows. (A van's engine wear
 * progresses only while the engine runs, so there the columns mostly measure the van's
 * timetable: a weekend inside the degradation.)
 */
import {
  DEFAULT_CONFIG,
  isActive,
  maintain,
  newState,
  score,
  type AssetState,
  type CompiledConfig,
  type CompiledFailureMode,
  type PredictionEvent,
} from '../services/core/index.ts';
import { createFleet, type FailureTruth } from '../services/simulator/fleet.ts';

export interface Args {
  json: boolean;
  bounds?: boolean;
  seed: number;
  assetsPerType: number;
  days: number;
  samplePeriodSec: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, seed: 20261123, assetsPerType: 50, days: 40, samplePeriodSec: 120 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`eval: ${k} needs a positive number, got "${argv[i]}"`);
      return v;
    };
    if (k === '--json') a.json = true;
    else if (k === '--bounds') a.bounds = true;
    else if (k === '--seed') a.seed = num();
    else if (k === '--assets-per-type') a.assetsPerType = Math.round(num());
    else if (k === '--days') a.days = num();
    else if (k === '--sample-period-sec') a.samplePeriodSec = num();
    else throw new Error(`eval: unknown argument "${k}" (expected --json, --bounds, --seed, --assets-per-type, --days, --sample-period-sec)`);
  }
  return a;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ModeResult {
  assetType: string;
  failureMode: string;
  failures: number;
  /** Share of failures predicted before they happened, in [0, 1]. */
  predicted: number;
  medianLeadShare: number;
  falsePer1000AssetDays: number;
}

/** Observability bounds of one mode (see --bounds). */
export interface ModeBound {
  assetType: string;
  failureMode: string;
  /** Median lead share of a prediction at the first active reading after 1/4 of the degradation. */
  firstActiveAfterQuarter: number;
  /** The same after 1/3 of the degradation. */
  firstActiveAfterThird: number;
}

export interface EvalResult {
  modes: ModeResult[];
  qualityFaultsReportedAsFailures: number;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Runs the evaluation; `progress` receives a line now and then. `cfg` defaults to
 * DEFAULT_CONFIG (what `npm run eval` measures); other configs are for tuning experiments.
 */
export function runEval(
  a: Args,
  progress: (line: string) => void,
  cfg: CompiledConfig = DEFAULT_CONFIG,
): EvalResult & { bounds: ModeBound[]; readings: number; seconds: number; healthyDays: Map<string, number> } {
  const startTs = Date.UTC(2026, 0, 5);
  const fleet = createFleet(
    { seed: a.seed, assetsPerType: a.assetsPerType, startTs, days: a.days, samplePeriodSec: a.samplePeriodSec, failureShare: 0.6, qualityFaultShare: 0.4 },
    cfg,
  );
  const states = new Map<string, AssetState>();
  const raised = new Map<string, PredictionEvent[]>();
  const firstTs = new Map<string, number>();
  const lastTs = new Map<string, number>();
  const t0 = performance.now();
  const expected = fleet.assets.length * a.days * (86400 / a.samplePeriodSec);
  let n = 0;
  // Per failing asset: its failure, its mode, and the first active reading's lead share after
  // a quarter and a third of the degradation (the observability bounds).
  const BOUND_AT = [0.25, 1 / 3] as const;
  const watch = new Map<string, { type: string; f: FailureTruth; mode: CompiledFailureMode; seen: (number | undefined)[] }>();
  for (const asset of fleet.assets)
    for (const f of asset.failures) {
      const mode = cfg.assetTypes.get(asset.assetType)?.failureModes.find((m) => m.name === f.failureMode);
      if (mode) watch.set(asset.assetId, { type: asset.assetType, f, mode, seen: BOUND_AT.map(() => undefined) });
    }
  const keep = (ps: PredictionEvent[]): void => {
    for (const p of ps) if (p.kind === 'raised') (raised.get(p.assetId) ?? raised.set(p.assetId, []).get(p.assetId)!).push(p);
  };
  for (const e of fleet.events()) {
    if (e.type === 'maintenance') {
      const s = states.get(e.event.assetId);
      if (s) keep(maintain(s, e.event, cfg).predictions);
      continue;
    }
    const r = e.reading;
    let s = states.get(r.assetId);
    if (!s) {
      s = newState(r.assetId, r.assetType, cfg);
      states.set(r.assetId, s);
      firstTs.set(r.assetId, r.ts);
    }
    const w = watch.get(r.assetId);
    if (w && r.ts >= w.f.degradationStartTs && r.ts < w.f.failureTs) {
      const v = r.values[w.f.sensor];
      if (v !== undefined && Number.isFinite(v) && isActive(w.mode, v)) {
        const share = (r.ts - w.f.degradationStartTs) / (w.f.failureTs - w.f.degradationStartTs);
        BOUND_AT.forEach((b, i) => {
          if (share >= b && w.seen[i] === undefined) w.seen[i] = 1 - share;
        });
      }
    }
    const step = score(s, r, cfg);
    if (step.predictions.length > 0) keep(step.predictions);
    if (step.accepted) lastTs.set(r.assetId, r.ts);
    if (++n % 1_000_000 === 0)
      progress(`eval: ${(n / 1e6).toFixed(0)}M readings (~${Math.round((100 * n) / expected)}%), ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const seconds = (performance.now() - t0) / 1000;

  const learnMs = cfg.detector.modeLearningHours * HOUR;
  const healthyDays = new Map<string, number>();
  const stats = new Map<string, { type: string; mode: string; failures: number; hit: number; leads: number[]; false: number }>();
  for (const [type, at] of cfg.assetTypes)
    for (const m of at.failureModes) stats.set(`${type}/${m.name}`, { type, mode: m.name, failures: 0, hit: 0, leads: [], false: 0 });
  let qualityFaultsReportedAsFailures = 0;
  for (const asset of fleet.assets) {
    const from = (firstTs.get(asset.assetId) ?? Infinity) + learnMs;
    const to = lastTs.get(asset.assetId) ?? 0;
    let healthy = Math.max(0, to - from);
    for (const f of asset.failures) healthy -= Math.max(0, Math.min(to, f.repairTs) - Math.max(from, f.degradationStartTs));
    healthyDays.set(asset.assetType, (healthyDays.get(asset.assetType) ?? 0) + Math.max(0, healthy) / DAY);
    const ps = raised.get(asset.assetId) ?? [];
    for (const f of asset.failures) {
      const st = stats.get(`${asset.assetType}/${f.failureMode}`)!;
      st.failures++;
      const hit = ps.find((p) => p.failureMode === f.failureMode && p.ts >= f.degradationStartTs && p.ts < f.failureTs);
      if (hit) {
        st.hit++;
        st.leads.push((f.failureTs - hit.ts) / (f.failureTs - f.degradationStartTs));
      }
    }
    for (const p of ps) {
      const explained = asset.failures.some((f) => f.failureMode === p.failureMode && p.ts >= f.degradationStartTs && p.ts <= f.repairTs);
      if (explained) continue;
      stats.get(`${asset.assetType}/${p.failureMode}`)!.false++;
      if (asset.qualityFaults.some((q) => p.ts >= q.startTs && p.ts <= q.endTs + 2 * HOUR)) qualityFaultsReportedAsFailures++;
    }
  }
  const modes: ModeResult[] = [...stats.values()].map((s) => ({
    assetType: s.type,
    failureMode: s.mode,
    failures: s.failures,
    predicted: s.failures === 0 ? 0 : s.hit / s.failures,
    medianLeadShare: median(s.leads),
    falsePer1000AssetDays: (1000 * s.false) / Math.max(1e-9, healthyDays.get(s.type) ?? 0),
  }));
  const bounds: ModeBound[] = [...stats.values()].map((st) => {
    const ws = [...watch.values()].filter((w) => w.type === st.type && w.f.failureMode === st.mode);
    return {
      assetType: st.type,
      failureMode: st.mode,
      firstActiveAfterQuarter: median(ws.map((w) => w.seen[0] ?? 0)),
      firstActiveAfterThird: median(ws.map((w) => w.seen[1] ?? 0)),
    };
  });
  return { modes, bounds, qualityFaultsReportedAsFailures, readings: n, seconds, healthyDays };
}

if (process.argv[1]?.endsWith('eval.ts')) {
  const args = parseArgs(process.argv.slice(2));
  const res = runEval(args, (l) => process.stderr.write(`${l}\n`));
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const out: string[] = [];
  out.push(
    `fleet: seed ${args.seed}, ${args.assetsPerType} assets per type, ${args.days} days, ${args.samplePeriodSec} s sampling; ` +
      `${res.readings} readings scored in ${res.seconds.toFixed(1)} s (${Math.round(res.readings / res.seconds)} readings/s incl. simulation)`,
  );
  out.push(`healthy asset-days: ${[...res.healthyDays].map(([t, d]) => `${t} ${d.toFixed(0)}`).join(', ')}`);
  out.push('asset type        failure mode               failures  predicted  median lead share  false/1000 healthy asset-days');
  for (const m of res.modes)
    out.push(
      `${m.assetType.padEnd(17)} ${m.failureMode.padEnd(26)} ${String(m.failures).padStart(8)}  ${pct(m.predicted).padStart(9)}  ${m.medianLeadShare.toFixed(2).padStart(17)}  ${m.falsePer1000AssetDays.toFixed(2).padStart(29)}`,
    );
  const all = res.modes.reduce((s, m) => s + m.failures, 0);
  const hit = res.modes.reduce((s, m) => s + m.predicted * m.failures, 0);
  out.push(`all modes: ${all} failures, ${pct(hit / Math.max(1, all))} predicted; quality faults reported as failures: ${res.qualityFaultsReportedAsFailures}`);
  out.push('targets: >= 95% predicted, median lead share >= 0.5, <= 1 false per 1,000 healthy asset-days, 0 quality faults as failures');
  if (args.bounds) {
    out.push('');
    out.push('observability: median lead share of a prediction at the first reading with the sensor active after');
    out.push('asset type        failure mode               1/4 of the degradation  1/3 of it  the detector');
    res.bounds.forEach((b, i) =>
      out.push(
        `${b.assetType.padEnd(17)} ${b.failureMode.padEnd(26)} ${b.firstActiveAfterQuarter.toFixed(2).padStart(22)}  ${b.firstActiveAfterThird.toFixed(2).padStart(9)}  ${res.modes[i]!.medianLeadShare.toFixed(2).padStart(12)}`,
      ),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) {
    const round = (x: number): number => Math.round(x * 1e4) / 1e4;
    process.stdout.write(
      `${JSON.stringify({
        modes: res.modes.map((m) => ({ ...m, predicted: round(m.predicted), medianLeadShare: round(m.medianLeadShare), falsePer1000AssetDays: round(m.falsePer1000AssetDays) })),
        qualityFaultsReportedAsFailures: res.qualityFaultsReportedAsFailures,
      })}\n`,
    );
  }
}
