/**
 * `pdm demo`: the product's main job on the local stack (see services/demo/demo.ts). It
 * installs and starts the stack when needed, runs a bounded fleet through every service
 * with live progress on stderr, and prints the summary; `--json` adds the summary as one
 * JSON object on the last line of stdout. Exit 1 when the pipeline failed.
 */
import { up } from '../../infra/stack/stack.ts';
import { DEMO_START_TS, runDemo } from '../demo/demo.ts';
import { pipelineEnv } from '../kafka/env.ts';
import { describeError } from '../runtime/errors.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';
import { StatusBlock } from './status-block.ts';

const USAGE = `Usage: pdm demo [--json] [--assets-per-type N] [--days D] [--seed S] [--start TIME] [--rate R] [--failure-share F] [--sample-period S] [--timeout SEC]

Runs the whole pipeline on the local stack (installed and started when needed): a seeded
fleet of vehicles and appliances with injected failures is published to Kafka, scored,
written to InfluxDB, and turned into Salesforce cases. Shows live progress and ends with
a summary judged against the simulator's ground truth. The same options give the same
fleet, failures and summary every time (each run under asset ids of its own).

Options:
  --assets-per-type N  assets of each of the 5 asset types (default 8)
  --days D             simulated days of history (default 14; failure modes learn 7 days first)
  --seed S             simulator seed (default 7)
  --start TIME         start of the simulated history, ISO 8601 (default ${new Date(DEMO_START_TS).toISOString()})
  --rate R             readings per second to publish, 0 = as fast as possible (default 0)
  --failure-share F    share of assets that degrade and fail (default 0.5)
  --sample-period S    simulated seconds between readings (default 120)
  --timeout SEC        give up after SEC seconds (default 900)
  --web-port PORT      port of the fleet view started with the run (default 8080; a taken
                       port falls back to a free one); on a terminal it keeps serving after
                       the summary until Ctrl-C
  --no-web             no fleet view
  --metrics-port PORT  /metrics, /healthz and /readyz of the run's services (default 9464;
                       a taken port falls back to a free one)
  --json               also print the summary as one JSON object on the last line
`;

const SPEC = {
  json: { type: 'boolean' },
  'assets-per-type': { type: 'string' },
  days: { type: 'string' },
  seed: { type: 'string' },
  start: { type: 'string' },
  rate: { type: 'string' },
  'failure-share': { type: 'string' },
  'sample-period': { type: 'string' },
  timeout: { type: 'string' },
  'web-port': { type: 'string' },
  'no-web': { type: 'boolean' },
  'metrics-port': { type: 'string' },
} as const;

function num(name: string, raw: string | undefined, fallback: number, min: number, max: number, integer = true): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UsageError(`pdm demo: --${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

/** --start: an ISO 8601 time (whole minutes keep the fleet's sampling grid), default DEMO_START_TS. */
function startTime(raw: string | undefined): number {
  if (raw === undefined) return DEMO_START_TS;
  const t = Date.parse(raw);
  if (!Number.isFinite(t) || t % 60_000 !== 0) throw new UsageError(`pdm demo: --start must be an ISO 8601 time on a whole minute, e.g. 2026-01-05T00:00:00Z; got ${raw}`);
  return t;
}

export const demoCommand: Command = {
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const o = parseOptions('demo', args, SPEC);
    const opts = {
      assetsPerType: num('assets-per-type', o['assets-per-type'], 8, 1, 1000),
      days: num('days', o.days, 14, 3, 60),
      samplePeriodSec: num('sample-period', o['sample-period'], 120, 10, 3600),
      seed: num('seed', o.seed, 7, 0, 2 ** 31),
      ratePerSec: num('rate', o.rate, 0, 0, 1_000_000),
      failureShare: num('failure-share', o['failure-share'], 0.5, 0, 1, false),
      timeoutSec: num('timeout', o.timeout, 900, 10, 86_400),
      startTs: startTime(o.start),
      ...(o['no-web'] ? {} : { webPort: num('web-port', o['web-port'], 8080, 0, 65_535) }),
      metricsPort: num('metrics-port', o['metrics-port'], 9464, 0, 65_535),
    };
    const say = (line: string) => io.stderr.write(`${line}\n`);
    let env;
    try {
      env = pipelineEnv();
    } catch (err) {
      say(`pdm demo: ${describeError(err)}`);
      return 1;
    }
    try {
      say('demo: starting the local stack (first run installs it: several minutes)');
      await up({ progress: (l) => say(`stack ${l}`) });
    } catch (err) {
      say(`pdm demo: the local stack did not start: ${describeError(err)}`);
      return 1;
    }
    const block = new StatusBlock(io.stderr, io.stderr.isTTY === true);
    let result;
    try {
      result = await runDemo({ env, ...opts, progress: (line) => block.message(line), onStatus: (s) => block.update(s) });
    } catch (err) {
      say(`pdm demo: the pipeline failed: ${describeError(err)}`);
      return 1;
    }
    const { summary, ok, problems } = result;
    const lead = summary.medianLeadTimeSec === null ? 'n/a' : `${(summary.medianLeadTimeSec / 3600).toFixed(1)} h`;
    io.stdout.write(
      [
        '',
        'Predictive-maintenance demo: summary',
        `  fleet               seed ${summary.seed}, simulated from ${summary.simulatedStart}`,
        `  readings            ${summary.readings} in ${summary.elapsedSec} s (${summary.readingsPerSec}/s end to end)`,
        `  injected failures   ${summary.injectedFailures}`,
        `  predicted           ${summary.predicted} (median lead time ${lead} before the failure)`,
        `  cases opened        ${summary.casesOpened}`,
        `  duplicate cases     ${summary.duplicateCases}`,
        `  false cases         ${summary.falseCases}`,
        `  prediction events   ${summary.predictions}`,
        `  dead letters        ${summary.deadLetters}`,
        '',
        'Where to look:',
        `  InfluxDB (${env.influx.url}, Flux):`,
        `    ${summary.fluxQuery}`,
        `  Salesforce cases (${env.salesforce.loginUrl}, SOQL):`,
        `    ${summary.caseQuery}`,
        `  Kafka topics: ${summary.topicPrefix}*`,
        ...(summary.webUrl ? [`  Fleet view (pdm web): ${summary.webUrl}`] : []),
        ...(summary.metricsUrl ? [`  Metrics and health: ${summary.metricsUrl}/metrics, ${summary.metricsUrl}/healthz, ${summary.metricsUrl}/readyz`] : []),
        ...(problems.length ? ['', 'Problems:', ...problems.map((p) => `  - ${p}`)] : []),
        '',
      ].join('\n'),
    );
    if (o.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    if (result.web) {
      // On a terminal the fleet view stays up to be looked at; in a script the run just ends.
      if (io.stderr.isTTY === true && !o.json) {
        say(`demo: the fleet view keeps serving at ${result.web.url}; Ctrl-C to stop`);
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      }
      await result.web.stop();
    }
    return ok ? 0 : 1;
  },
};
