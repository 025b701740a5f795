/**
 * What an org checks after a write's fields are valid, and what it does on its own:
 * - validation rules deployed from infra/salesforce/ (the stand-in compiles the formulas it
 *   knows and refuses to start on one it does not, so metadata and stand-in cannot drift);
 * - rules an org adds that the product never heard of (a required field, "Reason is required
 *   when Origin is X"), injected by tests through the control API;
 * - platform rules: an Asset needs an Account or a Contact; a ServiceAppointment is due after
 *   its earliest start, and leaves a final status no more;
 * - case assignment: without `Sforce-Auto-Assign: FALSE`, a REST create or update of a Case
 *   runs the default assignment, which gives the case to the org's default queue.
 * Error codes and bodies are Salesforce's (FIELD_CUSTOM_VALIDATION_EXCEPTION,
 * REQUIRED_FIELD_MISSING, FIELD_INTEGRITY_EXCEPTION).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredRecord } from './soql.ts';
import type { SObjectDef } from './schema.ts';
import { FINAL_APPOINTMENT_STATUSES, findField, findSObject } from './schema.ts';
import type { RecordError } from './store.ts';

/** The objects folder of the metadata every org gets (infra/salesforce/force-app). */
export const METADATA_OBJECTS_DIR = fileURLToPath(new URL('../salesforce/force-app/main/default/objects/', import.meta.url));
/** The objects folder of the metadata a Field Service org adds (infra/salesforce/field-service). */
export const FIELD_SERVICE_OBJECTS_DIR = fileURLToPath(new URL('../salesforce/field-service/main/default/objects/', import.meta.url));

/** A validation rule as the stand-in runs it. */
export interface ValidationRule {
  object: string;
  name: string;
  errorMessage: string;
  /** Field the error is shown on (the `fields` of the error); none: shown at the top. */
  errorDisplayField?: string;
  /** True when the write must be refused. `prior` is the record before an update; undefined on insert. */
  failsWhen(next: StoredRecord, prior: StoredRecord | undefined): boolean;
}

/** A rule an org adds, as the control API takes it (POST /__standin/org-rules). */
export type OrgRuleSpec =
  | { kind: 'required'; object: string; field: string }
  | {
      kind: 'validation';
      object: string;
      name: string;
      errorMessage: string;
      errorDisplayField?: string;
      /** The field that must not be blank... */
      requireField: string;
      /** ...when this field has this value (always when absent). */
      when?: { field: string; equals: string };
    };

const blank = (v: unknown): boolean => v === undefined || v === null || v === '';

/**
 * Compiles a validation-rule formula of the shapes the product ships. Supported:
 * `AND(NOT(ISNEW()), F < PRIORVALUE(F))` (a number field may not decrease). Anything else
 * throws: the stand-in would otherwise silently skip a rule the real org enforces.
 */
export function compileFormula(object: string, formula: string): (next: StoredRecord, prior: StoredRecord | undefined) => boolean {
  const f = formula.replace(/\s+/g, ' ').trim();
  const m = /^AND\( ?NOT\( ?ISNEW\(\) ?\), ?([A-Za-z0-9_]+) ?< ?PRIORVALUE\( ?([A-Za-z0-9_]+) ?\) ?\)$/.exec(f);
  const obj = findSObject(object);
  if (m && m[1] === m[2] && obj && findField(obj, m[1]!)) {
    const field = findField(obj, m[1]!)!.name;
    return (next, prior) => {
      if (!prior) return false;
      const before = prior[field];
      const after = next[field];
      // A formula comparison with a blank operand is blank, which does not fire the rule.
      if (blank(before) || blank(after)) return false;
      return Number(after) < Number(before);
    };
  }
  throw new Error(`salesforce stand-in: validation rule formula on ${object} not supported: ${formula}`);
}

const unescapeXml = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const xmlTag = (xml: string, name: string): string | undefined => {
  const v = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
  return v === undefined ? undefined : unescapeXml(v);
};

/** Every active validation rule under `<dir>/<Object>/validationRules/` of each of `objectsDirs`. */
export function loadValidationRules(objectsDirs: readonly string[] = [METADATA_OBJECTS_DIR, FIELD_SERVICE_OBJECTS_DIR]): ValidationRule[] {
  const rules: ValidationRule[] = [];
  for (const objectsDir of objectsDirs) if (existsSync(objectsDir)) rules.push(...loadRulesIn(objectsDir));
  return rules;
}

function loadRulesIn(objectsDir: string): ValidationRule[] {
  const rules: ValidationRule[] = [];
  for (const object of readdirSync(objectsDir)) {
    const dir = join(objectsDir, object, 'validationRules');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.validationRule-meta.xml')).sort()) {
      const xml = readFileSync(join(dir, file), 'utf8');
      if (xmlTag(xml, 'active') !== 'true') continue;
      const formula = xmlTag(xml, 'errorConditionFormula');
      const name = xmlTag(xml, 'fullName');
      const errorMessage = xmlTag(xml, 'errorMessage');
      if (!formula || !name || !errorMessage) throw new Error(`salesforce stand-in: ${join(dir, file)} lacks fullName, errorConditionFormula or errorMessage`);
      const display = xmlTag(xml, 'errorDisplayField');
      rules.push({ object, name, errorMessage, ...(display ? { errorDisplayField: display } : {}), failsWhen: compileFormula(object, formula) });
    }
  }
  return rules;
}

