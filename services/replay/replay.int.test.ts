/**
 * `pdm replay` against the real local Kafka and schema registry, on a simulated run: a seeded
 * fleet (10 assets, 12 days at a 5-minute period, 4 injected failures followed by their
 * repairs) published as devices do and scored by the real scorer, which gives what happened.
 * Then the replay, with the scorer's own configuration (it must reproduce every episode at
 * the same reading), with a lower threshold (every case raised earlier, with more lead time)
 * and with a much higher one (fewer cases). The expected raises come from the pure core run
 * over the same fleet: an oracle independent of Kafka and of the replay's code.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackInfo, uniqueName } from '../../infra/test/stack-env.ts';
import { compileConfig, DEFAULT_CONFIG, maintain, newState, score } from '../core/index.ts';
import type { AssetState, CompiledConfig, PredictionEvent } from '../core/types.ts';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec, loadSchemaText } from '../kafka/codec.ts';
import { readTopic } from '../kafka/testkit.ts';
import { dlqTopic, ensureTopics, topicNames, type TopicNames } from '../kafka/topics.ts';
import { startScorer } from '../scorer/scorer.ts';
import { createFleet, type Fleet } from '../simulator/fleet.ts';
import { publishReadings } from '../simulator/publisher.ts';
import { lastJson, runReplay, type ReplayRun } from './testkit.ts';

const T0 = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;
const FROM = new Date(T0 + 9 * DAY).toISOString();
const TO = new Date(T0 + 12 * DAY).toISOString();
const FLEET = { seed: 1, assetsPerType: 2, startTs: T0, days: 12, samplePeriodSec: 300, failureShare: 0.6 };
const CASE_ID = '500RPLAY00000001AAA';
const BIN = join(import.meta.dirname, '..', 'cli', 'bin.mjs');

/** Raise times by asset/mode of the episodes raised in [FROM, TO], scoring the fleet with the pure core. */
function oracleRaises(fleet: Fleet, cfg: CompiledConfig): string[] {
  const states = new Map<string, AssetState>();
  const raised: PredictionEvent[] = [];
  for (const e of fleet.events()) {
    if (e.type === 'reading') {
      const r = e.reading;
      const step = score(states.get(r.assetId) ?? newState(r.assetId, r.assetType, cfg), r, cfg);
      states.set(r.assetId, step.state);
      raised.push(...step.predictions.filter((p) => p.kind === 'raised' && p.episodeStartTs === p.ts));
    } else {
      const st = states.get(e.event.assetId);
      if (st) maintain(st, e.event, cfg);
    }
  }
  const from = Date.parse(FROM);
  const to = Date.parse(TO);
  return raised.filter((p) => p.ts >= from && p.ts <= to).map((p) => `${p.assetId}/${p.failureMode}@${new Date(p.ts).toISOString()}`).sort();
}

interface Row {
  outcome: string;
  assetId: string;
  failureMode: string;
  shiftHours: number | null;
  caseId: string | null;
  actual: { raised: string; leadHours: number | null; episodeId: string } | null;
  candidate: { raised: string; leadHours: number | null } | null;
}
interface Report {
  summary: { wouldOpen: number; wouldUpdate: number; wouldNotOpen: number; earlier: number; same: number; later: number; repairs: number };
  history: { readings: number; assets: number; repairs: number; unscored: number };
  rows: Row[];
}

const raisesOf = (rows: Row[], side: 'actual' | 'candidate'): string[] =>
  rows.flatMap((r) => (r[side] ? [`${r.assetId}/${r.failureMode}@${r[side].raised}`] : [])).sort();

