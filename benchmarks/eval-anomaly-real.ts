/**
 * The anomaly scores on real recorded series (`npm run eval:anomaly:real`): does what the
 * synthetic corpus of `npm run eval:anomaly` measures carry over to noise, cycles and trends
 * this team did not generate?
 *
 *   npx tsx benchmarks/eval-anomaly-real.ts [--json] [--seed N] [--variants N] [--config FILE]
 *
 * Two measurements, both through the path `pdm score` takes with no asset type:
 *  1. each recorded series as it is (real-series.ts; fetched from PyPI on first use): how
 *     often it scores 0.5 or more. Unlabelled: a storm or a heat wave is a real event, so these
 *     are an upper bound on its false alarms, not a count of them;
 *  2. copies of each with labelled anomalies of the corpus's kinds injected (real-inject.ts),
 *     judged by the corpus's rules (anomaly/judge.ts): detected share, median delay share, and
 *     false alarms beyond those of the recorded series (a run of scores at or above the
 *     threshold that touches a window, or a point where the recorded series itself reached the
 *     threshold, is not a false alarm, and those points are not counted as healthy).
 * With --json the last line is one JSON object (recorded; anomalies, detected,
 * medianDelayShare, falseAlarmsPer10k at 0.5; bestThreshold and its detected, median delay
 * share and false alarms, as eval-anomaly.ts writes them; byBackground, byAnomaly).
 * No targets: issue 12's are the corpus's; this is the check that they generalise.
 */
import type { CompiledConfig } from '../services/core/index.ts';
import { deriveSeed } from '../services/simulator/prng.ts';
import { brief, fa, headline, parseEvalArgs, pct, r4, share } from './anomaly/cli.ts';
import { ANOMALY_KINDS } from './anomaly/corpus.ts';
import { firstScored, judgeSeries, summarise, summariseSeries, THRESHOLDS, windowMask, type AnomalyOutcome, type Summary } from './anomaly/judge.ts';
import { injectVariants, type RealVariant } from './anomaly/real-inject.ts';
import { loadBackgrounds, type Background } from './anomaly/real-series.ts';
import { PRODUCT_THRESHOLD, scoreSeries } from './eval-anomaly.ts';

const DEFAULT_SEED = 20261207;
const DEFAULT_VARIANTS = 20;

/** How a recorded series scores as it is, at the product threshold. */
export interface RecordedOutcome {
  background: string;
  points: number;
  scoredPoints: number;
  /** Separate runs of scores >= 0.5 after the learning share. */
  alarmRuns: number;
  /** Share of the scored points at 0.5 or more. */
  alarmShare: number;
}

export function recordedOutcome(bg: Background, scores: ArrayLike<number>, threshold = PRODUCT_THRESHOLD): RecordedOutcome {
  const from = firstScored(scores.length);
  let runs = 0;
  let high = 0;
  let prev = false;
  for (let i = from; i < scores.length; i++) {
    const on = scores[i]! >= threshold;
    if (on) high++;
    if (on && !prev) runs++;
    prev = on;
  }
  const scored = scores.length - from;
  return { background: bg.id, points: scores.length, scoredPoints: scored, alarmRuns: runs, alarmShare: scored > 0 ? high / scored : 0 };
}

/** Windows, plus the points where the recorded series itself reached `threshold`. */
function unlabelledMask(v: RealVariant, recorded: ArrayLike<number>, threshold: number): Uint8Array {
  const m = windowMask(v.values.length, v.anomalies);
  for (let i = 0; i < m.length; i++) if (recorded[i]! >= threshold) m[i] = 1;
  return m;
}

export interface RealEvalResult {
  recorded: RecordedOutcome[];
  variants: number;
  atProduct: Summary;
  byBackground: Record<string, Summary>;
  byAnomaly: Record<string, Summary>;
  sweep: (Summary & { threshold: number })[];
  best: Summary & { threshold: number };
  seconds: number;
}

