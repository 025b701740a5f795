/**
 * `pdm replay`: what a candidate detection configuration would have done, before it goes
 * live. It re-scores history (the readings topic, or a CSV file) with the candidate and
 * compares the episodes it raises with what happened (failure.predictions and case.events,
 * or, for a CSV, the baseline configuration's episodes): which cases it would open, update
 * (raised how much earlier or later) or not open, with the lead time each had before the
 * repair. It writes nothing anywhere (services/replay/kafka-reader.ts says how).
 */
import { DEFAULT_CONFIG, type CompiledConfig } from '../core/index.ts';
import type { StepInput } from '../scorer/step.ts';
import { compareEpisodes, type Repair } from '../replay/compare.ts';
import { ReplayError } from '../replay/errors.ts';
import { formatReport, reportJson, type ReplayHistory } from '../replay/report.ts';
import { Rescorer, type RescoreOptions } from '../replay/rescore.ts';
import { describeError, PipelineError, ServiceConfigError } from '../runtime/errors.ts';
import { DEFAULT_SCORER } from '../scorer/options.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';
import { readCsvHistory } from './replay-csv.ts';
import { compileReplayOptions, ReplayOptionsError, type ReplayConfig } from './replay-options.ts';
import { ReplayProgress } from './replay-progress.ts';
import { defaultAssetId, GENERIC_ASSET_TYPE } from './score.ts';
import { loadDetectionConfig } from '../config/load.ts';

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  config: { type: 'string' },
  input: { type: 'string', short: 'i' },
  baseline: { type: 'string' },
  'asset-type': { type: 'string' },
  'asset-id': { type: 'string' },
  'warmup-days': { type: 'string' },
  'scorer-group': { type: 'string' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
} as const;

/** Kafka reads of at least this many records show progress even when stderr is not a terminal. */
export const LARGE_READ_RECORDS = 1_000_000;

const USAGE = `Usage: pdm replay --from TIME --to TIME [--config FILE] [--warmup-days N] [--json]
                  [--scorer-group ID] [--progress | --no-progress]
       pdm replay --from TIME --to TIME --input FILE|- [--config FILE] [--baseline FILE]
                  [--asset-type TYPE] [--asset-id ID] [--warmup-days N] [--json]

Re-scores history with a candidate detection configuration and shows which cases it would
open, update or not open compared with what happened, with the lead time each would have
had. Writes nothing: no record is produced, no consumer offset committed (it reads through
a throwaway consumer group that never commits, and deletes it at the end), nothing sent to
InfluxDB or Salesforce.

From Kafka (default): the readings topic is re-scored from its start, each partition up to
the offset the scorer's consumer group has committed (the records whose outputs are on
failure.predictions), through the scorer's own step; what happened is failure.predictions
(the episodes) and case.events (their cases).
From a CSV (--input): the file is scored with the candidate and with the baseline
configuration, and the baseline stands for what happened (no case ids).

Options:
      --from TIME        start of the compared span (required). TIME: ISO 8601 such as
                         2026-01-14T00:00:00Z or "2026-01-14 06:00" (UTC), or epoch seconds
                         or milliseconds.
      --to TIME          end of the compared span, included (required).
      --config FILE      the candidate: JSON configuration merged over the defaults and
                         validated. Default: the defaults.
      --warmup-days N    score only the N days before --from first (faster on a long
                         history). Default: all history, which reproduces the scorer's
                         states exactly; a warm-up shorter than the learning period (7 days
                         of modeLearningHours by default) raises nothing early in the span.
      --json             also print the report as one JSON object on the last line.
      --progress         always show progress on stderr; --no-progress never. Default: on a
                         terminal, or for a read of ${LARGE_READ_RECORDS.toLocaleString('en-US')} records or more.
  Kafka only:
      --scorer-group ID  the scorer's consumer group. Default: <PDM_TOPIC_PREFIX>pdm-scorer.
  CSV only:
  -i, --input FILE|-     CSV to replay (- reads stdin): a "timestamp" column, optional
                         "asset_id", "asset_type" and "maintenance" columns (a failure mode
                         repaired, or * for a full service, on a row without sensor values),
                         every other column a sensor; values and times as pdm score reads them.
      --baseline FILE    configuration that stands for what happened. Default: the defaults.
      --asset-type TYPE  asset type of rows without an asset_type column. Default: generic.
      --asset-id ID      asset id of rows without an asset_id column. Default: the file's
                         name without extension, or "stdin".
  -h, --help             this text.

An episode of the candidate and one that happened are the same case when they are of the
same asset and failure mode, precede the same repair, and overlap or lie less than the
mode's horizon apart. Lead time: hours from the raise to the asset's next repair of that
mode (a maintenance event, the proxy for the failure), when the episode was open until then.

Environment: PDM_KAFKA_BROKERS, PDM_REGISTRY_URL, PDM_TOPIC_PREFIX (and the other connection
settings every service validates), PDM_SCORER_STATE_TTL_MS (the scorer's state expiry, so
that the replay expires states as the scorer did).

Exit status: 0 done, 1 failure (bad config or input file, missing or empty topic, nothing
scored, Kafka or the registry unreachable), 2 bad usage (options, times).
`;

