/**
 * The Salesforce adapter of the case opener: a thin layer over a jsforce 3.x Connection
 * that logs in with OAuth2 (password or client-credentials flow), queries, creates, updates
 * and upserts records with the Assignment Rule header the caller chooses, finds Assets by
 * serial number, and reads/adds CaseComments; every failure leaves as a SalesforceError
 * (salesforce-errors.ts) that says whether retrying can help.
 *
 * What jsforce does not give us and this file adds:
 * - The HTTP status and headers of a failed call (jsforce's HttpApiError carries only the
 *   errorCode and message): both transports are wrapped and the last response of each
 *   adapter call is recorded in an AsyncLocalStorage slot, so concurrent calls for
 *   different assets never see each other's responses.
 * - A per-request timeout (jsforce's default is 30 minutes).
 * - jsforce's own blind retry of GETs on 420/429/5xx (5 tries, no Retry-After) is switched
 *   off: the case opener retries with backoff, honouring Retry-After, and counts each try.
 * - A session refresh for the client-credentials flow (no refresh token exists), and a bound
 *   on refreshes per call: jsforce retries every 401 after a refresh without limit, so a
 *   server that keeps answering 401 would otherwise loop forever.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Connection } from 'jsforce';
import type { HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce';
import type { SalesforceAuthFlow, SalesforceConnection } from '../kafka/env.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { classifySalesforceError, SalesforceError, type ResponseInfo } from './salesforce-errors.ts';

/** Asset lookups kept (serial number → Asset Id): far more than one instance's share of a fleet's active failures. */
export const MAX_CACHED_ASSETS = 10_000;

export { classifySalesforceError, isStaleWrite, parseRetryAfter, SalesforceError, type ResponseInfo } from './salesforce-errors.ts';

/**
 * The Assignment Rule header. Without it REST runs the org's case assignment on every create
 * and update of a Case (and of records whose automation updates a Case), which would hand a
 * case back to the default queue on each escalation, undoing a dispatcher's choice.
 */
export const AUTO_ASSIGN_HEADER = 'Sforce-Auto-Assign';

/** Record values as sent: field API name to JSON value (null clears a field). */
export type RecordFields = Readonly<Record<string, string | number | boolean | null>>;

/** Hints for login refusals whose Salesforce message does not say what to change. */
const LOGIN_HINTS: readonly [RegExp, string][] = [
  [/request not supported on this domain/, "client credentials must go to the org's My Domain URL (https://<domain>.my.salesforce.com) in PDM_SF_LOGIN_URL"],
  [/no client credentials user enabled/, "the connected app needs a run-as user for the client credentials flow (App Manager > the app > Manage > Client Credentials Flow)"],
  [/authentication failure/, 'check PDM_SF_USERNAME and PDM_SF_PASSWORD, and set PDM_SF_SECURITY_TOKEN unless the org trusts this IP range'],
  [/invalid_client/, 'check PDM_SF_CLIENT_ID and PDM_SF_CLIENT_SECRET (the connected app\'s consumer key and secret)'],
];

/** Options of the adapter beyond the connection settings of pipelineEnv(). */
export interface SalesforceOptions {
  /** Abort one HTTP request after this long, ms. Default 30_000. */
  requestTimeoutMs: number;
  /** How long a found Asset id is reused, ms. Default 3_600_000 (1 h). */
  assetHitTtlMs: number;
  /** How long "no Asset with this serial" is believed, ms, so a newly registered Asset gets linked. Default 300_000. */
  assetMissTtlMs: number;
  /** Session refreshes allowed within one adapter call before it fails (retriably). Default 2. */
  maxRefreshesPerCall: number;
}

export const DEFAULT_SALESFORCE: SalesforceOptions = Object.freeze({
  requestTimeoutMs: 30_000,
  assetHitTtlMs: 3_600_000,
  assetMissTtlMs: 300_000,
  maxRefreshesPerCall: 2,
});

/** Per-call slot: the last response and the refreshes done for this call. */
interface CallContext {
  response?: ResponseInfo;
  refreshes: number;
}

