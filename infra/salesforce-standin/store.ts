/**
 * The stand-in org's data: records per object, validated on write the way Salesforce
 * validates (unknown, unreadable and read-only fields, create-only fields on update, types,
 * lengths in characters or bytes, lookups, required and unique fields, Case's derived
 * IsClosed/ClosedDate/CaseNumber and the other auto-numbers), its users and queue, issued
 * sessions (each for one user), and the daily API usage counter. Everything is kept in one JSON file in the data dir, written atomically
 * (temporary file, fsync, rename) before a write is acknowledged, so records survive a crash
 * or restart of the server exactly as they survive on a real org.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { makeId, normalizeId } from './ids.ts';
import { FULL_ACCESS, type Access } from './access.ts';
import type { FieldDef, SObjectDef } from './schema.ts';
import { CLOSED_CASE_STATUSES, FINAL_WORK_ORDER_STATUSES, REQUIRED_ON_INSERT, SOBJECTS, findField, sobjectByKeyPrefix } from './schema.ts';
import type { StoredRecord } from './soql.ts';

/** One error as Salesforce reports it for a record (REST: errorCode; collections: statusCode). */
export interface RecordError {
  errorCode: string;
  message: string;
  fields?: string[];
}

/** The result of validating a write: the fields to store, or the errors. */
export type WriteCheck = { ok: true; values: StoredRecord } | { ok: false; errors: RecordError[] };

/** A session issued by the token endpoint, for one user. */
export interface Session {
  accessToken: string;
  issuedAt: number;
  /** The user the session acts as (older data files lack it: the integration user). */
  userId?: string;
}

/** The org's people: the integration user the product logs in as, an administrator (tests, seeding), a dispatcher, and the default case queue. */
export interface OrgUsers {
  integration: string;
  admin: string;
  dispatcher: string;
  /** The queue the default case assignment gives cases to. */
  dispatchQueue: string;
}

/** Usernames of the seeded users (the integration user's is the product's login). */
export const USERNAMES = Object.freeze({
  integration: 'pdm-integration@example.com',
  admin: 'admin@example.com',
  dispatcher: 'dispatcher@example.com',
});

interface StateFile {
  format: 1;
  orgId: string;
  /** The integration user (kept under its old name so older data files load). */
  userId: string;
  adminUserId?: string;
  dispatcherUserId?: string;
  dispatchQueueId?: string;
  /** Next record sequence number (ids) and next case number. */
  seq: number;
  caseNumber: number;
  records: Record<string, StoredRecord[]>;
  sessions: Session[];
  refreshTokens: string[];
  apiUsage: { dayUtc: string; count: number };
}

/** Salesforce's datetime format in API answers: `2024-05-01T10:00:00.000+0000`. */
export function sfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const STATE_FILE = 'salesforce-standin.json';
/** Sessions kept at most; older ones are forgotten (a real org also expires idle sessions). */
const MAX_SESSIONS = 1000;

