/**
 * Unit tests of Salesforce error classification: which failures a retry can fix (rate
 * limits, 429 with Retry-After, 5xx, timeouts, network, DUPLICATE_VALUE, failed refreshes)
 * and which it cannot (INVALID_FIELD, MALFORMED_QUERY, other 4xx, programming errors).
 * The inputs have the shapes jsforce 3.10 and undici actually throw.
 */
import { describe, expect, test } from 'vitest';
import { classifySalesforceError, isStaleWrite, parseRetryAfter, SalesforceCases, SalesforceError, soqlString } from './salesforce.ts';
import { ServiceConfigError } from '../runtime/errors.ts';

/** jsforce's HttpApiError: name and errorCode from the body (or ERROR_HTTP_<status>), no status. */
const apiError = (errorCode: string, message: string) => Object.assign(new Error(message), { name: errorCode, errorCode });
const resp = (status: number, headers: Record<string, string> = {}) => ({ status, headers });

describe('classifySalesforceError', () => {
  test.each([
    ['REQUEST_LIMIT_EXCEEDED', 403, true],
    ['SERVER_UNAVAILABLE', 503, true],
    ['UNKNOWN_EXCEPTION', 500, true],
    ['ERROR_HTTP_502', 502, true],
    ['DUPLICATE_VALUE', 400, true],
    ['UNABLE_TO_LOCK_ROW', 400, true],
    ['INVALID_FIELD', 400, false],
    ['MALFORMED_QUERY', 400, false],
    ['STRING_TOO_LONG', 400, false],
    ['NOT_FOUND', 404, false],
    ['INSUFFICIENT_ACCESS_OR_READONLY', 403, false],
  ])('%s (HTTP %i) retriable=%s', (code, status, retriable) => {
    const e = classifySalesforceError('upsert Case', apiError(code, 'msg'), resp(status));
    expect(e).toBeInstanceOf(SalesforceError);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.retriable).toBe(retriable);
    expect(e.message).toBe(`salesforce upsert Case: ${code} (HTTP ${status}): msg`);
  });

  test('429 is retriable and carries Retry-After in ms', () => {
    const e = classifySalesforceError('upsert Case', apiError('ERROR_HTTP_429', 'Too Many Requests'), resp(429, { 'retry-after': '3' }));
    expect([e.retriable, e.status, e.retryAfterMs]).toEqual([true, 429, 3000]);
  });

  test('an HTML 503 page (jsforce: ERROR_HTTP_503) is retriable even without a recorded response', () => {
    const e = classifySalesforceError('query', apiError('ERROR_HTTP_503', '<html>'), undefined);
    expect([e.code, e.status, e.retriable]).toEqual(['ERROR_HTTP_503', 503, true]);
  });

  test('timeout: the AbortError jsforce rethrows after our per-request timeout', () => {
    const abort = new DOMException('This operation was aborted Request was aborted due to timeout of 30 minutes.', 'AbortError');
    const e = classifySalesforceError('upsert Case', abort, undefined);
    expect([e.code, e.retriable, e.message]).toEqual(['TIMEOUT', true, 'salesforce upsert Case: TIMEOUT: no answer within the request timeout']);
  });

  test('network: undici "fetch failed" with ECONNREFUSED as cause', () => {
    const err = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    const e = classifySalesforceError('login', err, undefined);
    expect([e.code, e.retriable, e.message]).toEqual(['NETWORK', true, 'salesforce login: NETWORK ECONNREFUSED: fetch failed']);
  });

  test('a failed session refresh is retriable (the next call logs in again)', () => {
    const e = classifySalesforceError('upsert Case', new Error('Unable to refresh session due to: boom'), resp(401));
    expect([e.code, e.retriable]).toEqual(['SESSION_REFRESH_FAILED', true]);
  });

  test('OAuth errors (wrong credentials) are permanent', () => {
    const e = classifySalesforceError('login', Object.assign(new Error('authentication failure'), { name: 'invalid_grant' }), resp(400));
    expect([e.code, e.retriable, e.message]).toEqual(['invalid_grant', false, 'salesforce login: invalid_grant (HTTP 400): authentication failure']);
  });

  test("keeps the fields Salesforce's error names; the event-order rule's refusal is a stale write", () => {
    const stale = Object.assign(apiError('FIELD_CUSTOM_VALIDATION_EXCEPTION', 'PdM: newer'), {
      data: { errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'PdM: newer', fields: ['PdM_Event_Ts__c'] },
    });
    const e = classifySalesforceError('update Case', stale, resp(400));
    expect([e.code, e.retriable, e.fields]).toEqual(['FIELD_CUSTOM_VALIDATION_EXCEPTION', false, ['PdM_Event_Ts__c']]);
    expect(isStaleWrite(e)).toBe(true);
    const other = classifySalesforceError('update Case', Object.assign(apiError('FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Pick a reason'), { data: { fields: ['Reason'] } }), resp(400));
    expect(isStaleWrite(other)).toBe(false);
    expect(isStaleWrite(new Error('PdM_Event_Ts__c'))).toBe(false);
  });

  test('a programming error is permanent, never retried', () => {
    const e = classifySalesforceError('upsert Case', new TypeError("Cannot read properties of undefined (reading 'id')"), undefined);
    expect([e.code, e.retriable]).toEqual(['UNEXPECTED', false]);
  });
});

describe('helpers', () => {
  test('Retry-After as seconds or HTTP date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1000)).toBe(4000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
  test('SOQL string literals escape quotes and backslashes', () => {
    expect(soqlString("O'Brien\\x")).toBe("'O\\'Brien\\\\x'");
  });
  test('the adapter refuses to start without OAuth2 client credentials', () => {
    const conn = { loginUrl: 'http://127.0.0.1:1', username: 'u', password: 'p', clientId: '', clientSecret: '', apiVersion: '62.0' };
    expect(() => new SalesforceCases(conn)).toThrow(ServiceConfigError);
    expect(() => new SalesforceCases(conn)).toThrow(
      'invalid configuration:\n  - salesforce: clientId and clientSecret (PDM_SF_CLIENT_ID, PDM_SF_CLIENT_SECRET) are required: the case opener logs in with OAuth2 only',
    );
  });
});
