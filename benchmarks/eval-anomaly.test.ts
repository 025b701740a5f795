/**
 * `npm run eval:anomaly` measures what a user gets: a corpus series written as a CSV and
 * scored by the real `pdm score` command gives, row for row, the scores the evaluation judges.
 * And its report is consistent: every signal and anomaly kind has a row, the product's figures
 * are the sweep's row at 0.5, and the best threshold is the sweep's best F1.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../services/core/index.ts';
import { ANOMALY_KINDS, createCorpus, SIGNAL_KINDS } from './anomaly/corpus.ts';
import { PRODUCT_THRESHOLD, runAnomalyEval, scoreSeries, SERIES_SENSOR } from './eval-anomaly.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function pdmScore(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'services', 'cli', 'bin.mjs'), 'score', '--input', file, '--no-progress'], { cwd: ROOT });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pdm score exited ${code}`))));
  });
}

describe('eval:anomaly', () => {
  it('scores a series exactly as pdm score does with no asset type', async () => {
    const s = createCorpus({ seriesPerKind: 1 }).find((x) => x.signal === 'bursty')!;
    const dir = await mkdtemp(join(tmpdir(), 'pdm-eval-anomaly-'));
    try {
      const file = join(dir, `${s.id}.csv`);
      const rows = Array.from(s.values, (v, i) => `${s.ts[i]},${v}`);
      await writeFile(file, `timestamp,${SERIES_SENSOR}\n${rows.join('\n')}\n`);
      const lines = (await pdmScore(file)).trim().split('\n');
      expect(lines[0]!.startsWith(`timestamp,score,score_${SERIES_SENSOR},`)).toBe(true);
      const cli = lines.slice(1).map((l) => Number(l.split(',')[1]));
      // pdm score prints scores to 6 decimals; the evaluation keeps them as float32, which can
      // put a value on the other side of a rounding boundary: at most one printed unit apart
      // (1e-6, plus the error of the subtraction itself).
      const ours = Array.from(scoreSeries(s, DEFAULT_CONFIG), (x) => Math.round(x * 1e6) / 1e6);
      expect(cli.length).toBe(s.values.length);
      cli.forEach((c, i) => expect(Math.abs(c - ours[i]!)).toBeLessThanOrEqual(1e-6 + 1e-12));
      expect(Math.max(...cli)).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports every kind, the product at 0.5 as the sweep row, and the best F1 as the best threshold', () => {
    const res = runAnomalyEval({ seed: 5, seriesPerKind: 2, cfg: DEFAULT_CONFIG }, () => {});
    expect(Object.keys(res.bySignal)).toEqual([...SIGNAL_KINDS]);
    expect(Object.keys(res.byAnomaly)).toEqual([...ANOMALY_KINDS]);
    const at = res.sweep.find((r) => r.threshold === PRODUCT_THRESHOLD)!;
    expect(at.detected).toBe(res.atProduct.detected);
    expect(at.falseAlarms).toBe(res.atProduct.falseAlarms);
    expect(res.best.f1).toBe(Math.max(...res.sweep.map((r) => r.f1)));
    expect(res.series).toBe(26);
  });
});