/** The `pdm replay` command. */
export const replayCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    const opts = parseOptions('replay', args, OPTIONS);
    const problems: string[] = [];
    let span: Readonly<ReplayConfig> | undefined;
    try {
      span = compileReplayOptions({ from: opts.from, to: opts.to, warmupDays: opts['warmup-days'] });
    } catch (err) {
      if (!(err instanceof ReplayOptionsError)) throw err;
      problems.push(...err.problems);
    }
    const csv = opts.input !== undefined;
    for (const o of ['baseline', 'asset-type', 'asset-id'] as const) if (!csv && opts[o] !== undefined) problems.push(`--${o} applies to a CSV input only (--input)`);
    if (csv && opts['scorer-group'] !== undefined) problems.push('--scorer-group applies to the Kafka input only (without --input)');
    if (opts.progress && opts['no-progress']) problems.push('--progress and --no-progress exclude each other');
    if (problems.length > 0) throw new UsageError(`pdm replay: ${problems.join('\n  ')}\n(see pdm replay --help)`);

    const configs = await loadConfigs(opts.config, csv ? opts.baseline : undefined);
    if ('problems' in configs) {
      io.stderr.write(`pdm replay: invalid configuration (${configs.problems.length} problem(s)):\n${configs.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 1;
    }
    const progressMode = opts.progress ? true : opts['no-progress'] ? false : undefined;
    try {
      // The Kafka path replaces the TTL with the scorer's own (PDM_SCORER_STATE_TTL_MS); a CSV
      // has no scorer, and both of its sides share the default.
      const rescore: RescoreOptions = { cfg: configs.candidate, toTs: span!.toTs, warmupFromTs: span!.warmupFromTs, stateTtlMs: DEFAULT_SCORER.stateTtlMs };
      const run = csv
        ? await replayCsv(rescore, configs.baseline, { input: opts.input!, assetId: opts['asset-id'], assetType: opts['asset-type'] }, io, progressMode)
        : await replayKafka(rescore, span!, opts['scorer-group'], io, progressMode);
      const comparison = compareEpisodes(run.actual, run.candidate, run.repairs, run.cases, span!);
      const history: ReplayHistory = {
        ...run.history,
        candidateConfig: configs.candidate.version,
        candidateFile: opts.config ?? null,
        warmupFromTs: Number.isFinite(span!.warmupFromTs) ? span!.warmupFromTs : null,
      };
      io.stdout.write(formatReport(comparison, span!, history));
      if (opts.json) io.stdout.write(`${reportJson(comparison, span!, history)}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ReplayError) {
        io.stderr.write(`${err.message.startsWith('pdm replay:') ? '' : 'pdm replay: '}${err.message}\n`);
        return 1;
      }
      if (isConnectionError(err)) {
        io.stderr.write(`pdm replay: ${describeError(err)}\n`);
        return 1;
      }
      throw err;
    }
  },
};

/** Both configurations, or every problem of either. */
async function loadConfigs(candidate: string | undefined, baseline: string | undefined): Promise<{ candidate: CompiledConfig; baseline: CompiledConfig } | { problems: string[] }> {
  const problems: string[] = [];
  const load = async (file: string | undefined, label: string): Promise<CompiledConfig> => {
    try {
      return await loadDetectionConfig(file);
    } catch (err) {
      if (!(err instanceof ServiceConfigError)) throw err;
      problems.push(...err.problems.map((p) => `${label} ${p}`));
      return DEFAULT_CONFIG;
    }
  };
  const c = await load(candidate, '--config');
  const b = await load(baseline, '--baseline');
  return problems.length > 0 ? { problems } : { candidate: c, baseline: b };
}

/** An error's message and its causes', each once ("a: b", where describeError would say "a: a: b" for a wrapped kafkajs error). */
function causes(err: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = err, depth = 0; cur instanceof Error && depth < 6; cur = (cur as Error & { cause?: unknown }).cause, depth++) {
    if (parts.at(-1) !== cur.message) parts.push(cur.message);
  }
  return parts.join(': ');
}

