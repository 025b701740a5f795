/**
 * The Salesforce stand-in: a local HTTP server that answers the Salesforce REST API calls
 * jsforce 3.x makes for this product (OAuth2 token endpoint, sObject create / retrieve /
 * update / upsert / delete, describe, SOQL query with pagination, sObject Collections,
 * limits), with Salesforce's status codes, bodies and headers, so that the same product code
 * runs against a real org when real credentials are given.
 *
 * Beside the Salesforce paths it has a control API under /__standin/ for tests only (health,
 * request log, fault injection, reset); the product never calls it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalizeId } from './ids.ts';
import type { SObjectDef } from './schema.ts';
import { SOBJECTS, findField, findSObject } from './schema.ts';
import { SoqlError, parseSoql, runQuery, type StoredRecord } from './soql.ts';
import { OrgStore, type RecordError } from './store.ts';

/** Credentials of the stand-in org's integration user and connected app. */
export const STANDIN_CREDENTIALS = Object.freeze({
  username: 'pdm-integration@example.com',
  password: 'pdm-local-password',
  clientId: 'pdm-local-client-id',
  clientSecret: 'pdm-local-client-secret',
});

/** API versions the stand-in accepts in `/services/data/vXX.X/` (inclusive). */
export const MIN_API_VERSION = 40;
export const MAX_API_VERSION = 64;
/** Records per query page unless `Sforce-Query-Options: batchSize=N` asks for fewer (Salesforce's default). */
const DEFAULT_QUERY_BATCH = 2000;
/** sObject Collections limit per request (Salesforce's). */
const MAX_COLLECTION = 200;
/** Query cursors are dropped after this long unused (Salesforce keeps them about 15 minutes). */
const CURSOR_TTL_MS = 15 * 60_000;
/** Entries kept in the request log served at /__standin/requests. */
const REQUEST_LOG_SIZE = 1000;

/** Kinds of injected failure (see POST /__standin/faults). */
export type FaultKind = 'http500' | 'http503' | 'http429' | 'request_limit' | 'expired_session' | 'slow';

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
  /** For http503/http500: answer with an HTML page (as a CDN or maintenance page does) instead of a JSON error. */
  html?: boolean;
}

interface ActiveFault extends Required<Omit<FaultSpec, 'method' | 'html'>> {
  method?: string;
  html: boolean;
}

/** One line of the request log. */
export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  fault?: FaultKind;
}

/** Options of startServer. */
export interface ServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Folder for the org's data file (created when missing). */
  dataDir: string;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Daily API request limit reported in Sforce-Limit-Info and enforced (default 15000). */
  apiLimit?: number;
  /** Where to print one line per request (default: nowhere). */
  log?: (line: string) => void;
}

