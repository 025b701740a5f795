/**
 * What one prediction does to an episode's records in Salesforce, decided from the event
 * and from what Salesforce holds now (never from the case opener's memory, so a restart or a
 * second instance decides the same): pure functions from (event, current record) to one
 * step per record, tested exactly.
 *
 * Rules:
 * - Every record carries PdM_Event_Ts__c, the time of the newest prediction written to it.
 *   An event older than that is superseded: nothing is written (the org's PdM_Event_Order
 *   validation rule refuses such a write too, whoever sends it).
 * - A case whose window is Closed (the episode cleared) is never reopened by a raised or
 *   escalated event; a cleared event closes the window and changes nothing else, so the case
 *   stays as the last escalation left it.
 * - Only the fields that must change are sent: a create sends the case's identity and
 *   content; an update sends the content an event changes, plus AssetId when the case has
 *   none yet and the Asset now exists. Status and OwnerId are never sent: they belong to the
 *   dispatcher.
 * - Field Service (optional): one WorkOrder on the Asset and one ServiceAppointment under it
 *   per episode, carrying the window (EarliestStartTime, DueDate); an escalation moves the
 *   window, a cleared episode cancels both; records in a final status are left alone.
 */
import type { PredictionEvent, Severity } from '../core/types.ts';
import { caseFields, caseSubject, type CaseContentOptions } from './case-content.ts';
import type { RecordFields } from './salesforce.ts';
import { serviceWindow, type ServiceWindowOptions } from './service-window.ts';

/** The external-id field of every record of an episode. */
export const EPISODE_ID_FIELD = 'PdM_Episode_Id__c';
/** Values of PdM_Service_Window_Status__c. */
export const WINDOW_OPEN = 'Open';
export const WINDOW_CLOSED = 'Closed';

/** Salesforce statuses after which the product leaves a record alone. */
export const FINAL_WORK_ORDER_STATUSES: readonly string[] = ['Completed', 'Closed', 'Cannot Complete', 'Canceled'];
export const FINAL_APPOINTMENT_STATUSES: readonly string[] = ['Completed', 'Cannot Complete', 'Canceled'];
export const CANCELED = 'Canceled';

/** Case fields written only when the case is created: who and what it is about. */
export const CASE_CREATE_ONLY_FIELDS = ['Origin', 'PdM_Asset_Id__c', 'PdM_Failure_Mode__c', 'PdM_Dashboard_Url__c'] as const;

/** An episode's Case as read back (PdM fields the plan needs). */
export interface CaseState {
  id: string;
  /** PdM_Event_Ts__c: newest prediction written, epoch ms; null on cases from before the field. */
  eventTs: number | null;
  assetId: string | null;
  windowStatus: string | null;
}

/** An episode's WorkOrder or ServiceAppointment as read back. */
export interface FieldServiceState {
  id: string;
  status: string;
  eventTs: number | null;
}

/** Why a record is not written. */
export type SkipReason = 'superseded' | 'closed' | 'final' | 'absent';

/** One record's step: nothing, a create (identity included), or an update of `id` with these fields only. */
export type Step =
  | { op: 'skip'; reason: SkipReason }
  | { op: 'create'; fields: RecordFields }
  | { op: 'update'; id: string; fields: RecordFields };

