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
  /** Maximum length for text types (Salesforce rejects longer values with STRING_TOO_LONG). */
  readonly length?: number;
  /** True when `length` counts UTF-8 bytes, not characters (CaseComment.CommentBody: 4,000 bytes). */
  readonly lengthInBytes?: boolean;
  /** Digits in total and after the point for `double` (values are rounded to `scale`). */
  readonly precision?: number;
  readonly scale?: number;
  /** True for custom fields (`__c`), which live in infra/salesforce/ metadata. */
  readonly custom?: boolean;
  /** Set by the platform only: writes are rejected with INVALID_FIELD_FOR_INSERT_UPDATE. */
  readonly readOnly?: boolean;
  /** Createable but not updateable (ServiceAppointment.ParentRecordId): an update naming it is refused. */
  readonly createOnly?: boolean;
  /**
   * Not governed by field-level security: ids, system and audit fields, and fields the
   * platform requires (a permission set cannot list them; access follows the object's).
   */
  readonly flsExempt?: boolean;
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
  /**
   * Object permissions come from this parent object (CaseComment: read needs read on Case,
   * create needs edit on Case); a permission set cannot name the object itself.
   */
  readonly accessVia?: string;
  /** Readable by every user whatever the permission sets (User, Group). */
  readonly alwaysReadable?: boolean;
  /** Exists only in an org with Field Service enabled (WorkOrder, ServiceAppointment). */
  readonly fieldService?: boolean;
}

