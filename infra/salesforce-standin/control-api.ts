/**
 * The stand-in's control API under /__standin/, for tests only (the product never calls it;
 * a real org has no such thing): health with the org's user ids, the request log, fault
 * injection, org rules an administrator would add (validation rules, required fields),
 * reset, and minting a refresh token as a browser-based OAuth flow would.
 */
import type { Faults, FaultSpec } from './faults.ts';
import type { Ctx } from './http.ts';
import { orgRuleProblem, type OrgRules, type OrgRuleSpec } from './org-rules.ts';
import { SOBJECTS } from './schema.ts';
import type { OrgStore } from './store.ts';

/** One line of the request log. */
export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  /** Which host answered: the login host or the org's My Domain (instance) host. */
  host: 'login' | 'instance';
  /** The Sforce-Auto-Assign header of the request, when it had one. */
  autoAssign?: string;
  fault?: string;
}

/** What the control API acts on. */
export interface ControlDeps {
  store: OrgStore;
  faults: Faults;
  rules: OrgRules;
  requestLog: RequestLogEntry[];
  logSize: number;
}

const jsonBody = <T>(ctx: Ctx): T => (ctx.body.length > 0 ? JSON.parse(ctx.body.toString('utf8')) : {}) as T;

/** Answers /__standin/<sub>; a SyntaxError from a bad JSON body is the caller's to report. */
export async function controlApi(ctx: Ctx, sub: string, d: ControlDeps): Promise<[number, unknown]> {
  const method = ctx.req.method ?? 'GET';
  if (sub === 'health' && method === 'GET') {
    return [200, { status: 'ok', orgId: d.store.orgId, users: d.store.users, records: Object.fromEntries(Object.keys(SOBJECTS).map((t) => [t, [...d.store.all(t)].length])) }];
  }
  if (sub === 'requests' && method === 'GET') {
    const limit = Number(ctx.url.searchParams.get('limit') ?? d.logSize);
    return [200, d.requestLog.slice(-Math.max(1, limit))];
  }
  if (sub === 'faults' && method === 'GET') return [200, d.faults.list()];
  if (sub === 'faults' && method === 'POST') {
    const f = d.faults.add(jsonBody<FaultSpec>(ctx));
    return typeof f === 'string' ? [400, { error: f }] : [201, f];
  }
  if (sub === 'org-rules' && method === 'GET') return [200, d.rules.injectedRules];
  if (sub === 'org-rules' && method === 'POST') {
    const spec = jsonBody<OrgRuleSpec>(ctx);
    const problem = orgRuleProblem(spec);
    if (problem) return [400, { error: problem }];
    d.rules.add(spec);
    return [201, spec];
  }
  if (sub === 'reset' && method === 'POST') {
    const spec = jsonBody<{ records?: boolean }>(ctx);
    d.faults.clear();
    d.rules.clearInjected();
    d.requestLog.length = 0;
    if (spec.records) {
      d.store.clearRecords();
      await d.store.save();
    }
    return [200, { reset: true, records: !!spec.records }];
  }
  if (sub === 'refresh-token' && method === 'POST') {
    // Stands for a refresh token obtained out of band (web-server or device flow in a browser).
    const t = d.store.newRefreshToken();
    await d.store.save();
    return [201, { refresh_token: t }];
  }
  return [404, { error: `no control endpoint ${method} /__standin/${sub}` }];
}
