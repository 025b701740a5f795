/**
 * The per-record plan of a prediction, exactly: which fields each write sends (only those it
 * must: a test fails when one is added), when an event is superseded, that a cleared episode
 * closes the window without touching the rest and is never reopened, and the Field Service
 * steps (create, move the window, cancel, leave final records alone).
 */
import { describe, expect, test } from 'vitest';
import type { PredictionEvent } from '../core/types.ts';
import { planAppointment, planCase, planWorkOrder, type CaseState, type PlanContext } from './episode-plan.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 10);
const ASSET_SF = '02i0R0000000001AAA';
const ctx: PlanContext = { content: { dashboardUrl: 'http://dash.example/d' }, window: { marginHours: 4, minimumWindowHours: 1 }, assetSfId: ASSET_SF };

function ev(over: Partial<PredictionEvent> = {}): PredictionEvent {
  return {
    kind: 'raised', episodeId: 'EV-1:battery_thermal_runaway:1', assetId: 'EV-1', assetType: 'passenger_ev', failureMode: 'battery_thermal_runaway',
    episodeStartTs: T0 - 2 * H, ts: T0, severity: 'medium', probability: 0.61, horizonHours: 72,
    predictedFailureTs: T0 + 30 * H, predictedFailureLowTs: T0 + 24 * H, predictedFailureHighTs: T0 + 40 * H,
    evidence: [], configVersion: 'v1', ...over,
  };
}
const open = (over: Partial<CaseState> = {}): CaseState => ({ id: '5000R0000000001AAA', eventTs: T0, assetId: ASSET_SF, windowStatus: 'Open', ...over });
const keys = (step: { op: string; fields?: object }) => Object.keys(step.fields ?? {}).sort();

describe('planCase', () => {
  test('create: identity, content, window and event time; never Status or OwnerId', () => {
    const step = planCase(ev(), undefined, ctx);
    expect(step.op).toBe('create');
    expect(keys(step)).toEqual([
      'AssetId', 'Description', 'Origin', 'PdM_Asset_Id__c', 'PdM_Dashboard_Url__c', 'PdM_Event_Ts__c', 'PdM_Failure_Mode__c',
      'PdM_Predicted_Failure_High__c', 'PdM_Predicted_Failure_Low__c', 'PdM_Predicted_Failure__c', 'PdM_Probability__c',
      'PdM_Service_Due__c', 'PdM_Service_Earliest_Start__c', 'PdM_Service_Window_Status__c', 'PdM_Severity__c', 'Priority', 'Subject',
    ]);
    expect(step.op === 'create' && step.fields).toMatchObject({
      PdM_Event_Ts__c: T0,
      PdM_Service_Earliest_Start__c: '2026-11-23T10:00:00.000Z',
      PdM_Service_Due__c: '2026-11-24T06:00:00.000Z',
      PdM_Service_Window_Status__c: 'Open',
      AssetId: ASSET_SF,
    });
    expect(keys(planCase(ev(), undefined, { ...ctx, assetSfId: undefined }))).not.toContain('AssetId');
  });

  test('escalation: only what an event changes, the window moved', () => {
    const esc = ev({ kind: 'escalated', ts: T0 + H, severity: 'critical', probability: 0.93, predictedFailureLowTs: T0 + 10 * H });
    const step = planCase(esc, open(), ctx);
    expect(step).toMatchObject({ op: 'update', id: '5000R0000000001AAA' });
    expect(keys(step)).toEqual([
      'Description', 'PdM_Event_Ts__c', 'PdM_Predicted_Failure_High__c', 'PdM_Predicted_Failure_Low__c', 'PdM_Predicted_Failure__c',
      'PdM_Probability__c', 'PdM_Service_Due__c', 'PdM_Service_Earliest_Start__c', 'PdM_Service_Window_Status__c', 'PdM_Severity__c', 'Priority', 'Subject',
    ]);
    expect(step.op === 'update' && step.fields).toMatchObject({ Priority: 'High', PdM_Service_Due__c: '2026-11-23T16:00:00.000Z', PdM_Event_Ts__c: T0 + H });
  });

  test('links an Asset registered after the case was opened, and only then', () => {
    expect(keys(planCase(ev({ kind: 'escalated', ts: T0 + H }), open({ assetId: null }), ctx))).toContain('AssetId');
    expect(keys(planCase(ev({ kind: 'escalated', ts: T0 + H }), open({ assetId: null }), { ...ctx, assetSfId: undefined }))).not.toContain('AssetId');
  });

  test('an event older than what the case holds is superseded; an equal one is rewritten (idempotent)', () => {
    expect(planCase(ev({ ts: T0 }), open({ eventTs: T0 + H }), ctx)).toEqual({ op: 'skip', reason: 'superseded' });
    expect(planCase(ev({ ts: T0 }), open({ eventTs: T0 }), ctx).op).toBe('update');
    // Cases written before PdM_Event_Ts__c existed hold null: every event applies.
    expect(planCase(ev({ ts: T0 }), open({ eventTs: null }), ctx).op).toBe('update');
  });

  test('cleared: closes the window and records the time, nothing else; never reopened afterwards', () => {
    const cleared = ev({ kind: 'cleared', ts: T0 + 5 * H, severity: 'low', probability: 0.05 });
    expect(planCase(cleared, open(), ctx)).toEqual({ op: 'update', id: '5000R0000000001AAA', fields: { PdM_Service_Window_Status__c: 'Closed', PdM_Event_Ts__c: T0 + 5 * H } });
    expect(planCase(ev({ kind: 'escalated', ts: T0 + 6 * H }), open({ windowStatus: 'Closed', eventTs: T0 + 5 * H }), ctx)).toEqual({ op: 'skip', reason: 'closed' });
    // A cleared episode whose raise was never written is still put on record, window closed.
    const created = planCase(cleared, undefined, ctx);
    expect(created.op === 'create' && created.fields.PdM_Service_Window_Status__c).toBe('Closed');
  });
});

