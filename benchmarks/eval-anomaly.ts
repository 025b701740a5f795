/**
 * Quality of the anomaly scores (`npm run eval:anomaly`): the labelled corpus of
 * benchmarks/anomaly/corpus.ts scored through the same path `pdm score` takes with no asset
 * type (the core, the default configuration, one generic sensor per series), judged by the
 * rules of benchmarks/anomaly/judge.ts.
 *
 *   npx tsx benchmarks/eval-anomaly.ts [--json] [--seed N] [--series-per-kind N] [--config FILE]
 *
 * It prints, at the product's fixed meaning (score >= 0.5) and at the best single threshold
 * over the whole corpus: the share of anomalies detected, the median detection delay as a
 * share of the window, and false alarms per 10,000 healthy points; per signal kind and per
 * anomaly kind; and the sweep of thresholds the best was chosen from. `--config` merges a
 * JSON configuration over the defaults (ablations). With --json the last line is one JSON
 * object (keys: detected, medianDelayShare, falseAlarmsPer10k at 0.5; bestThreshold,
 * bestThresholdDetected, bestThresholdMedianDelayShare, bestThresholdFalseAlarmsPer10k;
 * bySignal and byAnomaly at 0.5; targets). Progress goes to stderr.
 */
import { DEFAULT_CONFIG, newState, score, type CompiledConfig } from '../services/core/index.ts';
import { brief, fa, headline, parseEvalArgs, pct, share } from './anomaly/cli.ts';
import { ANOMALY_KINDS, createCorpus, DEFAULT_CORPUS_SEED, SIGNAL_KINDS, type Series } from './anomaly/corpus.ts';
import { judgeSeries, summarise, summariseSeries, THRESHOLDS, windowMask, type AnomalyOutcome, type Summary } from './anomaly/judge.ts';

/** The product's fixed meaning of a score: 0.5 or more is "rare for this sensor". */
export const PRODUCT_THRESHOLD = 0.5;

/** Targets of issue 12 at the product threshold, and where the best threshold must lie. */
export const ANOMALY_TARGETS = {
  detectedMin: 0.9,
  medianDelayShareMax: 0.25,
  falseAlarmsPer10kMax: 1,
  bestThresholdMin: 0.4,
  bestThresholdMax: 0.7,
} as const;

export interface AnomalyEvalOptions {
  seed: number;
  seriesPerKind: number;
  cfg: CompiledConfig;
}

/** Asset id, asset type and sensor name a series is scored under (what `pdm score -i <id>.csv` uses). */
export const SERIES_ASSET_TYPE = 'generic';
export const SERIES_SENSOR = 'value';

/** Scores one series through the core as `pdm score` does with no --asset-type: the asset score per point. */
export function scoreSeries(s: Pick<Series, 'id' | 'ts' | 'values'>, cfg: CompiledConfig = DEFAULT_CONFIG): Float32Array {
  const st = newState(s.id, SERIES_ASSET_TYPE, cfg);
  const out = new Float32Array(s.values.length);
  for (let i = 0; i < s.values.length; i++) {
    out[i] = score(st, { assetId: s.id, assetType: SERIES_ASSET_TYPE, ts: s.ts[i]!, values: { [SERIES_SENSOR]: s.values[i]! } }, cfg).score;
  }
  return out;
}

export interface ThresholdRow extends Summary {
  threshold: number;
}

export interface AnomalyEvalResult {
  series: number;
  points: number;
  seconds: number;
  atProduct: Summary;
  bySignal: Record<string, Summary & { series: number }>;
  byAnomaly: Record<string, Summary>;
  sweep: ThresholdRow[];
  best: ThresholdRow;
}

/** Scores the corpus and judges it; `scorer` replaces the core (experiments only). */
export function runAnomalyEval(
  o: AnomalyEvalOptions,
  progress: (line: string) => void,
  scorer: (s: Series) => Float32Array = (s) => scoreSeries(s, o.cfg),
): AnomalyEvalResult {
  const t0 = performance.now();
  const corpus = createCorpus({ seed: o.seed, seriesPerKind: o.seriesPerKind });
  progress(`eval:anomaly: corpus of ${corpus.length} series, ${corpus.reduce((n, s) => n + s.values.length, 0)} points, ${corpus.reduce((n, s) => n + s.anomalies.length, 0)} labelled anomalies (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const scored = corpus.map((s, i) => {
    if (i % 50 === 49) progress(`eval:anomaly: scored ${i + 1} of ${corpus.length} series (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return { s, scores: scorer(s), mask: windowMask(s.values.length, s.anomalies) };
  });
  const at = (thr: number) => scored.map((x) => ({ s: x.s, out: judgeSeries(x.scores, x.s.anomalies, thr, x.mask) }));
  const total = (rows: ReturnType<typeof at>): Summary => summariseSeries(rows.map((r) => r.out));
  const product = at(PRODUCT_THRESHOLD);
  const bySignal: AnomalyEvalResult['bySignal'] = {};
  for (const k of SIGNAL_KINDS) {
    const rows = product.filter((r) => r.s.signal === k);
    bySignal[k] = { ...total(rows), series: rows.length };
  }
  const byAnomaly: AnomalyEvalResult['byAnomaly'] = {};
  const outcomes: AnomalyOutcome[] = product.flatMap((r) => r.out.anomalies);
  for (const k of ANOMALY_KINDS) byAnomaly[k] = summarise(outcomes.filter((a) => a.kind === k), 0, 0);
  const sweep = THRESHOLDS.map((threshold) => ({ threshold, ...total(at(threshold)) }));
  const best = sweep.reduce((b, r) => (r.f1 > b.f1 ? r : b), sweep[0]!);
  return {
    series: corpus.length,
    points: corpus.reduce((n, s) => n + s.values.length, 0),
    seconds: (performance.now() - t0) / 1000,
    atProduct: total(product),
    bySignal,
    byAnomaly,
    sweep,
    best,
  };
}

