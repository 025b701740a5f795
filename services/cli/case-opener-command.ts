/** `pdm case-opener`: turns failure predictions into Salesforce cases (services/case-opener). */
import { startCaseOpener } from '../case-opener/opener.ts';
import { serviceCommand } from './service-command.ts';

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
      ...ctx.config.caseOpener,
    }),
);
