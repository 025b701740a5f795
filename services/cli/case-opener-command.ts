/** `pdm case-opener`: turns failure predictions into Salesforce cases (services/case-opener). */
import { startCaseOpener, type CaseOpenerOptions } from '../case-opener/opener.ts';
import { ServiceConfigError } from '../runtime/errors.ts';
import { serviceCommand } from './service-command.ts';

type Tuning = Pick<CaseOpenerOptions, 'serviceMarginHours' | 'minimumServiceWindowHours' | 'fieldService'>;

/** Optional tuning variables of the case opener; every bad one is reported at once. */
export function caseOpenerTuning(env: NodeJS.ProcessEnv): Tuning {
  const problems: string[] = [];
  const hours = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) {
      problems.push(`${name}=${raw}: must be a number of hours >= 0`);
      return undefined;
    }
    return v;
  };
  const serviceMarginHours = hours('PDM_CASE_SERVICE_MARGIN_HOURS');
  const minimumServiceWindowHours = hours('PDM_CASE_MIN_SERVICE_WINDOW_HOURS');
  const fs = env.PDM_SF_FIELD_SERVICE?.trim().toLowerCase();
  let fieldService: boolean | undefined;
  if (fs === 'on' || fs === 'true' || fs === '1') fieldService = true;
  else if (fs === 'off' || fs === 'false' || fs === '0') fieldService = false;
  else if (fs) problems.push(`PDM_SF_FIELD_SERVICE=${env.PDM_SF_FIELD_SERVICE!.trim()}: must be on or off`);
  if (problems.length > 0) throw new ServiceConfigError(problems);
  return {
    ...(serviceMarginHours !== undefined ? { serviceMarginHours } : {}),
    ...(minimumServiceWindowHours !== undefined ? { minimumServiceWindowHours } : {}),
    ...(fieldService !== undefined ? { fieldService } : {}),
  };
}

export const caseOpenerCommand = serviceCommand(
  'case-opener',
  'Consume failure predictions and upsert one Salesforce Case per episode (external id\nPdM_Episode_Id__c) with the recommended service window; escalations update it, a cleared\nepisode closes the window and adds a comment.\n\n' +
    'Case opener tuning: PDM_CASE_SERVICE_MARGIN_HOURS (default 4): the visit is due this long\nbefore the earliest likely failure; PDM_CASE_MIN_SERVICE_WINDOW_HOURS (default 1);\nPDM_SF_FIELD_SERVICE=on|off (default off): also a WorkOrder and ServiceAppointment per episode.\n' +
    'Salesforce login: PDM_SF_AUTH_FLOW=password|client_credentials (default password),\nPDM_SF_SECURITY_TOKEN; secrets may come from files: PDM_SF_PASSWORD_FILE,\nPDM_SF_CLIENT_SECRET_FILE, PDM_SF_SECURITY_TOKEN_FILE.',
  (ctx) =>
    startCaseOpener({
      brokers: ctx.env.brokers,
      registryUrl: ctx.env.registryUrl,
      topics: ctx.topics,
      salesforce: ctx.env.salesforce,
      dashboardUrl: ctx.env.dashboardUrl,
      config: ctx.cfg,
      groupId: `${ctx.env.topicPrefix}pdm-case-opener`,
      metrics: ctx.metrics,
      health: ctx.health,
      sessionTimeoutMs: ctx.env.sessionTimeoutMs,
      ...caseOpenerTuning(process.env),
    }),
);
