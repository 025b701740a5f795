/**
 * The reconciliation of a scenario: every produced reading accounted for (scored exactly once
 * with the score an uninterrupted scorer gives it, and stored in InfluxDB) or dead-lettered
 * with its reason; every prediction exactly once; exactly one Salesforce case per raised
 * episode. Read back from what the pipeline committed (read_committed topics, a Flux count,
 * SOQL), never from the services' own counters.
 */
import { InfluxDB } from '@influxdata/influxdb-client';
import jsforce from 'jsforce';
import { headerString } from '../../services/kafka/dlq.ts';
import type { PipelineEnv } from '../../services/kafka/env.ts';
import { scoresOf } from '../../services/kafka/records.ts';
import { readTopic } from '../../services/kafka/testkit.ts';
import { dlqTopic } from '../../services/kafka/topics.ts';
import type { Harness } from './harness.ts';
import { POISON_HEADER, type Poison } from './poison.ts';
import type { Traffic } from './traffic.ts';

export interface Reconciliation {
  produced: number;
  scored: number;
  stored: number;
  predictions: number;
  cases: number;
  duplicateScores: number;
  duplicatePredictions: number;
  duplicateCases: number;
  /** Good readings neither scored nor dead-lettered, or scored but not stored. */
  lost: number;
  /** Scores whose value differs from an uninterrupted run's. */
  wrongScores: number;
  badProduced: number;
  deadLetters: number;
  /** Bad records missing from the dead-letter topic, or there without a reason. */
  badUnaccounted: number;
  kills: number;
}

export interface Reconciled {
  r: Reconciliation;
  problems: string[];
}

async function storedScores(env: PipelineEnv, bucket: string): Promise<number> {
  const flux = `from(bucket: "${bucket}") |> range(start: 0) |> filter(fn: (r) => r._measurement == "anomaly_score" and r._field == "findings") |> group() |> count()`;
  const rows = await new InfluxDB({ url: env.influx.url, token: env.influx.token, timeout: 60_000 }).getQueryApi(env.influx.org).collectRows<{ _value: number }>(flux);
  return rows.reduce((s, r) => s + Number(r._value), 0);
}

async function casesPerEpisode(env: PipelineEnv, namespaces: readonly string[]): Promise<Map<string, number>> {
  const sf = env.salesforce;
  const conn = new jsforce.Connection({ oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret }, version: sf.apiVersion });
  await conn.login(sf.username, sf.password + (sf.securityToken ?? ''));
  const per = new Map<string, number>();
  const where = namespaces.map((ns) => `PdM_Asset_Id__c LIKE '${ns}-%'`).join(' OR ');
  let res = await conn.query<{ PdM_Episode_Id__c: string }>(`SELECT Id, PdM_Episode_Id__c FROM Case WHERE ${where}`);
  for (;;) {
    for (const c of res.records) per.set(c.PdM_Episode_Id__c, (per.get(c.PdM_Episode_Id__c) ?? 0) + 1);
    if (res.done || !res.nextRecordsUrl) break;
    res = await conn.queryMore(res.nextRecordsUrl);
  }
  return per;
}

