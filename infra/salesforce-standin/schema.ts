/**
 * The Salesforce objects and fields the product touches, as data. This one table drives the
 * stand-in server (validation, describe, SOQL) and is checked against the metadata XML in
 * infra/salesforce/ that a user deploys to a real org (schema.test.ts), so the two cannot
 * drift: a custom field added here without its XML (or the other way round) fails a test.
 *
 * Only the standard fields the product reads or writes are listed; a real org has many more.
 */

/** Salesforce field types used here (the `type` values of a describe call). */
export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'picklist'
  | 'reference'
  | 'datetime'
  | 'boolean'
  | 'double'
  | 'url';

/** One field of an sObject, with the describe attributes the stand-in enforces. */
export interface FieldDef {
  /** API name, e.g. `PdM_Episode_Id__c`. */
  readonly name: string;
  readonly label: string;
  readonly type: FieldType;
  /** Maximum characters for text types (Salesforce rejects longer values with STRING_TOO_LONG). */
  readonly length?: number;
  /** Digits in total and after the point for `double` (values are rounded to `scale`). */
  readonly precision?: number;
  readonly scale?: number;
  /** True for custom fields (`__c`), which live in infra/salesforce/ metadata. */
  readonly custom?: boolean;
  /** Set by the platform only: writes are rejected with INVALID_FIELD_FOR_INSERT_UPDATE. */
  readonly readOnly?: boolean;
  /** May be used as the key of an upsert (`PATCH /sobjects/T/Field/value`). */
  readonly externalId?: boolean;
  /** Values must be unique (case-insensitively, as Salesforce's default for Text unique). */
  readonly unique?: boolean;
  /** Objects a `reference` field points to. */
  readonly referenceTo?: readonly string[];
  /** Value given on insert when the record omits the field. */
  readonly defaultValue?: string | boolean | null;
  /** Picklist values offered (not restricted: Salesforce accepts others on standard picklists). */
  readonly picklistValues?: readonly string[];
  /** Help text for custom fields, copied into the metadata XML description. */
  readonly description?: string;
}

/** One sObject type. */
export interface SObjectDef {
  readonly name: string;
  readonly label: string;
  readonly labelPlural: string;
  /** First three characters of every record id of this type (Case 500, Asset 02i, ...). */
  readonly keyPrefix: string;
  readonly fields: readonly FieldDef[];
}

