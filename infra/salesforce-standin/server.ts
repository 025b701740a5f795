/**
 * The Salesforce stand-in: a local HTTP server that answers the Salesforce REST API calls
 * jsforce 3.x makes for this product, with Salesforce's status codes, bodies and headers, so
 * that the same product code runs against a real org when real credentials are given.
 *
 * Like an org with My Domain it has two hosts, each on its own port: the login host
 * (login.salesforce.com's role: password and refresh-token grants) and the org's My Domain
 * host (the instance: every grant including client credentials, and the REST data API).
 * Routes live by concern: oauth.ts (token endpoint, identity), data-api.ts (sObjects, SOQL,
 * collections), org-rules.ts (validation and assignment), access.ts (strict mode),
 * faults.ts and control-api.ts (test-only control under /__standin/ on both hosts).
 *
 * Strict mode (`strict: true`) behaves like a real org, not only like its wire format: the
 * integration user's access comes from the shipped permission set, password logins need the
 * security token, and platform rules the local demo data predates apply.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIELD_SERVICE_PERMISSION_SET_FILE, FULL_ACCESS, PERMISSION_SET_FILE, permissionSetAccess, type Access } from './access.ts';
import { controlApi, type RequestLogEntry } from './control-api.ts';
import { createDataApi } from './data-api.ts';
import { Faults, faultResponse, type FaultKind } from './faults.ts';
import { HttpError, notFound, restError, type Caller, type Ctx, type HostRole } from './http.ts';
import { bearer, identity, tokenEndpoint } from './oauth.ts';
import { FIELD_SERVICE_OBJECTS_DIR, loadValidationRules, METADATA_OBJECTS_DIR, OrgRules } from './org-rules.ts';
import { OrgStore } from './store.ts';

export { STANDIN_CREDENTIALS } from './oauth.ts';
export type { FaultKind, FaultSpec } from './faults.ts';
export type { RequestLogEntry } from './control-api.ts';

/** API versions the stand-in accepts in `/services/data/vXX.X/` (inclusive). */
export const MIN_API_VERSION = 40;
export const MAX_API_VERSION = 64;
/** Entries kept in the request log served at /__standin/requests. */
const REQUEST_LOG_SIZE = 1000;

/** Options of startServer. */
export interface ServerOptions {
  /** TCP port of the login host on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** TCP port of the org's My Domain (instance) host; default 0, a free one. */
  instancePort?: number;
  /** Folder for the org's data file (created when missing). */
  dataDir: string;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Daily API request limit reported in Sforce-Limit-Info and enforced (default 15000). */
  apiLimit?: number;
  /** Behave like a real org (see the file comment). Default false. */
  strict?: boolean;
  /** The org has Field Service: WorkOrder and ServiceAppointment exist. Default true. */
  fieldService?: boolean;
  /** The connected app has a client-credentials run-as user. Default true. */
  clientCredentialsUser?: boolean;
  /** Permission sets of the integration user in strict mode (default: the ones in infra/salesforce/, the Field Service one only with fieldService). */
  permissionSetFiles?: string[];
  /** Where to print one line per request (default: nowhere). */
  log?: (line: string) => void;
}

/** A running stand-in. */
export interface RunningServer {
  /** The login host, `http://127.0.0.1:<port>` (same as loginUrl; kept for callers that log in). */
  url: string;
  /** Where a client logs in with a password or refresh token. */
  loginUrl: string;
  /** The org's My Domain host: the instance_url of every session, and the client-credentials login URL. */
  instanceUrl: string;
  port: number;
  instancePort: number;
  store: OrgStore;
  /** Stops accepting, ends idle connections, flushes data; resolves when closed. */
  close(): Promise<void>;
}