/** Result of an upsert. */
export interface UpsertOutcome {
  /** Record Id (18 characters). */
  id: string;
  /** True when the upsert created the record, false when it updated an existing one. */
  created: boolean;
}

/** A comment of a case, as listed. */
export interface CaseCommentRow {
  id: string;
  body: string;
}

/** What jsforce's create, update and upsert answer (its typings cover neither `created` nor failures well). */
interface SaveOutcome {
  id?: string;
  success: boolean;
  created?: boolean;
  errors: (string | { errorCode?: string; message?: string })[];
}

/** The outcome when it succeeded; throws what Salesforce said otherwise (classified by call()). */
function checkSaved(res: SaveOutcome, fallbackCode: string): SaveOutcome {
  if (res.success) return res;
  throw Object.assign(new Error(res.errors.map((x) => (typeof x === 'string' ? x : x.message)).join('; ')), {
    errorCode: (res.errors[0] as { errorCode?: string } | undefined)?.errorCode ?? fallbackCode,
  });
}

const assignHeader = (autoAssign: boolean): Record<string, string> => ({ [AUTO_ASSIGN_HEADER]: autoAssign ? 'TRUE' : 'FALSE' });

/** Escapes a value for a SOQL string literal (backslash and quote). */
export function soqlString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The Salesforce calls the case opener makes. Safe to share between concurrent calls;
 * the caller serializes writes per asset.
 */
export class SalesforceCases {
  readonly conn: Connection;
  private readonly opts: SalesforceOptions;
  private readonly calls = new AsyncLocalStorage<CallContext>();
  private readonly assets = new Map<string, { id: string | undefined; until: number }>();
  private loginPromise: Promise<void> | undefined;
  /** Set when a call failed in a way only a fresh login fixes; the next call logs in first. */
  private needsLogin = false;
  /** Logins done (the first and every refresh or re-login). */
  logins = 0;
  private readonly log: Logger;

