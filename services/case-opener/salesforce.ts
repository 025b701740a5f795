/**
 * The Salesforce adapter of the case opener: a thin layer over a jsforce 3.x Connection
 * that logs in with OAuth2, upserts Cases on the episode external id, finds Assets by
 * serial number, and reads/adds CaseComments; every failure leaves as a SalesforceError
 * that says whether retrying can help (and, for 429, after how long).
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
import type { SalesforceConnection } from '../kafka/env.ts';
import { PipelineError, ServiceConfigError, describeError, type RetryAfter } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import type { CaseFields } from './case-content.ts';

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

/** Error codes Salesforce answers that a later try can succeed on. */
const RETRIABLE_CODES = new Set([
  'REQUEST_LIMIT_EXCEEDED', // 403: org-wide API limit; frees up as the 24 h window moves
  'DUPLICATE_VALUE', // two upserts on one new external id raced; the retry finds the winner
  'UNABLE_TO_LOCK_ROW', // record locked by another transaction
  'SERVER_UNAVAILABLE',
  'INVALID_SESSION_ID', // only seen when the refresh guard gave up: re-login on the next try
]);

/** Network-level failure codes (undici puts them on the cause of `TypeError: fetch failed`). */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'ENETDOWN', 'ENETUNREACH', 'EHOSTDOWN', 'EHOSTUNREACH',
  'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A failed Salesforce call. `code` is Salesforce's errorCode (REQUEST_LIMIT_EXCEEDED,
 * INVALID_FIELD, ...), ERROR_HTTP_<status> for a non-JSON error page, or TIMEOUT, NETWORK,
 * SESSION_REFRESH_FAILED for failures before an answer. `retryAfterMs` carries a 429's
 * Retry-After.
 */
export class SalesforceError extends PipelineError implements RetryAfter {
  constructor(
    message: string,
    retriable: boolean,
    readonly code: string,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, retriable, options);
  }
}

/** The last HTTP response seen by one adapter call (filled by the wrapped transports). */
export interface ResponseInfo {
  status: number;
  headers: Readonly<Record<string, string>>;
}

/** Parses Retry-After (seconds or an HTTP date) into ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Classifies anything a jsforce call threw. `response` is the last HTTP answer of the call
 * (undefined when none came). Retriable: REQUEST_LIMIT_EXCEEDED, 429 (with Retry-After),
 * 5xx, DUPLICATE_VALUE, UNABLE_TO_LOCK_ROW, timeouts, network errors, failed session
 * refreshes. Permanent: every other answered error (INVALID_FIELD, MALFORMED_QUERY,
 * STRING_TOO_LONG, other 4xx) and errors that are not Salesforce's (programming errors).
 */