/** @param ns the asset-id namespace(s) of the scenario's traffic (its cases are found by them) */
export async function reconcile(h: Harness, traffic: Traffic, ns: string | readonly string[], poison: readonly Poison[] = []): Promise<Reconciled> {
  const problems: string[] = [];
  const read = (topic: string) => readTopic(h.kafka, topic, { idleMs: 3_000, timeoutMs: 120_000 });

  // Scores: exactly one per good reading, with the uninterrupted run's value.
  const seen = new Map<string, number>();
  /** Where each score came from (partition@offset of its record), to show where duplicates are. */
  const where = new Map<string, string[]>();
  let rows = 0;
  let wrongScores = 0;
  for (const rec of await read(h.topics.scores)) {
    const d = await h.codec.decodeNamed(rec.value);
    for (const s of scoresOf(d.schema, d.value)) {
      rows++;
      const key = `${s.assetId}|${s.ts}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      const at = `${rec.partition}@${rec.offset}`;
      const list = where.get(key);
      if (list) list.push(at);
      else where.set(key, [at]);
      const want = traffic.expectedScores.get(key);
      if (want !== undefined && !Object.is(want, s.score)) wrongScores++;
    }
  }
  const missing = [...traffic.readingKeys].filter((k) => !seen.has(k));
  const phantom = [...seen.keys()].filter((k) => !traffic.readingKeys.has(k));
  const duplicateScores = rows - seen.size;
  if (missing.length) problems.push(`${missing.length} good readings without a score (e.g. ${missing.slice(0, 3).join(', ')})`);
  if (phantom.length) problems.push(`${phantom.length} scores of readings never produced as good (e.g. ${phantom.slice(0, 3).join(', ')})`);
  if (duplicateScores) {
    // Which records hold them: one chunk written twice shows as a run of offsets per partition.
    const dup = [...where].filter(([, at]) => at.length > 1);
    const spans = new Map<string, Set<string>>();
    for (const [, at] of dup) for (const a of at) {
      const [p, o] = a.split('@');
      (spans.get(p!) ?? spans.set(p!, new Set()).get(p!)!).add(o!);
    }
    const detail = [...spans].map(([p, os]) => `partition ${p}: records ${[...os].sort((a, b) => Number(a) - Number(b)).join(',')}`.slice(0, 300)).join('; ');
    problems.push(`${duplicateScores} duplicate scores (of ${dup.length} readings; ${detail})`);
  }
  if (wrongScores) problems.push(`${wrongScores} scores differ from an uninterrupted run's`);

  // Predictions: exactly the uninterrupted run's events, once each.
  const predictionCount = new Map<string, number>();
  let predictionRows = 0;
  for (const rec of await read(h.topics.predictions)) {
    const p = (await h.codec.decode(rec.value)) as { episodeId: string; kind: string; ts: number };
    predictionRows++;
    const key = `${p.episodeId}|${p.kind}|${p.ts}`;
    predictionCount.set(key, (predictionCount.get(key) ?? 0) + 1);
  }
  const wanted = new Set(traffic.expectedPredictions.map((p) => p.key));
  const missingPredictions = [...wanted].filter((k) => !predictionCount.has(k));
  const extraPredictions = [...predictionCount.keys()].filter((k) => !wanted.has(k));
  const duplicatePredictions = predictionRows - predictionCount.size;
  if (missingPredictions.length) problems.push(`${missingPredictions.length} predictions of an uninterrupted run missing (e.g. ${missingPredictions.slice(0, 2).join(', ')})`);
  if (extraPredictions.length) problems.push(`${extraPredictions.length} predictions an uninterrupted run does not make (e.g. ${extraPredictions.slice(0, 2).join(', ')})`);
  if (duplicatePredictions) problems.push(`${duplicatePredictions} duplicate predictions`);

  // Dead letters: every bad record once, with its reason; no good reading among them.
  let deadLetters = 0;
  const poisonSeen = new Map<string, number>();
  for (const rec of await read(dlqTopic(h.topics.readings))) {
    deadLetters++;
    const id = headerString(rec.headers, POISON_HEADER);
    const reason = headerString(rec.headers, 'pdm-dlq-reason');
    if (id === undefined) {
      problems.push(`a dead letter that is not one of the bad records (key ${rec.key?.toString('utf8')}, reason ${reason})`);
      continue;
    }
    if (!reason) problems.push(`dead letter of bad record ${id} has no pdm-dlq-reason`);
    poisonSeen.set(id, (poisonSeen.get(id) ?? 0) + 1);
  }
  const unaccounted = poison.filter((p) => poisonSeen.get(p.id) !== 1);
  if (unaccounted.length) {
    problems.push(`${unaccounted.length} bad records not dead-lettered exactly once (e.g. ${unaccounted.slice(0, 3).map((p) => `${p.id} ${p.kind}: ${poisonSeen.get(p.id) ?? 0}`).join(', ')})`);
  }

  // InfluxDB: every score stored (a replayed point overwrites itself, so count = distinct).
  const stored = await storedScores(h.env, h.influx.bucket);
  if (stored !== traffic.readingKeys.size) problems.push(`InfluxDB holds ${stored} scores, ${traffic.readingKeys.size} readings were produced`);

  // Salesforce: one case per raised episode, none for anything else.
  const cases = await casesPerEpisode(h.env, typeof ns === 'string' ? [ns] : ns);
  let duplicateCases = 0;
  for (const n of cases.values()) duplicateCases += Math.max(0, n - 1);
  const noCase = [...traffic.raisedEpisodes].filter((e) => !cases.has(e));
  const falseCases = [...cases.keys()].filter((e) => !traffic.raisedEpisodes.has(e));
  if (duplicateCases) problems.push(`${duplicateCases} duplicate cases`);
  if (noCase.length) problems.push(`${noCase.length} raised episodes without a case (e.g. ${noCase.slice(0, 3).join(', ')})`);
  if (falseCases.length) problems.push(`${falseCases.length} cases for episodes never raised`);

  return {
    r: {
      produced: traffic.readingKeys.size,
      scored: seen.size,
      stored,
      predictions: predictionCount.size,
      cases: cases.size,
      duplicateScores,
      duplicatePredictions,
      duplicateCases,
      lost: missing.length + Math.max(0, traffic.readingKeys.size - stored),
      wrongScores,
      badProduced: poison.length,
      deadLetters,
      badUnaccounted: unaccounted.length,
      kills: h.kills,
    },
    problems,
  };
}