if (process.argv[1]?.endsWith('eval-anomaly.ts')) {
  const parsed = parseEvalArgs('eval:anomaly', process.argv.slice(2), { '--seed': DEFAULT_CORPUS_SEED, '--series-per-kind': 16 });
  const args = { ...parsed, seed: parsed.nums['--seed'], seriesPerKind: parsed.nums['--series-per-kind'] };
  const res = runAnomalyEval(args, (l) => process.stderr.write(`${l}\n`));
  const out: string[] = [];
  const p = res.atProduct;
  out.push(
    `corpus: seed ${args.seed}, ${res.series} series, ${res.points} points, ${p.anomalies} labelled anomalies; ` +
      `scored and judged in ${res.seconds.toFixed(1)} s${args.configFile ? `; config ${args.configFile} over the defaults` : '; default configuration'}`,
  );
  out.push('');
  out.push('at the product threshold (score >= 0.5)        detected  median delay share  false alarms / 10k healthy points');
  out.push(`  all                                         ${pct(p.detected).padStart(8)}  ${share(p.medianDelayShare).padStart(18)}  ${fa(p.falseAlarmsPer10k).padStart(33)}`);
  out.push('  by signal kind:');
  for (const [k, s] of Object.entries(res.bySignal))
    out.push(`    ${`${k} (${s.series} series, ${s.anomalies} anomalies)`.padEnd(40)}  ${pct(s.detected).padStart(8)}  ${share(s.medianDelayShare).padStart(18)}  ${fa(s.falseAlarmsPer10k).padStart(33)}`);
  out.push('  by anomaly kind:');
  for (const [k, s] of Object.entries(res.byAnomaly))
    out.push(`    ${`${k} (${s.anomalies})`.padEnd(40)}  ${pct(s.detected).padStart(8)}  ${share(s.medianDelayShare).padStart(18)}`);
  out.push('');
  out.push('threshold sweep (best by F1 of events: recall = credit / anomalies, precision = detections / (detections + false alarms)):');
  out.push('  threshold  detected  median delay  false alarms / 10k     F1');
  for (const r of res.sweep)
    if (r.threshold === res.best.threshold || [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 0.999, 0.9999, 0.99998].includes(r.threshold))
      out.push(`  ${String(r.threshold).padEnd(9)}  ${pct(r.detected).padStart(8)}  ${share(r.medianDelayShare).padStart(12)}  ${fa(r.falseAlarmsPer10k).padStart(18)}  ${r.f1.toFixed(3)}${r.threshold === res.best.threshold ? '  <- best' : ''}`);
  const t = ANOMALY_TARGETS;
  const checks = [
    [`detected at 0.5 >= ${pct(t.detectedMin)}`, pct(p.detected), p.detected >= t.detectedMin],
    [`median delay share at 0.5 <= ${t.medianDelayShareMax}`, share(p.medianDelayShare), p.medianDelayShare !== null && p.medianDelayShare <= t.medianDelayShareMax],
    [`false alarms per 10k healthy points at 0.5 <= ${t.falseAlarmsPer10kMax}`, fa(p.falseAlarmsPer10k), p.falseAlarmsPer10k <= t.falseAlarmsPer10kMax],
    [`best single threshold in [${t.bestThresholdMin}, ${t.bestThresholdMax}]`, String(res.best.threshold), res.best.threshold >= t.bestThresholdMin && res.best.threshold <= t.bestThresholdMax],
  ] as const;
  out.push('');
  out.push('targets (issue 12):');
  for (const [name, measured, pass] of checks) out.push(`  ${name.padEnd(58)} ${measured.padStart(8)}  ${pass ? 'PASS' : 'MISS'}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({
        series: res.series,
        points: res.points,
        ...headline(p, res.best),
        bySignal: Object.fromEntries(Object.entries(res.bySignal).map(([k, s]) => [k, { series: s.series, ...brief(s) }])),
        byAnomaly: Object.fromEntries(Object.entries(res.byAnomaly).map(([k, s]) => [k, brief(s)])),
        targets: Object.fromEntries(checks.map(([name, measured, pass]) => [name, { measured, pass }])),
        allTargetsMet: checks.every((c) => c[2]),
      })}\n`,
    );
  }
}