/** Inputs of the plan besides the event and the record. */
export interface PlanContext {
  content: CaseContentOptions;
  window: ServiceWindowOptions;
  /** Salesforce Asset Id whose SerialNumber is the event's asset, when one exists. */
  assetSfId?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const newer = (stored: number | null, ev: PredictionEvent): boolean => stored !== null && stored > ev.ts;

/** The window fields of a case for a raised or escalated event. */
function windowFields(ev: PredictionEvent, ctx: PlanContext): RecordFields {
  const w = serviceWindow(ev, ctx.window);
  return {
    PdM_Service_Earliest_Start__c: iso(w.earliestStartTs),
    PdM_Service_Due__c: iso(w.dueTs),
    PdM_Service_Window_Status__c: WINDOW_OPEN,
  };
}

/** Every case field for `ev`, with the window open (raised, escalated) or closed (cleared), and the event time. */
function allCaseFields(ev: PredictionEvent, ctx: PlanContext): Record<string, string | number | null> {
  const { AssetId, ...rest } = caseFields(ev, ctx.content, ctx.assetSfId);
  return {
    ...rest,
    ...(AssetId ? { AssetId } : {}),
    ...windowFields(ev, ctx),
    ...(ev.kind === 'cleared' ? { PdM_Service_Window_Status__c: WINDOW_CLOSED } : {}),
    PdM_Event_Ts__c: ev.ts,
  };
}

/** The Case step of a prediction, given the episode's case as Salesforce holds it (undefined: none yet). */
export function planCase(ev: PredictionEvent, current: CaseState | undefined, ctx: PlanContext): Step {
  if (!current) return { op: 'create', fields: allCaseFields(ev, ctx) };
  if (newer(current.eventTs, ev)) return { op: 'skip', reason: 'superseded' };
  if (ev.kind === 'cleared') {
    return { op: 'update', id: current.id, fields: { PdM_Service_Window_Status__c: WINDOW_CLOSED, PdM_Event_Ts__c: ev.ts } };
  }
  if (current.windowStatus === WINDOW_CLOSED) return { op: 'skip', reason: 'closed' };
  const fields = allCaseFields(ev, ctx);
  for (const f of CASE_CREATE_ONLY_FIELDS) delete fields[f];
  // Link the Asset when it was registered after the case was opened; never unlink or relink.
  if (current.assetId || !ctx.assetSfId) delete fields.AssetId;
  return { op: 'update', id: current.id, fields };
}

/** WorkOrder Priority per severity (its picklist has Critical, unlike Case's). */
export const WORK_ORDER_PRIORITY: Readonly<Record<Severity, string>> = Object.freeze({ low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' });

/** The WorkOrder step: on the Asset and the case, spanning the window; canceled when the episode clears. */
export function planWorkOrder(ev: PredictionEvent, current: FieldServiceState | undefined, caseId: string, ctx: PlanContext): Step {
  if (ev.kind === 'cleared') return cancel(ev, current);
  if (current && FINAL_WORK_ORDER_STATUSES.includes(current.status)) return { op: 'skip', reason: 'final' };
  if (current && newer(current.eventTs, ev)) return { op: 'skip', reason: 'superseded' };
  const w = serviceWindow(ev, ctx.window);
  const content = {
    Subject: caseSubject(ev, ctx.content.config),
    Priority: WORK_ORDER_PRIORITY[ev.severity],
    StartDate: iso(w.earliestStartTs),
    EndDate: iso(w.dueTs),
    PdM_Event_Ts__c: ev.ts,
  };
  if (!current) return { op: 'create', fields: { CaseId: caseId, ...(ctx.assetSfId ? { AssetId: ctx.assetSfId } : {}), ...content } };
  return { op: 'update', id: current.id, fields: content };
}

/** The ServiceAppointment step: under the WorkOrder, EarliestStartTime and DueDate from the window; canceled when the episode clears. */
export function planAppointment(ev: PredictionEvent, current: FieldServiceState | undefined, workOrderId: string, ctx: PlanContext): Step {
  if (ev.kind === 'cleared') return cancel(ev, current, FINAL_APPOINTMENT_STATUSES);
  if (current && FINAL_APPOINTMENT_STATUSES.includes(current.status)) return { op: 'skip', reason: 'final' };
  if (current && newer(current.eventTs, ev)) return { op: 'skip', reason: 'superseded' };
  const w = serviceWindow(ev, ctx.window);
  const content = {
    Subject: caseSubject(ev, ctx.content.config),
    EarliestStartTime: iso(w.earliestStartTs),
    DueDate: iso(w.dueTs),
    PdM_Event_Ts__c: ev.ts,
  };
  // ParentRecordId and the external id can only be set on create (ParentRecordId is not updateable).
  if (!current) return { op: 'create', fields: { ParentRecordId: workOrderId, [EPISODE_ID_FIELD]: ev.episodeId, ...content } };
  return { op: 'update', id: current.id, fields: content };
}

function cancel(ev: PredictionEvent, current: FieldServiceState | undefined, final: readonly string[] = FINAL_WORK_ORDER_STATUSES): Step {
  if (!current) return { op: 'skip', reason: 'absent' };
  if (final.includes(current.status)) return { op: 'skip', reason: 'final' };
  if (newer(current.eventTs, ev)) return { op: 'skip', reason: 'superseded' };
  return { op: 'update', id: current.id, fields: { Status: CANCELED, PdM_Event_Ts__c: ev.ts } };
}
