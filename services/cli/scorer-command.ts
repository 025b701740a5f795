/** `pdm scorer`: the exactly-once scoring service (services/scorer). */
import { ServiceConfigError } from '../runtime/errors.ts';
import { startScorer } from '../scorer/scorer.ts';
import { serviceCommand } from './service-command.ts';

/** Optional numeric tuning variables of the scorer; every bad one is reported at once (also read by `pdm replay`, to expire states as the scorer does). */
export function scorerTuning(env: NodeJS.ProcessEnv): { checkpointIntervalMs?: number; checkpointMaxReadings?: number; stateTtlMs?: number } {
  const problems: string[] = [];
  const num = (name: string, integer: boolean, min: number): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      problems.push(`${name}=${raw}: must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
      return undefined;
    }
    return v;
  };
  const checkpointIntervalMs = num('PDM_SCORER_CHECKPOINT_MS', false, 0);
  const checkpointMaxReadings = num('PDM_SCORER_CHECKPOINT_READINGS', true, 1);
  const stateTtlMs = num('PDM_SCORER_STATE_TTL_MS', true, 1_000);
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return {
    ...(checkpointIntervalMs !== undefined ? { checkpointIntervalMs } : {}),
    ...(checkpointMaxReadings !== undefined ? { checkpointMaxReadings } : {}),
    ...(stateTtlMs !== undefined ? { stateTtlMs } : {}),
  };
}

export const scorerCommand = serviceCommand(
  'scorer',
  'Consume telemetry.readings, score each reading with the core, and write anomaly.scores,\nfailure.predictions and the scorer.state changelog in one Kafka transaction with the offsets.\n\n' +
    'Scorer tuning: PDM_SCORER_CHECKPOINT_MS (default 10000) and PDM_SCORER_CHECKPOINT_READINGS\n(default 50000): how long after its first unwritten change a state is checkpointed, which\nbounds the readings a restart replays.',
  (ctx) =>
    startScorer({
      brokers: ctx.env.brokers,
      registryUrl: ctx.env.registryUrl,
      topics: ctx.topics,
      partitions: ctx.env.partitions,
      cfg: ctx.cfg,
      // The prefix keeps side-by-side pipelines (tests, demos) in separate groups.
      groupId: `${ctx.env.topicPrefix}pdm-scorer`,
      instanceId: ctx.instanceId,
      metrics: ctx.metrics,
      health: ctx.health,
      sessionTimeoutMs: ctx.env.sessionTimeoutMs,
      ...scorerTuning(process.env),
    }),
);
