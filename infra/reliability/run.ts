/**
 * `npm run test:reliability [-- --json] [--seed S] [--only a,b] [--scale X]`: the reliability
 * suite against the real local stack (started when it is not up). Each scenario breaks the
 * pipeline in one way while a seeded fleet streams through it, then reconciles everything that
 * came out (scenarios.ts, reconcile.ts). Ends with a reconciliation table, and with --json one
 * object on the last line. Exit 0 when every scenario reconciled cleanly, 1 otherwise, 2 on
 * bad usage. A failure names the seed: run again with it to replay the same faults.
 */
import { parseArgs } from 'node:util';
import { pipelineEnv } from '../../services/kafka/env.ts';
import { formatTable } from '../../benchmarks/lib/format.ts';
import { status, up } from '../stack/stack.ts';
import { clearStaleTestTopics } from '../test/stale-topics.ts';
import { SCENARIOS, type ScenarioResult } from './scenarios.ts';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { json: { type: 'boolean', default: false }, seed: { type: 'string' }, only: { type: 'string' }, scale: { type: 'string' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`test:reliability: ${(err as Error).message}\n`);
    return 2;
  }
  const seed = values.seed === undefined ? 20261206 : Number(values.seed);
  const scale = values.scale === undefined ? 1 : Number(values.scale);
  if (!Number.isInteger(seed) || seed < 0 || !Number.isFinite(scale) || scale <= 0 || scale > 10) {
    process.stderr.write('test:reliability: --seed takes a non-negative integer, --scale a number in (0, 10]\n');
    return 2;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length) {
    process.stderr.write(`test:reliability: unknown scenario ${unknown.join(', ')} (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const st = await status();
  if (!Object.values(st).every((p) => p.up)) await up({ progress: (l) => log(`stack ${l}`) });
  const env = pipelineEnv();
  // The broker restarts in the kafka-down scenario: topics earlier test runs left behind
  // would slow that restart down (stale-topics.ts).
  await clearStaleTestTopics(env.brokers, 'pdm-reliability-janitor', (line) => log(`reliability: ${line}`));
  const results: ScenarioResult[] = [];
  const t0 = Date.now();
  for (const s of SCENARIOS.filter((x) => !only || only.includes(x.name))) {
    log(`reliability: ${s.name}: ${s.describe} (seed ${seed})`);
    try {
      const r = await s.run({ env, seed, scale, log });
      results.push(r);
      log(`reliability: ${s.name}: ${r.problems.length === 0 ? 'reconciled' : `FAILED: ${r.problems.join('; ')}`} in ${r.seconds.toFixed(0)} s`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log(`reliability: ${s.name}: FAILED to run: ${message}`);
      results.push({ name: s.name, seconds: 0, faults: '', problems: [`did not complete: ${(err as Error).message}`], r: { produced: 0, scored: 0, stored: 0, predictions: 0, cases: 0, duplicateScores: 0, duplicatePredictions: 0, duplicateCases: 0, lost: 0, wrongScores: 0, badProduced: 0, deadLetters: 0, badUnaccounted: 0, kills: 0 } });
    }
  }
  const ok = results.every((r) => r.problems.length === 0);
  const sum = (k: keyof ScenarioResult['r']) => results.reduce((n, r) => n + r.r[k], 0);
  process.stdout.write(`\nReliability suite, seed ${seed}, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  process.stdout.write(
    `${formatTable([
      ['scenario', 'produced', 'scored', 'stored', 'predictions', 'cases', 'dup scores', 'dup cases', 'lost', 'bad in', 'dead letters', 'kills', 'verdict'],
      ...results.map((r) => [r.name, ...[r.r.produced, r.r.scored, r.r.stored, r.r.predictions, r.r.cases, r.r.duplicateScores, r.r.duplicateCases, r.r.lost, r.r.badProduced, r.r.deadLetters, r.r.kills].map(String), r.problems.length ? 'FAIL' : 'ok']),
    ])}\n`,
  );
  for (const r of results) if (r.faults) process.stdout.write(`  ${r.name}: ${r.faults}\n`);
  for (const r of results) for (const p of r.problems) process.stdout.write(`  ${r.name}: ${p}\n`);
  if (values.json) {
    const total = Object.fromEntries((['produced', 'scored', 'stored', 'predictions', 'cases', 'duplicateScores', 'duplicatePredictions', 'duplicateCases', 'lost', 'wrongScores', 'badProduced', 'deadLetters', 'badUnaccounted', 'kills'] as const).map((k) => [k, sum(k)]));
    process.stdout.write(`${JSON.stringify({ seed, ok, ...total, scenarios: results.map((r) => ({ name: r.name, seconds: r.seconds, faults: r.faults, ...r.r, problems: r.problems })) })}\n`);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`test:reliability failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