/** Kafka, the registry or the network failed under us: not a bug, exit 1 with its message. */
function isConnectionError(err: unknown): boolean {
  if (err instanceof PipelineError) return true;
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.startsWith('KafkaJS');
}

interface RunResult {
  actual: ReturnType<Rescorer['episodes']>;
  candidate: ReturnType<Rescorer['episodes']>;
  repairs: Repair[];
  cases: Map<string, string>;
  history: Omit<ReplayHistory, 'candidateConfig' | 'candidateFile' | 'warmupFromTs'>;
}

async function replayKafka(rescore: RescoreOptions, span: Readonly<ReplayConfig>, scorerGroup: string | undefined, io: CliIo, progressMode: boolean | undefined): Promise<RunResult> {
  // Loaded here so that the CSV path never loads kafkajs.
  const [{ loadConfiguration }, { topicNames }, { createKafka }, { AvroCodec }, { replayFromKafka }] = await Promise.all([
    import('../config/load.ts'),
    import('../kafka/topics.ts'),
    import('../kafka/client.ts'),
    import('../kafka/codec.ts'),
    import('../replay/kafka-replay.ts'),
  ]);
  // Connections and the scorer's state TTL as the services have them: PDM_CONFIG_FILE, the environment over it.
  const { env, scorer } = await loadConfiguration(undefined, process.env);
  const topics = topicNames(env.topicPrefix);
  const ttl = scorer.stateTtlMs;
  if (ttl !== undefined) rescore = { ...rescore, stateTtlMs: ttl };
  const progress = new ReplayProgress(io.stderr, progressMode, LARGE_READ_RECORDS);
  let inputs: Awaited<ReturnType<typeof replayFromKafka>>;
  try {
    inputs = await replayFromKafka({
      // Four tries (about 2 s) before saying a broker is unreachable: someone is waiting.
      kafka: createKafka({ brokers: env.brokers, clientId: 'pdm-replay', retries: 3 }),
      codec: new AvroCodec(env.registryUrl),
      topics,
      groupPrefix: env.topicPrefix,
      scorerGroup: scorerGroup ?? `${env.topicPrefix}pdm-scorer`,
      rescore,
      stallTimeoutMs: span.stallTimeoutMs,
      onProgress: (topic, read, total) => progress.records(topic, read, total),
    });
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name?.toString().startsWith('KafkaJS')) {
      throw new ReplayError(`Kafka at ${env.brokers.join(',')}: ${causes(err)}`, { cause: err });
    }
    throw err;
  }
  progress.done();
  const versions = new Set(inputs.actual.filter((e) => e.raisedTs >= span.fromTs).map((e) => e.configVersion));
  return {
    actual: inputs.actual,
    candidate: inputs.candidate,
    repairs: inputs.repairs,
    cases: inputs.cases,
    history: {
      source: 'kafka',
      input: topics.readings,
      actualConfigs: [...versions].sort(),
      readings: inputs.counts.readings,
      assets: inputs.counts.assets,
      repairs: inputs.repairs.length,
      unscored: inputs.counts.unscored,
      undecodable: inputs.counts.undecodable,
    },
  };
}

async function replayCsv(
  rescore: RescoreOptions,
  baseline: CompiledConfig,
  o: { input: string; assetId: string | undefined; assetType: string | undefined },
  io: CliIo,
  progressMode: boolean | undefined,
): Promise<RunResult> {
  const candidate = new Rescorer(rescore);
  const actual = new Rescorer({ ...rescore, cfg: baseline });
  const repairs: Repair[] = [];
  const progress = new ReplayProgress(io.stderr, progressMode, Infinity);
  await readCsvHistory({
    input: o.input,
    stdin: io.stdin,
    assetId: o.assetId ?? defaultAssetId(o.input),
    assetType: o.assetType ?? GENERIC_ASSET_TYPE,
    onChunk: (inputs: StepInput[]) => {
      for (const i of inputs) if (i.kind === 'repair') repairs.push({ assetId: i.event.assetId, ts: i.event.ts, failureMode: i.event.failureMode ?? null });
      candidate.apply(0, inputs);
      actual.apply(0, inputs);
    },
    onProgress: (bytes, size) => progress.bytes(o.input, bytes, size),
  });
  progress.done();
  const counts = candidate.counts();
  return {
    actual: actual.episodes(),
    candidate: candidate.episodes(),
    repairs,
    cases: new Map(),
    history: { source: 'csv', input: o.input === '-' ? 'stdin' : o.input, actualConfigs: [baseline.version], readings: counts.readings, assets: counts.assets, repairs: repairs.length },
  };
}


