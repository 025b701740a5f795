/**
 * Field Service end to end on the stack: with fieldService on, the real case opener gives each
 * episode one WorkOrder on the Asset and one ServiceAppointment under it carrying the service
 * window (EarliestStartTime, DueDate); an escalation moves the window; a cleared episode
 * cancels both, unless the dispatcher already completed them; a replay creates nothing and
 * changes no status. Against a strict stand-in (the PdM_Field_Service permission set), and an
 * org without Field Service stops the opener at start with what to change.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../infra/salesforce-standin/server.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { clearing, escalation, H, metric, OpenerWorld, prediction, sfTime, T0, uniqueName, waitFor } from './testkit.ts';

const w = new OpenerWorld();
beforeAll(() => w.setUp());
afterAll(() => w.tearDown());

interface FsRecord { Id: string; Status: string; [k: string]: unknown }
const FIELDS = {
  WorkOrder: ['Id', 'Status', 'Priority', 'Subject', 'AssetId', 'CaseId', 'StartDate', 'EndDate', 'PdM_Event_Ts__c'],
  ServiceAppointment: ['Id', 'Status', 'ParentRecordId', 'EarliestStartTime', 'DueDate', 'PdM_Event_Ts__c'],
};
async function records(type: 'WorkOrder' | 'ServiceAppointment', episodeId: string): Promise<FsRecord[]> {
  const res = await w.admin.query<FsRecord>(`SELECT ${FIELDS[type].join(', ')} FROM ${type} WHERE PdM_Episode_Id__c = '${episodeId}'`);
  return res.records.map(({ attributes: _a, ...r }) => r as FsRecord);
}

describe('Field Service', () => {
  test('work order and appointment follow the episode: created with the window, moved, canceled; completed ones left alone; replay adds nothing', { timeout: 90_000 }, async () => {
    const { topics, codec } = await w.topics();
    const assetId = uniqueName('EV');
    const assetSfId = await w.asset(assetId);
    const done = prediction(uniqueName('EV'));
    const raised = prediction(assetId);
    const opener = await w.start(topics, { fieldService: true });
    await w.send(topics, codec, raised, done);

    const [wo] = await waitFor('the work order', async () => ((await records('WorkOrder', raised.episodeId)).length ? records('WorkOrder', raised.episodeId) : undefined));
    const [sa] = await waitFor('the appointment', async () => ((await records('ServiceAppointment', raised.episodeId)).length ? records('ServiceAppointment', raised.episodeId) : undefined));
    const theCase = await w.oneCase(raised.episodeId);
    expect(wo).toMatchObject({
      Status: 'New', Priority: 'Medium', AssetId: assetSfId, CaseId: theCase.Id,
      StartDate: sfTime(T0), EndDate: sfTime(T0 + 20 * H), PdM_Event_Ts__c: T0,
    });
    expect(sa).toMatchObject({ Status: 'None', ParentRecordId: wo!.Id, EarliestStartTime: sfTime(T0), DueDate: sfTime(T0 + 20 * H), PdM_Event_Ts__c: T0 });

    await w.send(topics, codec, escalation(raised));
    await waitFor('the moved window', async () => (await records('ServiceAppointment', raised.episodeId))[0]?.DueDate === sfTime(T0 + 6 * H));
    expect(await records('WorkOrder', raised.episodeId)).toEqual([{ ...wo, Priority: 'Critical', StartDate: sfTime(T0 + H), EndDate: sfTime(T0 + 6 * H), PdM_Event_Ts__c: T0 + H, Subject: expect.stringContaining('within ~11h') }]);
    expect(await records('ServiceAppointment', raised.episodeId)).toEqual([{ ...sa, EarliestStartTime: sfTime(T0 + H), DueDate: sfTime(T0 + 6 * H), PdM_Event_Ts__c: T0 + H }]);

    // The other episode: the dispatcher sent someone; the visit is done before the episode clears.
    const [doneWo] = await waitFor('the second work order', async () => ((await records('WorkOrder', done.episodeId)).length ? records('WorkOrder', done.episodeId) : undefined));
    const [doneSa] = await waitFor('the second appointment', async () => ((await records('ServiceAppointment', done.episodeId)).length ? records('ServiceAppointment', done.episodeId) : undefined));
    await w.admin.sobject('ServiceAppointment').update({ Id: doneSa!.Id, Status: 'Completed' });
    await w.admin.sobject('WorkOrder').update({ Id: doneWo!.Id, Status: 'Completed' });

    await w.send(topics, codec, clearing(raised), clearing(done));
    await waitFor('the cancellation', async () => (await records('ServiceAppointment', raised.episodeId))[0]?.Status === 'Canceled');
    await waitFor('the second clear', () => metric(opener, 'pdm_case_opener_field_service_total', { object: 'ServiceAppointment', action: 'final' }) === 1);
    expect((await records('WorkOrder', raised.episodeId))[0]).toMatchObject({ Status: 'Canceled', PdM_Event_Ts__c: T0 + 5 * H });
    expect((await records('ServiceAppointment', raised.episodeId))[0]).toMatchObject({ Status: 'Canceled', DueDate: sfTime(T0 + 6 * H) });
    expect((await w.oneCase(raised.episodeId)).PdM_Service_Window_Status__c).toBe('Closed');
    expect((await records('WorkOrder', done.episodeId))[0]!.Status).toBe('Completed');
    expect((await records('ServiceAppointment', done.episodeId))[0]!.Status).toBe('Completed');
    const before = { wo: await records('WorkOrder', raised.episodeId), sa: await records('ServiceAppointment', raised.episodeId), doneWo: await records('WorkOrder', done.episodeId), doneSa: await records('ServiceAppointment', done.episodeId) };
    await opener.stop();

    const replay = await w.start(topics, { fieldService: true });
    await waitFor('the replay', () => metric(replay, 'pdm_case_opener_predictions_total') >= 5 && metric(replay, 'pdm_case_opener_cases_total', { action: 'updated' }) >= 2);
    expect(metric(replay, 'pdm_case_opener_field_service_total', { action: 'created' })).toBe(0);
    expect(metric(replay, 'pdm_case_opener_field_service_total', { action: 'canceled' })).toBe(0);
    expect({ wo: await records('WorkOrder', raised.episodeId), sa: await records('ServiceAppointment', raised.episodeId), doneWo: await records('WorkOrder', done.episodeId), doneSa: await records('ServiceAppointment', done.episodeId) }).toEqual(before);
  });

  test('an org without Field Service stops the opener at start, naming what to change', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pdm-no-fs-'));
    const server = await startServer({ port: 0, dataDir: dir, strict: true, fieldService: false });
    try {
      const { topics } = await w.topics();
      const err = await w.start(topics, { fieldService: true, salesforce: w.connection({ loginUrl: server.loginUrl }) }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceConfigError);
      expect((err as Error).message).toBe(
        'invalid configuration:\n  - case-opener: fieldService is on but the org has no WorkOrder or ServiceAppointment the integration user can see: enable Field Service, deploy infra/salesforce/field-service and assign the PdM_Field_Service permission set, or turn fieldService off',
      );
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