/** A running stand-in. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`: both the login URL and the instance URL. */
  url: string;
  port: number;
  store: OrgStore;
  /** Stops accepting, ends idle connections, flushes data; resolves when closed. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const restError = (status: number, errorCode: string, message: string, fields?: string[]): HttpError =>
  new HttpError(status, [{ message, errorCode, ...(fields ? { fields } : {}) }]);
const notFound = (): HttpError => restError(404, 'NOT_FOUND', 'The requested resource does not exist');
const recordErrors = (status: number, errors: RecordError[]): HttpError =>
  new HttpError(status, errors.map((e) => ({ message: e.message, errorCode: e.errorCode, ...(e.fields ? { fields: e.fields } : {}) })));

interface Ctx {
  req: IncomingMessage;
  url: URL;
  version: string;
  body: Buffer;
}

/** Starts the stand-in on 127.0.0.1:`port` with its data in `dataDir`. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const store = new OrgStore(opts.dataDir);
  const apiLimit = opts.apiLimit ?? 15000;
  const host = opts.host ?? '127.0.0.1';
  const faults: ActiveFault[] = [];
  const requestLog: RequestLogEntry[] = [];
  const cursors = new Map<string, { rows: unknown[]; totalSize: number; version: string; touched: number }>();
  let baseUrl = '';

  const takeFault = (method: string, path: string, kinds: FaultKind[]): ActiveFault | undefined => {
    const f = faults.find((x) => kinds.includes(x.kind) && x.count > 0 && path.includes(x.pathContains) && (!x.method || x.method === method));
    if (!f) return undefined;
    f.count -= 1;
    if (f.count === 0) faults.splice(faults.indexOf(f), 1);
    return { ...f };
  };

  const recordUrl = (version: string, type: string, id: string): string => `/services/data/v${version}/sobjects/${type}/${id}`;

  const project = (version: string, obj: SObjectDef, rec: StoredRecord, fieldNames?: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = { attributes: { type: obj.name, url: recordUrl(version, obj.name, String(rec.Id)) } };
    const names = fieldNames ?? obj.fields.map((f) => f.name);
    for (const n of names) out[n] = rec[n] ?? null;
    return out;
  };

  const parseJsonBody = (ctx: Ctx): unknown => {
    const text = ctx.body.toString('utf8');
    if (text.trim() === '') throw restError(400, 'JSON_PARSER_ERROR', 'No content to map to Object due to end of input');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw restError(400, 'JSON_PARSER_ERROR', `Unexpected character in JSON: ${(err as Error).message}`);
    }
  };
  const objectBody = (ctx: Ctx): Record<string, unknown> => {
    const b = parseJsonBody(ctx);
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      throw restError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of SObject from ${Array.isArray(b) ? 'START_ARRAY' : 'VALUE_STRING'} value or request may be missing a required field`);
    }
    return b as Record<string, unknown>;
  };
  const sobjectOr404 = (name: string | undefined): SObjectDef => {
    const o = name ? findSObject(name) : undefined;
    if (!o) throw notFound();
    return o;
  };

  // ---------- writes shared by single-record and collection calls ----------

  type SaveResult = { id?: string; success: boolean; errors: RecordError[]; created?: boolean; status: number };

  const doCreate = (obj: SObjectDef, body: Record<string, unknown>): SaveResult => {
    const c = store.check(obj, body);
    if (!c.ok) return { success: false, errors: c.errors, status: 400 };
    const rec = store.insert(obj, c.values);
    return { id: String(rec.Id), success: true, errors: [], status: 201 };
  };

  const doUpdate = (obj: SObjectDef, id: string, body: Record<string, unknown>): SaveResult => {
    const rec = store.get(obj.name, id);
    if (!rec) {
      const malformed = !normalizeId(id);
      return {
        success: false,
        status: 404,
        errors: [malformed
          ? { errorCode: 'MALFORMED_ID', message: `${obj.label} ID: id value of incorrect type: ${id}`, fields: ['Id'] }
          : { errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }],
      };
    }
    const c = store.check(obj, body, rec);
    if (!c.ok) return { id: String(rec.Id), success: false, errors: c.errors, status: 400 };
    store.update(obj, rec, c.values);
    return { id: String(rec.Id), success: true, errors: [], status: 204 };
  };

  const doUpsert = (obj: SObjectDef, fieldName: string, value: string, bodyIn: Record<string, unknown>, updateOnly: boolean): SaveResult => {
    const field = findField(obj, fieldName);
    if (!field) {
      return { success: false, status: 404, errors: [{ errorCode: 'NOT_FOUND', message: `Provided external ID field does not exist or is not accessible: ${fieldName}` }] };
    }
    if (!field.externalId && field.name !== 'Id') {
      return { success: false, status: 400, errors: [{ errorCode: 'INVALID_FIELD', message: `Field ${field.name} is not an external id field on ${obj.name}`, fields: [field.name] }] };
    }
    const body = { ...bodyIn };
    for (const k of Object.keys(body)) {
      if (k.toLowerCase() !== field.name.toLowerCase()) continue;
      if (String(body[k]).toLowerCase() !== value.toLowerCase()) {
        return {
          success: false, status: 400,
          errors: [{ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', message: `Unable to create/update fields: ${field.name}. The external ID in the body differs from the one in the URL.`, fields: [field.name] }],
        };
      }
      delete body[k];
    }
    const matches = field.name === 'Id' ? [store.get(obj.name, value)].filter((r): r is StoredRecord => !!r) : store.findBy(obj.name, field, value);
    if (matches.length > 1) return { success: false, status: 300, errors: [{ errorCode: 'MULTIPLE_CHOICES', message: matches.map((m) => String(m.Id)).join(',') }] };
    const existing = matches[0];
    if (existing) {
      const r = doUpdate(obj, String(existing.Id), body);
      return { ...r, created: false, status: r.success ? 200 : r.status };
    }
    if (updateOnly || field.name === 'Id') return { success: false, status: 404, errors: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    const r = doCreate(obj, { ...body, [field.name]: value });
    return { ...r, created: r.success ? true : undefined };
  };

  // ---------- route handlers ----------

  const tokenEndpoint = async (ctx: Ctx): Promise<[number, unknown]> => {
    const p = new URLSearchParams(ctx.body.toString('utf8'));
    const grant = p.get('grant_type');
    const fail = (error: string, description: string, status = 400): [number, unknown] => [status, { error, error_description: description }];
    if (!grant) return fail('unsupported_grant_type', 'grant type not supported');
    const clientOk = p.get('client_id') === STANDIN_CREDENTIALS.clientId;
    const secretOk = p.get('client_secret') === STANDIN_CREDENTIALS.clientSecret;
    if (!['password', 'client_credentials', 'refresh_token'].includes(grant)) return fail('unsupported_grant_type', 'grant type not supported');
    if (!clientOk) return fail('invalid_client_id', 'client identifier invalid');
    if (grant === 'password') {
      if (!secretOk) return fail('invalid_client', 'invalid client credentials');
      if (p.get('username') !== STANDIN_CREDENTIALS.username || p.get('password') !== STANDIN_CREDENTIALS.password) {
        return fail('invalid_grant', 'authentication failure');
      }
    } else if (grant === 'client_credentials') {
      if (!secretOk) return fail('invalid_client', 'invalid client credentials');
    } else {
      // A refresh token alone identifies the user; the secret is checked when sent.
      if (p.has('client_secret') && !secretOk) return fail('invalid_client', 'invalid client credentials');
      if (!store.hasRefreshToken(p.get('refresh_token') ?? '')) return fail('invalid_grant', 'expired access/refresh token');
    }
    const s = store.newSession();
    await store.save();
    const issuedAt = String(s.issuedAt);
    const idUrl = `${baseUrl}/id/${store.orgId}/${store.userId}`;
    const signature = randomBytes(32).toString('base64');
    return [200, {
      access_token: s.accessToken,
      ...(grant === 'client_credentials' ? { scope: 'api' } : {}),
      instance_url: baseUrl,
      id: idUrl,
      token_type: 'Bearer',
      issued_at: issuedAt,
      signature,
    }];
  };

  const bearer = (req: IncomingMessage): string | undefined => {
    const h = req.headers.authorization ?? '';
    const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(h);
    return m?.[1];
  };

  const describe = (obj: SObjectDef, version: string): Record<string, unknown> => ({
    name: obj.name, label: obj.label, labelPlural: obj.labelPlural, keyPrefix: obj.keyPrefix,
    custom: false, createable: true, updateable: true, deletable: true, queryable: true, retrieveable: true,
    childRelationships: [],
    urls: { sobject: `/services/data/v${version}/sobjects/${obj.name}`, describe: `/services/data/v${version}/sobjects/${obj.name}/describe`, rowTemplate: `/services/data/v${version}/sobjects/${obj.name}/{ID}` },
    fields: obj.fields.map((f) => ({
      name: f.name, label: f.label, type: f.type, custom: !!f.custom,
      length: f.length ?? (f.type === 'id' || f.type === 'reference' ? 18 : 0),
      precision: f.precision ?? 0, scale: f.scale ?? 0,
      externalId: !!f.externalId, unique: !!f.unique, idLookup: f.type === 'id' || !!f.externalId,
      createable: !f.readOnly, updateable: !f.readOnly, nillable: !f.readOnly && f.type !== 'boolean',
      filterable: f.type !== 'textarea', sortable: f.type !== 'textarea',
      defaultValue: f.defaultValue ?? null, defaultedOnCreate: f.defaultValue !== undefined || !!f.readOnly,
      referenceTo: f.referenceTo ? [...f.referenceTo] : [],
      relationshipName: f.type === 'reference' ? f.name.replace(/Id$/, '') : null,
      picklistValues: (f.picklistValues ?? []).map((v) => ({ active: true, defaultValue: v === f.defaultValue, label: v, value: v, validFor: null })),
    })),
  });

  const queryPage = (id: string, start: number, batch: number): Record<string, unknown> => {
    const c = cursors.get(id);
    if (!c || start >= c.rows.length) throw restError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    c.touched = Date.now();
    const end = Math.min(start + batch, c.rows.length);
    const done = end >= c.rows.length;
    if (done) cursors.delete(id);
    return {
      totalSize: c.totalSize,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${c.version}/query/${id}-${end}` }),
      records: c.rows.slice(start, end),
    };
  };

  const batchSize = (req: IncomingMessage): number => {
    const m = /batchSize\s*=\s*(\d+)/i.exec(String(req.headers['sforce-query-options'] ?? ''));
    const n = m ? Number(m[1]) : DEFAULT_QUERY_BATCH;
    return Math.min(DEFAULT_QUERY_BATCH, Math.max(200, n));
  };

  const collectionResult = (r: SaveResult, withCreated: boolean): Record<string, unknown> => ({
    ...(r.id ? { id: r.id } : {}),
    success: r.success,
    errors: r.errors.map((e) => ({ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] })),
    ...(withCreated && r.success ? { created: r.created ?? false } : {}),
  });

  /** Runs `ops` in order; with allOrNone, any failure rolls every write back (restoring the store). */
  const runCollection = async (
    allOrNone: boolean,
    ops: (() => SaveResult)[],
    withCreated: boolean,
  ): Promise<Record<string, unknown>[]> => {
    const before = allOrNone ? store.snapshot() : undefined;
    const results = ops.map((op) => op());
    if (before && results.some((r) => !r.success)) {
      store.restore(before);
      return results.map((r) => r.success
        ? { success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] }
        : collectionResult(r, false));
    }
    if (results.some((r) => r.success)) await store.save();
    return results.map((r) => collectionResult(r, withCreated));
  };
  const collectionRecords = (body: Record<string, unknown>): Record<string, unknown>[] => {
    const records = body.records;
    if (!Array.isArray(records)) throw restError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of SObject[] or request may be missing a required field');
    if (records.length > MAX_COLLECTION) throw restError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    return records as Record<string, unknown>[];
  };
  const typeOf = (rec: Record<string, unknown>): SObjectDef | undefined => {
    const a = rec.attributes as { type?: string } | undefined;
    return a?.type ? findSObject(a.type) : undefined;
  };
  const withoutMeta = (rec: Record<string, unknown>, ...drop: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) if (k !== 'attributes' && !drop.includes(k.toLowerCase())) out[k] = v;
    return out;
  };
  const missingType = (): SaveResult => ({ success: false, status: 400, errors: [{ errorCode: 'INVALID_TYPE', message: 'Must send a concrete entity type.' }] });

  const dataApi = async (ctx: Ctx, rest: string[]): Promise<[number, unknown, Record<string, string>?]> => {
    const { req, url, version } = ctx;
    const method = req.method ?? 'GET';
    const major = Number(version);
    const [head, ...tail] = rest;
    if (head === undefined || head === '') {
      if (method !== 'GET') throw restError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET`);
      const r = (p: string): string => `/services/data/v${version}/${p}`;
      return [200, { sobjects: r('sobjects'), query: r('query'), queryAll: r('queryAll'), limits: r('limits'), composite: r('composite'), identity: `${baseUrl}/id/${store.orgId}/${store.userId}` }];
    }
    if (head === 'limits' && method === 'GET') {
      return [200, { DailyApiRequests: { Max: apiLimit, Remaining: Math.max(0, apiLimit - store.apiUsage) } }];
    }
    if ((head === 'query' || head === 'queryAll') && method === 'GET') {
      if (tail.length === 1) {
        const m = /^(01g[A-Za-z0-9]+)-(\d+)$/.exec(tail[0] ?? '');
        if (!m) throw restError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
        return [200, queryPage(m[1]!, Number(m[2]), batchSize(req))];
      }
      const q = url.searchParams.get('q');
      if (q === null) throw restError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
      let parsed;
      try {
        parsed = parseSoql(q);
      } catch (err) {
        if (err instanceof SoqlError) throw restError(400, err.errorCode, err.message);
        throw err;
      }
      const rows = runQuery(parsed, store.all(parsed.object.name));
      if (parsed.count) return [200, { totalSize: rows.length, done: true, records: [] }];
      const names = parsed.fields.map((f) => f.name);
      const projected = rows.map((r) => project(version, parsed.object, r, names));
      const id = `01g0R${randomBytes(8).toString('hex').slice(0, 13)}`;
      cursors.set(id, { rows: projected, totalSize: projected.length, version, touched: Date.now() });
      if (projected.length === 0) { cursors.delete(id); return [200, { totalSize: 0, done: true, records: [] }]; }
      return [200, queryPage(id, 0, batchSize(req))];
    }
    if (head === 'sobjects') {
      if (tail.length === 0) {
        if (method !== 'GET') throw notFound();
        return [200, {
          encoding: 'UTF-8', maxBatchSize: MAX_COLLECTION,
          sobjects: Object.values(SOBJECTS).map((o) => ({ name: o.name, label: o.label, labelPlural: o.labelPlural, keyPrefix: o.keyPrefix, custom: false, createable: true, updateable: true, queryable: true, urls: { sobject: `/services/data/v${version}/sobjects/${o.name}` } })),
        }];
      }
      const obj = sobjectOr404(tail[0]);
      if (tail.length === 1) {
        if (method === 'GET') return [200, { objectDescribe: { name: obj.name, label: obj.label, keyPrefix: obj.keyPrefix }, recentItems: [] }];
        if (method === 'POST') {
          const r = doCreate(obj, objectBody(ctx));
          if (!r.success) throw recordErrors(r.status, r.errors);
          await store.save();
          return [201, { id: r.id, success: true, errors: [] }, { Location: recordUrl(version, obj.name, r.id!) }];
        }
        throw restError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,HEAD,POST`);
      }
      if (tail.length === 2 && tail[1] === 'describe' && method === 'GET') return [200, describe(obj, version)];
      if (tail.length === 2) {
        const id = decodeURIComponent(tail[1]!);
        if (!normalizeId(id) || normalizeId(id)!.slice(0, 3) !== obj.keyPrefix) {
          // Salesforce reads a segment that is not an id of this object as an external id field name.
          throw restError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${id}`);
        }
        if (method === 'GET') {
          const rec = store.get(obj.name, id);
          if (!rec) throw notFound();
          const fieldsParam = url.searchParams.get('fields');
          let names: string[] | undefined;
          if (fieldsParam) {
            names = fieldsParam.split(',').map((n) => n.trim()).filter((n) => n !== '').map((n) => {
              const f = findField(obj, n);
              if (!f) throw restError(400, 'INVALID_FIELD', `No such column '${n}' on entity '${obj.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
              return f.name;
            });
          }
          return [200, project(version, obj, rec, names)];
        }
        if (method === 'PATCH') {
          const r = doUpdate(obj, id, objectBody(ctx));
          if (r.status === 404) throw notFound();
          if (!r.success) throw recordErrors(r.status, r.errors);
          await store.save();
          return [204, undefined];
        }
        if (method === 'DELETE') {
          if (!store.delete(obj.name, id)) throw notFound();
          await store.save();
          return [204, undefined];
        }
        throw restError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,HEAD,PATCH,DELETE`);
      }
      if (tail.length === 3) {
        const fieldName = decodeURIComponent(tail[1]!);
        const value = decodeURIComponent(tail[2]!);
        if (method === 'PATCH') {
          const r = doUpsert(obj, fieldName, value, objectBody(ctx), url.searchParams.get('updateOnly') === 'true');
          if (r.status === 300) {
            const ids = r.errors[0]!.message.split(',');
            return [300, ids.map((i) => recordUrl(version, obj.name, i))];
          }
          if (!r.success) throw recordErrors(r.status, r.errors);
          await store.save();
          if (major < 46) return r.created ? [201, { id: r.id, success: true, errors: [] }] : [204, undefined];
          return [r.created ? 201 : 200, { id: r.id, success: true, errors: [], created: !!r.created }];
        }
        if (method === 'GET' || method === 'DELETE') {
          const field = findField(obj, fieldName);
          if (!field || !field.externalId) throw restError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${fieldName}`);
          const found = store.findBy(obj.name, field, value);
          if (found.length > 1) return [300, found.map((f) => recordUrl(version, obj.name, String(f.Id)))];
          const rec = found[0];
          if (!rec) throw notFound();
          if (method === 'GET') return [200, project(version, obj, rec)];
          store.delete(obj.name, String(rec.Id));
          await store.save();
          return [204, undefined];
        }
      }
      throw notFound();
    }
    if (head === 'composite' && tail[0] === 'sobjects') {
      if (major < 42) throw notFound();
      if (tail.length === 1 && method === 'POST') {
        const body = objectBody(ctx);
        const recs = collectionRecords(body);
        return [200, await runCollection(body.allOrNone === true, recs.map((rec) => () => {
          const obj = typeOf(rec);
          if (!obj) return missingType();
          if (Object.keys(rec).some((k) => k.toLowerCase() === 'id')) {
            return { success: false, status: 400, errors: [{ errorCode: 'INVALID_FIELD', message: 'cannot specify Id in an insert call', fields: ['Id'] }] };
          }
          return doCreate(obj, withoutMeta(rec));
        }), false)];
      }
      if (tail.length === 1 && method === 'PATCH') {
        const body = objectBody(ctx);
        const recs = collectionRecords(body);
        return [200, await runCollection(body.allOrNone === true, recs.map((rec) => () => {
          const obj = typeOf(rec);
          if (!obj) return missingType();
          const idKey = Object.keys(rec).find((k) => k.toLowerCase() === 'id');
          const id = idKey ? String(rec[idKey]) : '';
          if (!id) return { success: false, status: 400, errors: [{ errorCode: 'MISSING_ARGUMENT', message: 'Id not specified in an update call', fields: [] }] };
          const r = doUpdate(obj, id, withoutMeta(rec, 'id'));
          return { ...r, id: r.id ?? id };
        }), false)];
      }
      if (tail.length === 1 && method === 'DELETE') {
        const ids = (url.searchParams.get('ids') ?? '').split(',').filter((s) => s !== '');
        if (ids.length > MAX_COLLECTION) throw restError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
        return [200, await runCollection(url.searchParams.get('allOrNone') === 'true', ids.map((id) => () => {
          const full = normalizeId(id);
          const obj = full ? Object.values(SOBJECTS).find((o) => o.keyPrefix === full.slice(0, 3)) : undefined;
          if (!full || !obj) return { id, success: false, status: 400, errors: [{ errorCode: 'MALFORMED_ID', message: `malformed id ${id}`, fields: [] }] };
          if (!store.delete(obj.name, full)) return { id: full, success: false, status: 404, errors: [{ errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] };
          return { id: full, success: true, errors: [], status: 200 };
        }), false)];
      }
      if (tail.length === 2 && method === 'POST') {
        const obj = sobjectOr404(tail[1]);
        const body = objectBody(ctx);
        const ids = Array.isArray(body.ids) ? (body.ids as unknown[]).map(String) : [];
        const fields = Array.isArray(body.fields) ? (body.fields as unknown[]).map(String) : [];
        const names = fields.map((n) => {
          const f = findField(obj, n);
          if (!f) throw restError(400, 'INVALID_FIELD', `No such column '${n}' on entity '${obj.name}'.`);
          return f.name;
        });
        return [200, ids.map((id) => {
          const rec = store.get(obj.name, id);
          return rec ? project(version, obj, rec, names) : null;
        })];
      }
      if (tail.length === 3 && method === 'PATCH') {
        if (major < 46) throw notFound();
        const obj = sobjectOr404(tail[1]);
        const fieldName = decodeURIComponent(tail[2]!);
        const body = objectBody(ctx);
        const recs = collectionRecords(body);
        const field = findField(obj, fieldName);
        return [200, await runCollection(body.allOrNone === true, recs.map((rec) => () => {
          const key = field ? Object.keys(rec).find((k) => k.toLowerCase() === field.name.toLowerCase()) : undefined;
          const value = key ? rec[key] : undefined;
          if (value === undefined || value === null) {
            return { success: false, status: 400, errors: [{ errorCode: 'MISSING_ARGUMENT', message: `${fieldName} not specified`, fields: [] }] };
          }
          const r = doUpsert(obj, fieldName, String(value), withoutMeta(rec), false);
          if (r.status === 300) return { success: false, status: 300, errors: [{ errorCode: 'DUPLICATE_EXTERNAL_ID', message: `${fieldName}: more than one record found for external id field: [${r.errors[0]!.message}]`, fields: [] }] };
          return r;
        }), true)];
      }
    }
    throw notFound();
  };

  const identity = (req: IncomingMessage, parts: string[]): [number, unknown] => {
    const token = bearer(req);
    if (!token || !store.hasSession(token)) return [403, 'Bad_OAuth_Token'];
    if (parts[0] !== store.orgId || parts[1] !== store.userId) throw notFound();
    return [200, {
      id: `${baseUrl}/id/${store.orgId}/${store.userId}`, user_id: store.userId, organization_id: store.orgId,
      username: STANDIN_CREDENTIALS.username, display_name: 'PdM Integration', email: STANDIN_CREDENTIALS.username,
      active: true, user_type: 'STANDARD', language: 'en_US', locale: 'en_US', utcOffset: 0,
      urls: { rest: `${baseUrl}/services/data/v{version}/`, query: `${baseUrl}/services/data/v{version}/query/`, sobjects: `${baseUrl}/services/data/v{version}/sobjects/` },
    }];
  };

  const control = async (ctx: Ctx, sub: string): Promise<[number, unknown]> => {
    const method = ctx.req.method ?? 'GET';
    if (sub === 'health' && method === 'GET') return [200, { status: 'ok', orgId: store.orgId, records: Object.fromEntries(Object.keys(SOBJECTS).map((t) => [t, [...store.all(t)].length])) }];
    if (sub === 'requests' && method === 'GET') {
      const limit = Number(ctx.url.searchParams.get('limit') ?? REQUEST_LOG_SIZE);
      return [200, requestLog.slice(-Math.max(1, limit))];
    }
    if (sub === 'faults' && method === 'GET') return [200, faults];
    if (sub === 'faults' && method === 'POST') {
      const spec = (ctx.body.length > 0 ? JSON.parse(ctx.body.toString('utf8')) : {}) as FaultSpec;
      const kinds: FaultKind[] = ['http500', 'http503', 'http429', 'request_limit', 'expired_session', 'slow'];
      if (!kinds.includes(spec.kind)) return [400, { error: `kind must be one of ${kinds.join(', ')}` }];
      const count = spec.count ?? 1;
      if (!Number.isInteger(count) || count < 1) return [400, { error: 'count must be a positive integer' }];
      const f: ActiveFault = {
        kind: spec.kind, count, delayMs: spec.delayMs ?? 1000, pathContains: spec.pathContains ?? '/services/data/',
        html: spec.html === true, ...(spec.method ? { method: spec.method.toUpperCase() } : {}),
      };
      faults.push(f);
      return [201, f];
    }
    if (sub === 'reset' && method === 'POST') {
      const spec = (ctx.body.length > 0 ? JSON.parse(ctx.body.toString('utf8')) : {}) as { records?: boolean };
      faults.length = 0;
      requestLog.length = 0;
      if (spec.records) {
        store.clearRecords();
        await store.save();
      }
      return [200, { reset: true, records: !!spec.records }];
    }
    if (sub === 'refresh-token' && method === 'POST') {
      // Stands for a refresh token obtained out of band (web-server or device flow in a browser).
      const t = store.newRefreshToken();
      await store.save();
      return [201, { refresh_token: t }];
    }
    return [404, { error: `no control endpoint ${method} /__standin/${sub}` }];
  };

  const faultResponse = (f: ActiveFault): HttpError => {
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
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<{ status: number; fault?: FaultKind }> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const ctx: Ctx = { req, url, version: '', body: Buffer.concat(chunks) };
    const isApi = path.startsWith('/services/data/v');
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
        const [status, body] = await control(ctx, path.slice('/__standin/'.length));
        return send(status, body);
      }
      if (path.startsWith('/services/')) {
        const f = takeFault(method, path, ['slow', 'http500', 'http503', 'http429', 'request_limit']);
        if (f) {
          faultKind = f.kind;
          if (f.kind === 'slow') await new Promise((r) => setTimeout(r, f.delayMs));
          else throw faultResponse(f);
        }
      }
      if (path === '/services/oauth2/token' && method === 'POST') {
        const [status, body] = await tokenEndpoint(ctx);
        return send(status, body, { 'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private' });
      }
      if (path === '/services/oauth2/revoke' && method === 'POST') {
        const token = new URLSearchParams(ctx.body.toString('utf8')).get('token') ?? '';
        store.revokeSession(token);
        await store.save();
        return send(200, undefined);
      }
      if (path === '/services/data' || path === '/services/data/') {
        const versions = [];
        for (let v = MIN_API_VERSION; v <= MAX_API_VERSION; v++) versions.push({ label: `v${v}`, url: `/services/data/v${v}.0`, version: `${v}.0` });
        return send(200, versions);
      }
      if (path.startsWith('/id/')) {
        const [status, body] = identity(req, path.split('/').slice(2));
        return typeof body === 'string' ? send(status, body, { 'Content-Type': 'text/plain' }) : send(status, body);
      }
      if (isApi) {
        const m = /^\/services\/data\/v(\d+\.\d)(?:\/(.*))?$/.exec(path);
        const v = m ? Number(m[1]) : NaN;
        if (!m || v < MIN_API_VERSION || v > MAX_API_VERSION) throw notFound();
        ctx.version = m[1]!;
        const token = bearer(req);
        if (!token || !store.hasSession(token)) throw restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        const expire = takeFault(method, path, ['expired_session']);
        if (expire) {
          faultKind = expire.kind;
          store.revokeSession(token);
          await store.save();
          throw restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        }
        usage = store.countApiCall();
        if (usage > apiLimit) throw restError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
        const [status, body, headers] = await dataApi(ctx, (m[2] ?? '').split('/').filter((s, i, a) => s !== '' || i < a.length - 1));
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

  const server: Server = createServer((req, res) => {
    const t0 = Date.now();
    handle(req, res).then(
      ({ status, fault }) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        if (!path.startsWith('/__standin/')) {
          requestLog.push({ at: new Date(t0).toISOString(), method: req.method ?? 'GET', path, status, ms: Date.now() - t0, ...(fault ? { fault } : {}) });
          if (requestLog.length > REQUEST_LOG_SIZE) requestLog.splice(0, requestLog.length - REQUEST_LOG_SIZE);
        }
        opts.log?.(`${new Date(t0).toISOString()} ${req.method} ${req.url} ${status} ${Date.now() - t0}ms${fault ? ` fault=${fault}` : ''}`);
      },
      (err: unknown) => {
        opts.log?.(`salesforce stand-in: request failed: ${String(err)}`);
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, c] of cursors) if (now - c.touched > CURSOR_TTL_MS) cursors.delete(id);
  }, 60_000);
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host}:${port}`;
  return {
    url: baseUrl,
    port,
    store,
    close: async () => {
      clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await store.save();
    },
  };
}
