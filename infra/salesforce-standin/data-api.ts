/**
 * The stand-in's REST data API under /services/data/vXX.X/: describe, sObject create /
 * retrieve / update / upsert / delete, SOQL query with pagination, sObject Collections and
 * limits, with Salesforce's status codes and bodies. Every call acts as one user: what the
 * user cannot read looks absent (strict mode). Writes go through record-writes.ts (access,
 * validation, org rules, assignment, the upsert race).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Access } from './access.ts';
import { visibleObjects } from './access.ts';
import type { Faults } from './faults.ts';
import { notFound, recordErrors, restError, type Caller, type Ctx } from './http.ts';
import { normalizeId } from './ids.ts';
import { autoAssign, type OrgRules } from './org-rules.ts';
import { INSUFFICIENT_ACCESS, RecordWrites, type SaveResult } from './record-writes.ts';
import type { FieldDef, SObjectDef } from './schema.ts';
import { SOBJECTS, findField, findSObject } from './schema.ts';
import { SoqlError, parseSoql, runQuery, type StoredRecord } from './soql.ts';
import type { OrgStore } from './store.ts';

/** Records per query page unless `Sforce-Query-Options: batchSize=N` asks for fewer (Salesforce's default). */
const DEFAULT_QUERY_BATCH = 2000;
/** sObject Collections limit per request (Salesforce's). */
export const MAX_COLLECTION = 200;
/** Query cursors are dropped after this long unused (Salesforce keeps them about 15 minutes). */
const CURSOR_TTL_MS = 15 * 60_000;

/** What the data API needs from the server. */
export interface DataApiDeps {
  store: OrgStore;
  faults: Faults;
  rules: OrgRules;
  /** Platform rules a lenient stand-in skips (see org-rules.ts platformErrors). */
  strict: boolean;
  /** The org has Field Service (WorkOrder and ServiceAppointment exist). */
  fieldService: boolean;
  apiLimit: number;
  /** Base URL of the instance (My Domain) host. */
  instanceUrl(): string;
}