/** Starts the stand-in's two hosts on 127.0.0.1 with its data in `dataDir`. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const store = new OrgStore(opts.dataDir);
  const apiLimit = opts.apiLimit ?? 15000;
  const bindHost = opts.host ?? '127.0.0.1';
  const strict = opts.strict === true;
  const fieldService = opts.fieldService !== false;
  const integrationAccess: Access = strict
    ? permissionSetAccess(opts.permissionSetFiles ?? [PERMISSION_SET_FILE, ...(fieldService ? [FIELD_SERVICE_PERMISSION_SET_FILE] : [])])
    : FULL_ACCESS;
  const faults = new Faults();
  const rules = new OrgRules(loadValidationRules([METADATA_OBJECTS_DIR, ...(fieldService ? [FIELD_SERVICE_OBJECTS_DIR] : [])]));
  const requestLog: RequestLogEntry[] = [];
  const urls: Record<HostRole, string> = { login: '', instance: '' };
  const data = createDataApi({ store, faults, rules, strict, fieldService, apiLimit, instanceUrl: () => urls.instance });
  const authOptions = { strict, clientCredentialsUser: opts.clientCredentialsUser !== false };

  const handle = async (req: IncomingMessage, res: ServerResponse, host: HostRole): Promise<{ status: number; fault?: FaultKind }> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', urls[host]);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const ctx: Ctx = { req, url, version: '', body: Buffer.concat(chunks), host, baseUrl: urls[host] };
    let usage = store.apiUsage;
    let faultKind: FaultKind | undefined;

    const send = (status: number, body: unknown, headers: Record<string, string> = {}): { status: number; fault?: FaultKind } => {
      const h: Record<string, string> = { 'Sforce-Limit-Info': `api-usage=${usage}/${apiLimit}`, ...headers };
      if (status === 204 || body === undefined) {
        res.writeHead(status, h).end();
      } else if (typeof body === 'string' && h['Content-Type']) {
        res.writeHead(status, h).end(body);
      } else {
        res.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', ...h }).end(JSON.stringify(body));
      }
      return { status, ...(faultKind ? { fault: faultKind } : {}) };
    };

    try {
      if (path.startsWith('/__standin/')) {
        const [status, body] = await controlApi(ctx, path.slice('/__standin/'.length), { store, faults, rules, requestLog, logSize: REQUEST_LOG_SIZE });
        return send(status, body);
      }
      // A slow answer is held once the request was accepted (its session checked; a request
      // refused before that never reached the slow part), then the call runs: like a real
      // org, the change is made even if the client stopped waiting.
      const hold = async () => {
        const f = faults.take(method, path, ctx.body, ['slow']);
        if (!f) return;
        faultKind = f.kind;
        await new Promise((r) => setTimeout(r, f.delayMs));
      };
      if (path.startsWith('/services/')) {
        const f = faults.take(method, path, ctx.body, ['http500', 'http503', 'http429', 'request_limit']);
        if (f) {
          faultKind = f.kind;
          throw faultResponse(f);
        }
      }
      if (path === '/services/oauth2/token' && method === 'POST') {
        await hold();
        const [status, body] = await tokenEndpoint(ctx, store, urls.instance, authOptions);
        return send(status, body, { 'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private' });
      }
      if (path === '/services/oauth2/revoke' && method === 'POST') {
        store.revokeSession(new URLSearchParams(ctx.body.toString('utf8')).get('token') ?? '');
        await store.save();
        return send(200, undefined);
      }
      if (path.startsWith('/id/')) {
        const [status, body] = identity(ctx, store, path.split('/').slice(2));
        return typeof body === 'string' ? send(status, body, { 'Content-Type': 'text/plain' }) : send(status, body);
      }
      // The REST data API lives on the org's own host only; the login host serves logins.
      if (host === 'login') throw notFound();
      if (path === '/services/data' || path === '/services/data/') {
        const versions = [];
        for (let v = MIN_API_VERSION; v <= MAX_API_VERSION; v++) versions.push({ label: `v${v}`, url: `/services/data/v${v}.0`, version: `${v}.0` });
        return send(200, versions);
      }
      if (path.startsWith('/services/data/v')) {
        const m = /^\/services\/data\/v(\d+\.\d)(?:\/(.*))?$/.exec(path);
        const v = m ? Number(m[1]) : NaN;
        if (!m || v < MIN_API_VERSION || v > MAX_API_VERSION) throw notFound();
        ctx.version = m[1]!;
        const token = bearer(req);
        const session = token ? store.session(token) : undefined;
        if (!token || !session) throw restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        if (faults.take(method, path, ctx.body, ['expired_session'])) {
          faultKind = 'expired_session';
          store.revokeSession(token);
          await store.save();
          throw restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        }
        usage = store.countApiCall();
        if (usage > apiLimit) throw restError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
        await hold();
        const userId = session.userId ?? store.users.integration;
        const caller: Caller = { userId, access: userId === store.users.integration ? integrationAccess : FULL_ACCESS };
        const rest = (m[2] ?? '').split('/').filter((s, i, a) => s !== '' || i < a.length - 1);
        const [status, body, headers] = await data.handle(ctx, rest, caller);
        return send(status, body, headers);
      }
      throw notFound();
    } catch (err) {
      if (err instanceof HttpError) return send(err.status, err.body, err.headers);
      if (err instanceof SyntaxError && path.startsWith('/__standin/')) return send(400, { error: `bad JSON: ${err.message}` });
      opts.log?.(`salesforce stand-in: internal error on ${method} ${path}: ${(err as Error).stack ?? String(err)}`);
      return send(500, [{ message: `stand-in internal error: ${(err as Error).message}`, errorCode: 'UNKNOWN_EXCEPTION' }]);
    }
  };

  const serve = (host: HostRole): Server =>
    createServer((req, res) => {
      const t0 = Date.now();
      handle(req, res, host).then(
        ({ status, fault }) => {
          const path = (req.url ?? '/').split('?')[0] ?? '/';
          const assign = req.headers['sforce-auto-assign'];
          if (!path.startsWith('/__standin/')) {
            requestLog.push({
              at: new Date(t0).toISOString(), method: req.method ?? 'GET', path, status, ms: Date.now() - t0, host,
              ...(assign !== undefined ? { autoAssign: String(assign) } : {}), ...(fault ? { fault } : {}),
            });
            if (requestLog.length > REQUEST_LOG_SIZE) requestLog.splice(0, requestLog.length - REQUEST_LOG_SIZE);
          }
          opts.log?.(`${new Date(t0).toISOString()} ${host} ${req.method} ${req.url} ${status} ${Date.now() - t0}ms${fault ? ` fault=${fault}` : ''}`);
        },
        (err: unknown) => {
          opts.log?.(`salesforce stand-in: request failed: ${String(err)}`);
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
    });

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, bindHost, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = (server: Server): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeIdleConnections();
    });

  const loginServer = serve('login');
  const instanceServer = serve('instance');
  let port: number;
  let instancePort: number;
  try {
    port = await listen(loginServer, opts.port);
    instancePort = await listen(instanceServer, opts.instancePort ?? 0);
  } catch (err) {
    await close(loginServer);
    data.close();
    throw err;
  }
  urls.login = `http://${bindHost}:${port}`;
  urls.instance = `http://${bindHost}:${instancePort}`;
  return {
    url: urls.login,
    loginUrl: urls.login,
    instanceUrl: urls.instance,
    port,
    instancePort,
    store,
    close: async () => {
      data.close();
      await Promise.all([close(loginServer), close(instanceServer)]);
      await store.save();
    },
  };
}
