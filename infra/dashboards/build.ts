/**
 * `npm run dashboards:build`: writes the Grafana dashboards (grafana/<uid>.json) and the
 * InfluxDB 2.x templates (influxdb/<uid>.json) rendered from dashboards.ts and queries.ts.
 * The files are committed so ops can import them without running anything; dashboards.test.ts
 * fails when they are out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS } from './dashboards.ts';
import { renderGrafana } from './render-grafana.ts';
import { renderInfluxTemplate } from './render-influxdb.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The files this builds: relative path -> content. */
export function renderedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of DASHBOARDS) {
    files.set(join('grafana', `${d.uid}.json`), `${JSON.stringify(renderGrafana(d), null, 2)}\n`);
    files.set(join('influxdb', `${d.uid}.json`), `${JSON.stringify(renderInfluxTemplate(d), null, 2)}\n`);
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [rel, text] of renderedFiles()) {
    const path = join(DASHBOARD_DIR, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    process.stdout.write(`wrote infra/dashboards/${rel}\n`);
  }
}
