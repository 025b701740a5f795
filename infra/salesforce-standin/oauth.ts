/**
 * The stand-in's OAuth2 token endpoint and identity URL, as an org with My Domain serves
 * them on two hosts:
 * - the login host (login.salesforce.com's part): username-password and refresh-token
 *   grants; a client-credentials request is refused with Salesforce's
 *   `invalid_grant: request not supported on this domain`;
 * - the org's My Domain host (the instance): every grant, client credentials included, which
 *   runs as the connected app's run-as user (refused with `no client credentials user
 *   enabled` when the org configured none).
 * Every token answer names the My Domain host as `instance_url`, so clients send their API
 * calls there whichever host they logged in at.
 *
 * In strict mode a password grant needs the user's security token appended to the password,
 * as a real org demands of logins from outside its trusted IP ranges.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { notFound, type Ctx } from './http.ts';
import { USERNAMES, type OrgStore } from './store.ts';

/** Credentials of the stand-in org's users and connected app. */
export const STANDIN_CREDENTIALS = Object.freeze({
  /** The integration user the product logs in as (also the client-credentials run-as user). */
  username: USERNAMES.integration,
  password: 'pdm-local-password',
  /** Appended to the password on a password grant in strict mode (a real org's security token). */
  securityToken: 'pdmLocalSecurityToken0',
  clientId: 'pdm-local-client-id',
  clientSecret: 'pdm-local-client-secret',
  /** An administrator with full access, for tests and seeding data (never the product). */
  adminUsername: USERNAMES.admin,
  adminPassword: 'pdm-local-admin-password',
});

/** How the org answers logins. */
export interface AuthOptions {
  /** Password grants need password + security token. */
  strict: boolean;
  /** The connected app has a client-credentials run-as user (default true). */
  clientCredentialsUser: boolean;
}

const PASSWORDS: Readonly<Record<string, string>> = Object.freeze({
  [STANDIN_CREDENTIALS.username.toLowerCase()]: STANDIN_CREDENTIALS.password,
  [STANDIN_CREDENTIALS.adminUsername.toLowerCase()]: STANDIN_CREDENTIALS.adminPassword,
});

/** Answers POST /services/oauth2/token on either host. */
export async function tokenEndpoint(ctx: Ctx, store: OrgStore, instanceUrl: string, opts: AuthOptions): Promise<[number, unknown]> {
  const p = new URLSearchParams(ctx.body.toString('utf8'));
  const grant = p.get('grant_type');
  const fail = (error: string, description: string, status = 400): [number, unknown] => [status, { error, error_description: description }];
  if (!grant || !['password', 'client_credentials', 'refresh_token'].includes(grant)) return fail('unsupported_grant_type', 'grant type not supported');
  if (p.get('client_id') !== STANDIN_CREDENTIALS.clientId) return fail('invalid_client_id', 'client identifier invalid');
  const secretOk = p.get('client_secret') === STANDIN_CREDENTIALS.clientSecret;
  let userId: string;
  if (grant === 'password') {
    if (!secretOk) return fail('invalid_client', 'invalid client credentials');
    const username = (p.get('username') ?? '').toLowerCase();
    const expected = PASSWORDS[username];
    const given = p.get('password') ?? '';
    const withToken = `${expected}${STANDIN_CREDENTIALS.securityToken}`;
    const ok = expected !== undefined && (given === withToken || (!opts.strict && given === expected));
    const id = ok ? store.userIdByUsername(username) : undefined;
    if (!id) return fail('invalid_grant', 'authentication failure');
    userId = id;
  } else if (grant === 'client_credentials') {
    // Salesforce serves this grant only on the org's own (My Domain) host.
    if (ctx.host === 'login') return fail('invalid_grant', 'request not supported on this domain');
    if (!secretOk) return fail('invalid_client', 'invalid client credentials');
    if (!opts.clientCredentialsUser) return fail('invalid_grant', 'no client credentials user enabled');
    userId = store.users.integration;
  } else {
    // A refresh token alone identifies the user; the secret is checked when sent.
    if (p.has('client_secret') && !secretOk) return fail('invalid_client', 'invalid client credentials');
    if (!store.hasRefreshToken(p.get('refresh_token') ?? '')) return fail('invalid_grant', 'expired access/refresh token');
    userId = store.users.integration;
  }
  const s = store.newSession(userId);
  await store.save();
  return [200, {
    access_token: s.accessToken,
    ...(grant === 'client_credentials' ? { scope: 'api' } : {}),
    instance_url: instanceUrl,
    id: `${ctx.baseUrl}/id/${store.orgId}/${userId}`,
    token_type: 'Bearer',
    issued_at: String(s.issuedAt),
    signature: randomBytes(32).toString('base64'),
  }];
}

/** The bearer token of a request, if any. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization ?? '';
  return /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(h)?.[1];
}

/** Answers GET /id/{orgId}/{userId}: who the session's user is. */
export function identity(ctx: Ctx, store: OrgStore, parts: string[]): [number, unknown] {
  const token = bearer(ctx.req);
  const session = token ? store.session(token) : undefined;
  if (!session) return [403, 'Bad_OAuth_Token'];
  const userId = session.userId ?? store.users.integration;
  if (parts[0] !== store.orgId || parts[1] !== userId) throw notFound();
  const user = store.get('User', userId);
  const username = String(user?.Username ?? USERNAMES.integration);
  const base = ctx.baseUrl;
  return [200, {
    id: `${base}/id/${store.orgId}/${userId}`, user_id: userId, organization_id: store.orgId,
    username, display_name: String(user?.Name ?? username), email: username,
    active: true, user_type: 'STANDARD', language: 'en_US', locale: 'en_US', utcOffset: 0,
    urls: { rest: `${base}/services/data/v{version}/`, query: `${base}/services/data/v{version}/query/`, sobjects: `${base}/services/data/v{version}/sobjects/` },
  }];
}