export class OrgStore {
  private state: StateFile;
  private readonly records = new Map<string, Map<string, StoredRecord>>();
  private readonly file: string;
  /** Coalesces saves: at most one write in flight and one queued behind it. */
  private saving: Promise<void> | undefined;
  private saveQueued: Promise<void> | undefined;

  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, STATE_FILE);
    this.state = existsSync(this.file) ? this.load() : OrgStore.fresh();
    for (const name of Object.keys(SOBJECTS)) this.records.set(name, new Map());
    for (const [type, list] of Object.entries(this.state.records)) {
      const m = this.records.get(type);
      if (m) for (const r of list) m.set(String(r.Id), r);
    }
    this.seedUsers();
  }

  /** Creates the users and the queue when the data file has none (fresh org, or an older file). */
  private seedUsers(): void {
    const st = this.state;
    const now = sfDateTime(Date.now());
    const put = (type: string, id: string, fields: StoredRecord) => {
      const m = this.records.get(type)!;
      if (!m.has(id)) m.set(id, { Id: id, ...fields, CreatedDate: now, LastModifiedDate: now, SystemModstamp: now });
    };
    st.adminUserId ??= makeId('005', this.state.seq++);
    st.dispatcherUserId ??= makeId('005', this.state.seq++);
    st.dispatchQueueId ??= makeId('00G', this.state.seq++);
    put('User', st.userId, { Username: USERNAMES.integration, Name: 'PdM Integration' });
    put('User', st.adminUserId, { Username: USERNAMES.admin, Name: 'Org Administrator' });
    put('User', st.dispatcherUserId, { Username: USERNAMES.dispatcher, Name: 'Field Service Dispatcher' });
    put('Group', st.dispatchQueueId, { Name: 'Field Service Dispatch', Type: 'Queue' });
  }

  get users(): OrgUsers {
    return { integration: this.state.userId, admin: this.state.adminUserId!, dispatcher: this.state.dispatcherUserId!, dispatchQueue: this.state.dispatchQueueId! };
  }

  /** The user id of a seeded username, or undefined. */
  userIdByUsername(username: string): string | undefined {
    const u = [...this.all('User')].find((r) => String(r.Username).toLowerCase() === username.toLowerCase());
    return u ? String(u.Id) : undefined;
  }

  private static fresh(): StateFile {
    const rnd = (): string => randomBytes(8).toString('hex').slice(0, 10).toUpperCase();
    const org15 = `00D0R${rnd()}`;
    const user15 = `0050R${rnd()}`;
    return {
      format: 1,
      orgId: normalizeId(org15) ?? org15,
      userId: normalizeId(user15) ?? user15,
      seq: 1,
      caseNumber: 1001,
      records: {},
      sessions: [],
      refreshTokens: [],
      apiUsage: { dayUtc: new Date().toISOString().slice(0, 10), count: 0 },
    };
  }

  private load(): StateFile {
    let parsed: StateFile;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as StateFile;
    } catch (err) {
      throw new Error(`salesforce stand-in: cannot read its data file ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    if (parsed.format !== 1) throw new Error(`salesforce stand-in: ${this.file} has unknown format ${String(parsed.format)}`);
    return parsed;
  }

  get orgId(): string { return this.state.orgId; }
  get userId(): string { return this.state.userId; }

  /** Writes the state file atomically; resolves once this call's changes are on disk. */
  save(): Promise<void> {
    if (this.saveQueued) return this.saveQueued;
    if (!this.saving) {
      this.saving = this.writeFile().finally(() => { this.saving = undefined; });
      return this.saving;
    }
    const after = this.saving;
    this.saveQueued = after.catch(() => undefined).then(() => {
      this.saveQueued = undefined;
      return this.save();
    });
    return this.saveQueued;
  }

  private async writeFile(): Promise<void> {
    const snapshot: StateFile = {
      ...this.state,
      records: Object.fromEntries([...this.records].map(([t, m]) => [t, [...m.values()]])),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(snapshot));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }

  // ---- sessions ----

  newSession(userId: string): Session {
    const token = `${this.state.orgId.slice(0, 15)}!${randomBytes(48).toString('base64url')}`;
    const s: Session = { accessToken: token, issuedAt: Date.now(), userId };
    this.state.sessions.push(s);
    if (this.state.sessions.length > MAX_SESSIONS) this.state.sessions.splice(0, this.state.sessions.length - MAX_SESSIONS);
    return s;
  }

  hasSession(token: string): boolean {
    return this.state.sessions.some((s) => s.accessToken === token);
  }

  /** The session of a token, or undefined when it is unknown or revoked. */
  session(token: string): Session | undefined {
    return this.state.sessions.find((s) => s.accessToken === token);
  }

  revokeSession(token: string): void {
    this.state.sessions = this.state.sessions.filter((s) => s.accessToken !== token);
  }

  /** A refresh token of the integration user. */
  newRefreshToken(): string {
    const t = `5Aep8${randomBytes(40).toString('base64url')}`;
    this.state.refreshTokens.push(t);
    return t;
  }

  hasRefreshToken(token: string): boolean {
    return this.state.refreshTokens.includes(token);
  }

  // ---- API usage ----

  /** Counts one API call in today's (UTC) usage and returns the count. */
  countApiCall(): number {
    const today = new Date().toISOString().slice(0, 10);
    if (this.state.apiUsage.dayUtc !== today) this.state.apiUsage = { dayUtc: today, count: 0 };
    this.state.apiUsage.count += 1;
    return this.state.apiUsage.count;
  }

  get apiUsage(): number { return this.state.apiUsage.count; }

  // ---- records ----

  all(type: string): Iterable<StoredRecord> {
    return this.records.get(type)?.values() ?? [];
  }

  get(type: string, id: string): StoredRecord | undefined {
    const full = normalizeId(id);
    return full ? this.records.get(type)?.get(full) : undefined;
  }

  /** Records of `type` whose `field` equals `value` (case-insensitively for text). */
  findBy(type: string, field: FieldDef, value: string): StoredRecord[] {
    const want = value.toLowerCase();
    return [...this.all(type)].filter((r) => r[field.name] !== null && r[field.name] !== undefined && String(r[field.name]).toLowerCase() === want);
  }

  /** A deep copy of every record, for rolling back an allOrNone collection call. */
  snapshot(): Map<string, StoredRecord[]> {
    return new Map([...this.records].map(([t, m]) => [t, [...m.values()].map((r) => ({ ...r }))]));
  }

  /** Puts back the records of a snapshot (ids and case numbers already issued stay used). */
  restore(snap: Map<string, StoredRecord[]>): void {
    for (const [t, list] of snap) this.records.set(t, new Map(list.map((r) => [String(r.Id), r])));
  }

  /** Deletes every record; the org's users and queue are recreated with their ids. */
  clearRecords(): void {
    for (const m of this.records.values()) m.clear();
    this.seedUsers();
  }

  /**
   * Validates `body` as the fields of an insert (`existing` undefined) or an update of
   * `existing`, for a user with `access`. Checks run in Salesforce's order: unknown fields
   * first, and fields the user cannot read count as unknown (the whole request is refused),
   * then fields the user cannot write (read-only, create-only on an update, or not editable
   * for the user), then each value's type and size, then lookups, required and unique fields.
   * `alsoRequired` are fields the org made required beyond the platform's.
   */
  check(obj: SObjectDef, body: Record<string, unknown>, existing?: StoredRecord, access: Access = FULL_ACCESS, alsoRequired: readonly string[] = []): WriteCheck {
    const values: StoredRecord = {};
    const errors: RecordError[] = [];
    for (const key of Object.keys(body)) {
      if (key === 'attributes') continue;
      const f = findField(obj, key);
      if (!f || !access.canReadField(obj, f)) return { ok: false, errors: [{ errorCode: 'INVALID_FIELD', message: `No such column '${key}' on sobject of type ${obj.name}` }] };
    }
    const refused = Object.keys(body)
      .map((k) => findField(obj, k))
      .filter((f): f is FieldDef => !!f && !(f.type === 'id' && existing))
      .filter((f) => f.readOnly || (existing && f.createOnly) || !access.canEditField(obj, f));
    if (refused.length > 0) {
      const names = refused.map((f) => f.name);
      return {
        ok: false,
        errors: [{
          errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
          message: `Unable to create/update fields: ${names.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          fields: names,
        }],
      };
    }
    for (const [key, raw] of Object.entries(body)) {
      if (key === 'attributes') continue;
      const f = findField(obj, key)!;
      if (f.type === 'id') continue;
      const v = coerce(f, raw);
      if ('error' in v) { errors.push(v.error); continue; }
      values[f.name] = v.value;
    }
    if (errors.length > 0) return { ok: false, errors };
    for (const f of obj.fields) {
      const v = values[f.name];
      if (f.type !== 'reference' || typeof v !== 'string') continue;
      const id = normalizeId(v);
      const target = id ? sobjectByKeyPrefix(id.slice(0, 3)) : undefined;
      if (!id || !target || !(f.referenceTo ?? []).includes(target.name)) {
        errors.push({ errorCode: 'FIELD_INTEGRITY_EXCEPTION', message: `${f.label}: id value of incorrect type: ${v}`, fields: [f.name] });
      } else if (!this.get(target.name, id)) {
        errors.push({ errorCode: 'INVALID_CROSS_REFERENCE_KEY', message: `${f.label}: invalid cross reference id`, fields: [f.name] });
      } else {
        values[f.name] = id;
      }
    }
    if (errors.length > 0) return { ok: false, errors };
    const merged = { ...(existing ?? {}), ...values };
    const required = [...(REQUIRED_ON_INSERT[obj.name] ?? []), ...alsoRequired];
    const missing = required.filter((n) => merged[n] === undefined || merged[n] === null || merged[n] === '');
    if (missing.length > 0) {
      return { ok: false, errors: [{ errorCode: 'REQUIRED_FIELD_MISSING', message: `Required fields are missing: [${missing.join(', ')}]`, fields: missing }] };
    }
    for (const f of obj.fields) {
      const v = values[f.name];
      if (!f.unique || v === undefined || v === null) continue;
      const clash = this.findBy(obj.name, f, String(v)).find((r) => r.Id !== existing?.Id);
      if (clash) {
        return {
          ok: false,
          errors: [{ errorCode: 'DUPLICATE_VALUE', message: `duplicate value found: ${f.name} duplicates value on record with id: ${String(clash.Id)}`, fields: [] }],
        };
      }
    }
    return { ok: true, values };
  }

  /**
   * Inserts checked values as a new record of `obj`; returns it. `ownerId` is the owner when
   * the object has one and the values name none (the running user, or an assignment's queue).
   * Call save() afterwards.
   */
  insert(obj: SObjectDef, values: StoredRecord, ownerId?: string): StoredRecord {
    const now = sfDateTime(Date.now());
    const seq = this.state.seq++;
    const id = makeId(obj.keyPrefix, seq);
    const rec: StoredRecord = {};
    for (const f of obj.fields) rec[f.name] = f.defaultValue ?? null;
    Object.assign(rec, values, { Id: id, CreatedDate: now, LastModifiedDate: now, SystemModstamp: now });
    if (findField(obj, 'OwnerId') && (rec.OwnerId === null || rec.OwnerId === undefined)) rec.OwnerId = ownerId ?? this.state.userId;
    if (obj.name === 'Case') {
      rec.CaseNumber = String(this.state.caseNumber++).padStart(8, '0');
      deriveCaseState(rec, undefined, now);
    }
    // Auto-numbers: unique per org, never reused (the sequence is).
    if (obj.name === 'WorkOrder') rec.WorkOrderNumber = String(seq).padStart(8, '0');
    if (obj.name === 'ServiceAppointment') rec.AppointmentNumber = `SA-${String(seq).padStart(4, '0')}`;
    if (obj.name === 'WorkOrder') rec.IsClosed = FINAL_WORK_ORDER_STATUSES.includes(String(rec.Status));
    this.records.get(obj.name)!.set(id, rec);
    return rec;
  }

  /** Applies checked values to `existing` in place. Call save() afterwards. */
  update(obj: SObjectDef, existing: StoredRecord, values: StoredRecord): void {
    const before = { ...existing };
    const now = sfDateTime(Date.now());
    Object.assign(existing, values, { LastModifiedDate: now, SystemModstamp: now });
    if (obj.name === 'Case') deriveCaseState(existing, before, now);
    if (obj.name === 'WorkOrder') existing.IsClosed = FINAL_WORK_ORDER_STATUSES.includes(String(existing.Status));
  }

  delete(type: string, id: string): boolean {
    const full = normalizeId(id);
    return full ? (this.records.get(type)?.delete(full) ?? false) : false;
  }
}

