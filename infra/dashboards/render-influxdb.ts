/**
 * Renders a dashboard of dashboards.ts as an InfluxDB 2.x template (the `influx apply`
 * format: a JSON array of Label, Variable and Dashboard objects, apiVersion
 * influxdata.com/v2alpha1). InfluxDB dashboards provide `v.timeRangeStart`,
 * `v.timeRangeStop` and `v.windowPeriod`, and expose the template's variables as `v.<name>`,
 * so queries.ts's `v.bucket` and `v.asset_id` run as written. InfluxDB has no Flux
 * annotations and no Prometheus data source: annotations become tables, Prometheus panels are
 * left out (a note says where they are).
 */
import type { Dashboard, Panel } from './dashboards.ts';

const API = 'influxdata.com/v2alpha1';
const LABEL = 'pdm';

/** InfluxDB dashboards have 12 columns to Grafana's 24. */
const half = (n: number) => Math.round(n / 2);

/** Buckets offered by the `bucket` variable: a 2.x bucket, and 1.8's database/retention-policy. */
export const BUCKETS = ['pdm', 'pdm/autogen'];

function chart(p: Pick<Panel, 'kind' | 'title'>, query: string, at: readonly [number, number, number, number]): Record<string, unknown> {
  const [x, y, w, h] = at;
  const base = { name: p.title, xPos: half(x), yPos: half(y), width: Math.max(1, half(w)), height: Math.max(1, half(h)), queries: [{ query }] };
  switch (p.kind) {
    case 'stat':
      return { kind: 'Single_Stat', ...base, decimalPlaces: 0, colors: [{ name: 'laser', type: 'text', hex: '#00C9FF' }] };
    case 'table':
      return { kind: 'Table', ...base, tableOptions: { verticalTimeAxis: true }, colors: [{ name: 'laser', type: 'text', hex: '#00C9FF' }] };
    case 'timeseries':
    case 'bars':
      return {
        kind: 'Xy',
        ...base,
        geom: p.kind === 'bars' ? 'step' : 'line',
        position: p.kind === 'bars' ? 'stacked' : 'overlaid',
        xCol: '_time',
        yCol: '_value',
        axes: [{ name: 'x', base: '10', scale: 'linear' }, { name: 'y', base: '10', scale: 'linear' }],
        colors: [{ name: 'Nineteen Eighty Four', type: 'scale', hex: '#31C0F6' }, { name: 'Nineteen Eighty Four', type: 'scale', hex: '#A500A5' }, { name: 'Nineteen Eighty Four', type: 'scale', hex: '#FF7E27' }],
      };
  }
}

/** The InfluxDB 2.x template of `d`. */
export function renderInfluxTemplate(d: Dashboard): Record<string, unknown>[] {
  const assoc = [{ kind: 'Label', name: LABEL }];
  const objects: Record<string, unknown>[] = [
    { apiVersion: API, kind: 'Label', metadata: { name: LABEL }, spec: { name: 'pdm', color: '#326BBA' } },
    { apiVersion: API, kind: 'Variable', metadata: { name: 'pdm-bucket' }, spec: { name: 'bucket', type: 'constant', values: BUCKETS, associations: assoc } },
  ];
  if (d.assetVariable) {
    objects.push({ apiVersion: API, kind: 'Variable', metadata: { name: 'pdm-asset-id' }, spec: { name: 'asset_id', type: 'query', language: 'flux', query: d.assetVariable.flux, associations: assoc } });
  }
  const charts: Record<string, unknown>[] = [];
  for (const p of d.panels) if (p.flux) charts.push(chart(p, p.flux.flux, p.at));
  const bottom = Math.max(0, ...d.panels.map((p) => p.at[1] + p.at[3]));
  (d.annotations ?? []).forEach((a, i) => charts.push(chart({ kind: 'table', title: a.name }, a.flux.flux, [i * 12, bottom, 12, 8])));
  if (d.panels.some((p) => p.prom)) {
    charts.push({
      kind: 'Markdown',
      name: 'Prometheus metrics',
      xPos: 0,
      yPos: half(bottom),
      width: 12,
      height: 2,
      note: "Throughput, consumer lag, dead letters and Salesforce writes are the services' Prometheus metrics (`pdm_*` on each service's `--metrics-port`): see the Grafana dashboard `pdm-pipeline` in infra/dashboards/grafana/.",
    });
  }
  objects.push({ apiVersion: API, kind: 'Dashboard', metadata: { name: d.uid }, spec: { name: d.title, description: d.description, charts, associations: assoc } });
  return objects;
}
