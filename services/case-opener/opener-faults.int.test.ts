/**
 * The case opener through Salesforce's failures and its own restarts, on the real Kafka of
 * the local stack and a strict in-process stand-in:
 * - every fault kind (500, 503, 429, REQUEST_LIMIT_EXCEEDED, an expired session under client
 *   credentials, an answer slower than the timeout that still lands later, DUPLICATE_VALUE
 *   from a concurrent upsert) ends in exactly one case per episode holding the newest
 *   prediction;
 * - writes of one asset stay in order (the per-asset serialization): a case is created by its
 *   `raised`, never by the `escalated` that overtook it;
 * - a restart neither reopens, duplicates nor re-comments a case: an escalation parked on the
 *   retry topic and delivered after the episode cleared, to a new process, changes nothing,
 *   and a full replay leaves every field as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clearing, escalation, H, metric, OpenerWorld, prediction, sfTime, T0, uniqueName, waitFor, type CaseRecord } from './testkit.ts';

const w = new OpenerWorld();
beforeAll(() => w.setUp());
afterAll(() => w.tearDown());

/** What the escalation of `testkit.escalation` leaves on a case. */
const escalatedContent = { Priority: 'High', PdM_Severity__c: 'critical', PdM_Probability__c: 0.93, PdM_Event_Ts__c: T0 + H, PdM_Service_Due__c: sfTime(T0 + 6 * H), PdM_Service_Window_Status__c: 'Open' };
const upsertPath = (episodeId: string) => `/PdM_Episode_Id__c/${encodeURIComponent(episodeId)}`;

describe('case opener under Salesforce faults', () => {
  test('each fault kind on the create, then an escalation: one case per episode, holding the escalation', { timeout: 60_000 }, async () => {
    const { topics, codec } = await w.topics();
    const kinds = ['http500', 'http503', 'http429', 'request_limit', 'expired_session', 'slow', 'duplicate_value'] as const;
    const raised = Object.fromEntries(kinds.map((k) => [k, prediction(uniqueName(`EV-${k}`))]));
    for (const k of kinds) {
      // `slow` holds the create 2.5 s, past the 400 ms timeout: the request still lands after the escalation.
      await w.control.injectFault({ kind: k, pathContains: upsertPath(raised[k]!.episodeId), ...(k === 'slow' ? { delayMs: 2_500 } : {}) });
    }
    // Client credentials: the expired session is recovered by the product's own refresh (no refresh token exists).
    const opener = await w.start(topics, {
      salesforce: w.connection({ authFlow: 'client_credentials', loginUrl: w.server.instanceUrl, username: '', password: '', securityToken: '' }),
      salesforceOptions: { requestTimeoutMs: 400 },
    });
    for (const k of kinds) await w.send(topics, codec, raised[k]!, escalation(raised[k]!));

    for (const k of kinds) {
      const c = await waitFor(`the escalated case of ${k}`, async () => {
        const rows = await w.cases(raised[k]!.episodeId);
        return rows.length === 1 && rows[0]!.Priority === 'High' ? rows[0] : undefined;
      });
      expect(c, k).toMatchObject(escalatedContent);
    }
    expect(await w.control.pendingFaults()).toEqual([]);
    for (const code of ['UNKNOWN_EXCEPTION', 'SERVER_UNAVAILABLE', 'ERROR_HTTP_429', 'REQUEST_LIMIT_EXCEEDED', 'TIMEOUT', 'DUPLICATE_VALUE']) {
      expect(metric(opener, 'pdm_case_opener_salesforce_retries_total', { code }), code).toBe(1);
    }
    // One login at start, one refresh after the expired session.
    expect(metric(opener, 'pdm_case_opener_salesforce_logins')).toBe(2);
    // The held create lands after the escalation was written: the org's PdM_Event_Order rule refuses it.
    const held = await waitFor('the held create to land', async () => (await w.control.requests()).find((r) => r.fault === 'slow'), 10_000);
    expect(held).toMatchObject({ method: 'PATCH', status: 400 });
    expect(await w.oneCase(raised.slow!.episodeId)).toMatchObject(escalatedContent);
    for (const k of kinds) expect((await w.cases(raised[k]!.episodeId)).length, k).toBe(1);
  });

  test("one asset's writes stay in order: a create held back is not overtaken by the asset's escalation", { timeout: 60_000 }, async () => {
    const { topics, codec } = await w.topics();
    const raised = prediction(uniqueName('EV'));
    // Held 1 s, well inside the timeout: only the order of the asset's writes decides which creates the case.
    await w.control.injectFault({ kind: 'slow', delayMs: 1_000, pathContains: upsertPath(raised.episodeId) });
    const opener = await w.start(topics);
    await w.send(topics, codec, raised, escalation(raised));
    await waitFor('both writes', () => metric(opener, 'pdm_case_opener_cases_total') >= 2 || metric(opener, 'pdm_case_opener_superseded_total') >= 1);
    const events = await w.caseEvents(topics, codec, 2);
    expect(events.map((e) => `${e.action}/${e.predictionKind}`)).toEqual(['created/raised', 'updated/escalated']);
    expect(metric(opener, 'pdm_case_opener_superseded_total')).toBe(0);
    expect(await w.oneCase(raised.episodeId)).toMatchObject(escalatedContent);
  });
});