/** Builds the handler of data requests; `rest` is the path after /services/data/vXX.X/. */
export function createDataApi(deps: DataApiDeps): { handle(ctx: Ctx, rest: string[], caller: Caller): Promise<[number, unknown, Record<string, string>?]>; close(): void } {
  const { store } = deps;
  const writes = new RecordWrites(deps);
  const cursors = new Map<string, { rows: unknown[]; totalSize: number; version: string; touched: number }>();
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, c] of cursors) if (now - c.touched > CURSOR_TTL_MS) cursors.delete(id);
  }, 60_000);
  sweeper.unref();

  const exists = (o: SObjectDef | undefined): o is SObjectDef => !!o && (deps.fieldService || !o.fieldService);
  const visible = (o: SObjectDef | undefined, access: Access): o is SObjectDef => exists(o) && access.canRead(o);
  const recordUrl = (version: string, type: string, id: string): string => `/services/data/v${version}/sobjects/${type}/${id}`;

  const project = (version: string, obj: SObjectDef, rec: StoredRecord, access: Access, fieldNames?: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = { attributes: { type: obj.name, url: recordUrl(version, obj.name, String(rec.Id)) } };
    const names = fieldNames ?? obj.fields.filter((f) => access.canReadField(obj, f)).map((f) => f.name);
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
  const sobjectOr404 = (name: string | undefined, access: Access): SObjectDef => {
    const o = name ? findSObject(name) : undefined;
    if (!visible(o, access)) throw notFound();
    return o;
  };
  const readableField = (obj: SObjectDef, name: string, access: Access): FieldDef | undefined => {
    const f = findField(obj, name);
    return f && access.canReadField(obj, f) ? f : undefined;
  };

  // ---------- reads ----------

  const describe = (obj: SObjectDef, version: string, access: Access): Record<string, unknown> => ({
    name: obj.name, label: obj.label, labelPlural: obj.labelPlural, keyPrefix: obj.keyPrefix,
    custom: false, createable: access.canCreate(obj), updateable: access.canEdit(obj), deletable: !access.restricted, queryable: true, retrieveable: true,
    childRelationships: [],
    urls: { sobject: `/services/data/v${version}/sobjects/${obj.name}`, describe: `/services/data/v${version}/sobjects/${obj.name}/describe`, rowTemplate: `/services/data/v${version}/sobjects/${obj.name}/{ID}` },
    fields: obj.fields.filter((f) => access.canReadField(obj, f)).map((f) => ({
      name: f.name, label: f.label, type: f.type, custom: !!f.custom,
      length: f.length ?? (f.type === 'id' || f.type === 'reference' ? 18 : 0),
      byteLength: f.length !== undefined ? (f.lengthInBytes ? f.length : f.length * 3) : 0,
      precision: f.precision ?? 0, scale: f.scale ?? 0,
      externalId: !!f.externalId, unique: !!f.unique, idLookup: f.type === 'id' || !!f.externalId,
      createable: access.canEditField(obj, f), updateable: access.canEditField(obj, f) && !f.createOnly,
      nillable: !f.readOnly && f.type !== 'boolean',
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

  // ---------- collections ----------

  const collectionResult = (r: SaveResult, withCreated: boolean): Record<string, unknown> => ({
    ...(r.id ? { id: r.id } : {}),
    success: r.success,
    errors: r.errors.map((e) => ({ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] })),
    ...(withCreated && r.success ? { created: r.created ?? false } : {}),
  });

  /** Runs `ops` in order; with allOrNone, any failure rolls every write back (restoring the store). */
  const runCollection = async (allOrNone: boolean, ops: (() => SaveResult)[], withCreated: boolean): Promise<Record<string, unknown>[]> => {
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
  const withoutMeta = (rec: Record<string, unknown>, ...drop: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) if (k !== 'attributes' && !drop.includes(k.toLowerCase())) out[k] = v;
    return out;
  };
  const missingType = (): SaveResult => ({ success: false, status: 400, errors: [{ errorCode: 'INVALID_TYPE', message: 'Must send a concrete entity type.' }] });

  // ---------- routes ----------

  const handle = async (ctx: Ctx, rest: string[], caller: Caller): Promise<[number, unknown, Record<string, string>?]> => {
    const { req, url, version } = ctx;
    const { access } = caller;
    const method = req.method ?? 'GET';
    const major = Number(version);
    const assign = autoAssign(req.headers['sforce-auto-assign']);
    const typeOf = (rec: Record<string, unknown>): SObjectDef | undefined => {
      const a = rec.attributes as { type?: string } | undefined;
      const o = a?.type ? findSObject(a.type) : undefined;
      return visible(o, access) ? o : undefined;
    };
    const [head, ...tail] = rest;
    if (head === undefined || head === '') {
      if (method !== 'GET') throw restError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET`);
      const r = (p: string): string => `/services/data/v${version}/${p}`;
      return [200, { sobjects: r('sobjects'), query: r('query'), queryAll: r('queryAll'), limits: r('limits'), composite: r('composite'), identity: `${deps.instanceUrl()}/id/${store.orgId}/${caller.userId}` }];
    }
    if (head === 'limits' && method === 'GET') {
      return [200, { DailyApiRequests: { Max: deps.apiLimit, Remaining: Math.max(0, deps.apiLimit - store.apiUsage) } }];
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
        parsed = parseSoql(q, { object: (o) => visible(o, access), field: (o, f) => access.canReadField(o, f) });
      } catch (err) {
        if (err instanceof SoqlError) throw restError(400, err.errorCode, err.message);
        throw err;
      }
      const rows = runQuery(parsed, store.all(parsed.object.name));
      if (parsed.count) return [200, { totalSize: rows.length, done: true, records: [] }];
      const names = parsed.fields.map((f) => f.name);
      const projected = rows.map((r) => project(version, parsed.object, r, access, names));
      const id = `01g0R${randomBytes(8).toString('hex').slice(0, 13)}`;
      if (projected.length === 0) return [200, { totalSize: 0, done: true, records: [] }];
      cursors.set(id, { rows: projected, totalSize: projected.length, version, touched: Date.now() });
      return [200, queryPage(id, 0, batchSize(req))];
    }
    if (head === 'sobjects') {
      if (tail.length === 0) {
        if (method !== 'GET') throw notFound();
        return [200, {
          encoding: 'UTF-8', maxBatchSize: MAX_COLLECTION,
          sobjects: visibleObjects(access, deps.fieldService).map((o) => ({ name: o.name, label: o.label, labelPlural: o.labelPlural, keyPrefix: o.keyPrefix, custom: false, createable: access.canCreate(o), updateable: access.canEdit(o), queryable: true, urls: { sobject: `/services/data/v${version}/sobjects/${o.name}` } })),
        }];
      }
      const obj = sobjectOr404(tail[0], access);
      if (tail.length === 1) {
        if (method === 'GET') return [200, { objectDescribe: { name: obj.name, label: obj.label, keyPrefix: obj.keyPrefix }, recentItems: [] }];
        if (method === 'POST') {
          const r = writes.create(obj, objectBody(ctx), caller, assign);
          if (!r.success) throw recordErrors(r.status, r.errors);
          await store.save();
          return [201, { id: r.id, success: true, errors: [] }, { Location: recordUrl(version, obj.name, r.id!) }];
        }
        throw restError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,HEAD,POST`);
      }
      if (tail.length === 2 && tail[1] === 'describe' && method === 'GET') return [200, describe(obj, version, access)];
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
              const f = readableField(obj, n, access);
              if (!f) throw restError(400, 'INVALID_FIELD', `No such column '${n}' on entity '${obj.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
              return f.name;
            });
          }
          return [200, project(version, obj, rec, access, names)];
        }
        if (method === 'PATCH') {
          const r = writes.update(obj, id, objectBody(ctx), caller, assign);
          if (r.status === 404) throw notFound();
          if (!r.success) throw recordErrors(r.status, r.errors);
          await store.save();
          return [204, undefined];
        }
        if (method === 'DELETE') {
          if (access.restricted) throw recordErrors(400, [INSUFFICIENT_ACCESS]);
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
          const r = writes.upsert(ctx, obj, fieldName, value, objectBody(ctx), url.searchParams.get('updateOnly') === 'true', caller, assign);
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
          const field = readableField(obj, fieldName, access);
          if (!field || !field.externalId) throw restError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${fieldName}`);
          const found = store.findBy(obj.name, field, value);
          if (found.length > 1) return [300, found.map((f) => recordUrl(version, obj.name, String(f.Id)))];
          const rec = found[0];
          if (!rec) throw notFound();
          if (method === 'GET') return [200, project(version, obj, rec, access)];
          if (access.restricted) throw recordErrors(400, [INSUFFICIENT_ACCESS]);
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
          return writes.create(obj, withoutMeta(rec), caller, assign);
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
          const r = writes.update(obj, id, withoutMeta(rec, 'id'), caller, assign);
          return { ...r, id: r.id ?? id };
        }), false)];
      }
      if (tail.length === 1 && method === 'DELETE') {
        const ids = (url.searchParams.get('ids') ?? '').split(',').filter((s) => s !== '');
        if (ids.length > MAX_COLLECTION) throw restError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
        return [200, await runCollection(url.searchParams.get('allOrNone') === 'true', ids.map((id) => () => {
          const full = normalizeId(id);
          const obj = full ? Object.values(SOBJECTS).find((o) => o.keyPrefix === full.slice(0, 3)) : undefined;
          if (!full || !visible(obj, access)) return { id, success: false, status: 400, errors: [{ errorCode: 'MALFORMED_ID', message: `malformed id ${id}`, fields: [] }] };
          if (access.restricted) return { id: full, success: false, status: 400, errors: [INSUFFICIENT_ACCESS] };
          if (!store.delete(obj.name, full)) return { id: full, success: false, status: 404, errors: [{ errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] };
          return { id: full, success: true, errors: [], status: 200 };
        }), false)];
      }
      if (tail.length === 2 && method === 'POST') {
        const obj = sobjectOr404(tail[1], access);
        const body = objectBody(ctx);
        const ids = Array.isArray(body.ids) ? (body.ids as unknown[]).map(String) : [];
        const fields = Array.isArray(body.fields) ? (body.fields as unknown[]).map(String) : [];
        const names = fields.map((n) => {
          const f = readableField(obj, n, access);
          if (!f) throw restError(400, 'INVALID_FIELD', `No such column '${n}' on entity '${obj.name}'.`);
          return f.name;
        });
        return [200, ids.map((id) => {
          const rec = store.get(obj.name, id);
          return rec ? project(version, obj, rec, access, names) : null;
        })];
      }
      if (tail.length === 3 && method === 'PATCH') {
        if (major < 46) throw notFound();
        const obj = sobjectOr404(tail[1], access);
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
          const r = writes.upsert(ctx, obj, fieldName, String(value), withoutMeta(rec), false, caller, assign);
          if (r.status === 300) return { success: false, status: 300, errors: [{ errorCode: 'DUPLICATE_EXTERNAL_ID', message: `${fieldName}: more than one record found for external id field: [${r.errors[0]!.message}]`, fields: [] }] };
          return r;
        }), true)];
      }
    }
    throw notFound();
  };

  return { handle, close: () => clearInterval(sweeper) };
}
