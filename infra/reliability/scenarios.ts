/**
 * The reliability scenarios. Each builds its own pipeline (topics, database, processes),
 * sends a seeded fleet through it while it breaks something, lets it drain, and reconciles
 * what came out against an uninterrupted run (reconcile.ts). A scenario passes only when the
 * reconciliation is clean; "no exception" proves nothing.
 */
import type { Message } from 'kafkajs';
import type { PipelineEnv } from '../../services/kafka/env.ts';
import { StandinControl, type FaultKind } from '../salesforce-standin/control.ts';
import { down, up, type PartName } from '../stack/stack.ts';
import { Harness, sleep } from './harness.ts';
import { makePoison, prng, type Poison } from './poison.ts';
import { reconcile, type Reconciled } from './reconcile.ts';
import { encodeEvents, makeTraffic, type Traffic } from './traffic.ts';

export interface ScenarioContext {
  env: PipelineEnv;
  seed: number;
  /** Scales the traffic and the fault counts (CI runs 1; `--quick` 0.5). */
  scale: number;
  log: (line: string) => void;
}

export interface ScenarioResult extends Reconciled {
  name: string;
  seconds: number;
  /** What the scenario did to the pipeline, for the report. */
  faults: string;
}

export interface Scenario {
  name: string;
  describe: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

const MAINTENANCE = 'com.pdm.telemetry.MaintenanceEvent';

/** A fleet for a scenario: a few assets of each type, 14 days at 10-minute samples (with failures and repairs). */
function fleet(ctx: ScenarioContext, name: string, assetsPerType = 3): { traffic: Traffic; ns: string } {
  const ns = `rel${ctx.seed.toString(36)}${name.replaceAll('-', '')}${Date.now().toString(36)}`;
  return { traffic: makeTraffic({ seed: ctx.seed, ns, assetsPerType: Math.max(1, Math.round(assetsPerType * ctx.scale)), days: 14, samplePeriodSec: 600 }), ns };
}

async function withHarness(ctx: ScenarioContext, name: string, partitions: number, body: (h: Harness) => Promise<{ traffic: Traffic; ns: string | string[]; poison?: Poison[]; faults: string }>): Promise<ScenarioResult> {
  const t0 = Date.now();
  const h = await Harness.create(ctx.env, { name, partitions, sessionTimeoutMs: 6_000 });
  try {
    const { traffic, ns, poison, faults } = await body(h);
    await h.drain(180_000);
    const rec = await reconcile(h, traffic, ns, poison ?? []);
    return { name, seconds: (Date.now() - t0) / 1000, faults, ...rec };
  } catch (err) {
    // What each service said last is usually why.
    for (const [key, p] of h.procs) ctx.log(`${name}: last lines of ${key}:\n${p.tail.slice(-12).join('\n')}`);
    throw err;
  } finally {
    await h.close();
  }
}

async function startAll(h: Harness, counts: { scorer?: number; sink?: number; opener?: number } = {}): Promise<void> {
  for (let i = 0; i < (counts.scorer ?? 1); i++) await h.start('scorer', String(i));
  for (let i = 0; i < (counts.sink ?? 1); i++) await h.start('influx-sink', String(i));
  for (let i = 0; i < (counts.opener ?? 1); i++) await h.start('case-opener', String(i));
}

export const crashes: Scenario = {
  name: 'crashes',
  describe: 'kill -9 of the scorer, the sink and the case opener at seeded moments while the fleet streams in; then SIGTERM of each, which drains and commits',
  run: (ctx) =>
    withHarness(ctx, 'crashes', 6, async (h) => {
      const { traffic, ns } = fleet(ctx, 'crashes');
      await startAll(h);
      const messages = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
      const rnd = prng(ctx.seed);
      const targets = ['scorer.0', 'influx-sink.0', 'case-opener.0'];
      const wanted = Math.max(20, Math.round(24 * ctx.scale));
      const rate = messages.length / 40; // about 40 s of traffic
      const producing = h.produce(messages, rate);
      let done = false;
      void producing.finally(() => (done = true));
      while (!done || h.kills < wanted) {
        await sleep(300 + rnd() * 1_200);
        h.assertAlive();
        const target = targets[Math.floor(rnd() * targets.length)]!;
        await h.kill(target);
        if (h.kills >= wanted && done) break;
      }
      await producing;
      // A graceful stop drains and commits; the replacement continues from there.
      for (const t of targets) {
        await h.stop(t);
        const [service, instance] = t.split('.') as ['scorer' | 'influx-sink' | 'case-opener', string];
        await h.start(service, instance);
      }
      ctx.log(`crashes: ${h.kills} kills, ${messages.length} records`);
      return { traffic, ns, faults: `${h.kills} kill -9 (scorer, sink, case opener), 3 SIGTERM restarts` };
    }),
};

/** Produces the traffic over about `seconds`, calling `at(second)` once a second while it flows. */
async function stream(h: Harness, messages: readonly Message[], seconds: number, at: (second: number) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  const producing = h.produce(messages, messages.length / seconds);
  let done = false;
  void producing.finally(() => (done = true));
  let second = 0;
  while (!done) {
    await sleep(1_000);
    h.assertAlive();
    second = Math.floor((Date.now() - t0) / 1000);
    await at(second);
  }
  await producing;
}

export const scaleOut: Scenario = {
  name: 'scale-out',
  describe: 'three scorers over twelve partitions joining and leaving mid-stream, two sinks and two case openers likewise; outputs equal a single uninterrupted scorer\'s',
  run: (ctx) =>
    withHarness(ctx, 'scale-out', 12, async (h) => {
      const { traffic, ns } = fleet(ctx, 'scale-out');
      await startAll(h);
      const messages = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
      const plan = new Map<number, () => Promise<unknown>>([
        [6, () => h.start('scorer', '1')],
        [8, () => h.start('influx-sink', '1')],
        [10, () => h.start('case-opener', '1')],
        [14, () => h.start('scorer', '2')],
        [22, () => h.stop('scorer.0')],
        [26, () => h.stop('influx-sink.0')],
        [28, () => h.stop('case-opener.0')],
        [32, () => h.start('scorer', '0')],
      ]);
      const done = new Set<number>();
      await stream(h, messages, 40, async (second) => {
        for (const [t, step] of plan) {
          if (t <= second && !done.has(t)) {
            done.add(t);
            await step();
          }
        }
      });
      for (const [t, step] of plan) if (!done.has(t)) await step();
      return { traffic, ns, faults: 'scorers 1 → 3 → 2 → 3 over 12 partitions, sinks 1 → 2 → 1, case openers 1 → 2 → 1' };
    }),
};

export const zombie: Scenario = {
  name: 'zombie',
  describe: 'a scorer paused (SIGSTOP) until its partitions moved, then resumed (SIGCONT) mid-chunk: it must be fenced, never commit a duplicate or stale output',
  run: (ctx) =>
    withHarness(ctx, 'zombie', 6, async (h) => {
      const { traffic, ns } = fleet(ctx, 'zombie');
      await startAll(h, { scorer: 2 });
      const messages = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
      // Half the fleet as a backlog, so that both scorers are in the middle of chunks.
      const half = Math.floor(messages.length / 2);
      await h.produce(messages.slice(0, half), 0);
      // Both scorers must hold partitions when one is paused, or the pause proves nothing (a
      // CI run at half scale paused scorer.0 before it had joined: 'moved after 0 s').
      const zombieProc = h.procs.get('scorer.0')!;
      const other = h.procs.get('scorer.1')!;
      const joinBy = Date.now() + 60_000;
      while (zombieProc.partitions.length === 0 || other.partitions.length === 0 || zombieProc.partitions.length + other.partitions.length < 6) {
        h.assertAlive();
        if (Date.now() > joinBy) throw new Error(`the two scorers never shared the partitions (scorer.0: ${zombieProc.partitions.join(',')}; scorer.1: ${other.partitions.join(',')})`);
        await sleep(100);
      }
      await sleep(1_500);
      h.pause('scorer.0');
      const pausedAt = Date.now();
      // The group moves the paused member's partitions once its session (6 s) expires.
      const until = Date.now() + 60_000;
      while (other.partitions.length < 6) {
        if (Date.now() > until) throw new Error('the paused scorer\'s partitions never moved to the other');
        await sleep(250);
      }
      const movedAfter = Date.now() - pausedAt;
      await h.produce(messages.slice(half), 0);
      await sleep(3_000);
      h.resume('scorer.0');
      const pausedFor = Date.now() - pausedAt;
      await sleep(8_000);
      // kafkajs names a fenced producer's refusal "...attempted an operation with an old epoch".
      const fenced = h.logOf('scorer.0').filter((l) => /fenced|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|old epoch|not assigned|being rebuilt/i.test(l)).length;
      ctx.log(`zombie: the resumed scorer logged ${fenced} refused or fenced commits`);
      return { traffic, ns, faults: `scorer.0 paused for ${(pausedFor / 1000).toFixed(0)} s (its partitions moved after ${(movedAfter / 1000).toFixed(0)} s), then resumed; ${fenced} of its log lines show its stale work refused` };
    }),
};

export const poison: Scenario = {
  name: 'poison',
  describe: 'thousands of fuzzed byte strings and schema-valid absurd records interleaved with good traffic: every good record processed, every bad one dead-lettered with its reason, no crash',
  run: (ctx) =>
    withHarness(ctx, 'poison', 6, async (h) => {
      const { traffic, ns } = fleet(ctx, 'poison');
      await startAll(h);
      const good = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
      const schemaId = h.codec.encode(h.topics.readings, { assetId: 'x', assetType: 'refrigerator', ts: Date.UTC(2026, 0, 5), values: {} }).readUInt32BE(1);
      const bad = makePoison(h.codec, h.topics.readings, MAINTENANCE, schemaId, Math.round(3_000 * ctx.scale), ctx.seed, Date.UTC(2026, 0, 10), traffic.assets.map((a) => a.assetId));
      // Interleave: a bad record after every few good ones, in a seeded order; repairs for
      // assets once they have a state (after a tenth of the traffic).
      const rnd = prng(ctx.seed + 1);
      const mixed: Message[] = [];
      const repairs = bad.filter((x) => x.kind.startsWith('maintenance'));
      const others = bad.filter((x) => !x.kind.startsWith('maintenance'));
      let b = 0;
      good.forEach((m, i) => {
        mixed.push(m);
        while (b < others.length && rnd() < others.length / good.length) mixed.push(others[b++]!.message);
        if (i === Math.floor(good.length / 10)) for (const r of repairs) mixed.push(r.message);
      });
      while (b < others.length) mixed.push(others[b++]!.message);
      const rssBefore = await rss(h);
      await h.produce(mixed, mixed.length / 40);
      const rssAfter = await rss(h);
      ctx.log(`poison: ${bad.length} bad records among ${good.length} good; scorer RSS ${mb(rssBefore)} → ${mb(rssAfter)}`);
      return { traffic, ns, poison: bad, faults: `${bad.length} bad records (${[...new Set(bad.map((x) => x.kind))].length} kinds) among ${good.length} good; scorer RSS ${mb(rssBefore)} → ${mb(rssAfter)}` };
    }),
};

/** Resident memory of the scorer process, bytes. */
async function rss(h: Harness): Promise<number> {
  const pid = h.procs.get('scorer.0')?.child.pid;
  if (!pid) return NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb * 1024;
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Stops one server of the stack for `seconds` while the fleet streams, then starts it again. */
function outage(part: PartName, seconds: number, describe: string): Scenario {
  return {
    name: `${part}-down`,
    describe,
    run: (ctx) =>
      withHarness(ctx, `${part}-down`, 6, async (h) => {
        const { traffic, ns } = fleet(ctx, `${part}down`);
        await startAll(h);
        const messages = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
        let outageDone: Promise<void> | undefined;
        let downFor = 0;
        await stream(h, messages, 40, async (second) => {
          if (second >= 8 && !outageDone) {
            outageDone = (async () => {
              const t0 = Date.now();
              await down({ only: [part], progress: ctx.log });
              await sleep(seconds * 1000);
              await up({ only: [part], progress: ctx.log });
              downFor = (Date.now() - t0) / 1000;
            })();
          }
        });
        await outageDone;
        return { traffic, ns, faults: `${part} stopped mid-stream and started again ${downFor.toFixed(0)} s later` };
      }),
  };
}

export const influxDown = outage('influx', 30, 'InfluxDB stopped for 30 s mid-stream, then started: the sink pauses, holds its offsets, and writes everything once it is back');
export const registryDown = outage('registry', 30, 'the schema registry stopped for 30 s mid-stream: running services keep the schemas they cached');
export const brokerRestart = outage('kafka', 0, 'the Kafka broker restarted mid-stream: every client reconnects, open transactions abort and are redone');

export const salesforceFaults: Scenario = {
  name: 'salesforce-faults',
  describe: 'the Salesforce stand-in answering 500, 503, 429, REQUEST_LIMIT_EXCEEDED, an expired session, slow answers past the timeout and DUPLICATE_VALUE while cases are written: one case per episode',
  run: (ctx) =>
    withHarness(ctx, 'sf-faults', 6, async (h) => {
      const { traffic, ns } = fleet(ctx, 'sffaults', 4);
      const control = new StandinControl(ctx.env.salesforce.loginUrl);
      const kinds: FaultKind[] = ['http500', 'http503', 'http429', 'request_limit', 'expired_session', 'slow', 'duplicate_value'];
      await startAll(h);
      const messages = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
      let injected = 0;
      const rnd = prng(ctx.seed + 2);
      await stream(h, messages, 30, async () => {
        const kind = kinds[Math.floor(rnd() * kinds.length)]!;
        await control.injectFault({ kind, count: 1, ...(kind === 'slow' ? { delayMs: 35_000 } : {}) });
        injected++;
      });
      return { traffic, ns, faults: `${injected} Salesforce faults injected, one a second, of ${kinds.length} kinds` };
    }),
};

/** Two traffics over disjoint assets as one: the expectations of both. */
function merged(a: Traffic, b: Traffic): Traffic {
  return {
    events: [...a.events, ...b.events],
    assets: [...a.assets, ...b.assets],
    readingKeys: new Set([...a.readingKeys, ...b.readingKeys]),
    expectedScores: new Map([...a.expectedScores, ...b.expectedScores]),
    expectedPredictions: [...a.expectedPredictions, ...b.expectedPredictions],
    raisedEpisodes: new Set([...a.raisedEpisodes, ...b.raisedEpisodes]),
  };
}

/** A number from a service's Prometheus endpoint (summed over labels). */
async function metric(h: Harness, key: string, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${h.procs.get(key)!.metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{|\s)/.test(line)) sum += Number(line.split(/\s+/).pop());
  return sum;
}

export const churn: Scenario = {
  name: 'churn',
  describe: 'one fleet reports, then stops for good while another takes over: the gone assets\' states expire (memory and, by tombstone, the changelog) and a restart restores only the live ones',
  run: (ctx) =>
    withHarness(ctx, 'churn', 6, async (h) => {
      // Record-time TTL of 8 s: the first fleet is gone well within the second's 25 s.
      h.opts.env = { PDM_SCORER_STATE_TTL_MS: '8000' };
      const a = fleet(ctx, 'churna', 3);
      const b = fleet({ ...ctx, seed: ctx.seed + 7 }, 'churnb', 3);
      const traffic = merged(a.traffic, b.traffic);
      await startAll(h);
      const first = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, a.traffic.events);
      const second = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, b.traffic.events);
      await h.produce(first, first.length / 10);
      await h.produce(second, second.length / 25);
      await h.drain(120_000);
      const live = b.traffic.assets.length;
      const held = await metric(h, 'scorer.0', 'pdm_scorer_assets');
      const expired = await metric(h, 'scorer.0', 'pdm_scorer_expired_states_total');
      // The changelog: where each asset's records went (a state's partition is its readings'),
      // and a tombstone for every gone asset. Expiry runs on record time, so only a partition
      // that saw records after the first fleet stopped has moved on: a gone asset alone in its
      // partition is left (nothing new arrives there to grow).
      const { readTopic } = await import('../../services/kafka/testkit.ts');
      const state = await readTopic(h.kafka, h.topics.state, { idleMs: 3_000 });
      const partitionOf = new Map(state.map((r) => [r.key?.toString('utf8'), r.partition]));
      const busy = new Set(b.traffic.assets.map((x) => partitionOf.get(x.assetId)));
      const goneAssets = a.traffic.assets.filter((x) => busy.has(partitionOf.get(x.assetId)));
      const gone = goneAssets.length;
      const idle = a.traffic.assets.length - gone;
      const tombstoned = new Set(state.filter((r) => r.value === null).map((r) => r.key?.toString('utf8')));
      const missing = goneAssets.filter((x) => !tombstoned.has(x.assetId));
      // A restart restores only what is live.
      await h.stop('scorer.0');
      const p = await h.start('scorer', '0');
      const until = Date.now() + 60_000;
      let restored: { assets: number; changelogRecords: number; ms: number } | undefined;
      while (!restored && Date.now() < until) {
        const line = p.tail.find((l) => l.includes('state restored'));
        if (line) restored = JSON.parse(line.slice(line.indexOf('{'))) as typeof restored;
        else await sleep(250);
      }
      const problems: string[] = [];
      if (held !== live + idle) problems.push(`the scorer holds ${held} states, ${live} assets are live (${gone} gone, ${idle} in partitions that saw nothing since)`);
      if (expired < gone) problems.push(`${expired} states expired, ${gone} assets went silent`);
      if (missing.length) problems.push(`${missing.length} gone assets have no tombstone in the changelog (e.g. ${missing[0]!.assetId})`);
      if (!restored || restored.assets !== live + idle) problems.push(`the restart restored ${restored?.assets ?? 'no'} states, ${live} are live (and ${idle} idle)`);
      if (problems.length) throw new Error(problems.join('; '));
      ctx.log(`churn: ${gone} gone, ${live} live; restore of ${restored!.changelogRecords} changelog records in ${restored!.ms} ms`);
      return {
        traffic,
        ns: [a.ns, b.ns],
        faults: `${gone} assets went silent and expired (${expired} states, all tombstoned; ${idle} more in partitions with no later record), ${live} live; the restart restored ${restored!.assets} states from ${restored!.changelogRecords} changelog records in ${restored!.ms} ms`,
      };
    }),
};

