/**
 * One attempt at the Salesforce side of a prediction: read what Salesforce holds for the
 * episode, plan each record (episode-plan.ts), write it, and say what was done. Idempotent:
 * any attempt may be repeated after a failure at any point (the reads find what an earlier
 * attempt wrote; creates are keyed by the episode's external id, so a concurrent or repeated
 * create ends in DUPLICATE_VALUE, which the caller retries and which then reads the winner).
 *
 * The Assignment Rule header: TRUE on the Case create only, so the org's case assignment
 * routes a new case to the right queue as it does cases from any other channel; FALSE on
 * every other write, so an escalation or a replay never takes a case back from the
 * dispatcher who picked it up.
 */
import type { PredictionEvent } from '../core/types.ts';
import { clearedComment, clearedMarker, type CaseContentOptions } from './case-content.ts';
import {
  EPISODE_ID_FIELD, planAppointment, planCase, planWorkOrder,
  type CaseState, type FieldServiceState, type PlanContext, type SkipReason, type Step,
} from './episode-plan.ts';
import { isStaleWrite, soqlString, type SalesforceCases } from './salesforce.ts';
import type { ServiceWindowOptions } from './service-window.ts';

/** A write to a Case, as published on the case-events topic. */
export interface CaseAction {
  action: 'created' | 'updated' | 'commented';
  caseId: string;
}

/** What happened to the Field Service records of an episode. */
export type FieldServiceAction = 'created' | 'updated' | 'canceled' | SkipReason;

/** The result of one attempt. */
export interface WriteResult {
  /** `superseded`: Salesforce already holds a newer prediction of the episode, or its window closed; nothing was written. */
  outcome: 'written' | 'superseded';
  caseActions: CaseAction[];
  workOrder?: FieldServiceAction;
  appointment?: FieldServiceAction;
}

/** What the writer needs. */
export interface EpisodeWriterOptions {
  content: CaseContentOptions;
  window: ServiceWindowOptions;
  /** Also write a WorkOrder and a ServiceAppointment per episode (the org has Field Service). */
  fieldService: boolean;
  /** Clock for the Asset cache, epoch ms. */
  now(): number;
}

interface CaseRow extends Record<string, unknown> {
  Id: string;
  AssetId: string | null;
  PdM_Event_Ts__c: number | null;
  PdM_Service_Window_Status__c: string | null;
}
interface FieldServiceRow extends Record<string, unknown> {
  Id: string;
  Status: string | null;
  PdM_Event_Ts__c: number | null;
}

/** Writes predictions to Salesforce through one adapter; safe for concurrent episodes, callers serialize per asset. */
export class EpisodeWriter {
  constructor(private readonly sf: SalesforceCases, private readonly opts: EpisodeWriterOptions) {}

  async write(ev: PredictionEvent): Promise<WriteResult> {
    const current = await this.readCase(ev.episodeId);
    // The Asset lookup is cached; it is needed to create, to link a case opened before its Asset, and for the WorkOrder.
    const assetSfId = !current || !current.assetId || this.opts.fieldService ? await this.sf.findAssetIdBySerial(ev.assetId, this.opts.now()) : undefined;
    const ctx: PlanContext = { content: this.opts.content, window: this.opts.window, ...(assetSfId ? { assetSfId } : {}) };
    const step = planCase(ev, current, ctx);
    const caseActions: CaseAction[] = [];
    let caseId: string;
    let createdNow = false;
    if (step.op === 'skip') return { outcome: 'superseded', caseActions };
    try {
      if (step.op === 'create') {
        const r = await this.sf.upsert('Case', EPISODE_ID_FIELD, ev.episodeId, step.fields, true);
        caseId = r.id;
        createdNow = r.created;
        caseActions.push({ action: r.created ? 'created' : 'updated', caseId });
      } else {
        await this.sf.update('Case', step.id, step.fields, false);
        caseId = step.id;
        caseActions.push({ action: 'updated', caseId });
      }
    } catch (err) {
      // The org refused an older prediction (PdM_Event_Order): a newer one got there first.
      if (isStaleWrite(err)) return { outcome: 'superseded', caseActions };
      throw err;
    }
    if (ev.kind === 'cleared' && (await this.addClearedComment(ev, caseId))) caseActions.push({ action: 'commented', caseId });
    if (!this.opts.fieldService) return { outcome: 'written', caseActions };

    // A case created by this attempt has no Field Service records yet: nothing to read.
    const wo = createdNow ? undefined : await this.readFieldService('WorkOrder', ev.episodeId);
    const woStep = planWorkOrder(ev, wo, caseId, ctx);
    const woDone = await this.apply('WorkOrder', ev, woStep);
    const workOrderId = woDone.id ?? wo?.id;
    if (!workOrderId) return { outcome: 'written', caseActions, workOrder: woDone.action };
    const sa = woDone.action === 'created' ? undefined : await this.readFieldService('ServiceAppointment', ev.episodeId);
    const saDone = await this.apply('ServiceAppointment', ev, planAppointment(ev, sa, workOrderId, ctx));
    return { outcome: 'written', caseActions, workOrder: woDone.action, appointment: saDone.action };
  }

