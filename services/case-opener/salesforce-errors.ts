/**
 * What a failed Salesforce call means for the case opener: every failure leaves the adapter
 * as a SalesforceError that says whether retrying can help (and, for 429, after how long),
 * carrying Salesforce's errorCode and the fields the error names.
 */
import { PipelineError, describeError, type RetryAfter } from '../runtime/errors.ts';

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
 * Retry-After; `fields` the fields Salesforce's error names (empty when none).
 */
export class SalesforceError extends PipelineError implements RetryAfter {
  constructor(
    message: string,
    retriable: boolean,
    readonly code: string,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
    readonly fields: readonly string[] = [],
  ) {
    super(message, retriable, options);
  }
}

/** The field whose validation rule (PdM_Event_Order, infra/salesforce/) keeps every record's newest prediction. */
export const EVENT_TS_FIELD = 'PdM_Event_Ts__c';

/**
 * True when Salesforce refused a write because the record already holds a newer prediction
 * (the PdM_Event_Order validation rule): the write is superseded, not failed.
 */
export function isStaleWrite(err: unknown): boolean {
  return err instanceof SalesforceError && err.code === 'FIELD_CUSTOM_VALIDATION_EXCEPTION' && err.fields.includes(EVENT_TS_FIELD);
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
    const fields = (err as { data?: { fields?: unknown } }).data?.fields;
    return new SalesforceError(
      at(code), retriable, code, Number.isNaN(httpStatus) ? undefined : httpStatus, retryAfterMs, { cause: err },
      Array.isArray(fields) ? fields.map(String) : [],
    );
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
