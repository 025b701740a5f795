/**
 * The one lifecycle of every `pdm <service>` command (scorer, influx-sink, case-opener, web):
 * read the connection settings from PDM_* variables (services/kafka/env.ts) and the detection
 * config from --config; serve /metrics, /healthz and /readyz (runtime/metrics.ts,
 * runtime/health.ts) from before the start, so a slow start reads as alive but not ready;
 * start the service; stop cleanly on SIGINT/SIGTERM (flushing and committing what it holds).
 * Bad configuration stops it at start with every problem named and exit code 1. However the
 * service ends (a crash included), the process exits: a socket left open by a client library
 * must never keep a dead service's process alive, so an exit that has not happened
 * EXIT_GRACE_MS after the end is forced.
 */
import { readFile } from 'node:fs/promises';
import { compileConfig, ConfigError, DEFAULT_CONFIG, type CompiledConfig } from '../core/index.ts';
import { pipelineEnv, type PipelineEnv } from '../kafka/env.ts';
import { topicNames, type TopicNames } from '../kafka/topics.ts';
import { describeError, ServiceConfigError } from '../runtime/errors.ts';
import { Health } from '../runtime/health.ts';
import { createLogger } from '../runtime/log.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';

export interface ServiceContext {
  env: PipelineEnv;
  topics: TopicNames;
  cfg: CompiledConfig;
  metrics: MetricsRegistry;
  /** The service reports its readiness and its dependencies' health here (served on /readyz, /healthz). */
  health: Health;
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
  'metrics-host': { type: 'string' },
} as const;

/** After the service ended, the longest the process may take to exit on its own, ms. */
export const EXIT_GRACE_MS = 5_000;
/** The longest a graceful stop may take before the process exits anyway, ms. */
export const STOP_TIMEOUT_MS = 60_000;

/** PDM_UNHEALTHY_AFTER_MS: how long a dependency may be down before /healthz fails (default 60 s). */
function unhealthyAfterMs(env: NodeJS.ProcessEnv): number {
  const raw = env.PDM_UNHEALTHY_AFTER_MS?.trim();
  if (!raw) return 60_000;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1_000) throw new ServiceConfigError([`PDM_UNHEALTHY_AFTER_MS=${raw}: must be an integer ≥ 1000 (ms)`]);
  return v;
}

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
  --metrics-port PORT  serve /metrics (Prometheus), /healthz and /readyz on PORT
  --metrics-host HOST  their address (default 127.0.0.1, or PDM_METRICS_HOST; 0.0.0.0 in a
                       container, where the probes come from outside the pod)

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
          metrics: new MetricsRegistry(true),
          health: new Health(unhealthyAfterMs(process.env)),
          instanceId: opts['instance-id'] ?? '0',
          options: Object.fromEntries(Object.keys(own).map((k) => [k, opts[k]])),
        };
      } catch (err) {
        io.stderr.write(`pdm ${name}: ${describeError(err)}\n`);
        return 1;
      }
      const log = createLogger(name);
      const host = opts['metrics-host'] ?? process.env.PDM_METRICS_HOST ?? '127.0.0.1';
      ctx.health.notReady('starting');
      const server = metricsPort !== undefined ? await ctx.metrics.serve(metricsPort, host, ctx.health) : undefined;
      // Whatever ends the service, the process ends with it (see EXIT_GRACE_MS).
      const forceExitLater = (code: number) => setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
      let service: RunningService;
      try {
        service = await start(ctx);
      } catch (err) {
        io.stderr.write(`pdm ${name}: cannot start: ${describeError(err)}\n`);
        server?.close();
        forceExitLater(1);
        return 1;
      }
      const stop = () => {
        log.info('stopping', { signal: true });
        ctx.health.notReady('stopping');
        setTimeout(() => {
          io.stderr.write(`pdm ${name}: did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting\n`);
          process.exit(1);
        }, STOP_TIMEOUT_MS).unref();
        void service.stop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await service.done;
        forceExitLater(0);
        return 0;
      } catch (err) {
        log.error('failed', { error: describeError(err), err });
        io.stderr.write(`pdm ${name}: failed: ${describeError(err)}\n`);
        // Release what can be released, then leave: a crashed service must not linger.
        await Promise.race([service.stop().catch(() => undefined), new Promise((r) => setTimeout(r, EXIT_GRACE_MS).unref())]);
        forceExitLater(1);
        return 1;
      } finally {
        server?.close();
        server?.closeAllConnections();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    },
  };
}