  /** Adds the cleared comment unless the case has it (its marker); true when added. */
  private async addClearedComment(ev: PredictionEvent, caseId: string): Promise<boolean> {
    const marker = clearedMarker(ev.episodeId);
    const comments = await this.sf.listComments(caseId);
    if (comments.some((c) => c.body.includes(marker))) return false;
    await this.sf.addComment(caseId, clearedComment(ev, this.opts.content.config));
    return true;
  }

  /** Runs a WorkOrder or ServiceAppointment step; a stale-write refusal counts as superseded. */
  private async apply(type: 'WorkOrder' | 'ServiceAppointment', ev: PredictionEvent, step: Step): Promise<{ action: FieldServiceAction; id?: string }> {
    try {
      switch (step.op) {
        case 'skip':
          return { action: step.reason };
        case 'create':
          // WorkOrder: upsert on the episode id. ServiceAppointment: a plain create carrying the
          // external id (its ParentRecordId cannot be sent to an update, which an upsert may become).
          return type === 'WorkOrder'
            ? { action: 'created', id: (await this.sf.upsert(type, EPISODE_ID_FIELD, ev.episodeId, step.fields, false)).id }
            : { action: 'created', id: await this.sf.create(type, step.fields, false) };
        case 'update':
          await this.sf.update(type, step.id, step.fields, false);
          return { action: step.fields.Status === 'Canceled' ? 'canceled' : 'updated', id: step.id };
      }
    } catch (err) {
      if (isStaleWrite(err)) return { action: 'superseded' };
      throw err;
    }
  }

  private async readCase(episodeId: string): Promise<CaseState | undefined> {
    const rows = await this.sf.query<CaseRow>(
      'query Case by episode',
      `SELECT Id, AssetId, PdM_Event_Ts__c, PdM_Service_Window_Status__c FROM Case WHERE ${EPISODE_ID_FIELD} = ${soqlString(episodeId)} LIMIT 1`,
    );
    const r = rows[0];
    return r && { id: r.Id, assetId: r.AssetId ?? null, eventTs: numberOrNull(r.PdM_Event_Ts__c), windowStatus: r.PdM_Service_Window_Status__c ?? null };
  }

  private async readFieldService(type: 'WorkOrder' | 'ServiceAppointment', episodeId: string): Promise<FieldServiceState | undefined> {
    const rows = await this.sf.query<FieldServiceRow>(
      `query ${type} by episode`,
      `SELECT Id, Status, PdM_Event_Ts__c FROM ${type} WHERE ${EPISODE_ID_FIELD} = ${soqlString(episodeId)} LIMIT 1`,
    );
    const r = rows[0];
    return r && { id: r.Id, status: r.Status ?? '', eventTs: numberOrNull(r.PdM_Event_Ts__c) };
  }
}

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));
