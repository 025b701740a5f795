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
 * Beside the product, in the same run on the same readings: the least-squares baseline
 * (benchmarks/lib/lsq-baseline.ts: a line over each sensor's last 60 active values, raising
 * when it reaches the limit within the horizon), judged by the same rules.
 *
 * Run-to-failure fleets (services/simulator/run-to-failure.ts: 50 machines wearing slowly
 * toward end-of-life limits, one reading per cycle of a day, a 72-cycle horizon, no daily
 * pattern, noise of a week of the trend) are scored too, product and baseline: a machine is
 * predicted by a raise of any of its modes within twice the horizon before its failure; a
 * raise earlier than that is false. Targets there: the product predicts at least as many as
 * the baseline, with at least its median lead, and no more false predictions.
 *
 * --demo-seeds N scores the demo's fleet (benchmarks/lib/demo-seeds.ts) for seeds 1..N and
 * prints per seed: failures injected, predicted, false cases, median lead, share of readings
 * with an asset score of 0.5 or more.
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
  compileConfig,
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
import { createRunToFailureFleet, RUN_TO_FAILURE_HORIZON_CYCLES, RUN_TO_FAILURE_TYPE, RUN_TO_FAILURE_TYPE_NAME } from '../services/simulator/run-to-failure.ts';
import { runDemoSeed, type DemoSeedResult } from './lib/demo-seeds.ts';
import { LsqBaseline, type BaselineRaise } from './lib/lsq-baseline.ts';

export interface Args {
  json: boolean;
  bounds?: boolean;
  /** Score the demo's fleet for seeds 1..demoSeeds (0: not). */
  demoSeeds?: number;
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
    else if (k === '--demo-seeds') a.demoSeeds = Math.round(num());
    else if (k === '--seed') a.seed = num();
    else if (k === '--assets-per-type') a.assetsPerType = Math.round(num());
    else if (k === '--days') a.days = num();
    else if (k === '--sample-period-sec') a.samplePeriodSec = num();
    else throw new Error(`eval: unknown argument "${k}" (expected --json, --bounds, --demo-seeds, --seed, --assets-per-type, --days, --sample-period-sec)`);
  }
  return a;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How one predictor did on one failure mode. */
export interface ModeScore {
  /** Share of failures predicted before they happened, in [0, 1]. */
  predicted: number;
  medianLeadShare: number;
  falsePer1000AssetDays: number;
}

export interface ModeResult extends ModeScore {
  assetType: string;
  failureMode: string;
  failures: number;
  /** The least-squares baseline on the same readings. */
  baseline: ModeScore;
}

/** How one predictor did on the run-to-failure fleet. */
export interface RunToFailureScore {
  /** Machines predicted (a raise within twice the horizon before the failure). */
  predicted: number;
  /** Median lead of the first such raise, cycles. */
  medianLeadCycles: number;
  /** Raises earlier than twice the horizon before the failure. */
  falsePredictions: number;
}

