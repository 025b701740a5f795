/**
 * Builds the `pdm <service>` commands (scorer, influx-sink, case-opener): each reads the
 * connection settings from PDM_* variables (services/kafka/env.ts), the detection config
 * from --config, starts the service, serves metrics when asked, and stops cleanly on
 * SIGINT/SIGTERM (flushing and committing what it holds). Bad configuration stops it at
 * start with every problem named and exit code 1.
 */
import { readFile } from 'node:fs/promises';
import { compileConfig, ConfigError, DEFAULT_CONFIG, type CompiledConfig } from '../core/index.ts';
import { pipelineEnv, type PipelineEnv } from '../kafka/env.ts';
import { topicNames, type TopicNames } from '../kafka/topics.ts';
import { describeError, ServiceConfigError } from '../runtime/errors.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';

export interface ServiceContext {
  env: PipelineEnv;
  topics: TopicNames;
  cfg: CompiledConfig;
  metrics: MetricsRegistry;
  instanceId: string;
  /** Values of the command's own options (see {@link ServiceOptionSpec}), by name without dashes. */
  options: Readonly<Record<string, string | undefined>>;
}

/** A string option of one service command beyond the common ones, e.g. `pdm web --port`. */
export interface ServiceOptionSpec {
  /** Its line in the usage text, after the option name: `PORT  serve the pages on PORT (default 8080)`. */
  usage: string;
}

const SPEC = {
  config: { type: 'string' },
  'instance-id': { type: 'string' },
  'metrics-port': { type: 'string' },
} as const;

/** Loads and validates a detection config file; every issue is listed at once. */
export async function loadDetectionConfig(file: string | undefined): Promise<CompiledConfig> {
  if (file === undefined) return DEFAULT_CONFIG;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ServiceConfigError([`--config ${file}: ${describeError(err)}`]);
  }
  try {
    return compileConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new ServiceConfigError(err.issues.map((i) => `--config ${file}: ${i.path}: ${i.message}`));
    throw err;
  }
}

export function serviceCommand(
  name: string,
  summary: string,
  start: (ctx: ServiceContext) => Promise<RunningService>,
  own: Readonly<Record<string, ServiceOptionSpec>> = {},
): Command {
  const spec = { ...SPEC, ...Object.fromEntries(Object.keys(own).map((k) => [k, { type: 'string' as const }])) };
  const ownUsage = Object.entries(own).map(([k, o]) => {
    const [arg, ...text] = o.usage.split(/\s{2,}/);
    return `  ${`--${k} ${arg}`.padEnd(21)}${text.join(' ')}\n`;
  });
  const usage = `Usage: pdm ${name} ${Object.entries(own).map(([k, o]) => `[--${k} ${o.usage.split(/\s{2,}/)[0]}] `).join('')}[--config FILE] [--instance-id ID] [--metrics-port PORT]

${summary}

Options:
${ownUsage.join('')}  --config FILE        detection configuration (JSON) merged over the defaults
  --instance-id ID     stable id of this instance (scorer: its transactional id suffix); default 0
  --metrics-port PORT  serve Prometheus metrics on 127.0.0.1:PORT/metrics

Environment (defaults point at the local stack, npm run stack:up):
  PDM_KAFKA_BROKERS, PDM_REGISTRY_URL, PDM_TOPIC_PREFIX, PDM_PARTITIONS,
  PDM_INFLUX_URL, PDM_INFLUX_ORG, PDM_INFLUX_BUCKET, PDM_INFLUX_TOKEN,
  PDM_SF_LOGIN_URL, PDM_SF_USERNAME, PDM_SF_PASSWORD, PDM_SF_CLIENT_ID, PDM_SF_CLIENT_SECRET,
  PDM_SF_API_VERSION, PDM_DASHBOARD_URL, PDM_LOG_LEVEL, PDM_LOG_FORMAT=json
`;
  return {
    usage,
    async run(args: string[], io: CliIo): Promise<number> {
      const opts = parseOptions(name, args, spec) as Record<string, string | undefined>;
      let metricsPort: number | undefined;
      if (opts['metrics-port'] !== undefined) {
        metricsPort = Number(opts['metrics-port']);
        if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) throw new UsageError(`pdm ${name}: --metrics-port must be a TCP port`);
      }
      let ctx: ServiceContext;
      try {
        const env = pipelineEnv();
        ctx = {
          env,
          topics: topicNames(env.topicPrefix),
          cfg: await loadDetectionConfig(opts.config),
          metrics: new MetricsRegistry(),
          instanceId: opts['instance-id'] ?? '0',
          options: Object.fromEntries(Object.keys(own).map((k) => [k, opts[k]])),
        };
      } catch (err) {
        io.stderr.write(`pdm ${name}: ${describeError(err)}\n`);
        return 1;
      }
      const server = metricsPort !== undefined ? await ctx.metrics.serve(metricsPort) : undefined;
      let service: RunningService;
      try {
        service = await start(ctx);
      } catch (err) {
        io.stderr.write(`pdm ${name}: cannot start: ${describeError(err)}\n`);
        server?.close();
        return 1;
      }
      const stop = () => {
        io.stderr.write(`pdm ${name}: stopping\n`);
        void service.stop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await service.done;
        return 0;
      } catch (err) {
        io.stderr.write(`pdm ${name}: failed: ${describeError(err)}\n`);
        return 1;
      } finally {
        server?.close();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    },
  };
}