export function classifySalesforceError(op: string, err: unknown, response: ResponseInfo | undefined, now = Date.now()): SalesforceError {
  if (err instanceof SalesforceError) return err;
  const e = err as { name?: unknown; message?: unknown; errorCode?: unknown; cause?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const status = response && response.status >= 400 ? response.status : undefined;
  const at = (code: string) => `salesforce ${op}: ${code}${status ? ` (HTTP ${status})` : ''}: ${message.slice(0, 500)}`;

  // Answered errors: jsforce's HttpApiError (errorCode from the body, or ERROR_HTTP_<status>).
  if (typeof e?.errorCode === 'string') {
    // jsforce folds a body with several errors into MULTIPLE_API_ERRORS with the list in `data`:
    // classify by the codes inside (retriable only if every one of them is).
    const many = (err as { data?: unknown }).data;
    if (e.errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(many) && many.length > 0) {
      const items = many.map((d: { errorCode?: unknown; message?: unknown }) => ({ code: String(d?.errorCode ?? 'UNKNOWN'), message: String(d?.message ?? '') }));
      const text = items.map((i) => `${i.code}: ${i.message}`).join('; ');
      const retriable = (status !== undefined && (status === 429 || status >= 500)) || items.every((i) => RETRIABLE_CODES.has(i.code));
      return new SalesforceError(`salesforce ${op}: ${items[0]!.code}${status ? ` (HTTP ${status})` : ''}: ${text.slice(0, 1_000)}`, retriable, items[0]!.code, status, undefined, { cause: err });
    }
    const code = e.errorCode;
    const httpStatus = status ?? Number(/^ERROR_HTTP_(\d{3})$/.exec(code)?.[1] ?? NaN);
    const retryAfterMs = httpStatus === 429 ? parseRetryAfter(response?.headers['retry-after'], now) : undefined;
    const retriable = RETRIABLE_CODES.has(code) || httpStatus === 429 || httpStatus >= 500;
    return new SalesforceError(at(code), retriable, code, Number.isNaN(httpStatus) ? undefined : httpStatus, retryAfterMs, { cause: err });
  }
  // jsforce wraps a failed refresh (our refresh function or the OAuth2 call) in a plain Error.
  if (message.startsWith('Unable to refresh session')) {
    return new SalesforceError(at('SESSION_REFRESH_FAILED'), true, 'SESSION_REFRESH_FAILED', status, undefined, { cause: err });
  }
  // Timeouts: our per-request timeout aborts the fetch (AbortError, whose message jsforce
  // rewrites to "...timeout of 30 minutes" whatever the timeout was), or jsforce's own.
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || message === 'Request Timeout') {
    return new SalesforceError(`salesforce ${op}: TIMEOUT: no answer within the request timeout`, true, 'TIMEOUT', undefined, undefined, { cause: err });
  }
  const netCode = networkCode(err);
  if (netCode) {
    return new SalesforceError(`salesforce ${op}: NETWORK ${netCode}: ${message}`, true, 'NETWORK', undefined, undefined, { cause: err });
  }
  // OAuth2 token endpoint errors are named after the OAuth error (invalid_grant, ...).
  if (typeof e?.name === 'string' && /^(invalid_|unsupported_|unauthorized_)/.test(e.name)) {
    return new SalesforceError(at(e.name), false, e.name, status, undefined, { cause: err });
  }
  if (typeof e?.name === 'string' && /^ERROR_HTTP_\d{3}$/.test(e.name)) {
    const s = Number(e.name.slice(11));
    return new SalesforceError(at(e.name), s === 429 || s >= 500, e.name, s, undefined, { cause: err });
  }
  return new SalesforceError(`salesforce ${op}: unexpected error: ${describeError(err)}`, false, 'UNEXPECTED', status, undefined, { cause: err });
}

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  // undici reports "fetch failed" with the socket error as its cause; anything else from it is also transport-level.
  return err instanceof TypeError && (err as Error).message === 'fetch failed' ? 'FETCH_FAILED' : undefined;
}

/** Per-call slot: the last response and the refreshes done for this call. */
interface CallContext {
  response?: ResponseInfo;
  refreshes: number;
}

/** Result of an upsert. */
export interface UpsertOutcome {
  /** Case Id (18 characters). */
  id: string;
  /** True when the upsert created the case, false when it updated an existing one. */
  created: boolean;
}

