/**
 * The Salesforce stand-in driven through jsforce 3.x exactly as the product drives a real
 * org: OAuth2 password and client-credentials logins, Case create / retrieve / update,
 * idempotent upsert on PdM_Episode_Id__c, SOQL on Case and Asset with pagination, the error
 * codes jsforce surfaces, session refresh after an expired session, rate-limit and 503
 * handling, and persistence across a restart.
 *
 * The first block uses the stack's own instance (proving the stack part starts and serves).
 * Fault injection is server-wide, so those tests, and the restart test, each start their own
 * in-process server (the same server code the stack runs) on an ephemeral port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StandinControl } from '../salesforce-standin/control.ts';
import { makeId } from '../salesforce-standin/ids.ts';
import { STANDIN_CREDENTIALS, startServer, type RunningServer } from '../salesforce-standin/server.ts';
import { stackInfo, uniqueName } from './stack-env.ts';
import { LOCAL_ORG_API_LIMIT } from '../stack/parts/salesforce.ts';

const VERSION = '62.0';

interface Login { loginUrl: string; instanceUrl: string; username: string; password: string; clientId: string; clientSecret: string }

async function passwordLogin(info: Login): Promise<jsforce.Connection> {
  const conn = new jsforce.Connection({ oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret }, version: VERSION });
  await conn.login(info.username, info.password);
  return conn;
}

/** Runs `fn` and returns what it threw, failing the test when it does not throw. */
async function caught(fn: () => PromiseLike<unknown>): Promise<Error & { errorCode?: string; data?: unknown }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { errorCode?: string };
  }
  throw new Error('expected the call to fail');
}