function deriveCaseState(rec: StoredRecord, before: StoredRecord | undefined, now: string): void {
  const closed = CLOSED_CASE_STATUSES.includes(String(rec.Status));
  rec.IsClosed = closed;
  if (closed && !before?.IsClosed) rec.ClosedDate = now;
  if (!closed) rec.ClosedDate = null;
}

type Coerced = { value: unknown } | { error: RecordError };

/** Converts one JSON value to what Salesforce stores for field `f`, or the error it reports. */
function coerce(f: FieldDef, raw: unknown): Coerced {
  if (raw === null) return { value: null };
  const parserError = (kind: string): Coerced => ({
    error: {
      errorCode: 'JSON_PARSER_ERROR',
      message: `Cannot deserialize instance of ${kind} from ${jsonTokenName(raw)} value ${typeof raw === 'object' ? '' : String(raw)} or request may be missing a required field`,
    },
  });
  switch (f.type) {
    case 'double': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return parserError('double');
      const scale = f.scale ?? 0;
      const rounded = Math.round(n * 10 ** scale) / 10 ** scale;
      const intDigits = Math.trunc(Math.abs(rounded)).toString().length;
      if (f.precision !== undefined && Math.trunc(Math.abs(rounded)) !== 0 && intDigits > f.precision - scale) {
        return { error: { errorCode: 'NUMBER_OUTSIDE_VALID_RANGE', message: `${f.label}: value outside of valid range on numeric field: ${n}`, fields: [f.name] } };
      }
      return { value: rounded };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
      return parserError('boolean');
    case 'datetime': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return parserError('datetime');
      const ms = typeof raw === 'number' ? raw : Date.parse(String(raw).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (!Number.isFinite(ms) || (typeof raw === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(raw))) return parserError('datetime');
      return { value: sfDateTime(ms) };
    }
    default: {
      if (typeof raw === 'object') return parserError('String');
      const s = String(raw);
      const size = f.lengthInBytes ? Buffer.byteLength(s, 'utf8') : s.length;
      if (f.length !== undefined && size > f.length) {
        return { error: { errorCode: 'STRING_TOO_LONG', message: `${f.label}: data value too large: ${s.slice(0, 80)} (max length=${f.length})`, fields: [f.name] } };
      }
      return { value: s };
    }
  }
}

function jsonTokenName(v: unknown): string {
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'number') return Number.isInteger(v) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  if (typeof v === 'boolean') return v ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (Array.isArray(v)) return 'START_ARRAY';
  return 'START_OBJECT';
}
