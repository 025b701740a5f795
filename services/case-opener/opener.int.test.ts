/**
 * Integration tests of the case opener through the product: the real case opener consuming
 * real Kafka topics of the local stack, writing to an in-process Salesforce stand-in in
 * strict mode (permissions from the shipped permission sets). They prove: one case per
 * episode with its content, Asset and service window; escalation moves the window and keeps
 * the dispatcher's owner (Sforce-Auto-Assign FALSE on every update, TRUE on the create);
 * cleared closes the window and adds one comment; a replay by a fresh group changes nothing
 * (final content compared field by field); both OAuth flows, with the My Domain host for
 * client credentials; an org's validation rule or required field and permanent failures are
 * dead-lettered with a readable reason; no secret or token reaches the logs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STANDIN_CREDENTIALS } from '../../infra/salesforce-standin/server.ts';
import { DLQ_HEADERS, headerString } from '../kafka/dlq.ts';
import { readTopic } from '../kafka/testkit.ts';
import { dlqTopic } from '../kafka/topics.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { clearing, escalation, H, metric, OpenerWorld, prediction, sfTime, T0, uniqueName, waitFor } from './testkit.ts';

const w = new OpenerWorld();
beforeAll(() => w.setUp());
afterAll(() => w.tearDown());

describe('case opener', () => {
  test('raise, escalate, clear, then a replay: one case with its window and owner, one comment, nothing changed by the replay', { timeout: 90_000 }, async () => {
    const { topics, codec } = await w.topics();
    const assetId = uniqueName('EV');
    const assetSfId = await w.asset(assetId);
    const users = (await w.control.health()).users;
    const raised = prediction(assetId);
    const opener = await w.start(topics);
    await w.send(topics, codec, raised);

    const created = await waitFor('the case', async () => (await w.cases(raised.episodeId))[0]);
    expect(created).toMatchObject({
      Priority: 'Medium', Status: 'New', Origin: 'Predictive Maintenance', AssetId: assetSfId, PdM_Asset_Id__c: assetId,
      Subject: `Predicted Battery cell temperature rising toward the thermal cut-off on passenger_ev ${assetId} within ~30h`,
      PdM_Event_Ts__c: T0,
      // Window: from the prediction until the failure's lower bound (T0 + 24 h) less the 4 h margin.
      PdM_Service_Earliest_Start__c: sfTime(T0), PdM_Service_Due__c: sfTime(T0 + 20 * H), PdM_Service_Window_Status__c: 'Open',
      // The create ran the org's case assignment: the case went to the dispatch queue.
      OwnerId: users.dispatchQueue,
    });
    expect(created.Description).toMatch(/battery_cell_temp_c \| 48\.5 degC +\| 48\.49 degC +\| \+0\.38 degC\/h +\| 60 degC \| 30\.3 +\| 0\.8 \(rare\)/);
    expect(created.Description).toContain('(interval 2026-11-24T10:00:00Z to 2026-11-25T02:00:00Z)');
    // The dashboard link opens the asset's drill-down over the episode's window.
    expect(created.Description).toContain(`Dashboard: http://127.0.0.1:8086/dash/d/pdm-asset/?var-asset_id=${assetId}&from=${T0 - 50 * H}&to=${T0 + 24 * H}`);

    // A dispatcher takes the case; the escalation must not hand it back to the queue.
    await w.admin.sobject('Case').update({ Id: String(created.Id), OwnerId: users.dispatcher }, { headers: { 'Sforce-Auto-Assign': 'FALSE' } });
    const escalated = escalation(raised);
    await w.send(topics, codec, escalated);
    const after = await waitFor('the escalation', async () => {
      const c = await w.oneCase(raised.episodeId);
      return c.Priority === 'High' ? c : undefined;
    });
    expect(after).toMatchObject({
      Id: created.Id, OwnerId: users.dispatcher, PdM_Severity__c: 'critical', PdM_Probability__c: 0.93, PdM_Event_Ts__c: T0 + H,
      PdM_Service_Earliest_Start__c: sfTime(T0 + H), PdM_Service_Due__c: sfTime(T0 + 6 * H), PdM_Service_Window_Status__c: 'Open',
    });

    await w.send(topics, codec, clearing(raised));
    const comments = await waitFor('the cleared comment', async () => {
      const c = await w.comments(String(created.Id));
      return c.length ? c : undefined;
    });
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('Episode cleared at 2026-11-23T15:00:00Z: asset recovered.');
    const final = await w.oneCase(raised.episodeId);
    // Cleared: the window closes, the rest stays as the escalation left it.
    expect(final).toEqual({ ...after, PdM_Event_Ts__c: T0 + 5 * H, PdM_Service_Window_Status__c: 'Closed' });
    expect(metric(opener, 'pdm_case_opener_cases_total', { action: 'commented' })).toBe(1);

    // Assignment header: TRUE on the create only, FALSE on every other write of this episode
    // (the dispatcher's own update above included).
    const writes = (await w.control.requests()).filter((r) => r.method !== 'GET').flatMap((r) => {
      if (r.path.includes(`/PdM_Episode_Id__c/${encodeURIComponent(raised.episodeId)}`)) return [`upsert ${r.autoAssign}`];
      if (r.path.endsWith(`/Case/${String(created.Id)}`)) return [`update ${r.autoAssign}`];
      if (r.path.endsWith('/CaseComment')) return [`comment ${r.autoAssign}`];
      return [];
    });
    expect(writes).toEqual(['upsert TRUE', 'update FALSE', 'update FALSE', 'update FALSE', 'comment FALSE']);
    await opener.stop();

    // Replay: a fresh consumer group reads the three predictions again.
    const replay = await w.start(topics);
    await waitFor('the replay', () => metric(replay, 'pdm_case_opener_predictions_total') >= 3 && metric(replay, 'pdm_case_opener_cases_total', { action: 'updated' }) >= 1);
    expect(metric(replay, 'pdm_case_opener_superseded_total')).toBe(2);
    expect(metric(replay, 'pdm_case_opener_cases_total', { action: 'created' })).toBe(0);
    expect(metric(replay, 'pdm_case_opener_cases_total', { action: 'commented' })).toBe(0);
    expect(await w.cases(raised.episodeId)).toEqual([final]);
    expect(await w.comments(String(created.Id))).toHaveLength(1);

    // Case events: created, updated, updated + commented; the replay one idempotent update (the cleared event).
    const events = await w.caseEvents(topics, codec, 5);
    expect(events.map((e) => `${e.action}/${e.predictionKind}/${e.priority}`)).toEqual([
      'created/raised/Medium', 'updated/escalated/High', 'updated/cleared/Low', 'commented/cleared/Low', 'updated/cleared/Low',
    ]);
    expect(new Set(events.map((e) => e.caseId))).toEqual(new Set([created.Id]));
    expect(events.every((e) => e.key === assetId)).toBe(true);
  });

  test('client credentials through the product: refused on the login host with what to change, working on the My Domain host', { timeout: 60_000 }, async () => {
    const { topics, codec } = await w.topics();
    const cc = w.connection({ authFlow: 'client_credentials', username: '', password: '', securityToken: '' });
    const refused = await w.start(topics, { salesforce: cc }).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(ServiceConfigError);
    expect((refused as Error).message).toBe(
      `invalid configuration:\n  - salesforce login at ${w.server.loginUrl} (client_credentials flow) refused: salesforce login: invalid_grant (HTTP 400): request not supported on this domain; ` +
        "client credentials must go to the org's My Domain URL (https://<domain>.my.salesforce.com) in PDM_SF_LOGIN_URL",
    );
    const noToken = await w.start(topics, { salesforce: w.connection({ securityToken: '' }) }).then(() => undefined, (err: unknown) => err);
    expect((noToken as Error).message).toContain('refused: salesforce login: invalid_grant (HTTP 400): authentication failure; check PDM_SF_USERNAME and PDM_SF_PASSWORD, and set PDM_SF_SECURITY_TOKEN');

    const opener = await w.start(topics, { salesforce: { ...cc, loginUrl: w.server.instanceUrl } });
    const ev = prediction(uniqueName('EV'));
    await w.send(topics, codec, ev);
    const c = await waitFor('the case', async () => (await w.cases(ev.episodeId))[0]);
    expect(c.PdM_Event_Ts__c).toBe(T0);
    const tokenCalls = (await w.control.requests()).filter((r) => r.path === '/services/oauth2/token').slice(-1);
    expect(tokenCalls).toMatchObject([{ host: 'instance', status: 200 }]);
    expect(metric(opener, 'pdm_case_opener_salesforce_logins')).toBe(1);
  });

  test("an org's validation rule, its required field and permanent failures reach <predictions>.dlq with a readable reason", { timeout: 60_000 }, async () => {
    const { topics, codec } = await w.topics();
    await w.control.addOrgRule({ kind: 'validation', object: 'Case', name: 'Reason_Required', errorMessage: 'Cases from predictive maintenance need a Case Reason.', errorDisplayField: 'Reason', requireField: 'Reason', when: { field: 'Origin', equals: 'Predictive Maintenance' } });
    try {
      const refused = prediction(uniqueName('EV'));
      const tooLong = prediction('X'.repeat(300)); // PdM_Asset_Id__c holds 255 characters: STRING_TOO_LONG
      const exhausted = prediction(uniqueName('EV'));
      await w.control.injectFault({ kind: 'http503', pathContains: encodeURIComponent(exhausted.episodeId), count: 4 });
      const opener = await w.start(topics, { attemptsPerDelivery: 2, maxTotalAttempts: 4 });
      await w.send(topics, codec, refused, tooLong, exhausted);
      await w.producer.send({ topic: topics.predictions, messages: [{ key: 'bad', value: Buffer.from('not avro at all') }] });

      const dl = await readTopic(w.kafka, dlqTopic(topics.predictions), { until: (r) => r.length >= 4, timeoutMs: 45_000 });
      const byKey = new Map(dl.map((d) => [d.key?.toString() ?? '', d]));
      const rule = byKey.get(refused.assetId)!;
      expect(headerString(rule.headers, DLQ_HEADERS.reason)).toBe('case_write_failed');
      expect(headerString(rule.headers, DLQ_HEADERS.error)).toBe(
        `case write for episode ${refused.episodeId} (raised): permanent failure: salesforce upsert Case: FIELD_CUSTOM_VALIDATION_EXCEPTION (HTTP 400): Cases from predictive maintenance need a Case Reason.`,
      );
      expect(rule.value!.equals(codec.encode(topics.predictions, refused))).toBe(true);

      const perm = byKey.get(tooLong.assetId)!;
      expect(headerString(perm.headers, DLQ_HEADERS.sourceTopic)).toBe(topics.predictions);
      expect(headerString(perm.headers, DLQ_HEADERS.service)).toBe('case-opener');
      expect(headerString(perm.headers, DLQ_HEADERS.error)).toContain('permanent failure: salesforce upsert Case: STRING_TOO_LONG (HTTP 400)');

      const ex = byKey.get(exhausted.assetId)!;
      expect(headerString(ex.headers, DLQ_HEADERS.error)).toContain('still failing after 4 attempts');
      // Its origin, not the retry topic, is named: the record was first read from the predictions topic.
      expect(headerString(ex.headers, DLQ_HEADERS.sourceTopic)).toBe(topics.predictions);
      expect(headerString(ex.headers, 'pdm-case-attempts')).toBe('2');

      const poison = byKey.get('bad')!;
      expect(headerString(poison.headers, DLQ_HEADERS.reason)).toBe('malformed_avro');
      expect(poison.value!.toString()).toBe('not avro at all');

      expect(await w.cases(refused.episodeId)).toEqual([]);
      expect(await w.cases(exhausted.episodeId)).toEqual([]);
      expect(metric(opener, 'pdm_dead_letters_total', { service: 'case-opener', reason: 'case_write_failed' })).toBe(3);
      expect(metric(opener, 'pdm_dead_letters_total', { service: 'case-opener', reason: 'malformed_avro' })).toBe(1);

      // An org that made a WorkOrder field required refuses the Field Service write: dead-lettered too, named.
      await w.control.reset();
      await w.control.addOrgRule({ kind: 'required', object: 'WorkOrder', field: 'Description' });
      const fs = prediction(uniqueName('EV'));
      const fsOpener = await w.start(topics, { fieldService: true, groupId: uniqueName('g-fs') });
      await w.send(topics, codec, fs);
      const dl2 = await readTopic(w.kafka, dlqTopic(topics.predictions), { until: (r) => r.some((d) => d.key?.toString() === fs.assetId), timeoutMs: 45_000 });
      expect(headerString(dl2.find((d) => d.key?.toString() === fs.assetId)!.headers, DLQ_HEADERS.error)).toBe(
        `case write for episode ${fs.episodeId} (raised): permanent failure: salesforce upsert WorkOrder: REQUIRED_FIELD_MISSING (HTTP 400): Required fields are missing: [Description]`,
      );
      expect(metric(fsOpener, 'pdm_dead_letters_total', { service: 'case-opener', reason: 'case_write_failed' })).toBeGreaterThanOrEqual(1);
    } finally {
      await w.control.reset();
    }
  });
});

describe('secrets', () => {
  test('no password, security token, client secret or access token reaches the logs, failures included', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const original = { err: process.stderr.write.bind(process.stderr), out: process.stdout.write.bind(process.stdout) };
    const tap = (orig: typeof process.stderr.write) => ((chunk: unknown, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (orig as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    process.stderr.write = tap(original.err);
    process.stdout.write = tap(original.out);
    try {
      const { topics, codec } = await w.topics();
      await w.start(topics, { salesforce: w.connection({ password: 'wrong-password-1234' }) }).catch(() => undefined);
      await w.start(topics, { salesforce: w.connection({ clientSecret: 'wrong-client-secret-5678' }) }).catch(() => undefined);
      const opener = await w.start(topics, { salesforceOptions: { requestTimeoutMs: 300 } });
      const ev = prediction(uniqueName('EV'));
      for (const kind of ['expired_session', 'http503', 'request_limit'] as const) await w.control.injectFault({ kind, pathContains: encodeURIComponent(ev.episodeId) });
      await w.control.injectFault({ kind: 'slow', delayMs: 800, pathContains: encodeURIComponent(ev.episodeId) });
      await w.send(topics, codec, ev, escalation(ev));
      await waitFor('both writes', () => metric(opener, 'pdm_case_opener_cases_total') >= 2);
      expect(metric(opener, 'pdm_case_opener_salesforce_retries_total')).toBeGreaterThanOrEqual(2);
      expect(metric(opener, 'pdm_case_opener_salesforce_logins')).toBe(2);
    } finally {
      process.stderr.write = original.err;
      process.stdout.write = original.out;
    }
    const text = lines.join('');
    expect(text).toContain('salesforce write failed, retry');
    const c = STANDIN_CREDENTIALS;
    const secrets = [c.password, c.securityToken, c.clientSecret, 'wrong-password-1234', 'wrong-client-secret-5678', ...(await w.issuedTokens())];
    expect(secrets.length).toBeGreaterThan(6);
    for (const s of secrets) expect(text.includes(s), `a secret (${s.slice(0, 4)}…) appears in the logs`).toBe(false);
  });
});
