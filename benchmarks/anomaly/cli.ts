/**
 * What the anomaly evaluations' commands share (eval-anomaly.ts and eval-anomaly-real.ts):
 * their arguments (--json, --config FILE and positive integer options) and how they print
 * figures, in text and in their --json objects.
 */
import { readFileSync } from 'node:fs';
import { compileConfig, DEFAULT_CONFIG, type CompiledConfig } from '../../services/core/index.ts';
import type { Summary } from './judge.ts';

export interface EvalArgs<K extends string> {
  json: boolean;
  cfg: CompiledConfig;
  configFile?: string;
  /** The positive integer options, by flag (their defaults when not given). */
  nums: Record<K, number>;
}

/**
 * Parses `--json`, `--config FILE` (merged over the defaults) and the positive integer options
 * given with their defaults; anything else is an error naming `command` and every option.
 */
export function parseEvalArgs<K extends string>(command: string, argv: string[], defaults: Record<K, number>): EvalArgs<K> {
  const a: EvalArgs<K> = { json: false, cfg: DEFAULT_CONFIG, configFile: undefined, nums: { ...defaults } };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--json') a.json = true;
    else if (Object.hasOwn(defaults, k)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${command}: ${k} needs a positive integer, got "${argv[i]}"`);
      a.nums[k as K] = v;
    } else if (k === '--config') {
      a.configFile = argv[++i];
      if (a.configFile === undefined) throw new Error(`${command}: --config needs a file`);
      a.cfg = compileConfig(JSON.parse(readFileSync(a.configFile, 'utf8')));
    } else throw new Error(`${command}: unknown argument "${k}" (expected --json, ${Object.keys(defaults).join(', ')}, --config)`);
  }
  return a;
}

export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
export const share = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
export const fa = (x: number): string => x.toFixed(2);
/** Rounded to 4 decimals for the JSON objects. */
export const r4 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e4) / 1e4);
/** A summary's figures for the JSON objects. */
export const brief = (s: Summary) => ({ anomalies: s.anomalies, detected: r4(s.detected), medianDelayShare: r4(s.medianDelayShare), falseAlarmsPer10k: r4(s.falseAlarmsPer10k) });
/**
 * The headline of both evaluations' JSON objects: the figures at the product threshold
 * (`brief`), then the best single threshold's.
 */
export const headline = (atProduct: Summary, best: Summary & { threshold: number }) => ({
  ...brief(atProduct),
  bestThreshold: best.threshold,
  bestThresholdDetected: r4(best.detected),
  bestThresholdMedianDelayShare: r4(best.medianDelayShare),
  bestThresholdFalseAlarmsPer10k: r4(best.falseAlarmsPer10k),
});
