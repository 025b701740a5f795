/**
 * How the stand-in org saves a record, shared by single-record and collection calls: the
 * caller's object permission, the field checks of the store (unknown, unreadable, read-only
 * and create-only fields, types, sizes, lookups, required and unique fields), the platform's
 * and the org's rules, then the insert or update with the default case assignment unless
 * the request turned it off. An upsert of a new external id can be made to lose the race to a
 * concurrent twin (the duplicate_value fault), as on a real org.
 */
import type { Faults } from './faults.ts';
import type { Caller, Ctx } from './http.ts';
import { normalizeId } from './ids.ts';
import { platformErrors, type OrgRules } from './org-rules.ts';
import type { FieldDef, SObjectDef } from './schema.ts';
import { findField } from './schema.ts';
import type { StoredRecord } from './soql.ts';
import type { OrgStore, RecordError } from './store.ts';

/** The outcome of one record's save, with the HTTP status a single-record call answers. */
export type SaveResult = { id?: string; success: boolean; errors: RecordError[]; created?: boolean; status: number };

/** Object permission missing (Salesforce's message when the profile or permission sets lack it). */
export const INSUFFICIENT_ACCESS: RecordError = {
  errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY',
  message: 'You do not have the level of access necessary to perform the operation you requested. Please contact the owner of the record or your administrator if access is necessary.',
};

const defaultsOf = (obj: SObjectDef): StoredRecord => Object.fromEntries(obj.fields.map((f) => [f.name, f.defaultValue ?? null]));

const readable = (obj: SObjectDef, name: string, caller: Caller): FieldDef | undefined => {
  const f = findField(obj, name);
  return f && caller.access.canReadField(obj, f) ? f : undefined;
};

/** What saving needs from the server. */
export interface RecordWritesDeps {
  store: OrgStore;
  faults: Faults;
  rules: OrgRules;
  /** Apply the platform rules a lenient stand-in skips. */
  strict: boolean;
}

export class RecordWrites {
  constructor(private readonly deps: RecordWritesDeps) {}

  /** The org's checks after the fields are valid: platform rules, then validation rules. */
  private ruleErrors(obj: SObjectDef, next: StoredRecord, prior: StoredRecord | undefined): RecordError[] {
    const platform = platformErrors(obj, next, prior, this.deps.strict);
    return platform.length ? platform : this.deps.rules.validate(obj, next, prior);
  }

  /** Inserts a record for `caller`; `assign` is the Assignment Rule header's verdict. */
  create(obj: SObjectDef, body: Record<string, unknown>, caller: Caller, assign: boolean): SaveResult {
    const { store, rules } = this.deps;
    if (!caller.access.canCreate(obj)) return { success: false, errors: [INSUFFICIENT_ACCESS], status: 400 };
    const c = store.check(obj, body, undefined, caller.access, rules.requiredFields(obj));
    if (!c.ok) return { success: false, errors: c.errors, status: 400 };
    const errors = this.ruleErrors(obj, { ...defaultsOf(obj), ...c.values }, undefined);
    if (errors.length) return { success: false, errors, status: 400 };
    // The default assignment gives a new case to the org's queue; without it the creator owns it.
    const owner = obj.name === 'Case' && assign ? store.users.dispatchQueue : caller.userId;
    const rec = store.insert(obj, c.values, owner);
    return { id: String(rec.Id), success: true, errors: [], status: 201 };
  }

  /** Updates record `id` of `obj` for `caller`. */
  update(obj: SObjectDef, id: string, body: Record<string, unknown>, caller: Caller, assign: boolean): SaveResult {
    const { store, rules } = this.deps;
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
    if (!caller.access.canEdit(obj)) return { id: String(rec.Id), success: false, errors: [{ ...INSUFFICIENT_ACCESS, message: `insufficient access rights on object id: ${String(rec.Id)}` }], status: 400 };
    const c = store.check(obj, body, rec, caller.access, rules.requiredFields(obj));
    if (!c.ok) return { id: String(rec.Id), success: false, errors: c.errors, status: 400 };
    const errors = this.ruleErrors(obj, { ...rec, ...c.values }, rec);
    if (errors.length) return { id: String(rec.Id), success: false, errors, status: 400 };
    // Without the header, REST runs the default assignment on every update too: a dispatcher's
    // choice of owner is undone by any integration that does not send FALSE.
    const values = obj.name === 'Case' && assign && c.values.OwnerId === undefined ? { ...c.values, OwnerId: store.users.dispatchQueue } : c.values;
    store.update(obj, rec, values);
    return { id: String(rec.Id), success: true, errors: [], status: 204 };
  }

  /**
   * Upserts on the external-id field `fieldName` = `value`: updates the one match, creates
   * when there is none (unless `updateOnly`), answers 300 when several match. A pending
   * duplicate_value fault makes a concurrent twin win the create.
   */
  upsert(ctx: Ctx, obj: SObjectDef, fieldName: string, value: string, bodyIn: Record<string, unknown>, updateOnly: boolean, caller: Caller, assign: boolean): SaveResult {
    const { store, faults } = this.deps;
    const field = readable(obj, fieldName, caller);
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
      const r = this.update(obj, String(existing.Id), body, caller, assign);
      return { ...r, created: false, status: r.success ? 200 : r.status };
    }
    if (updateOnly || field.name === 'Id') return { success: false, status: 404, errors: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    if (faults.take(ctx.req.method ?? 'PATCH', ctx.url.pathname, ctx.body, ['duplicate_value'])) {
      // A concurrent upsert of the same new id got in first: its record exists, this one collides.
      const twin = this.create(obj, { ...body, [field.name]: value }, caller, assign);
      if (!twin.success) return twin;
      return { success: false, status: 400, errors: [{ errorCode: 'DUPLICATE_VALUE', message: `duplicate value found: ${field.name} duplicates value on record with id: ${twin.id!}`, fields: [] }] };
    }
    const r = this.create(obj, { ...body, [field.name]: value }, caller, assign);
    return { ...r, created: r.success ? true : undefined };
  }
}
