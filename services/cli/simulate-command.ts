/**
 * `pdm simulate`: publishes a seeded simulated fleet to telemetry.readings like connected
 * products do (Avro, Confluent wire format, key = asset id), with injected failures; the
 * ground truth goes to stdout as JSON lines when asked (--truth).
 */
import { DEFAULT_CONFIG } from '../core/index.ts';
import { createKafka } from '../kafka/client.ts';
import { pipelineEnv } from '../kafka/env.ts';
import { ensureTopics, topicNames } from '../kafka/topics.ts';
import { describeError } from '../runtime/errors.ts';
import { createFleet } from '../simulator/fleet.ts';
import { publishReadings } from '../simulator/publisher.ts';
import { parseOptions, UsageError } from './args.ts';
import type { CliIo, Command } from './command.ts';

const USAGE = `Usage: pdm simulate [--assets-per-type N] [--days D] [--seed S] [--rate R] [--failure-share F] [--truth]

Publishes a seeded fleet (every asset type) to the readings topic. The simulated history
ends now. Connection settings come from PDM_* variables (see pdm scorer --help).

Options:
  --assets-per-type N  assets of each type (default 8)
  --days D             simulated days (default 8)
  --seed S             seed (default 7)
  --rate R             readings per second, 0 = as fast as possible (default 2000)
  --failure-share F    share of assets that degrade and fail (default 0.3)
  --truth              print each asset's ground truth as a JSON line on stdout
`;

const SPEC = {
  'assets-per-type': { type: 'string' },
  days: { type: 'string' },
  seed: { type: 'string' },
  rate: { type: 'string' },
  'failure-share': { type: 'string' },
  truth: { type: 'boolean' },
} as const;

function num(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`pdm simulate: --${name} must be a number from ${min} to ${max}`);
  return v;
}

export const simulateCommand: Command = {
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const o = parseOptions('simulate', args, SPEC);
    const assetsPerType = num('assets-per-type', o['assets-per-type'], 8, 1, 100_000);
    const days = num('days', o.days, 8, 1, 365);
    const seed = num('seed', o.seed, 7, 0, 2 ** 31);
    const rate = num('rate', o.rate, 2000, 0, 1_000_000);
    const failureShare = num('failure-share', o['failure-share'], 0.3, 0, 1);
    try {
      const env = pipelineEnv();
      const topics = topicNames(env.topicPrefix);
      const kafka = createKafka({ brokers: env.brokers, clientId: 'pdm-simulator' });
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, topics, { partitions: env.partitions }).finally(() => admin.disconnect());
      const startTs = Math.floor(Date.now() / 60_000) * 60_000 - days * 86_400_000;
      const fleet = createFleet({ seed, assetsPerType, days, startTs, failureShare }, DEFAULT_CONFIG);
      if (o.truth) for (const a of fleet.assets) io.stdout.write(`${JSON.stringify(a)}\n`);
      let last = 0;
      let repairs = 0;
      const n = await publishReadings({
        kafka,
        registryUrl: env.registryUrl,
        topic: topics.readings,
        // Readings and, after each injected failure, the repair (a maintenance event).
        readings: { events: fleet.events() },
        onMaintenance: (count) => (repairs = count),
        ratePerSec: rate,
        onProgress: (count) => {
          if (Date.now() - last > 1_000) {
            io.stderr.write(`simulate: published ${count} readings\n`);
            last = Date.now();
          }
        },
      });
      io.stderr.write(`simulate: done, ${n} readings and ${repairs} maintenance events from ${fleet.assets.length} assets to ${topics.readings}\n`);
      return 0;
    } catch (err) {
      io.stderr.write(`pdm simulate: ${describeError(err)}\n`);
      return 1;
    }
  },
};
