/** `pdm scorer`: the exactly-once scoring service (services/scorer). */
import { startScorer } from '../scorer/scorer.ts';
import { serviceCommand } from './service-command.ts';

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
      ...ctx.config.scorer,
    }),
);
