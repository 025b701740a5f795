/**
 * Scores a pipeline run against the simulator's ground truth: which injected failures were
 * predicted before they happened and how early, which cases were false or duplicated.
 * Pure, so the demo and the end-to-end test judge a run the same way.
 */
import type { FleetAsset } from '../simulator/fleet.ts';

export interface RaisedPrediction {
  assetId: string;
  failureMode: string;
  episodeId: string;
  /** Simulated time of the raise, epoch ms. */
  ts: number;
}

export interface CaseRow {
  caseId: string;
  episodeId: string;
  assetId: string;
  failureMode: string;
}

export interface RunVerdict {
  injectedFailures: number;
  predicted: number;
  casesOpened: number;
  duplicateCases: number;
  falseCases: number;
  /** Median over predicted failures of (failure time − first raise), seconds of simulated time. */
  medianLeadTimeSec: number | null;
  /** Per failure: its raise (if any) and its cases. */
  failures: { assetId: string; failureMode: string; failureTs: number; degradationStartTs: number; leadTimeSec: number | null; cases: number }[];
}

/** A raise counts for a failure when it comes after degradation began and before the failure. */
export function judgeRun(assets: readonly FleetAsset[], raised: readonly RaisedPrediction[], cases: readonly CaseRow[], runEndTs: number): RunVerdict {
  const failures = assets.flatMap((a) => a.failures.filter((f) => f.failureTs <= runEndTs).map((f) => ({ ...f, assetId: a.assetId })));
  const matchedEpisodes = new Set<string>();
  const rows: RunVerdict['failures'] = [];
  const leads: number[] = [];
  const casesByEpisode = new Map<string, number>();
  for (const c of cases) casesByEpisode.set(c.episodeId, (casesByEpisode.get(c.episodeId) ?? 0) + 1);
  let duplicateCases = 0;
  for (const n of casesByEpisode.values()) duplicateCases += Math.max(0, n - 1);
  for (const f of failures) {
    const hits = raised
      .filter((p) => p.assetId === f.assetId && p.failureMode === f.failureMode && p.ts >= f.degradationStartTs && p.ts < f.failureTs)
      .sort((a, b) => a.ts - b.ts);
    for (const h of hits) matchedEpisodes.add(h.episodeId);
    const first = hits[0];
    const lead = first ? (f.failureTs - first.ts) / 1000 : null;
    if (lead !== null) leads.push(lead);
    const caseCount = new Set(cases.filter((c) => hits.some((h) => h.episodeId === c.episodeId)).map((c) => c.caseId)).size;
    // Two cases for one failure (two episodes) is a duplicate from the scheduler's point of view.
    duplicateCases += Math.max(0, caseCount - 1);
    rows.push({ assetId: f.assetId, failureMode: f.failureMode, failureTs: f.failureTs, degradationStartTs: f.degradationStartTs, leadTimeSec: lead, cases: caseCount });
  }
  const falseCases = new Set(cases.filter((c) => !matchedEpisodes.has(c.episodeId)).map((c) => c.caseId)).size;
  leads.sort((a, b) => a - b);
  const median = leads.length === 0 ? null : leads.length % 2 ? leads[(leads.length - 1) / 2]! : (leads[leads.length / 2 - 1]! + leads[leads.length / 2]!) / 2;
  return {
    injectedFailures: failures.length,
    predicted: rows.filter((r) => r.leadTimeSec !== null).length,
    casesOpened: new Set(cases.map((c) => c.caseId)).size,
    duplicateCases,
    falseCases,
    medianLeadTimeSec: median,
    failures: rows,
  };
}