/** A comment of a case, as listed. */
export interface CaseCommentRow {
  id: string;
  body: string;
}

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

  /** The flow used: OAuth2 username-password when both are set, client credentials otherwise. */
  get flow(): 'password' | 'client_credentials' {
    return this.connection.username && this.connection.password ? 'password' : 'client_credentials';
  }

  /** API usage reported by the last answer's Sforce-Limit-Info header, if any. */
  get apiUsage(): { used: number; limit: number } | undefined {
    return this.conn.limitInfo.apiUsage;
  }

  /**
   * Logs in (at start). Wrong credentials or an unknown client are a configuration problem
   * and throw ServiceConfigError; an unreachable server throws a retriable SalesforceError.
   */
  async login(): Promise<void> {
    try {
      await this.call('login', () => this.authenticate());
    } catch (err) {
      if (err instanceof SalesforceError && !err.retriable) {
        throw new ServiceConfigError([`salesforce login at ${this.connection.loginUrl} (${this.flow} flow) refused: ${err.message}`]);
      }
      throw err;
    }
  }

  /**
   * Upserts the case of an episode on PdM_Episode_Id__c: creates it the first time, updates
   * it afterwards. Exactly one case per episode id, however often this runs.
   */
  async upsertCase(episodeId: string, fields: CaseFields): Promise<UpsertOutcome> {
    return this.call('upsert Case', async () => {
      // jsforce puts the external id into the URL path without encoding it; encoding it
      // here makes the server decode back to the exact id (a no-op for plain ids).
      const res = await this.conn
        .sobject('Case')
        .upsert({ ...fields, PdM_Episode_Id__c: encodeURIComponent(episodeId) }, 'PdM_Episode_Id__c');
      if (!res.success) {
        throw Object.assign(new Error(res.errors.map((x) => (typeof x === 'string' ? x : x.message)).join('; ')), {
          errorCode: (res.errors[0] as { errorCode?: string } | undefined)?.errorCode ?? 'UPSERT_FAILED',
        });
      }
      // Before API 46 an update answers 204 without an id: find it by the external id.
      const id = res.id ?? (await this.findCaseIdByEpisodeInCall(episodeId));
      if (!id) throw Object.assign(new Error(`upsert of episode ${episodeId} succeeded but the case cannot be found`), { errorCode: 'NOT_FOUND' });
      return { id, created: res.created === true };
    });
  }

  /** The Case Id of an episode, or undefined when no case exists for it. */
  async findCaseIdByEpisode(episodeId: string): Promise<string | undefined> {
    return this.call('query Case by episode', () => this.findCaseIdByEpisodeInCall(episodeId));
  }

  private async findCaseIdByEpisodeInCall(episodeId: string): Promise<string | undefined> {
    const res = await this.conn.query<{ Id: string }>(`SELECT Id FROM Case WHERE PdM_Episode_Id__c = ${soqlString(episodeId)} LIMIT 1`);
    return res.records[0]?.Id;
  }

  /**
   * The Salesforce Asset Id whose SerialNumber equals `serial`, or undefined. Cached: hits
   * for assetHitTtlMs, misses for assetMissTtlMs.
   */
  async findAssetIdBySerial(serial: string, now = Date.now()): Promise<string | undefined> {
    const cached = this.assets.get(serial);
    if (cached && cached.until > now) return cached.id;
    const id = await this.call('query Asset by serial', async () => {
      const res = await this.conn.query<{ Id: string }>(`SELECT Id FROM Asset WHERE SerialNumber = ${soqlString(serial)} ORDER BY CreatedDate ASC LIMIT 1`);
      return res.records[0]?.Id;
    });
    this.assets.set(serial, { id, until: now + (id ? this.opts.assetHitTtlMs : this.opts.assetMissTtlMs) });
    return id;
  }

  /** Every comment of a case (all pages). */
  async listComments(caseId: string): Promise<CaseCommentRow[]> {
    return this.call('query CaseComment', async () => {
      const rows: CaseCommentRow[] = [];
      let res = await this.conn.query<{ Id: string; CommentBody: string | null }>(
        `SELECT Id, CommentBody FROM CaseComment WHERE ParentId = ${soqlString(caseId)} ORDER BY CreatedDate ASC`,
      );
      for (;;) {
        for (const r of res.records) rows.push({ id: r.Id, body: r.CommentBody ?? '' });
        if (res.done || !res.nextRecordsUrl) break;
        res = await this.conn.queryMore<{ Id: string; CommentBody: string | null }>(res.nextRecordsUrl);
      }
      return rows;
    });
  }

  /** Adds a private comment (IsPublished false: not shown to the customer) and returns its Id. */
  async addComment(caseId: string, body: string): Promise<string> {
    return this.call('create CaseComment', async () => {
      const res = await this.conn.sobject('CaseComment').create({ ParentId: caseId, CommentBody: body, IsPublished: false });
      if (!res.success || !res.id) {
        throw Object.assign(new Error(res.errors.map((x) => (typeof x === 'string' ? x : x.message)).join('; ')), {
          errorCode: (res.errors[0] as { errorCode?: string } | undefined)?.errorCode ?? 'CREATE_FAILED',
        });
      }
      return res.id;
    });
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
            ? await this.conn.oauth2.authenticate(c.username, c.password)
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
