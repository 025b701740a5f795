/**
 * The product's main job in one command (`npm run demo`): brings up the local stack,
 * starts the scorer, the InfluxDB sink and the case opener, publishes a bounded simulated
 * fleet with injected failures, shows live progress, and ends with a summary judged
 * against the simulator's ground truth.
 *
 * Reproducible: the fleet, its failures and the summary depend only on the options (seed,
 * start time, sizes), never on the wall clock. Each run still gets its own topic prefix and
 * its own asset-id namespace (`<run>-passenger_ev-0001`: the same simulated assets under
 * serial numbers of their own), so that a second run of the same seed opens its own cases
 * instead of meeting the first run's (an episode's case is found by its id, which the asset
 * id is part of).
 */
import jsforce from 'jsforce';
import type { Admin, Kafka } from 'kafkajs';
import { DEFAULT_CONFIG } from '../core/index.ts';
import type { PredictionEvent } from '../core/types.ts';
import { startCaseOpener } from '../case-opener/opener.ts';
import { startInfluxSink } from '../influx-sink/sink.ts';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec } from '../kafka/codec.ts';
import type { PipelineEnv } from '../kafka/env.ts';
import { ensureTopics, topicNames, type TopicNames } from '../kafka/topics.ts';
import { describeError } from '../runtime/errors.ts';
import { createLogger } from '../runtime/log.ts';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Health } from '../runtime/health.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { startScorer } from '../scorer/scorer.ts';
import { createFleet, type Fleet, type FleetEvent } from '../simulator/fleet.ts';
import { publishReadings } from '../simulator/publisher.ts';
import { webSettingsFromEnv } from '../web/options.ts';
import { startWeb, type RunningWeb } from '../web/server.ts';
import { judgeRun, type CaseRow, type RaisedPrediction, type RunVerdict } from './truth.ts';

/** Longest the publisher may go without sending a batch before the demo gives up, ms. */
const PUBLISH_STALL_MS = 60_000;

/** Default start of the simulated history: a fixed time, so that a seed gives the same run every time. */
export const DEMO_START_TS = Date.UTC(2026, 0, 5);

export interface DemoOptions {
  env: PipelineEnv;
  seed: number;
  assetsPerType: number;
  days: number;
  /** Readings per second published; 0 = as fast as the pipeline takes them. */
  ratePerSec: number;
  failureShare: number;
  /** Simulated sampling period, seconds (the quality eval uses 120). */
  samplePeriodSec: number;
  /** Give up (exit non-zero) after this long, seconds. */
  timeoutSec: number;
  /** Start of the simulated history, epoch ms. Default DEMO_START_TS. */
  startTs?: number;
  /** Where messages go (stderr): setup, missed failures. */
  progress: (line: string) => void;
  /** Called about once a second with where each stage stands, and once at the end. */
  onStatus?: (status: DemoStatus) => void;
  /**
   * Port of the fleet view (`pdm web`) started with the run, so the fleet can be watched while
   * it streams (0 picks a free port; a taken port falls back to a free one). Undefined: none.
   * The result hands it over running; the caller stops it.
   */
  webPort?: number;
  /**
   * Port of /metrics, /healthz and /readyz of the run's services (they share this process and
   * one registry; the health is theirs combined). 0 picks a free port; a taken port falls back
   * to a free one. Undefined: none.
   */
  metricsPort?: number;
}

/** Where each stage of a running demo stands. */
export interface DemoStatus {
  elapsedSec: number;
  /** Simulated days published so far, and in all. */
  simulatedDay: number;
  days: number;
  published: number;
  scored: number;
  /** Readings scored per second over the last interval. */
  scoredPerSec: number;
  /** Readings not yet scored (the scorer group's lag). */
  scorerLag: number;
  anomalies: number;
  influxPoints: number;
  /** Score and prediction records the sink has not yet written and committed. */
  sinkLag: number;
  predictions: number;
  raised: number;
  cases: number;
  /** Predictions the case opener has not yet handled. */
  openerLag: number;
  deadLetters: number;
  final: boolean;
}