  constructor(readonly connection: SalesforceConnection, options: Partial<SalesforceOptions> = {}, log: Logger = createLogger('case-opener.salesforce')) {
    this.opts = { ...DEFAULT_SALESFORCE, ...options };
    this.log = log;
    const problems: string[] = [];
    if (!connection.clientId || !connection.clientSecret) {
      problems.push('salesforce: clientId and clientSecret (PDM_SF_CLIENT_ID, PDM_SF_CLIENT_SECRET) are required: the case opener logs in with OAuth2 only');
    }
    if (this.opts.requestTimeoutMs < 100) problems.push(`salesforce: requestTimeoutMs=${this.opts.requestTimeoutMs} is below 100 ms`);
    if (problems.length) throw new ServiceConfigError(problems);
    this.conn = new Connection({
      loginUrl: connection.loginUrl,
      version: connection.apiVersion,
      oauth2: { loginUrl: connection.loginUrl, clientId: connection.clientId, clientSecret: connection.clientSecret },
      // jsforce calls this on a 401 and then repeats the request; client-credentials has no
      // refresh token, so a refresh is simply a new token request with the same grant.
      refreshFn: (_conn, callback) => {
        const ctx = this.calls.getStore();
        if (ctx && ++ctx.refreshes > this.opts.maxRefreshesPerCall) {
          callback(new Error(`session still invalid after ${this.opts.maxRefreshesPerCall} refreshes in one call`));
          return;
        }
        this.authenticate().then(
          () => callback(null, this.conn.accessToken ?? ''),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
    this.wrapTransport(this.conn._transport);
    this.wrapTransport(this.conn.oauth2._transport);
  }

  /** The flow used: as configured, else username-password when both are set, client credentials otherwise. */
  get flow(): SalesforceAuthFlow {
    return this.connection.authFlow ?? (this.connection.username && this.connection.password ? 'password' : 'client_credentials');
  }

  /** API usage reported by the last answer's Sforce-Limit-Info header, if any. */
  get apiUsage(): { used: number; limit: number } | undefined {
    return this.conn.limitInfo.apiUsage;
  }

  /**
   * Logs in (at start). Wrong credentials, an unknown client or a login URL that cannot serve
   * the flow are a configuration problem and throw ServiceConfigError with what to change;
   * an unreachable server throws a retriable SalesforceError.
   */
  async login(): Promise<void> {
    try {
      await this.call('login', () => this.authenticate());
    } catch (err) {
      if (err instanceof SalesforceError && !err.retriable) {
        const hint = LOGIN_HINTS.find(([re]) => re.test(`${err.code} ${err.message}`))?.[1];
        throw new ServiceConfigError([`salesforce login at ${this.connection.loginUrl} (${this.flow} flow) refused: ${err.message}${hint ? `; ${hint}` : ''}`]);
      }
      throw err;
    }
  }

  /** Every record a SOQL query returns (all pages). */
  async query<T extends Record<string, unknown>>(op: string, soql: string): Promise<T[]> {
    return this.call(op, async () => {
      const rows: T[] = [];
      let res = await this.conn.query<T>(soql);
      for (;;) {
        rows.push(...res.records);
        if (res.done || !res.nextRecordsUrl) break;
        res = await this.conn.queryMore<T>(res.nextRecordsUrl);
      }
      return rows;
    });
  }

  /**
   * Upserts a record of `type` on the external-id field `extField`: creates it the first time,
   * updates it afterwards. `autoAssign` is sent as the Assignment Rule header.
   */
  async upsert(type: string, extField: string, extValue: string, fields: RecordFields, autoAssign: boolean): Promise<UpsertOutcome> {
    return this.call(`upsert ${type}`, async () => {
      // jsforce puts the external id into the URL path without encoding it; encoding it
      // here makes the server decode back to the exact id (a no-op for plain ids).
      const res = (await this.conn
        .sobject(type)
        .upsert({ ...fields, [extField]: encodeURIComponent(extValue) }, extField, { headers: assignHeader(autoAssign) })) as SaveOutcome;
      const saved = checkSaved(res, 'UPSERT_FAILED');
      // Before API 46 an update answers 204 without an id: find it by the external id.
      const id = saved.id ?? (await this.idByExternalId(type, extField, extValue));
      if (!id) throw Object.assign(new Error(`upsert of ${type} ${extField}=${extValue} succeeded but the record cannot be found`), { errorCode: 'NOT_FOUND' });
      return { id, created: saved.created === true };
    });
  }

  /** Creates a record of `type`; returns its Id. */
  async create(type: string, fields: RecordFields, autoAssign: boolean): Promise<string> {
    return this.call(`create ${type}`, async () => {
      const res = (await this.conn.sobject(type).create({ ...fields }, { headers: assignHeader(autoAssign) })) as SaveOutcome;
      const id = checkSaved(res, 'CREATE_FAILED').id;
      if (!id) throw Object.assign(new Error(`create of ${type} answered without an id`), { errorCode: 'CREATE_FAILED' });
      return id;
    });
  }

  /** Updates the record `id` of `type` with `fields` only. */
  async update(type: string, id: string, fields: RecordFields, autoAssign: boolean): Promise<void> {
    await this.call(`update ${type}`, async () => {
      checkSaved((await this.conn.sobject(type).update({ ...fields, Id: id }, { headers: assignHeader(autoAssign) })) as SaveOutcome, 'UPDATE_FAILED');
    });
  }

  /** True when the org has `type` and the user can see it (describe answers); false on NOT_FOUND. */
  async hasObject(type: string): Promise<boolean> {
    try {
      await this.call(`describe ${type}`, () => this.conn.sobject(type).describe());
      return true;
    } catch (err) {
      if (err instanceof SalesforceError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }

  /** The Case Id of an episode, or undefined when no case exists for it. */
  async findCaseIdByEpisode(episodeId: string): Promise<string | undefined> {
    return this.call('query Case by episode', () => this.idByExternalId('Case', 'PdM_Episode_Id__c', episodeId));
  }

  private async idByExternalId(type: string, extField: string, value: string): Promise<string | undefined> {
    const res = await this.conn.query<{ Id: string }>(`SELECT Id FROM ${type} WHERE ${extField} = ${soqlString(value)} LIMIT 1`);
    return res.records[0]?.Id;
  }

  /**
   * The Salesforce Asset Id whose SerialNumber equals `serial`, or undefined. Cached: hits
   * for assetHitTtlMs, misses for assetMissTtlMs.
   */
  async findAssetIdBySerial(serial: string, now = Date.now()): Promise<string | undefined> {
    const cached = this.assets.get(serial);
    if (cached && cached.until > now) return cached.id;
    const rows = await this.query<{ Id: string }>('query Asset by serial', `SELECT Id FROM Asset WHERE SerialNumber = ${soqlString(serial)} ORDER BY CreatedDate ASC LIMIT 1`);
    const id = rows[0]?.Id;
    // Bounded: a fleet that churns must not grow the cache with every asset it ever had. The
    // Map keeps insertion order, so the first key is the least recently looked up.
    this.assets.delete(serial);
    if (this.assets.size >= MAX_CACHED_ASSETS) this.assets.delete(this.assets.keys().next().value!);
    this.assets.set(serial, { id, until: now + (id ? this.opts.assetHitTtlMs : this.opts.assetMissTtlMs) });
    return id;
  }

  /** Every comment of a case (all pages). */
  async listComments(caseId: string): Promise<CaseCommentRow[]> {
    const rows = await this.query<{ Id: string; CommentBody: string | null }>(
      'query CaseComment',
      `SELECT Id, CommentBody FROM CaseComment WHERE ParentId = ${soqlString(caseId)} ORDER BY CreatedDate ASC`,
    );
    return rows.map((r) => ({ id: r.Id, body: r.CommentBody ?? '' }));
  }

  /**
   * Adds a private comment (IsPublished false: not shown to the customer) and returns its Id.
   * Sent with assignment off: an org's automation may update the case on a new comment.
   */
  async addComment(caseId: string, body: string): Promise<string> {
    return this.create('CaseComment', { ParentId: caseId, CommentBody: body, IsPublished: false }, false);
  }

  /** Logs out is not needed for OAuth2 tokens; this drops cached state. */
  close(): void {
    this.assets.clear();
  }

  /** Runs one adapter call in its own context; logs in first when a previous call asked for it. */
  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const ctx: CallContext = { refreshes: 0 };
    return this.calls.run(ctx, async () => {
      try {
        if (this.needsLogin || (!this.conn.accessToken && op !== 'login')) await this.authenticate();
        return await fn();
      } catch (err) {
        const e = classifySalesforceError(op, err, ctx.response);
        if (e.code === 'SESSION_REFRESH_FAILED' || e.code === 'INVALID_SESSION_ID') this.needsLogin = true;
        throw e;
      }
    });
  }

  /** One OAuth2 token request with the configured grant; concurrent callers share it. */
  private authenticate(): Promise<void> {
    this.loginPromise ??= (async () => {
      try {
        const c = this.connection;
        const res =
          this.flow === 'password'
            ? await this.conn.oauth2.authenticate(c.username, `${c.password}${c.securityToken ?? ''}`)
            : await this.conn.oauth2.requestToken({ grant_type: 'client_credentials' });
        if (!res.access_token || !res.instance_url) throw new Error('token response without access_token or instance_url');
        this.conn._establish({ instanceUrl: res.instance_url, accessToken: res.access_token });
        this.needsLogin = false;
        this.logins++;
        this.log.debug('logged in', { flow: this.flow, instanceUrl: res.instance_url });
      } finally {
        this.loginPromise = undefined;
      }
    })();
    return this.loginPromise;
  }

  /** Adds the timeout, disables jsforce's blind retries, and records each response in the call's slot. */
  private wrapTransport(t: { httpRequest(req: HttpRequest, options?: HttpRequestOptions): Promise<HttpResponse> }): void {
    const inner = t.httpRequest.bind(t);
    const calls = this.calls;
    const timeout = this.opts.requestTimeoutMs;
    t.httpRequest = function httpRequest(req: HttpRequest, options: HttpRequestOptions = {}) {
      const p = inner(req, { ...options, timeout, retry: { ...options.retry, maxRetries: 0 } });
      const ctx = calls.getStore();
      if (ctx) {
        p.then(
          (res) => {
            ctx.response = { status: res.statusCode, headers: res.headers };
          },
          () => undefined,
        );
      }
      return p;
    } as typeof t.httpRequest;
  }
}