const AUDIT_FIELDS: readonly FieldDef[] = [
  { name: 'CreatedDate', label: 'Created Date', type: 'datetime', readOnly: true },
  { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime', readOnly: true },
  { name: 'SystemModstamp', label: 'System Modstamp', type: 'datetime', readOnly: true },
];

/** Custom fields the product needs on Case; infra/salesforce/ holds the same as metadata XML. */
export const CASE_CUSTOM_FIELDS: readonly FieldDef[] = [
  {
    name: 'PdM_Episode_Id__c', label: 'PdM Episode Id', type: 'string', length: 255, custom: true,
    externalId: true, unique: true,
    description: 'Idempotency key of the failure episode (asset, failure mode, episode): one case per episode.',
  },
  { name: 'PdM_Asset_Id__c', label: 'PdM Asset Id', type: 'string', length: 255, custom: true, description: 'Asset id as used by the telemetry pipeline.' },
  { name: 'PdM_Failure_Mode__c', label: 'PdM Failure Mode', type: 'string', length: 255, custom: true, description: 'Predicted failure mode.' },
  { name: 'PdM_Severity__c', label: 'PdM Severity', type: 'string', length: 40, custom: true, description: 'Severity of the prediction.' },
  {
    name: 'PdM_Probability__c', label: 'PdM Probability', type: 'double', precision: 5, scale: 4, custom: true,
    description: 'Probability of failure within the horizon, 0 to 1.',
  },
  { name: 'PdM_Predicted_Failure__c', label: 'PdM Predicted Failure', type: 'datetime', custom: true, description: 'Most likely failure time.' },
  { name: 'PdM_Predicted_Failure_Low__c', label: 'PdM Predicted Failure Low', type: 'datetime', custom: true, description: 'Earliest likely failure time.' },
  { name: 'PdM_Predicted_Failure_High__c', label: 'PdM Predicted Failure High', type: 'datetime', custom: true, description: 'Latest likely failure time.' },
  { name: 'PdM_Dashboard_Url__c', label: 'PdM Dashboard Url', type: 'url', length: 255, custom: true, description: 'Link to the asset dashboard.' },
];

/** Case statuses that count as closed (Salesforce derives IsClosed from the status's setting). */
export const CLOSED_CASE_STATUSES: readonly string[] = ['Closed'];

/** Every object the stand-in serves, by API name. */
export const SOBJECTS: Readonly<Record<string, SObjectDef>> = Object.freeze({
  Case: {
    name: 'Case', label: 'Case', labelPlural: 'Cases', keyPrefix: '500',
    fields: [
      { name: 'Id', label: 'Case ID', type: 'id', readOnly: true },
      { name: 'CaseNumber', label: 'Case Number', type: 'string', length: 30, readOnly: true },
      { name: 'Subject', label: 'Subject', type: 'string', length: 255 },
      { name: 'Description', label: 'Description', type: 'textarea', length: 32000 },
      { name: 'Priority', label: 'Priority', type: 'picklist', length: 255, defaultValue: 'Medium', picklistValues: ['High', 'Medium', 'Low'] },
      { name: 'Status', label: 'Status', type: 'picklist', length: 255, defaultValue: 'New', picklistValues: ['New', 'Working', 'Escalated', 'Closed'] },
      { name: 'Origin', label: 'Case Origin', type: 'picklist', length: 255, picklistValues: ['Phone', 'Email', 'Web'] },
      { name: 'Type', label: 'Case Type', type: 'picklist', length: 255, picklistValues: ['Mechanical', 'Electrical', 'Electronic', 'Structural', 'Other'] },
      { name: 'Reason', label: 'Case Reason', type: 'picklist', length: 255, picklistValues: ['Installation', 'Equipment Complexity', 'Performance', 'Breakdown', 'Equipment Design', 'Feedback', 'Other'] },
      { name: 'AssetId', label: 'Asset ID', type: 'reference', referenceTo: ['Asset'] },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
      { name: 'IsClosed', label: 'Closed', type: 'boolean', readOnly: true, defaultValue: false },
      { name: 'ClosedDate', label: 'Closed Date', type: 'datetime', readOnly: true },
      ...AUDIT_FIELDS,
      ...CASE_CUSTOM_FIELDS,
    ],
  },
  Asset: {
    name: 'Asset', label: 'Asset', labelPlural: 'Assets', keyPrefix: '02i',
    fields: [
      { name: 'Id', label: 'Asset ID', type: 'id', readOnly: true },
      { name: 'Name', label: 'Asset Name', type: 'string', length: 255 },
      { name: 'SerialNumber', label: 'Serial Number', type: 'string', length: 80 },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
      { name: 'Status', label: 'Status', type: 'picklist', length: 255, picklistValues: ['Purchased', 'Shipped', 'Installed', 'Registered', 'Obsolete'] },
      ...AUDIT_FIELDS,
    ],
  },
  CaseComment: {
    name: 'CaseComment', label: 'Case Comment', labelPlural: 'Case Comments', keyPrefix: '00a',
    fields: [
      { name: 'Id', label: 'Case Comment ID', type: 'id', readOnly: true },
      { name: 'ParentId', label: 'Parent Case ID', type: 'reference', referenceTo: ['Case'] },
      { name: 'CommentBody', label: 'Body', type: 'textarea', length: 4000 },
      { name: 'IsPublished', label: 'Published', type: 'boolean', defaultValue: false },
      ...AUDIT_FIELDS,
    ],
  },
  Account: {
    name: 'Account', label: 'Account', labelPlural: 'Accounts', keyPrefix: '001',
    fields: [
      { name: 'Id', label: 'Account ID', type: 'id', readOnly: true },
      { name: 'Name', label: 'Account Name', type: 'string', length: 255 },
      ...AUDIT_FIELDS,
    ],
  },
});

/** Fields each object requires on insert (Salesforce answers REQUIRED_FIELD_MISSING). */
export const REQUIRED_ON_INSERT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Asset: ['Name'],
  CaseComment: ['ParentId'],
  Account: ['Name'],
});

/** The object named `name`, matched case-insensitively as Salesforce does; undefined when unknown. */
export function findSObject(name: string): SObjectDef | undefined {
  const direct = SOBJECTS[name];
  if (direct) return direct;
  const lower = name.toLowerCase();
  return Object.values(SOBJECTS).find((o) => o.name.toLowerCase() === lower);
}

/** The field `name` of `obj`, matched case-insensitively; undefined when unknown. */
export function findField(obj: SObjectDef, name: string): FieldDef | undefined {
  const lower = name.toLowerCase();
  return obj.fields.find((f) => f.name.toLowerCase() === lower);
}

/** The object whose ids start with `prefix`, if any. */
export function sobjectByKeyPrefix(prefix: string): SObjectDef | undefined {
  return Object.values(SOBJECTS).find((o) => o.keyPrefix === prefix);
}