/** Checks an injected rule against the object table; returns the problem, or undefined when it is usable. */
export function orgRuleProblem(spec: OrgRuleSpec): string | undefined {
  const obj = findSObject(String(spec?.object ?? ''));
  if (!obj) return `unknown object ${String(spec?.object)}`;
  const need = spec.kind === 'required' ? [spec.field] : spec.kind === 'validation' ? [spec.requireField, ...(spec.when ? [spec.when.field] : [])] : undefined;
  if (!need) return "kind must be 'required' or 'validation'";
  const missing = need.filter((n) => !n || !findField(obj, n));
  if (missing.length) return `unknown field ${missing.join(', ')} on ${obj.name}`;
  if (spec.kind === 'validation' && (!spec.name || !spec.errorMessage)) return 'a validation rule needs name and errorMessage';
  return undefined;
}

/** The org's own rules: deployed validation rules plus those injected at run time. */
export class OrgRules {
  private readonly injected: OrgRuleSpec[] = [];

  constructor(private readonly deployed: readonly ValidationRule[]) {}

  add(spec: OrgRuleSpec): void {
    this.injected.push(spec);
  }

  /** Forgets the injected rules (the deployed ones stay). */
  clearInjected(): void {
    this.injected.length = 0;
  }

  get injectedRules(): readonly OrgRuleSpec[] {
    return this.injected;
  }

  /** Fields the org made required on `obj` (REQUIRED_FIELD_MISSING when blank). */
  requiredFields(obj: SObjectDef): string[] {
    return this.injected.filter((r): r is Extract<OrgRuleSpec, { kind: 'required' }> => r.kind === 'required' && sameName(r.object, obj.name)).map((r) => findField(obj, r.field)!.name);
  }

  /** Errors of the validation rules (deployed, then injected) for a write producing `next`. */
  validate(obj: SObjectDef, next: StoredRecord, prior: StoredRecord | undefined): RecordError[] {
    const errors: RecordError[] = [];
    const fail = (message: string, display?: string) =>
      errors.push({ errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message, fields: display ? [display] : [] });
    for (const r of this.deployed) if (sameName(r.object, obj.name) && r.failsWhen(next, prior)) fail(r.errorMessage, r.errorDisplayField);
    for (const r of this.injected) {
      if (r.kind !== 'validation' || !sameName(r.object, obj.name)) continue;
      const when = r.when;
      const applies = !when || String(next[findField(obj, when.field)!.name] ?? '').toLowerCase() === when.equals.toLowerCase();
      if (applies && blank(next[findField(obj, r.requireField)!.name])) fail(r.errorMessage, r.errorDisplayField ? findField(obj, r.errorDisplayField)?.name : undefined);
    }
    return errors;
  }
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Rules of the platform itself (not of an org's configuration). `strict` adds those the
 * lenient stand-in skips because the local demo data predates them (an Asset without an
 * Account or Contact).
 */
export function platformErrors(obj: SObjectDef, next: StoredRecord, prior: StoredRecord | undefined, strict: boolean): RecordError[] {
  if (obj.name === 'Asset' && strict && blank(next.AccountId) && blank(next.ContactId)) {
    return [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION', message: 'Every asset needs an account, a contact, or both.', fields: ['AccountId', 'ContactId'] }];
  }
  if (obj.name === 'ServiceAppointment') {
    const start = Date.parse(String(next.EarliestStartTime ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    const due = Date.parse(String(next.DueDate ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (Number.isFinite(start) && Number.isFinite(due) && due <= start) {
      return [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION', message: 'Due Date must be later than Earliest Start Permitted.', fields: ['DueDate'] }];
    }
    const from = prior ? String(prior.Status ?? '') : '';
    if (prior && next.Status !== prior.Status && FINAL_APPOINTMENT_STATUSES.includes(from)) {
      return [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION', message: `Status: You can't change a service appointment's status from ${from} to ${String(next.Status)}.`, fields: ['Status'] }];
    }
  }
  return [];
}

/**
 * Reads the Assignment Rule header: true when the default case assignment runs. Absent means
 * TRUE (REST's default); TRUE/FALSE ignore case; an AssignmentRule id (01Q) runs that rule,
 * which in the stand-in is the one default rule.
 */
export function autoAssign(header: string | string[] | undefined): boolean {
  const v = (Array.isArray(header) ? header[0] : header)?.trim();
  if (v === undefined || v === '') return true;
  if (/^false$/i.test(v)) return false;
  return true;
}