export function runRealEval(o: { seed: number; variants: number; cfg: CompiledConfig }, progress: (line: string) => void): RealEvalResult {
  const t0 = performance.now();
  const backgrounds = loadBackgrounds(progress);
  const recordedScores = new Map(backgrounds.map((bg) => [bg.id, scoreSeries({ id: bg.id, ts: bg.ts, values: bg.values }, o.cfg)]));
  const recorded = backgrounds.map((bg) => recordedOutcome(bg, recordedScores.get(bg.id)!));
  const variants = backgrounds.flatMap((bg, i) => injectVariants(bg, deriveSeed(o.seed, i), o.variants));
  progress(`eval:anomaly:real: ${backgrounds.length} recorded series, ${variants.length} copies with ${variants.reduce((n, v) => n + v.anomalies.length, 0)} labelled anomalies`);
  const scored = variants.map((v) => ({ v, scores: scoreSeries(v, o.cfg), recorded: recordedScores.get(v.background)! }));
  const at = (thr: number) => scored.map((x) => ({ v: x.v, out: judgeSeries(x.scores, x.v.anomalies, thr, unlabelledMask(x.v, x.recorded, thr)) }));
  const total = (rows: ReturnType<typeof at>): Summary => summariseSeries(rows.map((r) => r.out));
  const product = at(PRODUCT_THRESHOLD);
  const byBackground = Object.fromEntries(backgrounds.map((bg) => [bg.id, total(product.filter((r) => r.v.background === bg.id))]));
  const outcomes: AnomalyOutcome[] = product.flatMap((r) => r.out.anomalies);
  const byAnomaly = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, summarise(outcomes.filter((a) => a.kind === k), 0, 0)]));
  const sweep = THRESHOLDS.map((threshold) => ({ threshold, ...total(at(threshold)) }));
  const best = sweep.reduce((b, r) => (r.f1 > b.f1 ? r : b), sweep[0]!);
  return { recorded, variants: variants.length, atProduct: total(product), byBackground, byAnomaly, sweep, best, seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[1]?.endsWith('eval-anomaly-real.ts')) {
  const parsed = parseEvalArgs('eval:anomaly:real', process.argv.slice(2), { '--seed': DEFAULT_SEED, '--variants': DEFAULT_VARIANTS });
  const args = { ...parsed, seed: parsed.nums['--seed'], variants: parsed.nums['--variants'] };
  const res = runRealEval(args, (l) => process.stderr.write(`${l}\n`));
  const out: string[] = [];
  out.push(`real series: seed ${args.seed}, ${res.recorded.length} recorded series, ${args.variants} copies of each with injected anomalies; ${res.seconds.toFixed(1)} s${args.configFile ? `; config ${args.configFile} over the defaults` : '; default configuration'}`);
  out.push('');
  out.push('1. as recorded (unlabelled: real events or false alarms), score >= 0.5 after the learning share');
  out.push('  series                           points  runs  share of points');
  for (const r of res.recorded) out.push(`  ${r.background.padEnd(30)} ${String(r.points).padStart(7)}  ${String(r.alarmRuns).padStart(4)}  ${pct(r.alarmShare).padStart(15)}`);
  out.push('');
  const p = res.atProduct;
  out.push('2. with injected anomalies, at 0.5               detected  median delay share  false alarms / 10k beyond the recorded');
  out.push(`  all (${p.anomalies} anomalies)`.padEnd(48) + `${pct(p.detected).padStart(8)}  ${share(p.medianDelayShare).padStart(18)}  ${fa(p.falseAlarmsPer10k).padStart(37)}`);
  out.push('  by series:');
  for (const [k, s] of Object.entries(res.byBackground)) out.push(`    ${`${k} (${s.anomalies})`.padEnd(44)}${pct(s.detected).padStart(8)}  ${share(s.medianDelayShare).padStart(18)}  ${fa(s.falseAlarmsPer10k).padStart(37)}`);
  out.push('  by anomaly kind:');
  for (const [k, s] of Object.entries(res.byAnomaly)) out.push(`    ${`${k} (${s.anomalies})`.padEnd(44)}${pct(s.detected).padStart(8)}  ${share(s.medianDelayShare).padStart(18)}`);
  out.push('');
  out.push('  threshold  detected  median delay  false alarms / 10k     F1');
  for (const r of res.sweep)
    if (r.threshold === res.best.threshold || [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99].includes(r.threshold))
      out.push(`  ${String(r.threshold).padEnd(9)}  ${pct(r.detected).padStart(8)}  ${share(r.medianDelayShare).padStart(12)}  ${fa(r.falseAlarmsPer10k).padStart(18)}  ${r.f1.toFixed(3)}${r.threshold === res.best.threshold ? '  <- best' : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({
        recorded: res.recorded.map((r) => ({ ...r, alarmShare: r4(r.alarmShare) })),
        ...headline(p, res.best),
        byBackground: Object.fromEntries(Object.entries(res.byBackground).map(([k, s]) => [k, brief(s)])),
        byAnomaly: Object.fromEntries(Object.entries(res.byAnomaly).map(([k, s]) => [k, brief(s)])),
      })}\n`,
    );
  }
}
