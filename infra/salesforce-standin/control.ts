/**
 * Typed client of the stand-in's control API (/__standin/...) for tests: inject faults and
 * org rules, read the request log, reset, check health, mint a refresh token. Not a
 * Salesforce API: product code never uses this; it only exists on the stand-in.
 */
import type { RequestLogEntry } from './control-api.ts';
import type { FaultSpec } from './faults.ts';
import type { OrgRuleSpec } from './org-rules.ts';
import type { OrgUsers } from './store.ts';

export type { RequestLogEntry } from './control-api.ts';
export type { FaultKind, FaultSpec } from './faults.ts';
export type { OrgRuleSpec } from './org-rules.ts';
export type { OrgUsers } from './store.ts';

/** Health answer: the org id, its users' ids and record counts per object. */
export interface StandinHealth {
  status: 'ok';
  orgId: string;
  users: OrgUsers;
  records: Record<string, number>;
}

/** Control client of one stand-in at `baseUrl` (its login URL, e.g. http://127.0.0.1:8443). */
export class StandinControl {
  constructor(readonly baseUrl: string) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/__standin/${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`salesforce stand-in control ${method} /__standin/${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Makes the next `spec.count` (default 1) matching API calls fail as `spec.kind` says. */
  injectFault(spec: FaultSpec): Promise<FaultSpec> {
    return this.call('POST', 'faults', spec);
  }

  /** Adds a rule an org administrator would: a required field or a validation rule (until reset). */
  addOrgRule(spec: OrgRuleSpec): Promise<OrgRuleSpec> {
    return this.call('POST', 'org-rules', spec);
  }

  /** Faults still waiting to fire, with their remaining counts. */
  pendingFaults(): Promise<(FaultSpec & { count: number })[]> {
    return this.call('GET', 'faults');
  }

  /** The most recent API calls (oldest first), at most `limit` (default all kept, 1000). */
  requests(limit?: number): Promise<RequestLogEntry[]> {
    return this.call('GET', `requests${limit ? `?limit=${limit}` : ''}`);
  }

  /** Clears faults, injected org rules and the request log; with `records: true` also deletes every record. */
  reset(opts: { records?: boolean } = {}): Promise<{ reset: true; records: boolean }> {
    return this.call('POST', 'reset', opts);
  }

  health(): Promise<StandinHealth> {
    return this.call('GET', 'health');
  }

  /** A refresh token for the integration user, as a browser-based OAuth flow would have given. */
  async refreshToken(): Promise<string> {
    return (await this.call<{ refresh_token: string }>('POST', 'refresh-token')).refresh_token;
  }
}
