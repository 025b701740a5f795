/** `pdm web`: the fleet view, pages read from InfluxDB and the case events (services/web). */
import { DEFAULT_WEB, webSettingsFromEnv } from '../web/options.ts';
import { startWeb } from '../web/server.ts';
import { UsageError } from './args.ts';
import { serviceCommand } from './service-command.ts';

export const webCommand = serviceCommand(
  'web',
  'Serve the fleet view: the assets at risk first, with failure mode, severity, predicted failure\nwindow and Salesforce case; one page per asset with its charts, episodes and repairs.\nReads InfluxDB (Flux) and the case.events topic; keeps no copy of either.',
  (ctx) => {
    const port = ctx.options.port === undefined ? DEFAULT_WEB.port : Number(ctx.options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('pdm web: --port must be a TCP port');
    const settings = webSettingsFromEnv(ctx.env, ctx.topics);
    return startWeb({
      ...settings,
      port,
      host: ctx.options.host ?? DEFAULT_WEB.host,
      caseUrl: ctx.options['case-url'] ?? settings.caseUrl,
      metrics: ctx.metrics,
      health: ctx.health,
    });
  },
  {
    port: { usage: `PORT  serve the pages on PORT (default ${DEFAULT_WEB.port})` },
    host: { usage: `ADDR  listen on ADDR (default ${DEFAULT_WEB.host}; 0.0.0.0 in a container)` },
    'case-url': { usage: 'URL  link to a case, {caseId} replaced (default <PDM_SF_LOGIN_URL>/{caseId})' },
  },
);
