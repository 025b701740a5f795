/**
 * Faults a test injects into the stand-in (POST /__standin/faults): the failures a real org
 * and the network in front of it produce, each for the next `count` matching calls. Product
 * code never sees this API; it only meets the failures.
 *
 * - http500, http503 (JSON or an HTML maintenance page), http429 with Retry-After,
 *   request_limit (403 REQUEST_LIMIT_EXCEEDED): answered instead of the call.
 * - expired_session: the session is revoked and the call answers 401 INVALID_SESSION_ID.
 *   One-shot by design: jsforce refreshes and retries every 401 without limit.
 * - slow: the answer is held `delayMs`, then the call runs. A client that times out first
 *   has still made the change, exactly as on a real org.
 * - duplicate_value: an upsert of a new external id loses the race to a concurrent upsert of
 *   the same id. The twin's record is created first (with this request's fields), then this
 *   call answers 400 DUPLICATE_VALUE, as two concurrent upserts do on a real org.
 */
import { randomBytes } from 'node:crypto';
import { HttpError, restError } from './http.ts';

/** Kinds of injected failure. */
export type FaultKind = 'http500' | 'http503' | 'http429' | 'request_limit' | 'expired_session' | 'slow' | 'duplicate_value';

export const FAULT_KINDS: readonly FaultKind[] = ['http500', 'http503', 'http429', 'request_limit', 'expired_session', 'slow', 'duplicate_value'];

/** A fault to inject into the next `count` matching API calls. */
export interface FaultSpec {
  kind: FaultKind;
  /** How many matching calls fail this way (default 1). */
  count?: number;
  /** For `slow`: how long to hold the answer, in ms (default 1000). For http429: Retry-After seconds ×1000 (default 1000). */
  delayMs?: number;
  /** Only calls whose path contains this string match (default `/services/data/`). */
  pathContains?: string;
  /** Only calls with this HTTP method match (default any). */
  method?: string;
  /** Only calls whose request body contains this string match (default any). */
  bodyContains?: string;
  /** For http503/http500: answer with an HTML page (as a CDN or maintenance page does) instead of a JSON error. */
  html?: boolean;
}

/** A pending fault with its remaining count. */
export interface ActiveFault extends Required<Omit<FaultSpec, 'method' | 'html' | 'bodyContains'>> {
  method?: string;
  bodyContains?: string;
  html: boolean;
}

/** Pending faults, matched in injection order. */
export class Faults {
  private readonly pending: ActiveFault[] = [];

  /** Validates and queues a spec; returns the problem instead when it is unusable. */
  add(spec: FaultSpec): ActiveFault | string {
    if (!FAULT_KINDS.includes(spec?.kind)) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) return 'count must be a positive integer';
    const f: ActiveFault = {
      kind: spec.kind, count, delayMs: spec.delayMs ?? 1000, pathContains: spec.pathContains ?? '/services/data/',
      html: spec.html === true,
      ...(spec.method ? { method: spec.method.toUpperCase() } : {}),
      ...(spec.bodyContains ? { bodyContains: spec.bodyContains } : {}),
    };
    this.pending.push(f);
    return f;
  }

  list(): readonly ActiveFault[] {
    return this.pending;
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** Takes one use of the first pending fault of `kinds` matching the call; undefined when none. */
  take(method: string, path: string, body: Buffer, kinds: readonly FaultKind[]): ActiveFault | undefined {
    const f = this.pending.find((x) => kinds.includes(x.kind) && x.count > 0 && path.includes(x.pathContains)
      && (!x.method || x.method === method) && (!x.bodyContains || body.toString('utf8').includes(x.bodyContains)));
    if (!f) return undefined;
    f.count -= 1;
    if (f.count === 0) this.pending.splice(this.pending.indexOf(f), 1);
    return { ...f };
  }
}

/** The answer a real org (or what stands in front of it) gives for an answered fault. */
export function faultResponse(f: ActiveFault): HttpError {
  switch (f.kind) {
    case 'http500':
      return f.html
        ? new HttpError(500, '<html><body>Internal Server Error</body></html>', { 'Content-Type': 'text/html' })
        : restError(500, 'UNKNOWN_EXCEPTION', `An unexpected error occurred. Please include this ErrorId if you contact support: ${randomBytes(5).toString('hex')}-${Date.now() % 100000} (-${Date.now() % 1000000000})`);
    case 'http503':
      return f.html
        ? new HttpError(503, '<html><body><h1>Service Unavailable</h1><p>Service Not Available.</p></body></html>', { 'Content-Type': 'text/html' })
        : restError(503, 'SERVER_UNAVAILABLE', 'Server too busy');
    case 'http429':
      return new HttpError(429, 'Too Many Requests', { 'Content-Type': 'text/plain', 'Retry-After': String(Math.max(1, Math.ceil(f.delayMs / 1000))) });
    case 'request_limit':
      return restError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    default:
      return restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
  }
}
