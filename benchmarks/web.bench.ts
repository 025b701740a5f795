/**
 * Load time of the fleet view's pages with a large fleet (`npm run bench:web`, `--json` for
 * one JSON object on the last line). Writes a seeded synthetic history
 * (services/web/history-kit.ts: the sink's own line mapping, 7 days, most assets sampled every
 * 6 h, 20 assets every 2 min) of N assets (default 100,000) into a throwaway InfluxDB
 * database, and the same history of a small fleet (default 1,000) as the baseline, each served
 * by its own `startWeb`; then loads each page in Debian's chromium (headless, playwright-core)
 * and times it from navigation to the page's charts being drawn (`body[data-charts-ready]`),
 * the median of several loads after one warm-up. Both fleets are measured in the same run, and
 * the ratio says what the fleet's size costs.
 *
 * Options: --json, --assets N (100000), --baseline N (1000), --runs R (5), --keep (leave the
 * databases for a look; their names are printed). Everything else it creates (topics, groups,
 * databases) is deleted at the end.
 */
import { parseArgs } from 'node:util';
import { ensureChromium, launchChromium } from '../infra/browser/chromium.ts';
import { status, up } from '../infra/stack/stack.ts';
import { createKafka } from '../services/kafka/client.ts';
import { pipelineEnv } from '../services/kafka/env.ts';
import { dlqTopic, topicNames, type TopicNames } from '../services/kafka/topics.ts';
import { createLogger } from '../services/runtime/log.ts';
import { DEFAULT_HISTORY, historyAsset, writeHistory, type HistoryOptions } from '../services/web/history-kit.ts';
import { DEFAULT_WEB } from '../services/web/options.ts';
import { startWeb, type RunningWeb } from '../services/web/server.ts';
import { benchDatabase, type BenchDatabase } from './lib/influx-db.ts';
import { formatCount, formatRatio, formatTable } from './lib/format.ts';
import { formatMachine, machineInfo } from './lib/machine.ts';

const { values: args } = parseArgs({ options: { json: { type: 'boolean' }, assets: { type: 'string' }, baseline: { type: 'string' }, runs: { type: 'string' }, keep: { type: 'boolean' } } });
const ASSETS = Number(args.assets ?? 100_000);
const BASELINE = Number(args.baseline ?? 1_000);
const RUNS = Number(args.runs ?? 5);
const env = pipelineEnv();
const say = (s = '') => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

interface Fleet {
  assets: number;
  history: HistoryOptions;
  db: BenchDatabase;
  topics: TopicNames;
  web: RunningWeb;
  writeSec: number;
  lines: number;
}

async function fleet(assets: number, tag: string): Promise<Fleet> {
  const history: HistoryOptions = { ...DEFAULT_HISTORY, assets, idPrefix: '' };
  const db = await benchDatabase(env.influx, `pdm_bench_web_${tag}_${Date.now().toString(36)}`);
  try {
    const t0 = performance.now();
    const lines = await writeHistory(history, db.influx, { onProgress: (n, l) => process.stderr.write(`  ${tag}: ${formatCount(n)} assets, ${formatCount(l)} lines, ${((performance.now() - t0) / 1000).toFixed(0)} s\r`) });
    const writeSec = (performance.now() - t0) / 1000;
    process.stderr.write('\n');
    const topics = topicNames(`bench-web-${tag}-${Date.now().toString(36)}.`);
    const web = await startWeb({ port: 0, influx: db.influx, brokers: env.brokers, registryUrl: env.registryUrl, topics, partitions: 1, groupPrefix: topics.cases.replace(/case\.events$/, ''), caseUrl: `${env.salesforce.loginUrl}/{caseId}`, logger: createLogger('bench.web', 'warn') });
    return { assets, history, db, topics, web, writeSec, lines };
  } catch (err) {
    // Not yet in the list the run cleans up: drop its database here.
    await db.drop().catch(() => undefined);
    throw err;
  }
}

/** The pages timed: the fleet's first and last page, a dense asset (2-min samples) and a sparse one at risk. */
function pages(f: Fleet): { name: string; path: string }[] {
  let open = 0;
  for (let i = 0; i < f.assets; i++) if (historyAsset(f.history, i).episodes.some((e) => e.events.at(-1)!.kind !== 'cleared')) open++;
  const lastPage = Math.max(0, Math.floor((open - 1) / DEFAULT_WEB.pageSize) * DEFAULT_WEB.pageSize);
  const sparse = Array.from({ length: 2_000 }, (_, i) => historyAsset(f.history, i + f.history.denseAssets)).find((a) => a.episodes.some((e) => e.events.at(-1)!.kind !== 'cleared'))!;
  const dense = historyAsset(f.history, 0);
  return [
    { name: 'fleet, first page', path: '/' },
    { name: 'fleet, last page', path: `/?offset=${lastPage}` },
    { name: 'asset, 2-min samples, 7 days', path: `/asset/${encodeURIComponent(dense.assetId)}` },
    { name: 'asset, 6-h samples, 7 days', path: `/asset/${encodeURIComponent(sparse.assetId)}` },
  ];
}