export interface RunToFailureResult {
  machines: number;
  horizonCycles: number;
  product: RunToFailureScore;
  baseline: RunToFailureScore;
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
  runToFailure: RunToFailureResult;
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
  const baseline = new LsqBaseline(cfg);
  const baselineRaised = new Map<string, BaselineRaise[]>();
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
      baseline.reset(e.event.assetId);
      continue;
    }
    const r = e.reading;
    for (const b of baseline.step(r)) (baselineRaised.get(b.assetId) ?? baselineRaised.set(b.assetId, []).get(b.assetId)!).push(b);
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
  type Tally = { failures: number; hit: number; leads: number[]; false: number };
  const tally = (): Tally => ({ failures: 0, hit: 0, leads: [], false: 0 });
  const stats = new Map<string, { type: string; mode: string; product: Tally; baseline: Tally }>();
  for (const [type, at] of cfg.assetTypes)
    for (const m of at.failureModes) stats.set(`${type}/${m.name}`, { type, mode: m.name, product: tally(), baseline: tally() });
  let qualityFaultsReportedAsFailures = 0;
  for (const asset of fleet.assets) {
    const from = (firstTs.get(asset.assetId) ?? Infinity) + learnMs;
    const to = lastTs.get(asset.assetId) ?? 0;
    let healthy = Math.max(0, to - from);
    for (const f of asset.failures) healthy -= Math.max(0, Math.min(to, f.repairTs) - Math.max(from, f.degradationStartTs));
    healthyDays.set(asset.assetType, (healthyDays.get(asset.assetType) ?? 0) + Math.max(0, healthy) / DAY);
    const judge = (ps: readonly { failureMode: string; ts: number }[], pick: (s: { product: Tally; baseline: Tally }) => Tally, product: boolean): void => {
      for (const f of asset.failures) {
        const st = pick(stats.get(`${asset.assetType}/${f.failureMode}`)!);
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
        pick(stats.get(`${asset.assetType}/${p.failureMode}`)!).false++;
        if (product && asset.qualityFaults.some((q) => p.ts >= q.startTs && p.ts <= q.endTs + 2 * HOUR)) qualityFaultsReportedAsFailures++;
      }
    };
    judge(raised.get(asset.assetId) ?? [], (s) => s.product, true);
    // The baseline learns nothing, so its raises count from the first reading, not after a learning period.
    judge(baselineRaised.get(asset.assetId) ?? [], (s) => s.baseline, false);
  }
  const scoreOf = (s: Tally, type: string): ModeScore => ({
    predicted: s.failures === 0 ? 0 : s.hit / s.failures,
    medianLeadShare: median(s.leads),
    falsePer1000AssetDays: (1000 * s.false) / Math.max(1e-9, healthyDays.get(type) ?? 0),
  });
  const modes: ModeResult[] = [...stats.values()].map((s) => ({
    assetType: s.type,
    failureMode: s.mode,
    failures: s.product.failures,
    ...scoreOf(s.product, s.type),
    baseline: scoreOf(s.baseline, s.type),
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
  progress(`eval: ${n} readings scored in ${seconds.toFixed(0)} s; run-to-failure fleet next`);
  const runToFailure = runRunToFailure(a.seed, cfg);
  return { modes, bounds, qualityFaultsReportedAsFailures, runToFailure, readings: n, seconds: (performance.now() - t0) / 1000, healthyDays };
}

/** Machines of the run-to-failure fleet (as in the independent data set issue 12 names). */
export const RUN_TO_FAILURE_MACHINES = 50;

/**
 * Scores a run-to-failure fleet with `cfg`'s detector (the machines' asset type merged in) and
 * the baseline, and judges both (see the file header).
 */
export function runRunToFailure(seed: number, cfg: CompiledConfig = DEFAULT_CONFIG): RunToFailureResult {
  const rtfCfg = compileConfig({ version: cfg.version, detector: { ...cfg.detector }, assetTypes: { [RUN_TO_FAILURE_TYPE_NAME]: RUN_TO_FAILURE_TYPE } });
  const fleet = createRunToFailureFleet({ seed, machines: RUN_TO_FAILURE_MACHINES, startTs: Date.UTC(2025, 0, 1) });
  const states = new Map<string, AssetState>();
  const baseline = new LsqBaseline(rtfCfg);
  const product: { assetId: string; ts: number }[] = [];
  const lsq: { assetId: string; ts: number }[] = [];
  for (const r of fleet.readings()) {
    let s = states.get(r.assetId);
    if (!s) states.set(r.assetId, (s = newState(r.assetId, r.assetType, rtfCfg)));
    for (const p of score(s, r, rtfCfg).predictions) if (p.kind === 'raised') product.push({ assetId: p.assetId, ts: p.ts });
    for (const b of baseline.step(r)) lsq.push({ assetId: b.assetId, ts: b.ts });
  }
  const cycleMs = DAY;
  const windowMs = 2 * RUN_TO_FAILURE_HORIZON_CYCLES * cycleMs;
  const judge = (raises: readonly { assetId: string; ts: number }[]): RunToFailureScore => {
    const leads: number[] = [];
    let falsePredictions = 0;
    for (const m of fleet.machines) {
      const mine = raises.filter((r) => r.assetId === m.assetId);
      falsePredictions += mine.filter((r) => m.failureTs - r.ts > windowMs).length;
      const first = mine.find((r) => m.failureTs - r.ts <= windowMs && r.ts < m.failureTs);
      if (first) leads.push((m.failureTs - first.ts) / cycleMs);
    }
    return { predicted: leads.length, medianLeadCycles: median(leads), falsePredictions };
  };
  return { machines: fleet.machines.length, horizonCycles: RUN_TO_FAILURE_HORIZON_CYCLES, product: judge(product), baseline: judge(lsq) };
}

/** The run-to-failure targets: the product at least matches the baseline on all three. */
export function runToFailureChecks(r: RunToFailureResult): { name: string; pass: boolean }[] {
  return [
    { name: 'predicted >= baseline', pass: r.product.predicted >= r.baseline.predicted },
    { name: 'median lead >= baseline', pass: r.product.medianLeadCycles >= r.baseline.medianLeadCycles },
    { name: 'false predictions <= baseline', pass: r.product.falsePredictions <= r.baseline.falsePredictions },
  ];
}

if (process.argv[1]?.endsWith('eval.ts')) {
  const args = parseArgs(process.argv.slice(2));
  const res = runEval(args, (l) => process.stderr.write(`${l}\n`));
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const out: string[] = [];
  out.push(
    `fleet: seed ${args.seed}, ${args.assetsPerType} assets per type, ${args.days} days, ${args.samplePeriodSec} s sampling; ` +
      `${res.readings} readings scored in ${res.seconds.toFixed(1)} s (${Math.round(res.readings / res.seconds)} readings/s incl. simulation, the baseline and the run-to-failure fleet)`,
  );
  out.push(`healthy asset-days: ${[...res.healthyDays].map(([t, d]) => `${t} ${d.toFixed(0)}`).join(', ')}`);
  out.push('                                                        product                          | baseline: least squares, last 60 values');
  out.push('asset type        failure mode               failures  predicted  lead share  false/1000 | predicted  lead share  false/1000');
  for (const m of res.modes)
    out.push(
      `${m.assetType.padEnd(17)} ${m.failureMode.padEnd(26)} ${String(m.failures).padStart(8)}  ${pct(m.predicted).padStart(9)}  ${m.medianLeadShare.toFixed(2).padStart(10)}  ${m.falsePer1000AssetDays.toFixed(2).padStart(10)} | ` +
        `${pct(m.baseline.predicted).padStart(9)}  ${m.baseline.medianLeadShare.toFixed(2).padStart(10)}  ${m.baseline.falsePer1000AssetDays.toFixed(2).padStart(10)}`,
    );
  const all = res.modes.reduce((s, m) => s + m.failures, 0);
  const hit = res.modes.reduce((s, m) => s + m.predicted * m.failures, 0);
  out.push(`all modes: ${all} failures, ${pct(hit / Math.max(1, all))} predicted; quality faults reported as failures: ${res.qualityFaultsReportedAsFailures}`);
  out.push('targets: >= 95% predicted, median lead share >= 0.5, <= 1 false per 1,000 healthy asset-days, 0 quality faults as failures');
  const r = res.runToFailure;
  out.push('');
  out.push(`run-to-failure fleet: ${r.machines} machines, one reading per cycle, ${r.horizonCycles}-cycle horizon; predicted = a raise within ${2 * r.horizonCycles} cycles of the failure`);
  out.push('                 predicted  median lead (cycles)  false (raised earlier)');
  for (const [name, s] of [['product', r.product], ['baseline', r.baseline]] as const)
    out.push(`  ${name.padEnd(14)} ${`${s.predicted}/${r.machines}`.padStart(9)}  ${s.medianLeadCycles.toFixed(1).padStart(20)}  ${String(s.falsePredictions).padStart(22)}`);
  out.push(`targets (product against baseline): ${runToFailureChecks(r).map((c) => `${c.name} ${c.pass ? 'PASS' : 'MISS'}`).join(', ')}`);
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
  let seeds: DemoSeedResult[] = [];
  if (args.demoSeeds) {
    out.push('');
    out.push(`demo fleet (8 assets per type, 14 days from 2026-01-05, half failing, 120 s), seeds 1..${args.demoSeeds}:`);
    out.push('  seed  failures  predicted  false cases  duplicate cases  median lead (h)  readings scored >= 0.5');
    for (let s = 1; s <= args.demoSeeds; s++) {
      process.stderr.write(`eval: demo seed ${s} of ${args.demoSeeds}\n`);
      const d = runDemoSeed(s);
      seeds.push(d);
      out.push(
        `  ${String(s).padStart(4)}  ${String(d.injectedFailures).padStart(8)}  ${String(d.predicted).padStart(9)}  ${String(d.falseCases).padStart(11)}  ${String(d.duplicateCases).padStart(15)}  ${(d.medianLeadHours ?? 0).toFixed(1).padStart(15)}  ${pct(d.highScoreShare).padStart(22)}` +
          (d.falsePredictions.length ? `  false: ${d.falsePredictions.map((p) => `${p.assetId}/${p.failureMode}`).join(', ')}` : ''),
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) {
    const round = (x: number): number => Math.round(x * 1e4) / 1e4;
    const roundScore = (s: ModeScore): ModeScore => ({ predicted: round(s.predicted), medianLeadShare: round(s.medianLeadShare), falsePer1000AssetDays: round(s.falsePer1000AssetDays) });
    process.stdout.write(
      `${JSON.stringify({
        modes: res.modes.map((m) => ({ assetType: m.assetType, failureMode: m.failureMode, failures: m.failures, ...roundScore(m), baseline: roundScore(m.baseline) })),
        qualityFaultsReportedAsFailures: res.qualityFaultsReportedAsFailures,
        runToFailure: { ...r, targets: Object.fromEntries(runToFailureChecks(r).map((c) => [c.name, c.pass])) },
        ...(args.demoSeeds ? { demoSeeds: seeds.map(({ falsePredictions, ...d }) => ({ ...d, highScoreShare: round(d.highScoreShare), falsePredictions })) } : {}),
      })}\n`,
    );
  }
}