describe('pdm replay on a simulated run', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let prefix: string;
  let topics: TopicNames;
  let fleet: Fleet;
  let dir: string;
  let env: Record<string, string>;

  /** Runs `pdm replay` in this process with the run's topic prefix. */
  async function replay(args: string[], prefixOverride = prefix): Promise<ReplayRun> {
    const saved = { ...process.env };
    Object.assign(process.env, env, { PDM_TOPIC_PREFIX: prefixOverride });
    try {
      return await runReplay(args);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }
  const parse = (stdout: string): Report => lastJson<Report>(stdout);

  /** High offsets of every topic of the run, to show that a replay writes nothing. */
  async function topicEnds(): Promise<Record<string, string[]>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const out: Record<string, string[]> = {};
      for (const t of [...Object.values(topics), ...[topics.readings, topics.scores, topics.predictions, topics.caseRetry].map(dlqTopic)]) {
        out[t] = (await admin.fetchTopicOffsets(t)).sort((a, b) => a.partition - b.partition).map((o) => o.high);
      }
      return out;
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    const info = stackInfo();
    env = { PDM_KAFKA_BROKERS: info.kafka.brokers.join(','), PDM_REGISTRY_URL: info.registry.url };
    kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'replay-int-test' });
    codec = new AvroCodec(info.registry.url);
    prefix = `${uniqueName('rp')}.`;
    topics = topicNames(prefix);
    dir = mkdtempSync(join(tmpdir(), 'pdm-replay-'));
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { partitions: 3 });
    fleet = createFleet(FLEET, DEFAULT_CONFIG);
    const published = await publishReadings({ kafka, registryUrl: info.registry.url, topic: topics.readings, readings: { events: fleet.events() } });
    const ends = await admin.fetchTopicOffsets(topics.readings);
    const groupId = `${prefix}pdm-scorer`;
    const scorer = await startScorer({ brokers: info.kafka.brokers, registryUrl: info.registry.url, topics, partitions: 3, cfg: DEFAULT_CONFIG, groupId });
    try {
      // What happened is complete once the scorer has committed every record of the run.
      for (;;) {
        const committed = (await admin.fetchOffsets({ groupId, topics: [topics.readings] }))[0]!.partitions;
        if (ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.high)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await scorer.stop();
      await admin.disconnect();
    }
    expect(published).toBe(32_596);
    // The case the case opener would have written for the first episode raised (case.events).
    const first = (await readTopic(kafka, topics.predictions, { idleMs: 1_000 }))
      .map((m) => m.value)
      .filter((v): v is Buffer => v !== null);
    const events = await Promise.all(first.map(async (v) => (await codec.decode(v)) as PredictionEvent));
    const raised = events.filter((e) => e.kind === 'raised').sort((a, b) => a.ts - b.ts)[0]!;
    await codec.registerValueSchema(topics.cases, loadSchemaText('caseEvent'));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.cases,
      messages: [
        {
          key: raised.assetId,
          value: codec.encode(topics.cases, {
            action: 'created', caseId: CASE_ID, episodeId: raised.episodeId, assetId: raised.assetId, failureMode: raised.failureMode,
            severity: raised.severity, priority: 'High', predictionKind: 'raised', predictionTs: raised.ts, writtenAt: Date.now(),
          }),
        },
      ],
    });
    await producer.disconnect();
    writeFileSync(join(dir, 'low.json'), JSON.stringify({ detector: { raiseThreshold: 0.1 } }));
    writeFileSync(join(dir, 'high.json'), JSON.stringify({ detector: { raiseThreshold: 1 } }));
  });

  it('with the configuration the scorer ran, reproduces every episode at the same reading, writing nothing', async () => {
    const before = await topicEnds();
    // The installed command, as a user runs it.
    const child = spawn(process.execPath, [BIN, 'replay', '--from', FROM, '--to', TO, '--json', '--no-progress'], {
      env: { ...process.env, ...env, PDM_TOPIC_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = parse(stdout);
    const expected = oracleRaises(fleet, DEFAULT_CONFIG);
    expect(expected).toHaveLength(4);
    expect(raisesOf(report.rows, 'actual')).toEqual(expected);
    expect(raisesOf(report.rows, 'candidate')).toEqual(expected);
    expect(report.summary).toMatchObject({ wouldOpen: 0, wouldUpdate: 4, wouldNotOpen: 0, earlier: 0, same: 4, later: 0, repairs: 4 });
    expect(report.history).toMatchObject({ readings: 32_596, assets: 10, repairs: 4, unscored: 0 });
    for (const r of report.rows) {
      expect(r.candidate!.leadHours).toBe(r.actual!.leadHours);
      expect(r.actual!.leadHours).toBeGreaterThan(0); // every failure was announced before its repair
    }
    // The case of the first episode, from case.events.
    expect(report.rows[0]!.caseId).toBe(CASE_ID);
    expect(report.rows.slice(1).map((r) => r.caseId)).toEqual([null, null, null]);
    expect(stdout).toContain(`would update  ${report.rows[0]!.assetId}`);
    // Nothing produced anywhere, no replay group left behind.
    expect(await topicEnds()).toEqual(before);
    const admin = kafka.admin();
    await admin.connect();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    await admin.disconnect();
    expect(groups).toEqual([`${prefix}pdm-scorer`]);
  });

  it('with a lower threshold, raises every case earlier, with more lead time before the repair', async () => {
    const { code, stdout, stderr } = await replay(['--from', FROM, '--to', TO, '--config', join(dir, 'low.json'), '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = parse(stdout);
    expect(raisesOf(report.rows, 'actual')).toEqual(oracleRaises(fleet, DEFAULT_CONFIG));
    expect(raisesOf(report.rows, 'candidate')).toEqual(oracleRaises(fleet, compileConfig({ detector: { raiseThreshold: 0.1 } })));
    expect(report.summary).toMatchObject({ wouldOpen: 0, wouldUpdate: 4, wouldNotOpen: 0, earlier: 4, same: 0, later: 0 });
    for (const r of report.rows) {
      expect(r.shiftHours!).toBeLessThan(0);
      expect(r.candidate!.leadHours! - r.actual!.leadHours!).toBeCloseTo(-r.shiftHours!, 1);
    }
  });

  it('with a much higher threshold, opens fewer cases and raises the rest later', async () => {
    const { code, stdout, stderr } = await replay(['--from', FROM, '--to', TO, '--config', join(dir, 'high.json'), '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = parse(stdout);
    const candidate = oracleRaises(fleet, compileConfig({ detector: { raiseThreshold: 1 } }));
    expect(candidate.length).toBeLessThan(4);
    expect(raisesOf(report.rows, 'candidate')).toEqual(candidate);
    expect(report.summary.wouldOpen).toBe(0);
    expect(report.summary.wouldUpdate).toBe(candidate.length);
    expect(report.summary.wouldNotOpen).toBe(4 - candidate.length);
    expect(report.rows.filter((r) => r.outcome === 'would_update').every((r) => r.shiftHours! > 0)).toBe(true);
    expect(report.rows.filter((r) => r.outcome === 'would_not_open').every((r) => r.candidate === null && r.actual!.leadHours! > 0)).toBe(true);
  });

  it('names a missing topic, an empty one, and a scorer group that scored nothing (exit 1)', async () => {
    const missing = `${uniqueName('rp-none')}.`;
    expect(await replay(['--from', FROM, '--to', TO], missing)).toEqual({
      code: 1,
      stdout: '',
      stderr: `pdm replay: topic ${missing}telemetry.readings does not exist (is PDM_TOPIC_PREFIX right?)\n`,
    });
    const empty = `${uniqueName('rp-empty')}.`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicNames(empty), { partitions: 1 });
    await admin.disconnect();
    expect(await replay(['--from', FROM, '--to', TO], empty)).toEqual({
      code: 1,
      stdout: '',
      stderr: `pdm replay: topic ${empty}telemetry.readings is empty: there is no history to replay\n`,
    });
    expect(await replay(['--from', FROM, '--to', TO, '--scorer-group', 'nobody'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `pdm replay: the scorer's consumer group nobody has committed no offsets on ${prefix}telemetry.readings: nothing there was scored, ` +
        'so nothing happened to compare with (is PDM_TOPIC_PREFIX right? another group: --scorer-group)\n',
    });
  });
});
