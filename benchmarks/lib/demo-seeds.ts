/**
 * The demo's fleet scored offline (`npm run eval -- --demo-seeds N`): what `npm run demo --
 * --seed S` will show, without the stack. The demo publishes the fleet of seed S (8 assets
 * per type, 14 days from 2026-01-05, half of them failing, 120 s sampling) with its
 * maintenance events, and the scorer runs the core per asset in delivery order, exactly once;
 * so scoring the same events through the core in the same order reproduces the pipeline's
 * predictions, and judging them with the demo's own judge (services/demo/truth.ts) gives its
 * summary: failures injected, predicted, false cases, median lead.
 *
 * A case is opened per episode (the case opener upserts one case per episode id, so a raise
 * that resumes an episode updates the same case), and a false prediction is a false case. Also reported: the share of readings whose asset score is
 * 0.5 or more (a dashboard that lights up on many readings is one nobody watches).
 */
import { DEFAULT_CONFIG, maintain, newState, score, type AssetState, type CompiledConfig, type PredictionEvent } from '../../services/core/index.ts';
import { judgeRun, type CaseRow, type RaisedPrediction } from '../../services/demo/truth.ts';
import { createFleet, type FleetOptions } from '../../services/simulator/fleet.ts';

/** The demo's fleet options for a seed (services/demo/demo.ts with the CLI's defaults and its fixed time base). */
export function demoFleetOptions(seed: number): FleetOptions {
  return { seed, assetsPerType: 8, startTs: Date.UTC(2026, 0, 5), days: 14, failureShare: 0.5, samplePeriodSec: 120 };
}

export interface DemoSeedResult {
  seed: number;
  readings: number;
  injectedFailures: number;
  predicted: number;
  falseCases: number;
  duplicateCases: number;
  /** Median lead of the predicted failures, hours (null when none was predicted). */
  medianLeadHours: number | null;
  /** Share of readings with an asset score of 0.5 or more. */
  highScoreShare: number;
  /** The false predictions, to trace: asset, mode, time of the raise. */
  falsePredictions: { assetId: string; failureMode: string; ts: number }[];
}

/** Scores the demo fleet of `seed` through the core and judges it as the demo does. */
export function runDemoSeed(seed: number, cfg: CompiledConfig = DEFAULT_CONFIG): DemoSeedResult {
  const opts = demoFleetOptions(seed);
  const fleet = createFleet(opts, cfg);
  const states = new Map<string, AssetState>();
  const raised: RaisedPrediction[] = [];
  const keep = (ps: readonly PredictionEvent[]): void => {
    for (const p of ps) if (p.kind === 'raised') raised.push({ assetId: p.assetId, failureMode: p.failureMode, episodeId: p.episodeId, ts: p.ts });
  };
  let readings = 0;
  let high = 0;
  for (const e of fleet.events()) {
    if (e.type === 'maintenance') {
      const s = states.get(e.event.assetId);
      if (s) keep(maintain(s, e.event, cfg).predictions);
      continue;
    }
    const r = e.reading;
    let s = states.get(r.assetId);
    if (!s) states.set(r.assetId, (s = newState(r.assetId, r.assetType, cfg)));
    const step = score(s, r, cfg);
    readings++;
    if (step.score >= 0.5) high++;
    if (step.predictions.length > 0) keep(step.predictions);
  }
  // The case opener upserts one case per episode id: a raise that resumes an episode updates its case.
  const cases: CaseRow[] = [...new Map(raised.map((p) => [p.episodeId, { caseId: p.episodeId, episodeId: p.episodeId, assetId: p.assetId, failureMode: p.failureMode }])).values()];
  const runEndTs = opts.startTs + opts.days * 86_400_000;
  const verdict = judgeRun(fleet.assets, raised, cases, runEndTs);
  const matched = new Set(
    fleet.assets.flatMap((a) =>
      a.failures.flatMap((f) => raised.filter((p) => p.assetId === a.assetId && p.failureMode === f.failureMode && p.ts >= f.degradationStartTs && p.ts < f.failureTs).map((p) => p.episodeId)),
    ),
  );
  return {
    seed,
    readings,
    injectedFailures: verdict.injectedFailures,
    predicted: verdict.predicted,
    falseCases: verdict.falseCases,
    duplicateCases: verdict.duplicateCases,
    medianLeadHours: verdict.medianLeadTimeSec === null ? null : verdict.medianLeadTimeSec / 3600,
    highScoreShare: readings === 0 ? 0 : high / readings,
    falsePredictions: raised.filter((p) => !matched.has(p.episodeId)).map((p) => ({ assetId: p.assetId, failureMode: p.failureMode, ts: p.ts })),
  };
}