/** Resident memory of a service process, bytes (NaN when gone). */
async function rssOf(h: Harness, key: string): Promise<number> {
  const pid = h.procs.get(key)?.child.pid;
  if (!pid) return NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) * 1024;
}

export const load: Scenario = {
  name: 'load',
  describe: 'a steady high rate with a burst at twice the rate in the middle: memory stays flat (no growth per reading or per asset), the lag stays bounded and recovers after the burst',
  run: (ctx) =>
    withHarness(ctx, 'load', 6, async (h) => {
      // Many assets, so that the scorer's state and every cache see a fleet, not a handful.
      const { traffic, ns } = fleet(ctx, 'load', 40);
      await startAll(h);
      const messages = encodeEvents(h.codec, h.topics.readings, MAINTENANCE, traffic.events);
      const rate = 6_000;
      const seconds = Math.max(30, Math.round((messages.length / rate) * 0.9));
      const keys = ['scorer.0', 'influx-sink.0', 'case-opener.0'];
      const samples: { t: number; lag: number; rss: Record<string, number> }[] = [];
      let stop = false;
      const t0 = Date.now();
      const sampler = (async () => {
        while (!stop) {
          const rss = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await rssOf(h, k)] as const)));
          samples.push({ t: (Date.now() - t0) / 1000, lag: (await h.lags()).scorer, rss });
          await sleep(2_000);
        }
      })();
      // Steady at `rate`, a burst at twice the rate from 40% to 55% of the run, steady again.
      const burstStart = Math.floor(messages.length * 0.4);
      const burstEnd = Math.floor(messages.length * 0.55);
      await h.produce(messages.slice(0, burstStart), rate);
      const burstAt = (Date.now() - t0) / 1000;
      await h.produce(messages.slice(burstStart, burstEnd), rate * 2);
      const burstOver = (Date.now() - t0) / 1000;
      await h.produce(messages.slice(burstEnd), rate);
      await h.drain(120_000);
      stop = true;
      await sampler;
      const problems: string[] = [];
      // Memory: the last third of the run against the second third (the first holds start-up),
      // for the scorer and the sink, whose work per second is the same all along. The case
      // opener's follows the fleet's failures (few early, many late), so only a ceiling.
      const third = Math.floor(samples.length / 3);
      const opener = Math.max(...samples.map((x) => x.rss['case-opener.0']!).filter(Number.isFinite));
      if (opener > 400 * 2 ** 20) problems.push(`case-opener.0 reached ${mb(opener)}`);
      for (const k of ['scorer.0', 'influx-sink.0']) {
        const mid = samples.slice(third, 2 * third).map((x) => x.rss[k]!).filter(Number.isFinite);
        const end = samples.slice(2 * third).map((x) => x.rss[k]!).filter(Number.isFinite);
        const growth = Math.max(...end) / Math.max(...mid);
        if (growth > 1.25) problems.push(`${k} grew from ${mb(Math.max(...mid))} to ${mb(Math.max(...end))} at a steady rate`);
      }
      const maxLag = Math.max(...samples.map((x) => x.lag));
      // Bounded: never more than 10 s of the burst's rate behind; recovering: back under one
      // second's worth within 30 s of the burst's end.
      if (maxLag > rate * 2 * 10) problems.push(`the scorer fell ${maxLag} readings behind`);
      const after = samples.filter((x) => x.t > burstOver + 30);
      if (after.length > 0 && after.some((x) => x.lag > rate)) problems.push(`the scorer's lag did not recover within 30 s of the burst (${after.map((x) => x.lag).join(', ')})`);
      ctx.log(`load: RSS samples (s: scorer/sink/opener MiB): ${samples.map((x) => `${x.t.toFixed(0)}:${keys.map((k) => (x.rss[k]! / 2 ** 20).toFixed(0)).join('/')}`).join(' ')}`);
      if (problems.length) throw new Error(problems.join('; '));
      const end = samples.at(-1)!;
      ctx.log(`load: ${messages.length} records, ${rate}/s with a ${rate * 2}/s burst from ${burstAt.toFixed(0)} s to ${burstOver.toFixed(0)} s; max lag ${maxLag}; RSS at the end ${keys.map((k) => `${k} ${mb(end.rss[k]!)}`).join(', ')}`);
      void seconds;
      return {
        traffic,
        ns,
        faults: `${messages.length} records of ${traffic.assets.length} assets at ${rate}/s, a burst at ${rate * 2}/s; max scorer lag ${maxLag}, back under ${rate} within 30 s; RSS flat (end: ${keys.map((k) => `${k.split('.')[0]} ${mb(end.rss[k]!)}`).join(', ')})`,
      };
    }),
};

/** Every scenario, in the order the suite runs them (the stack outages last). */
export const SCENARIOS: readonly Scenario[] = [crashes, scaleOut, zombie, poison, churn, load, salesforceFaults, influxDown, registryDown, brokerRestart];