const AUDIT_FIELDS: readonly FieldDef[] = [
  { name: 'CreatedDate', label: 'Created Date', type: 'datetime', readOnly: true, flsExempt: true },
  { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime', readOnly: true, flsExempt: true },
  { name: 'SystemModstamp', label: 'System Modstamp', type: 'datetime', readOnly: true, flsExempt: true },
];

const idField = (label: string): FieldDef => ({ name: 'Id', label, type: 'id', readOnly: true, flsExempt: true });

/**
 * The idempotency key the product writes on every record of an episode (Case, WorkOrder,
 * ServiceAppointment): External ID and Unique, so a retried or replayed write finds the record
 * instead of opening a second one.
 */
const episodeIdField = (what: string): FieldDef => ({
  name: 'PdM_Episode_Id__c', label: 'PdM Episode Id', type: 'string', length: 255, custom: true,
  externalId: true, unique: true,
  description: `Idempotency key of the failure episode (asset, failure mode, episode): one ${what} per episode.`,
});

/**
 * Epoch ms of the newest prediction written to the record. A validation rule in
 * infra/salesforce/ (PdM_Event_Order) refuses a write that would lower it, so an older
 * prediction (a retry, a replay, a write that landed after its client timed out) can never
 * overwrite a newer one, whichever process sends it. Number(18, 0): exact for epoch ms.
 */
const eventTsField: FieldDef = {
  name: 'PdM_Event_Ts__c', label: 'PdM Event Ts', type: 'double', precision: 18, scale: 0, custom: true,
  description: 'Epoch milliseconds of the newest prediction written to this record; never decreases.',
};

/** Custom fields the product needs on Case; infra/salesforce/ holds the same as metadata XML. */
export const CASE_CUSTOM_FIELDS: readonly FieldDef[] = [
  episodeIdField('case'),
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
  eventTsField,
  {
    name: 'PdM_Service_Earliest_Start__c', label: 'PdM Service Earliest Start', type: 'datetime', custom: true,
    description: 'Recommended service window: the visit may start from this time.',
  },
  {
    name: 'PdM_Service_Due__c', label: 'PdM Service Due', type: 'datetime', custom: true,
    description: 'Recommended service window: the visit is due before this time (the predicted failure lower bound less the margin).',
  },
  {
    name: 'PdM_Service_Window_Status__c', label: 'PdM Service Window Status', type: 'string', length: 20, custom: true,
    description: 'Open while the episode lasts; Closed once it cleared (no visit needed for this prediction any more).',
  },
];

/** Custom fields the product needs on WorkOrder (Field Service orgs only). */
export const WORK_ORDER_CUSTOM_FIELDS: readonly FieldDef[] = [episodeIdField('work order'), eventTsField];

/** Custom fields the product needs on ServiceAppointment (Field Service orgs only). */
export const SERVICE_APPOINTMENT_CUSTOM_FIELDS: readonly FieldDef[] = [episodeIdField('service appointment'), eventTsField];

/** Every custom field by object: what infra/salesforce/ must deploy (schema.test.ts checks it). */
export const CUSTOM_FIELDS: Readonly<Record<string, readonly FieldDef[]>> = Object.freeze({
  Case: CASE_CUSTOM_FIELDS,
  WorkOrder: WORK_ORDER_CUSTOM_FIELDS,
  ServiceAppointment: SERVICE_APPOINTMENT_CUSTOM_FIELDS,
});

/** Case statuses that count as closed (Salesforce derives IsClosed from the status's setting). */
export const CLOSED_CASE_STATUSES: readonly string[] = ['Closed'];

/** WorkOrder statuses of the Closed category: the work is over, the record is history. */
export const FINAL_WORK_ORDER_STATUSES: readonly string[] = ['Completed', 'Closed', 'Cannot Complete', 'Canceled'];
/** ServiceAppointment statuses after which the default Field Service status transitions allow no change. */
export const FINAL_APPOINTMENT_STATUSES: readonly string[] = ['Completed', 'Cannot Complete', 'Canceled'];

/** Every object the stand-in serves, by API name. */
export const SOBJECTS: Readonly<Record<string, SObjectDef>> = Object.freeze({
  Case: {
    name: 'Case', label: 'Case', labelPlural: 'Cases', keyPrefix: '500',
    fields: [
      idField('Case ID'),
      { name: 'CaseNumber', label: 'Case Number', type: 'string', length: 30, readOnly: true, flsExempt: true },
      { name: 'Subject', label: 'Subject', type: 'string', length: 255 },
      { name: 'Description', label: 'Description', type: 'textarea', length: 32000 },
      { name: 'Priority', label: 'Priority', type: 'picklist', length: 255, defaultValue: 'Medium', picklistValues: ['High', 'Medium', 'Low'] },
      { name: 'Status', label: 'Status', type: 'picklist', length: 255, defaultValue: 'New', flsExempt: true, picklistValues: ['New', 'Working', 'Escalated', 'Closed'] },
      { name: 'Origin', label: 'Case Origin', type: 'picklist', length: 255, picklistValues: ['Phone', 'Email', 'Web'] },
      { name: 'Type', label: 'Case Type', type: 'picklist', length: 255, picklistValues: ['Mechanical', 'Electrical', 'Electronic', 'Structural', 'Other'] },
      { name: 'Reason', label: 'Case Reason', type: 'picklist', length: 255, picklistValues: ['Installation', 'Equipment Complexity', 'Performance', 'Breakdown', 'Equipment Design', 'Feedback', 'Other'] },
      { name: 'AssetId', label: 'Asset ID', type: 'reference', referenceTo: ['Asset'] },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
      // Set by the platform on create (running user, or the assignment rule's queue); a dispatcher changes it.
      { name: 'OwnerId', label: 'Owner ID', type: 'reference', referenceTo: ['User', 'Group'], flsExempt: true },
      { name: 'IsClosed', label: 'Closed', type: 'boolean', readOnly: true, flsExempt: true, defaultValue: false },
      { name: 'ClosedDate', label: 'Closed Date', type: 'datetime', readOnly: true, flsExempt: true },
      ...AUDIT_FIELDS,
      ...CASE_CUSTOM_FIELDS,
    ],
  },
  Asset: {
    name: 'Asset', label: 'Asset', labelPlural: 'Assets', keyPrefix: '02i',
    fields: [
      idField('Asset ID'),
      { name: 'Name', label: 'Asset Name', type: 'string', length: 255, flsExempt: true },
      { name: 'SerialNumber', label: 'Serial Number', type: 'string', length: 80 },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
      { name: 'ContactId', label: 'Contact ID', type: 'reference', referenceTo: ['Contact'] },
      { name: 'Status', label: 'Status', type: 'picklist', length: 255, picklistValues: ['Purchased', 'Shipped', 'Installed', 'Registered', 'Obsolete'] },
      ...AUDIT_FIELDS,
    ],
  },
  CaseComment: {
    name: 'CaseComment', label: 'Case Comment', labelPlural: 'Case Comments', keyPrefix: '00a', accessVia: 'Case',
    fields: [
      idField('Case Comment ID'),
      { name: 'ParentId', label: 'Parent Case ID', type: 'reference', referenceTo: ['Case'], flsExempt: true, createOnly: true },
      // The documented limit is 4,000 bytes, not characters: multibyte text reaches it sooner.
      { name: 'CommentBody', label: 'Body', type: 'textarea', length: 4000, lengthInBytes: true, flsExempt: true },
      { name: 'IsPublished', label: 'Published', type: 'boolean', defaultValue: false, flsExempt: true },
      ...AUDIT_FIELDS,
    ],
  },
  Account: {
    name: 'Account', label: 'Account', labelPlural: 'Accounts', keyPrefix: '001',
    fields: [
      idField('Account ID'),
      { name: 'Name', label: 'Account Name', type: 'string', length: 255, flsExempt: true },
      ...AUDIT_FIELDS,
    ],
  },
  Contact: {
    name: 'Contact', label: 'Contact', labelPlural: 'Contacts', keyPrefix: '003',
    fields: [
      idField('Contact ID'),
      { name: 'LastName', label: 'Last Name', type: 'string', length: 80, flsExempt: true },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
      ...AUDIT_FIELDS,
    ],
  },
  User: {
    name: 'User', label: 'User', labelPlural: 'Users', keyPrefix: '005', alwaysReadable: true,
    fields: [
      idField('User ID'),
      { name: 'Username', label: 'Username', type: 'string', length: 80, flsExempt: true },
      { name: 'Name', label: 'Full Name', type: 'string', length: 121, flsExempt: true },
      ...AUDIT_FIELDS,
    ],
  },
  Group: {
    name: 'Group', label: 'Group', labelPlural: 'Groups', keyPrefix: '00G', alwaysReadable: true,
    fields: [
      idField('Group ID'),
      { name: 'Name', label: 'Name', type: 'string', length: 40, flsExempt: true },
      { name: 'Type', label: 'Type', type: 'picklist', length: 40, flsExempt: true, picklistValues: ['Queue', 'Regular'] },
      ...AUDIT_FIELDS,
    ],
  },
  WorkOrder: {
    name: 'WorkOrder', label: 'Work Order', labelPlural: 'Work Orders', keyPrefix: '0WO', fieldService: true,
    fields: [
      idField('Work Order ID'),
      { name: 'WorkOrderNumber', label: 'Work Order Number', type: 'string', length: 255, readOnly: true, flsExempt: true },
      { name: 'Subject', label: 'Subject', type: 'string', length: 255 },
      { name: 'Description', label: 'Description', type: 'textarea', length: 32000 },
      { name: 'Priority', label: 'Priority', type: 'picklist', length: 255, defaultValue: 'Low', picklistValues: ['Low', 'Medium', 'High', 'Critical'] },
      { name: 'Status', label: 'Status', type: 'picklist', length: 255, defaultValue: 'New', flsExempt: true, picklistValues: ['New', 'In Progress', 'On Hold', 'Completed', 'Cannot Complete', 'Closed', 'Canceled'] },
      { name: 'AssetId', label: 'Asset ID', type: 'reference', referenceTo: ['Asset'] },
      { name: 'CaseId', label: 'Case ID', type: 'reference', referenceTo: ['Case'] },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'] },
      { name: 'StartDate', label: 'Start Date', type: 'datetime' },
      { name: 'EndDate', label: 'End Date', type: 'datetime' },
      { name: 'IsClosed', label: 'Is Closed', type: 'boolean', readOnly: true, flsExempt: true, defaultValue: false },
      ...AUDIT_FIELDS,
      ...WORK_ORDER_CUSTOM_FIELDS,
    ],
  },
  ServiceAppointment: {
    name: 'ServiceAppointment', label: 'Service Appointment', labelPlural: 'Service Appointments', keyPrefix: '08p', fieldService: true,
    fields: [
      idField('Service Appointment ID'),
      { name: 'AppointmentNumber', label: 'Appointment Number', type: 'string', length: 255, readOnly: true, flsExempt: true },
      // Required and not updateable: an appointment always hangs off one parent record.
      {
        name: 'ParentRecordId', label: 'Parent Record ID', type: 'reference', flsExempt: true, createOnly: true,
        referenceTo: ['Account', 'Asset', 'Case', 'WorkOrder'],
      },
      { name: 'Subject', label: 'Subject', type: 'string', length: 255 },
      { name: 'Status', label: 'Status', type: 'picklist', length: 255, defaultValue: 'None', flsExempt: true, picklistValues: ['None', 'Scheduled', 'Dispatched', 'In Progress', 'Cannot Complete', 'Completed', 'Canceled'] },
      { name: 'EarliestStartTime', label: 'Earliest Start Permitted', type: 'datetime', flsExempt: true },
      { name: 'DueDate', label: 'Due Date', type: 'datetime', flsExempt: true },
      { name: 'SchedStartTime', label: 'Scheduled Start', type: 'datetime' },
      { name: 'SchedEndTime', label: 'Scheduled End', type: 'datetime' },
      { name: 'AccountId', label: 'Account ID', type: 'reference', referenceTo: ['Account'], readOnly: true, flsExempt: true },
      ...AUDIT_FIELDS,
      ...SERVICE_APPOINTMENT_CUSTOM_FIELDS,
    ],
  },
});

/** Fields each object requires on insert (Salesforce answers REQUIRED_FIELD_MISSING). */
export const REQUIRED_ON_INSERT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Asset: ['Name'],
  CaseComment: ['ParentId'],
  Account: ['Name'],
  Contact: ['LastName'],
  ServiceAppointment: ['ParentRecordId', 'EarliestStartTime', 'DueDate'],
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
