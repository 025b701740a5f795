/** `pdm scorer`: the exactly-once scoring service (services/scorer). */
import { startScorer } from '../scorer/scorer.ts';
import { serviceCommand } from './service-command.ts';

export const scorerCommand = serviceCommand(
  'scorer',
  'Consume telemetry.readings, score each reading with the core, and write anomaly.scores,\nfailure.predictions and the scorer.state changelog in one Kafka transaction with the offsets.',
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
    }),
);
