/** `pdm influx-sink`: writes readings, scores and predictions to InfluxDB (services/influx-sink). */
import { startInfluxSink } from '../influx-sink/sink.ts';
import { serviceCommand } from './service-command.ts';

export const sinkCommand = serviceCommand(
  'influx-sink',
  'Consume readings, anomaly scores and predictions (read_committed) and write them to InfluxDB;\noffsets are committed only after InfluxDB accepted the batch.',
  (ctx) =>
    startInfluxSink({
      brokers: ctx.env.brokers,
      registryUrl: ctx.env.registryUrl,
      topics: ctx.topics,
      influx: ctx.env.influx,
      groupId: `${ctx.env.topicPrefix}pdm-influx-sink`,
      metrics: ctx.metrics,
      health: ctx.health,
      sessionTimeoutMs: ctx.env.sessionTimeoutMs,
    }),
);
