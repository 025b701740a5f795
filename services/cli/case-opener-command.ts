/** `pdm case-opener`: turns failure predictions into Salesforce cases (services/case-opener). */
import { startCaseOpener } from '../case-opener/opener.ts';
import { serviceCommand } from './service-command.ts';

export const caseOpenerCommand = serviceCommand(
  'case-opener',
  'Consume failure predictions and upsert one Salesforce Case per episode (external id\nPdM_Episode_Id__c); escalations update it, a cleared episode adds a comment.',
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
    }),
);
