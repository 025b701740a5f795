/**
 * The one lifecycle of every `pdm <service>` command (scorer, influx-sink, case-opener, web):
 * load the configuration (services/config: the file named by --config or PDM_CONFIG_FILE, the
 * PDM_* variables over it, every setting validated at once); serve /metrics, /healthz and /readyz (runtime/metrics.ts,
 * runtime/health.ts) from before the start, so a slow start reads as alive but not ready;
 * start the service; stop cleanly on SIGINT/SIGTERM (flushing and committing what it holds).
 * Bad configuration stops it at start with every problem named and exit code 1. However the
 * service ends (a crash included), the process exits: a socket left open by a client library
 * must never keep a dead service's process alive, so an exit that has not happened
 * EXIT_GRACE_MS after the end is forced.
 */
import { loadConfiguration, type Configuration } from '../config/load.ts';
import type { CompiledConfig } from '../core/index.ts';
import type { PipelineEnv } from '../kafka/env.ts';
import { topicNames, type TopicNames } from '../kafka/topics.ts';
import { describeError } from '../runtime/errors.ts';
import { Health } from '../runtime/health.ts';
import { createLogger } from '../runtime/log.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';

export interface ServiceContext {
  /** Everything configured (file and environment), validated. */
  config: Configuration;
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
${ownUsage.join('')}  --config FILE        the configuration file (JSON, one section per part and "detection";
                       default: PDM_CONFIG_FILE). The environment overrides it.
  --instance-id ID     stable id of this instance (scorer: its transactional id suffix); default 0
  --metrics-port PORT  serve /metrics (Prometheus), /healthz and /readyz on PORT
  --metrics-host HOST  their address (default 127.0.0.1, or PDM_METRICS_HOST; 0.0.0.0 in a
                       container, where the probes come from outside the pod)

Every setting, its file key, variable and default: pdm config reference. Defaults point at
the local stack (npm run stack:up). Check a configuration without starting: pdm config check.
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
        const config = await loadConfiguration(opts.config, process.env);
        ctx = {
          config,
          env: config.env,
          topics: topicNames(config.env.topicPrefix),
          cfg: config.cfg,
          metrics: new MetricsRegistry(true),
          health: new Health(config.runtime.unhealthyAfterMs),
          instanceId: opts['instance-id'] ?? '0',
          options: Object.fromEntries(Object.keys(own).map((k) => [k, opts[k]])),
        };
      } catch (err) {
        io.stderr.write(`pdm ${name}: ${describeError(err)}\n`);
        return 1;
      }
      const log = createLogger(name);
      const host = opts['metrics-host'] ?? ctx.config.runtime.metricsHost;
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