describe('Field Service plans', () => {
  const wo = { id: '0WO0R0000000001AAA', status: 'New', eventTs: T0 };
  const sa = { id: '08p0R0000000001AAA', status: 'None', eventTs: T0 };
  test('work order: created on the Asset and the case, window as start and end', () => {
    const step = planWorkOrder(ev(), undefined, '5000R0000000001AAA', ctx);
    expect(step).toEqual({
      op: 'create',
      fields: {
        CaseId: '5000R0000000001AAA', AssetId: ASSET_SF, Subject: expect.stringContaining('Predicted battery thermal runaway on passenger_ev EV-1'), Priority: 'Medium',
        StartDate: '2026-11-23T10:00:00.000Z', EndDate: '2026-11-24T06:00:00.000Z', PdM_Event_Ts__c: T0,
      },
    });
    const esc = planWorkOrder(ev({ kind: 'escalated', ts: T0 + H, severity: 'critical', predictedFailureLowTs: T0 + 10 * H }), wo, 'x', ctx);
    expect(esc).toMatchObject({ op: 'update', id: wo.id, fields: { Priority: 'Critical', EndDate: '2026-11-23T16:00:00.000Z' } });
    expect(keys(esc)).toEqual(['EndDate', 'PdM_Event_Ts__c', 'Priority', 'StartDate', 'Subject']);
  });
  test('appointment: created under the work order with EarliestStartTime and DueDate; moved on escalation', () => {
    const step = planAppointment(ev(), undefined, wo.id, ctx);
    expect(step).toMatchObject({ op: 'create', fields: { ParentRecordId: wo.id, PdM_Episode_Id__c: 'EV-1:battery_thermal_runaway:1', EarliestStartTime: '2026-11-23T10:00:00.000Z', DueDate: '2026-11-24T06:00:00.000Z' } });
    const moved = planAppointment(ev({ kind: 'escalated', ts: T0 + H, predictedFailureLowTs: T0 + 10 * H }), sa, wo.id, ctx);
    expect(keys(moved)).toEqual(['DueDate', 'EarliestStartTime', 'PdM_Event_Ts__c', 'Subject']);
    expect(moved).toMatchObject({ fields: { EarliestStartTime: '2026-11-23T11:00:00.000Z', DueDate: '2026-11-23T16:00:00.000Z' } });
  });
  test('cleared: both canceled, unless absent, final or newer', () => {
    const cleared = ev({ kind: 'cleared', ts: T0 + 5 * H });
    expect(planWorkOrder(cleared, wo, 'x', ctx)).toEqual({ op: 'update', id: wo.id, fields: { Status: 'Canceled', PdM_Event_Ts__c: T0 + 5 * H } });
    expect(planAppointment(cleared, sa, wo.id, ctx)).toEqual({ op: 'update', id: sa.id, fields: { Status: 'Canceled', PdM_Event_Ts__c: T0 + 5 * H } });
    expect(planWorkOrder(cleared, undefined, 'x', ctx)).toEqual({ op: 'skip', reason: 'absent' });
    expect(planAppointment(cleared, { ...sa, status: 'Completed' }, wo.id, ctx)).toEqual({ op: 'skip', reason: 'final' });
    expect(planWorkOrder(cleared, { ...wo, eventTs: T0 + 6 * H }, 'x', ctx)).toEqual({ op: 'skip', reason: 'superseded' });
  });
  test('a record in a final status is left alone by escalations too', () => {
    expect(planWorkOrder(ev({ kind: 'escalated', ts: T0 + H }), { ...wo, status: 'Closed' }, 'x', ctx)).toEqual({ op: 'skip', reason: 'final' });
    expect(planAppointment(ev({ kind: 'escalated', ts: T0 + H }), { ...sa, status: 'Canceled' }, wo.id, ctx)).toEqual({ op: 'skip', reason: 'final' });
    expect(planAppointment(ev({ kind: 'escalated', ts: T0 }), { ...sa, eventTs: T0 + H }, wo.id, ctx)).toEqual({ op: 'skip', reason: 'superseded' });
  });
});