async function main(): Promise<number> {
  say(formatMachine(machineInfo()));
  const st = await status();
  if (!st.kafka.up || !st.registry.up || !st.influx.up) await up({ only: ['kafka', 'registry', 'influx'], progress: (l) => process.stderr.write(`stack ${l}\n`) });
  say(`browser: ${ensureChromium((l) => process.stderr.write(`${l}\n`))}`);
  say(`history: ${DEFAULT_HISTORY.days} days from ${new Date(DEFAULT_HISTORY.startTs).toISOString().slice(0, 10)}, samples every ${DEFAULT_HISTORY.samplePeriodMin / 60} h (${DEFAULT_HISTORY.denseAssets} assets every ${DEFAULT_HISTORY.densePeriodSec} s), ${DEFAULT_HISTORY.atRiskShare * 100}% of assets at risk, ${DEFAULT_HISTORY.clearedShare * 100}% with a cleared episode`);
  const fleets: Fleet[] = [];
  const browser = await launchChromium();
  try {
    fleets.push(await fleet(BASELINE, 'base'));
    fleets.push(await fleet(ASSETS, 'big'));
    for (const f of fleets) say(`  ${formatCount(f.assets)} assets: ${formatCount(f.lines)} lines written in ${f.writeSec.toFixed(1)} s (${formatCount(f.lines / f.writeSec)} lines/s)`);
    const page = await browser.context.newPage();
    const results: { page: string; baseMs: number; bigMs: number; baseHtmlMs: number; bigHtmlMs: number }[] = [];
    const names = pages(fleets[0]!);
    const paths = fleets.map(pages);
    const timeLoad = async (url: string) => {
      const t0 = performance.now();
      await page.goto(url);
      await page.waitForSelector('body[data-charts-ready]', { timeout: 120_000 });
      const total = performance.now() - t0;
      const html = await page.evaluate(() => (globalThis as unknown as { performance: { getEntriesByType(t: string): { responseEnd: number }[] } }).performance.getEntriesByType('navigation')[0]!.responseEnd);
      return { total, html };
    };
    for (let i = 0; i < names.length; i++) {
      const times = fleets.map(() => ({ total: [] as number[], html: [] as number[] }));
      // Alternate the fleets run by run, so a busy moment of the shared machine hits both alike.
      for (let r = 0; r <= RUNS; r++) {
        for (const [k, f] of fleets.entries()) {
          const t = await timeLoad(`${f.web.url}${paths[k]![i]!.path}`);
          if (r > 0) {
            times[k]!.total.push(t.total);
            times[k]!.html.push(t.html);
          }
        }
      }
      results.push({ page: names[i]!.name, baseMs: median(times[0]!.total), bigMs: median(times[1]!.total), baseHtmlMs: median(times[0]!.html), bigHtmlMs: median(times[1]!.html) });
    }
    say();
    say(`page load, navigation to charts drawn (HTML received), median of ${RUNS} loads after a warm-up:`);
    say(formatTable([
      ['page', `${formatCount(BASELINE)} assets (baseline)`, `${formatCount(ASSETS)} assets`, 'ratio'],
      ...results.map((r) => [r.page, `${r.baseMs.toFixed(0)} ms (${r.baseHtmlMs.toFixed(0)})`, `${r.bigMs.toFixed(0)} ms (${r.bigHtmlMs.toFixed(0)})`, formatRatio(r.bigMs / r.baseMs)]),
    ]));
    if (args.json) say(JSON.stringify({ assets: ASSETS, baseline: BASELINE, runs: RUNS, write: fleets.map((f) => ({ assets: f.assets, lines: f.lines, seconds: f.writeSec })), pages: results }));
    return 0;
  } finally {
    await browser.close();
    const kafka = createKafka({ brokers: env.brokers, clientId: 'bench-web' });
    const admin = kafka.admin();
    await admin.connect();
    for (const f of fleets) {
      await f.web.stop();
      const t = f.topics;
      const all = [t.readings, t.scores, t.predictions, t.state, t.cases, t.caseRetry];
      await admin.deleteTopics({ topics: [...all, ...[t.readings, t.scores, t.predictions, t.caseRetry].map(dlqTopic)] }).catch(() => undefined);
      if (args.keep) say(`kept InfluxDB bucket ${f.db.influx.bucket}`);
      else await f.db.drop();
    }
    await admin.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:web failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