export interface DemoSummary extends Omit<RunVerdict, 'failures'> {
  seed: number;
  /** Start of the simulated history (ISO 8601). */
  simulatedStart: string;
  readings: number;
  deadLetters: number;
  predictions: number;
  elapsedSec: number;
  readingsPerSec: number;
  topicPrefix: string;
  fluxQuery: string;
  caseQuery: string;
  /** The fleet view's address, when one was started. */
  webUrl: string | null;
  /** Where the services' /metrics, /healthz and /readyz are, when served. */
  metricsUrl: string | null;
}

interface Monitor {
  raised: RaisedPrediction[];
  predictions: number;
  cases: Map<string, CaseRow>;
  stop(): Promise<void>;
}

/** Follows predictions and case events (read_committed) to judge the run. */
async function monitor(kafka: Kafka, codec: AvroCodec, topics: TopicNames, groupId: string): Promise<Monitor> {
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.predictions, topics.cases], fromBeginning: true });
  const m: Monitor = { raised: [], predictions: 0, cases: new Map(), stop: () => consumer.disconnect() };
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const v = (await codec.decode(message.value)) as Record<string, unknown>;
      if (topic === topics.predictions) {
        const p = v as unknown as PredictionEvent;
        m.predictions++;
        if (p.kind === 'raised') m.raised.push({ assetId: p.assetId, failureMode: p.failureMode, episodeId: p.episodeId, ts: p.ts });
      } else {
        const caseId = String(v.caseId);
        m.cases.set(caseId, { caseId, episodeId: String(v.episodeId), assetId: String(v.assetId), failureMode: String(v.failureMode) });
      }
    },
  });
  return m;
}

async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  let lag = 0;
  for (const topic of topics) {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    for (const e of ends) {
      const c = byPartition.get(e.partition) ?? -1;
      lag += Number(e.high) - (c < 0 ? Number(e.low) : c);
    }
  }
  return lag;
}

/** Creates the fleet's Assets in Salesforce (serial number = asset id) so cases link them. */
async function registerAssets(env: PipelineEnv, fleet: Fleet): Promise<void> {
  const sf = env.salesforce;
  const conn = new jsforce.Connection({ oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret }, version: sf.apiVersion });
  await conn.login(sf.username, sf.password);
  const serials = fleet.assets.map((a) => a.assetId);
  const existing = new Set<string>();
  for (let i = 0; i < serials.length; i += 100) {
    const list = serials.slice(i, i + 100).map((s) => `'${s.replace(/['\\]/g, '\\$&')}'`).join(',');
    const res = await conn.query<{ SerialNumber: string }>(`SELECT Id, SerialNumber FROM Asset WHERE SerialNumber IN (${list})`);
    for (const r of res.records) existing.add(r.SerialNumber);
  }
  const missing = fleet.assets.filter((a) => !existing.has(a.assetId));
  for (let i = 0; i < missing.length; i += 200) {
    // sObject Collections: at most 200 records a request.
    const chunk = missing.slice(i, i + 200).map((a) => ({ Name: `${a.assetType} ${a.assetId}`, SerialNumber: a.assetId, Status: 'Installed' }));
    const results = (await conn.sobject('Asset').create(chunk)) as { success: boolean; errors: unknown[] }[];
    const failed = results.filter((r) => !r.success);
    if (failed.length) throw new Error(`creating ${failed.length} Assets failed: ${JSON.stringify(failed[0]?.errors)}`);
  }
}

export interface DemoResult {
  summary: DemoSummary;
  ok: boolean;
  problems: string[];
  /** The simulated fleet with its ground truth (asset ids in this run's namespace). */
  fleet: Fleet;
  topics: TopicNames;
  /** The simulated history: [startTs, endTs), epoch ms. */
  startTs: number;
  endTs: number;
  /** The fleet view, still running (the caller stops it), when webPort was given. */
  web?: RunningWeb;
}

/**
 * The fleet of the options under this run's asset-id namespace: the same simulated assets,
 * failures and values (the simulator draws from the seed and each asset's index, not its
 * name), each asset id prefixed with `<tag>-`.
 */