describe('case opener restarts', () => {
  test('an escalation parked on the retry topic reaches a restarted opener after the clear: no reopen, no duplicate, no second comment', { timeout: 90_000 }, async () => {
    const { topics, codec } = await w.topics();
    const groupId = uniqueName('g-restart');
    const tuning = { groupId, attemptsPerDelivery: 1, maxTotalAttempts: 5, retryTopicBaseDelayMs: 4_000 };
    const raised = prediction(uniqueName('EV'));
    const a = await w.start(topics, tuning);
    await w.send(topics, codec, raised);
    const opened = await waitFor('the case', async () => (await w.cases(raised.episodeId))[0]);

    await w.control.injectFault({ kind: 'http503', pathContains: `/sobjects/Case/${String(opened.Id)}` });
    await w.send(topics, codec, escalation(raised));
    await waitFor('the escalation to be parked', () => metric(a, 'pdm_case_opener_retry_topic_sends_total') === 1);
    await w.send(topics, codec, clearing(raised));
    await waitFor('the cleared comment', async () => (await w.comments(String(opened.Id))).length === 1);
    const cleared: CaseRecord = await w.oneCase(raised.episodeId);
    expect(cleared).toEqual({ ...opened, PdM_Event_Ts__c: T0 + 5 * H, PdM_Service_Window_Status__c: 'Closed' });
    await a.stop();

    // A new process, same group: it inherits the parked escalation and nothing of a's memory.
    const b = await w.start(topics, tuning);
    await waitFor('the parked escalation', () => metric(b, 'pdm_case_opener_superseded_total') === 1, 20_000);
    expect(metric(b, 'pdm_case_opener_cases_total')).toBe(0);
    expect(await w.cases(raised.episodeId)).toEqual([cleared]);
    expect(await w.comments(String(opened.Id))).toHaveLength(1);
    await b.stop();

    // A full replay (fresh group) of both topics: every field as it was, still one comment.
    const c = await w.start(topics, { ...tuning, groupId: uniqueName('g-replay') });
    await waitFor('the replay', () => metric(c, 'pdm_case_opener_predictions_total') >= 4 && metric(c, 'pdm_case_opener_cases_total', { action: 'updated' }) >= 1, 20_000);
    expect(metric(c, 'pdm_case_opener_superseded_total')).toBe(3);
    expect(metric(c, 'pdm_case_opener_cases_total', { action: 'created' }) + metric(c, 'pdm_case_opener_cases_total', { action: 'commented' })).toBe(0);
    expect(await w.cases(raised.episodeId)).toEqual([cleared]);
    expect(await w.comments(String(opened.Id))).toHaveLength(1);
    const events = await w.caseEvents(topics, codec, 4);
    expect(events.map((e) => `${e.action}/${e.predictionKind}`)).toEqual(['created/raised', 'updated/cleared', 'commented/cleared', 'updated/cleared']);
  });
});