describe('salesforce stand-in from the stack, through jsforce', () => {
  let info: Login;
  let conn: jsforce.Connection;
  beforeAll(async () => {
    info = stackInfo().salesforce;
    conn = await passwordLogin(info);
  });

  it('logs in with the OAuth2 password flow and reports API usage', async () => {
    // Logged in at the login host; the session's API calls go to the org's My Domain host.
    expect(conn.instanceUrl).toBe(info.instanceUrl);
    expect(info.instanceUrl).not.toBe(info.loginUrl);
    expect(conn.userInfo?.organizationId).toMatch(/^00D[A-Za-z0-9]{15}$/);
    expect(conn.userInfo?.id).toMatch(/^005[A-Za-z0-9]{15}$/);
    await conn.query('SELECT COUNT() FROM Case');
    expect(conn.limitInfo.apiUsage?.limit).toBe(LOCAL_ORG_API_LIMIT);
    expect(conn.limitInfo.apiUsage?.used).toBeGreaterThan(0);
  });

  it('rejects a wrong password as invalid_grant', async () => {
    const err = await caught(() => passwordLogin({ ...info, password: 'wrong' }));
    expect(err.name).toBe('invalid_grant');
    expect(err.message).toBe('authentication failure');
  });

  it('creates, retrieves and updates a Case', async () => {
    const subject = uniqueName('pump bearing');
    const res = await conn.sobject('Case').create({ Subject: subject, Priority: 'High', PdM_Probability__c: 0.87654, PdM_Predicted_Failure__c: '2030-01-02T03:04:05Z' });
    expect(res.success).toBe(true);
    expect(res.id).toMatch(/^500[A-Za-z0-9]{15}$/);
    const rec = await conn.sobject('Case').retrieve(res.id!);
    expect(rec).toMatchObject({
      attributes: { type: 'Case', url: `/services/data/v${VERSION}/sobjects/Case/${res.id!}` },
      Id: res.id, Subject: subject, Status: 'New', IsClosed: false, ClosedDate: null,
      PdM_Probability__c: 0.8765, PdM_Predicted_Failure__c: '2030-01-02T03:04:05.000+0000',
    });
    expect(rec.CaseNumber).toMatch(/^\d{8}$/);

    const upd = await conn.sobject('Case').update({ Id: res.id!, Status: 'Closed' });
    expect(upd).toEqual({ id: res.id, success: true, errors: [] });
    const closed = await conn.sobject('Case').retrieve(res.id!, { fields: ['Status', 'IsClosed', 'ClosedDate'] });
    expect(closed.Status).toBe('Closed');
    expect(closed.IsClosed).toBe(true);
    expect(closed.ClosedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(Object.keys(closed)).toEqual(['attributes', 'Status', 'IsClosed', 'ClosedDate']);
  });

  it('upserts by PdM_Episode_Id__c: created, then updated, one record', async () => {
    const episode = uniqueName('asset-7:bearing:ep');
    const first = await conn.sobject('Case').upsert({ PdM_Episode_Id__c: episode, Subject: 'first', PdM_Severity__c: 'warning' }, 'PdM_Episode_Id__c');
    expect(first).toMatchObject({ success: true, errors: [], created: true });
    const second = await conn.sobject('Case').upsert({ PdM_Episode_Id__c: episode, Subject: 'escalated', PdM_Severity__c: 'critical' }, 'PdM_Episode_Id__c');
    expect(second).toEqual({ id: (first as { id: string }).id, success: true, errors: [], created: false });
    const found = await conn.query<{ Id: string; Subject: string; PdM_Severity__c: string }>(
      `SELECT Id, Subject, PdM_Severity__c FROM Case WHERE PdM_Episode_Id__c = '${episode}'`);
    expect(found.totalSize).toBe(1);
    expect(found.records[0]).toMatchObject({ Id: (first as { id: string }).id, Subject: 'escalated', PdM_Severity__c: 'critical' });
  });

  it('queries Asset by SerialNumber and Case by AssetId with ORDER BY and LIMIT', async () => {
    const serial = uniqueName('SN');
    const asset = await conn.sobject('Asset').create({ Name: 'Pump 7', SerialNumber: serial, Status: 'Installed' });
    const assets = await conn.query<{ Id: string; Name: string }>(`SELECT Id, Name FROM Asset WHERE SerialNumber = '${serial}'`);
    expect(assets.records.map((r) => r.Id)).toEqual([asset.id]);
    for (const p of ['Low', 'High', 'Medium']) await conn.sobject('Case').create({ Subject: `c-${p}`, Priority: p, AssetId: asset.id });
    const cases = await conn.query<{ Subject: string }>(`SELECT Subject FROM Case WHERE AssetId = '${asset.id!}' AND Priority IN ('High','Low') ORDER BY Subject DESC LIMIT 5`);
    expect(cases.records.map((r) => r.Subject)).toEqual(['c-Low', 'c-High']);
  });

  it('surfaces NOT_FOUND, MALFORMED_QUERY, DUPLICATE_VALUE and INVALID_FIELD as jsforce errors', async () => {
    const missing = await caught(() => conn.sobject('Case').retrieve(makeId('500', 987_654_321)));
    expect(missing.name).toBe('NOT_FOUND');
    expect(missing.message).toBe('The requested resource does not exist');

    const bad = await caught(() => conn.query('SELECT Id FROM Case WHERE'));
    expect(bad.name).toBe('MALFORMED_QUERY');
    expect(bad.message).toContain('unexpected token: <EOF>');

    const episode = uniqueName('dup');
    const made = await conn.sobject('Case').create({ Subject: 'one', PdM_Episode_Id__c: episode });
    const dup = await caught(() => conn.sobject('Case').create({ Subject: 'two', PdM_Episode_Id__c: episode }));
    expect(dup.name).toBe('DUPLICATE_VALUE');
    expect(dup.message).toBe(`duplicate value found: PdM_Episode_Id__c duplicates value on record with id: ${made.id!}`);

    const field = await caught(() => conn.sobject('Case').create({ Subject: 'x', Bogus__c: 1 }));
    expect(field.name).toBe('INVALID_FIELD');
    expect(field.message).toBe("No such column 'Bogus__c' on sobject of type Case");

    const soqlField = await caught(() => conn.query('SELECT Id, Bogus__c FROM Case'));
    expect(soqlField.errorCode).toBe('INVALID_FIELD');
    const soqlType = await caught(() => conn.query('SELECT Id FROM Widget__c'));
    expect(soqlType.errorCode).toBe('INVALID_TYPE');
  });
});

describe('salesforce stand-in in-process: sessions, faults, paging, persistence', () => {
  let server: RunningServer;
  let dataDir: string;
  let ctl: StandinControl;
  let info: Login;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sf-standin-'));
    server = await startServer({ port: 0, dataDir });
    ctl = new StandinControl(server.url);
    info = { ...STANDIN_CREDENTIALS, loginUrl: server.loginUrl, instanceUrl: server.instanceUrl };
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('client_credentials login with a product-supplied refreshFn survives an expired session', async () => {
    const oauth2 = new jsforce.OAuth2({ loginUrl: info.instanceUrl, clientId: info.clientId, clientSecret: info.clientSecret });
    const token = await oauth2.requestToken({ grant_type: 'client_credentials' });
    let refreshes = 0;
    const conn = new jsforce.Connection({
      instanceUrl: token.instance_url,
      accessToken: token.access_token,
      version: VERSION,
      refreshFn: (_c, callback) => {
        refreshes += 1;
        oauth2.requestToken({ grant_type: 'client_credentials' }).then((t) => callback(null, t.access_token, t), (err: Error) => callback(err));
      },
    });
    const before = await conn.sobject('Case').create({ Subject: 'cc' });
    await ctl.injectFault({ kind: 'expired_session', count: 1 });
    const rec = await conn.sobject('Case').retrieve(before.id!);
    expect(rec.Subject).toBe('cc');
    expect(refreshes).toBe(1);
    expect(conn.accessToken).not.toBe(token.access_token);
    const log = (await ctl.requests()).filter((r) => r.path.endsWith(before.id!));
    expect(log.map((r) => r.status)).toEqual([401, 200]);
  });

  it('without a refreshFn, a client_credentials connection cannot recover from 401', async () => {
    const oauth2 = new jsforce.OAuth2({ loginUrl: info.instanceUrl, clientId: info.clientId, clientSecret: info.clientSecret });
    const token = await oauth2.requestToken({ grant_type: 'client_credentials' });
    const conn = new jsforce.Connection({ oauth2, instanceUrl: token.instance_url, accessToken: token.access_token, version: VERSION });
    await ctl.injectFault({ kind: 'expired_session', count: 1 });
    const err = await caught(() => conn.query('SELECT Id FROM Case LIMIT 1'));
    expect(err.message).toBe('Unable to refresh session due to: No refresh token found in the connection');
  });

  it('refresh_token grant: jsforce refreshes through the token endpoint', async () => {
    const refreshToken = await ctl.refreshToken();
    const conn = new jsforce.Connection({ oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret }, instanceUrl: info.instanceUrl, refreshToken, version: VERSION });
    const res = await conn.query('SELECT COUNT() FROM Case');
    expect(res.done).toBe(true);
    expect(conn.accessToken).toMatch(/^00D[A-Za-z0-9]{12}!/);
  });

  it('password-flow connection logs in again after an expired session', async () => {
    const conn = await passwordLogin(info);
    const first = conn.accessToken;
    await ctl.injectFault({ kind: 'expired_session', count: 1, pathContains: '/query' });
    const res = await conn.query('SELECT Id FROM Case LIMIT 1');
    expect(res.done).toBe(true);
    expect(conn.accessToken).not.toBe(first);
  });

  it('REQUEST_LIMIT_EXCEEDED surfaces with that errorCode and is not retried by jsforce', async () => {
    const conn = await passwordLogin(info);
    await ctl.reset();
    await ctl.injectFault({ kind: 'request_limit', count: 1 });
    const err = await caught(() => conn.query('SELECT Id FROM Case'));
    expect(err.name).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(err.message).toBe('TotalRequests Limit exceeded.');
    expect((await ctl.requests()).map((r) => r.status)).toEqual([403]);
  });

  it('503: a POST fails at once (SERVER_UNAVAILABLE or ERROR_HTTP_503); a GET is retried by jsforce', async () => {
    const conn = await passwordLogin(info);
    await ctl.injectFault({ kind: 'http503', count: 1, method: 'POST' });
    const json = await caught(() => conn.sobject('Case').create({ Subject: 'x' }));
    expect(json.name).toBe('SERVER_UNAVAILABLE');
    await ctl.injectFault({ kind: 'http503', count: 1, method: 'POST', html: true });
    const html = await caught(() => conn.sobject('Case').create({ Subject: 'x' }));
    expect(html.name).toBe('ERROR_HTTP_503');

    await ctl.reset();
    await ctl.injectFault({ kind: 'http503', count: 2, method: 'GET' });
    const t0 = Date.now();
    const res = await conn.query('SELECT Id FROM Case LIMIT 1');
    expect(res.done).toBe(true);
    // jsforce's own backoff: 500 ms, then 1000 ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect((await ctl.requests()).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('429 carries Retry-After and surfaces as ERROR_HTTP_429 on a PATCH', async () => {
    const conn = await passwordLogin(info);
    const made = await conn.sobject('Case').create({ Subject: 'r' });
    await ctl.injectFault({ kind: 'http429', count: 1, delayMs: 3000 });
    const raw = await fetch(`${server.instanceUrl}/services/data/v${VERSION}/sobjects/Case/${made.id!}`, { headers: { Authorization: `Bearer ${conn.accessToken!}` } });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('3');
    await ctl.injectFault({ kind: 'http429', count: 1 });
    const err = await caught(() => conn.sobject('Case').update({ Id: made.id!, Subject: 's' }));
    expect(err.name).toBe('ERROR_HTTP_429');
  });

  it('pages a large query with nextRecordsUrl and jsforce autoFetch follows it', async () => {
    const conn = await passwordLogin(info);
    const tag = uniqueName('page');
    for (let batch = 0; batch < 11; batch++) {
      const recs = Array.from({ length: 200 }, (_, i) => ({ Subject: `${tag}-${batch * 200 + i}` }));
      const res = await conn.sobject('Case').create(recs);
      expect(res.every((r) => r.success)).toBe(true);
    }
    const soql = `SELECT Id, Subject FROM Case WHERE Subject LIKE '${tag}-%'`;
    const page1 = await conn.query(soql);
    expect(page1.totalSize).toBe(2200);
    expect(page1.records).toHaveLength(2000);
    expect(page1.done).toBe(false);
    // The server sends a relative nextRecordsUrl; jsforce rebuilds it from the locator on its own base URL.
    expect(page1.nextRecordsUrl).toBe(`${server.instanceUrl}/services/data/v${VERSION}/query/${page1.nextRecordsUrl!.split('/').pop()!}`);
    expect(page1.nextRecordsUrl).toMatch(/\/query\/01g[A-Za-z0-9]+-2000$/);
    const page2 = await conn.queryMore(page1.nextRecordsUrl!);
    expect(page2.records).toHaveLength(200);
    expect(page2.done).toBe(true);
    const all = await conn.query(soql).execute({ autoFetch: true, maxFetch: 5000 });
    expect(new Set(all.records.map((r) => r.Id)).size).toBe(2200);
  });

  it('keeps records across a restart of the server on the same data dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-standin-restart-'));
    try {
      const a = await startServer({ port: 0, dataDir: dir });
      const connA = await passwordLogin({ ...info, loginUrl: a.loginUrl });
      const made = await connA.sobject('Case').upsert({ PdM_Episode_Id__c: 'restart-ep-1', Subject: 'kept' }, 'PdM_Episode_Id__c');
      const orgId = connA.userInfo?.organizationId;
      await a.close();

      const b = await startServer({ port: 0, dataDir: dir });
      try {
        expect(b.port).not.toBe(a.port);
        const connB = await passwordLogin({ ...info, loginUrl: b.loginUrl });
        expect(connB.userInfo?.organizationId).toBe(orgId);
        const rec = await connB.sobject('Case').retrieve((made as { id: string }).id);
        expect(rec.Subject).toBe('kept');
        const again = await connB.sobject('Case').upsert({ PdM_Episode_Id__c: 'restart-ep-1', Subject: 'kept 2' }, 'PdM_Episode_Id__c');
        expect(again).toMatchObject({ created: false, id: (made as { id: string }).id });
        const next = await connB.sobject('Case').create({ Subject: 'after restart' });
        expect(next.id).not.toBe((made as { id: string }).id);
      } finally {
        await b.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('salesforce stand-in as an org: hosts, strict permissions, assignment, Field Service, validation', () => {
  let server: RunningServer;
  let dataDir: string;
  let ctl: StandinControl;
  let admin: jsforce.Connection;
  let integration: jsforce.Connection;
  const c = STANDIN_CREDENTIALS;
  const login = (username: string, password: string, loginUrl = server.loginUrl) => passwordLogin({ ...c, loginUrl, instanceUrl: server.instanceUrl, username, password });
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sf-standin-org-'));
    server = await startServer({ port: 0, dataDir, strict: true });
    ctl = new StandinControl(server.loginUrl);
    admin = await login(c.adminUsername, c.adminPassword + c.securityToken);
    integration = await login(c.username, c.password + c.securityToken);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves client credentials on the My Domain host only, with the run-as user', async () => {
    const refused = await caught(() => new jsforce.OAuth2({ loginUrl: server.loginUrl, clientId: c.clientId, clientSecret: c.clientSecret }).requestToken({ grant_type: 'client_credentials' }));
    expect(refused.name).toBe('invalid_grant');
    expect(refused.message).toBe('request not supported on this domain');
    const token = await new jsforce.OAuth2({ loginUrl: server.instanceUrl, clientId: c.clientId, clientSecret: c.clientSecret }).requestToken({ grant_type: 'client_credentials' });
    expect(token.instance_url).toBe(server.instanceUrl);
    const id = token.id.split('/');
    expect(id.at(-1)).toBe((await ctl.health()).users.integration);
    // The data API lives on the instance host only.
    const raw = await fetch(`${server.loginUrl}/services/data/v${VERSION}/limits`, { headers: { Authorization: `Bearer ${token.access_token}` } });
    expect(raw.status).toBe(404);

    const noUserDir = mkdtempSync(join(tmpdir(), 'sf-standin-nouser-'));
    const noUser = await startServer({ port: 0, dataDir: noUserDir, clientCredentialsUser: false });
    try {
      const err = await caught(() => new jsforce.OAuth2({ loginUrl: noUser.instanceUrl, clientId: c.clientId, clientSecret: c.clientSecret }).requestToken({ grant_type: 'client_credentials' }));
      expect([err.name, err.message]).toEqual(['invalid_grant', 'no client credentials user enabled']);
    } finally {
      await noUser.close();
      rmSync(noUserDir, { recursive: true, force: true });
    }
  });

  it('strict: a password login needs the security token appended', async () => {
    const err = await caught(() => login(c.username, c.password));
    expect([err.name, err.message]).toEqual(['invalid_grant', 'authentication failure']);
  });

  it('strict: the integration user sees and writes only what the permission set grants', async () => {
    const account = await admin.sobject('Account').create({ Name: uniqueName('acct') });
    const serial = uniqueName('SN');
    await admin.sobject('Asset').create({ Name: 'Pump', SerialNumber: serial, AccountId: account.id });
    // Granted: Asset read (SerialNumber), Case create with the product's fields.
    const found = await integration.query<{ Id: string }>(`SELECT Id FROM Asset WHERE SerialNumber = '${serial}'`);
    expect(found.totalSize).toBe(1);
    const made = await integration.sobject('Case').create({ Subject: 's', Origin: 'Predictive Maintenance', PdM_Episode_Id__c: uniqueName('ep') });
    expect(made.success).toBe(true);
    // Not granted: Account (object), Case.Type (field), Asset create, Case.Type writes.
    const account404 = await caught(() => integration.query('SELECT Id FROM Account'));
    expect(account404.errorCode).toBe('INVALID_TYPE');
    expect(account404.message).toContain("sObject type 'Account' is not supported.");
    const typeField = await caught(() => integration.query('SELECT Id, Type FROM Case'));
    expect(typeField.errorCode).toBe('INVALID_FIELD');
    expect(typeField.message).toContain("No such column 'Type' on entity 'Case'.");
    const typeWrite = await caught(() => integration.sobject('Case').update({ Id: made.id!, Type: 'Other' }));
    expect([typeWrite.name, typeWrite.message]).toEqual(['INVALID_FIELD', "No such column 'Type' on sobject of type Case"]);
    const assetCreate = await caught(() => integration.sobject('Asset').create({ Name: 'x', SerialNumber: 'y', AccountId: account.id }));
    expect(assetCreate.name).toBe('INSUFFICIENT_ACCESS_OR_READONLY');
    const serialWrite = await caught(() => integration.sobject('Asset').update({ Id: found.records[0]!.Id, SerialNumber: 'z' }));
    expect(serialWrite.name).toBe('INSUFFICIENT_ACCESS_OR_READONLY');
    // The administrator is not restricted.
    expect((await admin.query('SELECT Id, Type FROM Case LIMIT 1')).done).toBe(true);
  });

  it('strict: an Asset needs an Account or a Contact', async () => {
    const err = await caught(() => admin.sobject('Asset').create({ Name: 'orphan', SerialNumber: uniqueName('SN') }));
    expect([err.name, err.message]).toEqual(['FIELD_INTEGRITY_EXCEPTION', 'Every asset needs an account, a contact, or both.']);
    const contact = await admin.sobject('Contact').create({ LastName: 'Owner' });
    expect((await admin.sobject('Asset').create({ Name: 'owned', SerialNumber: uniqueName('SN'), ContactId: contact.id })).success).toBe(true);
  });

  it('default case assignment runs on REST creates and updates unless Sforce-Auto-Assign is FALSE', async () => {
    const users = (await ctl.health()).users;
    const owner = async (id: string) => (await admin.sobject('Case').retrieve(id, { fields: ['OwnerId'] })).OwnerId as string;
    const routed = await integration.sobject('Case').create({ Subject: 'routed' });
    expect(await owner(routed.id!)).toBe(users.dispatchQueue);
    const kept = await integration.sobject('Case').create({ Subject: 'kept' }, { headers: { 'Sforce-Auto-Assign': 'FALSE' } });
    expect(await owner(kept.id!)).toBe(users.integration);
    // A dispatcher takes the routed case; an update without the header gives it back to the queue.
    await admin.sobject('Case').update({ Id: routed.id!, OwnerId: users.dispatcher }, { headers: { 'Sforce-Auto-Assign': 'FALSE' } });
    await integration.sobject('Case').update({ Id: routed.id!, Subject: 'escalated' }, { headers: { 'Sforce-Auto-Assign': 'false' } });
    expect(await owner(routed.id!)).toBe(users.dispatcher);
    await integration.sobject('Case').update({ Id: routed.id!, Subject: 'escalated again' });
    expect(await owner(routed.id!)).toBe(users.dispatchQueue);
  });

  it('WorkOrder and ServiceAppointment: REST shapes, required fields and validation errors', async () => {
    const caseId = (await integration.sobject('Case').create({ Subject: 'fs' })).id!;
    const wo = await integration.sobject('WorkOrder').create({ CaseId: caseId, Subject: 'visit', Priority: 'Critical', PdM_Episode_Id__c: uniqueName('ep') });
    expect(wo.id).toMatch(/^0WO[A-Za-z0-9]{15}$/);
    const woRec = await admin.sobject('WorkOrder').retrieve(wo.id!);
    expect(woRec).toMatchObject({ Status: 'New', Priority: 'Critical', IsClosed: false });
    expect(woRec.WorkOrderNumber).toMatch(/^\d{8}$/);

    const missing = await caught(() => integration.sobject('ServiceAppointment').create({ ParentRecordId: wo.id }));
    expect([missing.name, missing.message]).toEqual(['REQUIRED_FIELD_MISSING', 'Required fields are missing: [EarliestStartTime, DueDate]']);
    const backwards = await caught(() => integration.sobject('ServiceAppointment').create({ ParentRecordId: wo.id, EarliestStartTime: '2030-01-02T00:00:00Z', DueDate: '2030-01-01T00:00:00Z' }));
    expect([backwards.name, backwards.message]).toEqual(['FIELD_INTEGRITY_EXCEPTION', 'Due Date must be later than Earliest Start Permitted.']);
    const sa = await integration.sobject('ServiceAppointment').create({ ParentRecordId: wo.id, EarliestStartTime: '2030-01-01T00:00:00Z', DueDate: '2030-01-02T00:00:00Z' });
    expect(sa.id).toMatch(/^08p/);
    expect(await admin.sobject('ServiceAppointment').retrieve(sa.id!)).toMatchObject({ Status: 'None', ParentRecordId: wo.id, DueDate: '2030-01-02T00:00:00.000+0000' });
    const reparent = await caught(() => integration.sobject('ServiceAppointment').update({ Id: sa.id!, ParentRecordId: caseId }));
    expect(reparent.name).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(reparent.message).toContain('Unable to create/update fields: ParentRecordId.');
    await admin.sobject('ServiceAppointment').update({ Id: sa.id!, Status: 'Completed' });
    const reopen = await caught(() => integration.sobject('ServiceAppointment').update({ Id: sa.id!, Status: 'Canceled' }));
    expect([reopen.name, reopen.message]).toEqual(['FIELD_INTEGRITY_EXCEPTION', "Status: You can't change a service appointment's status from Completed to Canceled."]);

    const noFsDir = mkdtempSync(join(tmpdir(), 'sf-standin-nofs-'));
    const noFs = await startServer({ port: 0, dataDir: noFsDir, fieldService: false });
    try {
      const conn = await passwordLogin({ ...c, loginUrl: noFs.loginUrl, instanceUrl: noFs.instanceUrl });
      const gone = await caught(() => conn.sobject('ServiceAppointment').describe());
      expect(gone.name).toBe('NOT_FOUND');
    } finally {
      await noFs.close();
      rmSync(noFsDir, { recursive: true, force: true });
    }
  });

  it('counts a CaseComment body in bytes (4,000), not characters', async () => {
    const caseId = (await integration.sobject('Case').create({ Subject: 'bytes' })).id!;
    expect((await integration.sobject('CaseComment').create({ ParentId: caseId, CommentBody: 'é'.repeat(2000) })).success).toBe(true);
    const err = await caught(() => integration.sobject('CaseComment').create({ ParentId: caseId, CommentBody: 'é'.repeat(2001) }));
    expect(err.name).toBe('STRING_TOO_LONG');
    expect(err.message).toMatch(/^Body: data value too large: .* \(max length=4000\)$/);
  });

  it('runs the shipped PdM_Event_Order rule and the rules an org adds', async () => {
    const ep = uniqueName('ep');
    const first = await integration.sobject('Case').upsert({ PdM_Episode_Id__c: ep, PdM_Event_Ts__c: 2000 }, 'PdM_Episode_Id__c');
    const older = await caught(() => integration.sobject('Case').upsert({ PdM_Episode_Id__c: ep, PdM_Event_Ts__c: 1000 }, 'PdM_Episode_Id__c'));
    expect([older.name, older.message]).toEqual(['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'PdM: this record already holds a newer prediction (PdM_Event_Ts__c may not decrease).']);
    expect((older.data as { fields: string[] }).fields).toEqual(['PdM_Event_Ts__c']);
    expect((await admin.sobject('Case').retrieve((first as { id: string }).id)).PdM_Event_Ts__c).toBe(2000);

    await ctl.addOrgRule({ kind: 'validation', object: 'Case', name: 'Reason_Required', errorMessage: 'Pick a case reason.', errorDisplayField: 'Reason', requireField: 'Reason', when: { field: 'Origin', equals: 'Web' } });
    await ctl.addOrgRule({ kind: 'required', object: 'WorkOrder', field: 'Description' });
    try {
      const rule = await caught(() => integration.sobject('Case').create({ Subject: 'web', Origin: 'Web' }));
      expect([rule.name, rule.message]).toEqual(['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Pick a case reason.']);
      expect((await integration.sobject('Case').create({ Subject: 'phone', Origin: 'Phone' })).success).toBe(true);
      const req = await caught(() => integration.sobject('WorkOrder').create({ Subject: 'x' }));
      expect([req.name, req.message]).toEqual(['REQUIRED_FIELD_MISSING', 'Required fields are missing: [Description]']);
    } finally {
      await ctl.reset();
    }
  });

  it('duplicate_value: an upsert of a new external id loses the race to a concurrent one', async () => {
    const ep = uniqueName('race');
    await ctl.injectFault({ kind: 'duplicate_value', pathContains: `/PdM_Episode_Id__c/${ep}` });
    const err = await caught(() => integration.sobject('Case').upsert({ PdM_Episode_Id__c: ep, Subject: 'mine' }, 'PdM_Episode_Id__c'));
    expect(err.name).toBe('DUPLICATE_VALUE');
    const rows = await admin.query<{ Id: string; Subject: string }>(`SELECT Id, Subject FROM Case WHERE PdM_Episode_Id__c = '${ep}'`);
    expect(rows.totalSize).toBe(1);
    expect(err.message).toBe(`duplicate value found: PdM_Episode_Id__c duplicates value on record with id: ${rows.records[0]!.Id}`);
    // The retry finds the winner and updates it.
    expect(await integration.sobject('Case').upsert({ PdM_Episode_Id__c: ep, Subject: 'mine' }, 'PdM_Episode_Id__c')).toMatchObject({ created: false, id: rows.records[0]!.Id });
  });
});