export function namespacedFleet(fleet: Fleet, tag: string): Fleet {
  const id = (assetId: string) => `${tag}-${assetId}`;
  const event = (e: FleetEvent): FleetEvent =>
    e.type === 'reading' ? { type: 'reading', reading: { ...e.reading, assetId: id(e.reading.assetId) } } : { type: 'maintenance', event: { ...e.event, assetId: id(e.event.assetId) } };
  return {
    assets: fleet.assets.map((a) => ({ ...a, assetId: id(a.assetId) })),
    *events() {
      for (const e of fleet.events()) yield event(e);
    },
    *readings() {
      for (const r of fleet.readings()) yield { ...r, assetId: id(r.assetId) };
    },
  };
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const { env, progress } = opts;
  const t0 = Date.now();
  const runId = new Date(t0).toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();
  const prefix = `${env.topicPrefix}demo-${runId}.`;
  const topics = topicNames(prefix);
  const metrics = new MetricsRegistry(true);
  const health = { scorer: new Health(), 'influx-sink': new Health(), 'case-opener': new Health(), web: new Health() };
  const quiet = createLogger('demo', (process.env.PDM_LOG_LEVEL as 'warn' | undefined) ?? 'warn');
  const problems: string[] = [];

  const kafka = createKafka({ brokers: env.brokers, clientId: 'pdm-demo' });
  const admin = kafka.admin();
  const startTs = opts.startTs ?? DEMO_START_TS;
  const simulated = createFleet({ seed: opts.seed, assetsPerType: opts.assetsPerType, startTs, days: opts.days, failureShare: opts.failureShare, samplePeriodSec: opts.samplePeriodSec }, DEFAULT_CONFIG);
  const tag = t0.toString(36);
  const fleet = namespacedFleet(simulated, tag);
  const runEndTs = startTs + opts.days * 86_400_000;
  const base = { seed: opts.seed, simulatedStart: new Date(startTs).toISOString() };
  try {
    await admin.connect();
    await ensureTopics(admin, topics, { partitions: env.partitions });
    progress(
      `demo: seed ${opts.seed}, ${fleet.assets.length} assets over ${opts.days} simulated days from ${base.simulatedStart}, ` +
        `${fleet.assets.reduce((n, a) => n + a.failures.length, 0)} injected failures; topics ${prefix}*`,
    );
    await registerAssets(env, fleet);
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    return { summary: emptySummary(base, prefix, 0), ok: false, problems: [`setting up the run: ${describeError(err)}`], fleet, topics, startTs, endTs: runEndTs };
  }

  let web: RunningWeb | undefined;
  if (opts.webPort !== undefined) {
    const settings = { ...webSettingsFromEnv(env, topics, prefix), logger: quiet.child('web') };
    web = await startWeb({ ...settings, port: opts.webPort, metrics, health: health.web }).catch((err: unknown) =>
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? startWeb({ ...settings, port: 0, metrics, health: health.web }) : Promise.reject(err),
    ).catch((err: unknown) => {
      problems.push(`the fleet view did not start: ${describeError(err)}`);
      return undefined;
    });
    if (web) progress(`demo: fleet view at ${web.url}`);
  }

  let metricsServer: Server | undefined;
  if (opts.metricsPort !== undefined) {
    const combined = Health.combine(web ? health : { scorer: health.scorer, 'influx-sink': health['influx-sink'], 'case-opener': health['case-opener'] });
    metricsServer = await metrics.serve(opts.metricsPort, '127.0.0.1', combined).catch((err: unknown) =>
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? metrics.serve(0, '127.0.0.1', combined) : Promise.reject(err),
    ).catch((err: unknown) => {
      problems.push(`the metrics and health endpoints did not start: ${describeError(err)}`);
      return undefined;
    });
  }
  const metricsUrl = metricsServer ? `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}` : null;
  if (metricsUrl) progress(`demo: metrics and health at ${metricsUrl}/metrics, /healthz, /readyz`);

  const groups = { scorer: `${prefix}pdm-scorer`, sink: `${prefix}pdm-influx-sink`, opener: `${prefix}pdm-case-opener` };
  const services: RunningService[] = [];
  const codec = new AvroCodec(env.registryUrl);
  let mon: Monitor | undefined;
  let published = 0;
  let lastEventTs = startTs;
  let summary: DemoSummary | undefined;
  try {
    services.push(await startScorer({ brokers: env.brokers, registryUrl: env.registryUrl, topics, partitions: env.partitions, cfg: DEFAULT_CONFIG, groupId: groups.scorer, metrics, health: health.scorer, logger: quiet.child('scorer') }));
    services.push(await startInfluxSink({ brokers: env.brokers, registryUrl: env.registryUrl, topics, influx: env.influx, groupId: groups.sink, metrics, health: health['influx-sink'], logger: quiet.child('influx-sink') }));
    services.push(await startCaseOpener({ brokers: env.brokers, registryUrl: env.registryUrl, topics, salesforce: env.salesforce, dashboardUrl: env.dashboardUrl, config: DEFAULT_CONFIG, groupId: groups.opener, metrics, health: health['case-opener'], logger: quiet.child('case-opener') }));
    const crashed = Promise.race(services.map((s) => s.done.then(() => { throw new Error(`${s.name} stopped unexpectedly`); }, (err: unknown) => { throw new Error(`${s.name} failed: ${describeError(err)}`); })));
    crashed.catch(() => undefined);
    mon = await monitor(kafka, codec, topics, `${prefix}pdm-demo-monitor`);

    const scored = () => metrics.counter('pdm_scorer_readings_total', '').get();
    const deadLetters = () => metrics.counter('pdm_dead_letters_total', '').get();
    let lastAt = t0;
    let lastScored = 0;
    const report = async (final = false) => {
      if (!opts.onStatus) return;
      const now = Date.now();
      const s = scored();
      const [scorerLag, sinkLag, openerLag] = await Promise.all([
        groupLag(admin, groups.scorer, [topics.readings]),
        groupLag(admin, groups.sink, [topics.scores, topics.predictions]),
        groupLag(admin, groups.opener, [topics.predictions]),
      ]).catch(() => [NaN, NaN, NaN]);
      opts.onStatus({
        elapsedSec: (now - t0) / 1000,
        simulatedDay: Math.min(opts.days, Math.max(0, (lastEventTs - startTs) / 86_400_000)),
        days: opts.days,
        published,
        scored: s,
        scoredPerSec: now > lastAt ? ((s - lastScored) * 1000) / (now - lastAt) : 0,
        scorerLag: scorerLag!,
        anomalies: metrics.counter('pdm_scorer_anomalies_total', '').get(),
        influxPoints: metrics.counter('pdm_influx_points_written_total', '').get(),
        sinkLag: sinkLag!,
        predictions: mon!.predictions,
        raised: mon!.raised.length,
        cases: mon!.cases.size,
        openerLag: openerLag!,
        deadLetters: deadLetters(),
        final,
      });
      lastAt = now;
      lastScored = s;
    };
    let reporting = false;
    const line = async (final = false) => {
      if (reporting && !final) return;
      reporting = true;
      try {
        await report(final);
      } finally {
        reporting = false;
      }
    };
    const events = function* () {
      for (const e of fleet.events()) {
        lastEventTs = e.type === 'reading' ? e.reading.ts : e.event.ts;
        yield e;
      }
    };
    const ticker = setInterval(() => void line(), 1_000);
    const deadline = t0 + opts.timeoutSec * 1000;
    try {
      const abort = new AbortController();
      const publishing = publishReadings({ kafka, registryUrl: env.registryUrl, topic: topics.readings, readings: { events: events() }, ratePerSec: opts.ratePerSec, signal: abort.signal, onProgress: (n) => (published = n) });
      publishing.catch(() => undefined); // its failure reaches the race below; later ones are moot
      // A registry or broker that accepts connections but never answers would otherwise hold
      // the demo at "published 0" forever: no progress for PUBLISH_STALL_MS, or the run's
      // deadline, ends it with a reason.
      let watchdog: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        let last = -1;
        let since = Date.now();
        watchdog = setInterval(() => {
          const now = Date.now();
          if (published !== last) {
            last = published;
            since = now;
          }
          const why =
            now > deadline
              ? `not finished within ${opts.timeoutSec} s (${published} readings published)`
              : now - since > PUBLISH_STALL_MS
                ? `publishing made no progress for ${PUBLISH_STALL_MS / 1000} s after ${published} readings: the schema registry (${env.registryUrl}) or the broker (${env.brokers.join(', ')}) does not answer; \`npm run stack:status\` checks them`
                : undefined;
          if (why === undefined) return;
          abort.abort();
          reject(new Error(why));
        }, 1_000);
      });
      try {
        published = await Promise.race([publishing, crashed, stalled]);
      } finally {
        clearInterval(watchdog);
      }
      // Drain: every reading scored, then the sink and the case opener caught up. Their
      // inputs are transactional topics, where a read_committed group's committed offset
      // stays one commit marker short of the end of each partition: so "caught up" is a lag
      // of at most one per partition that no longer moves.
      const tolerance = { sink: 2 * env.partitions, opener: env.partitions };
      let steady = 0;
      let previous = '';
      for (;;) {
        if (Date.now() > deadline) throw new Error(`not finished within ${opts.timeoutSec} s`);
        const [scorerLag, sinkLag, openerLag] = await Promise.all([
          groupLag(admin, groups.scorer, [topics.readings]),
          groupLag(admin, groups.sink, [topics.scores, topics.predictions]),
          groupLag(admin, groups.opener, [topics.predictions]),
        ]);
        const state = `${sinkLag}/${openerLag}/${mon.predictions}/${mon.cases.size}`;
        const caughtUp = scorerLag === 0 && sinkLag <= tolerance.sink && openerLag <= tolerance.opener && scored() >= published - deadLetters();
        steady = caughtUp && state === previous ? steady + 1 : 0;
        previous = state;
        if (steady >= 4) break;
        await Promise.race([new Promise((r) => setTimeout(r, 500)), crashed]);
      }
      await new Promise((r) => setTimeout(r, 2_000)); // case events of the last writes
    } finally {
      clearInterval(ticker);
    }
    await line(true);

    const verdict = judgeRun(fleet.assets, mon.raised, [...mon.cases.values()], runEndTs);
    const elapsedSec = (Date.now() - t0) / 1000;
    const { failures, ...counts } = verdict;
    summary = {
      ...base,
      ...counts,
      readings: published,
      deadLetters: deadLetters(),
      predictions: mon.predictions,
      elapsedSec: Math.round(elapsedSec * 10) / 10,
      readingsPerSec: Math.round(published / elapsedSec),
      topicPrefix: prefix,
      fluxQuery: `from(bucket: "${env.influx.bucket}") |> range(start: ${new Date(startTs).toISOString()}, stop: ${new Date(runEndTs + 86_400_000).toISOString()}) |> filter(fn: (r) => r._measurement == "prediction")`,
      webUrl: web?.url ?? null,
      metricsUrl,
      caseQuery: `SELECT CaseNumber, Subject, Priority, Status, PdM_Asset_Id__c, PdM_Predicted_Failure__c FROM Case WHERE PdM_Asset_Id__c LIKE '${tag}-%' ORDER BY CreatedDate DESC`,
    };
    for (const f of failures) {
      if (f.leadTimeSec === null) progress(`demo: missed ${f.failureMode} on ${f.assetId} (failed ${new Date(f.failureTs).toISOString()})`);
    }
  } catch (err) {
    problems.push(describeError(err));
  } finally {
    for (const s of services.reverse()) await s.stop().catch((err: unknown) => problems.push(`${s.name} stop: ${describeError(err)}`));
    await mon?.stop().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    metricsServer?.close();
    metricsServer?.closeAllConnections();
  }
  if (!summary) {
    return { summary: emptySummary(base, prefix, published), ok: false, problems, fleet, topics, startTs, endTs: runEndTs, ...(web ? { web } : {}) };
  }
  if (summary.predicted === 0 && summary.injectedFailures > 0) problems.push('no injected failure was predicted');
  return { summary, ok: problems.length === 0, problems, fleet, topics, startTs, endTs: runEndTs, ...(web ? { web } : {}) };
}

function emptySummary(base: { seed: number; simulatedStart: string }, prefix: string, readings: number): DemoSummary {
  return { ...base, webUrl: null, metricsUrl: null, injectedFailures: 0, predicted: 0, casesOpened: 0, duplicateCases: 0, falseCases: 0, medianLeadTimeSec: null, readings, deadLetters: 0, predictions: 0, elapsedSec: 0, readingsPerSec: 0, topicPrefix: prefix, fluxQuery: '', caseQuery: '' };
}
