/**
 * Renders a dashboard of dashboards.ts as a Grafana dashboard JSON model (schema 39,
 * Grafana 10/11), for import through the UI or file provisioning. The data sources are
 * dashboard variables (`influx`: an InfluxDB data source set to Flux; `prometheus`), so the
 * same file works whatever the data sources are called where it is loaded.
 *
 * Variables: Grafana's Flux data source provides `v.timeRangeStart`, `v.timeRangeStop`,
 * `v.windowPeriod` and `v.defaultBucket` (the data source's bucket), and interpolates
 * dashboard variables as `${name}`; queries.ts says `v.bucket` and `v.asset_id`, mapped here.
 */
import { ASSET_DASHBOARD_UID, type Dashboard, type Panel } from './dashboards.ts';

const INFLUX = { type: 'influxdb', uid: '${influx}' };
const PROMETHEUS = { type: 'prometheus', uid: '${prometheus}' };

/** A Flux query as Grafana runs it. */
export function grafanaFlux(flux: string): string {
  return flux.replace(/\bv\.bucket\b/g, 'v.defaultBucket').replace(/\bv\.asset_id\b/g, '"${asset_id}"');
}

/** Where an asset id in a table leads: the drill-down for that asset over the same time range. */
export const ASSET_LINK = `/d/${ASSET_DASHBOARD_UID}/?var-asset_id=\${__value.raw}&\${__url_time_range}`;

const GRAFANA_TYPE: Record<Panel['kind'], string> = { timeseries: 'timeseries', stat: 'stat', table: 'table', bars: 'timeseries' };

function panel(p: Panel, id: number): Record<string, unknown> {
  const [x, y, w, h] = p.at;
  const targets = p.flux
    ? [{ datasource: INFLUX, refId: p.flux.id, query: grafanaFlux(p.flux.flux) }]
    : (p.prom ?? []).map((q) => ({ datasource: PROMETHEUS, refId: q.id, expr: q.expr, legendFormat: q.legend }));
  const defaults: Record<string, unknown> = {
    ...(p.unit ? { unit: p.unit } : {}),
    ...(p.min !== undefined ? { min: p.min } : {}),
    ...(p.max !== undefined ? { max: p.max } : {}),
    ...(p.kind === 'bars' ? { custom: { drawStyle: 'bars', fillOpacity: 80, stacking: { mode: 'normal', group: 'A' } } } : {}),
  };
  const overrides = p.assetLink
    ? [{ matcher: { id: 'byName', options: 'asset_id' }, properties: [{ id: 'links', value: [{ title: 'Open the asset drill-down', url: ASSET_LINK }] }] }]
    : [];
  const description = p.flux ? p.flux.description : (p.prom ?? []).map((q) => q.description).join('; ');
  return {
    id,
    type: GRAFANA_TYPE[p.kind],
    title: p.title,
    description,
    datasource: p.flux ? INFLUX : PROMETHEUS,
    gridPos: { x, y, w, h },
    targets,
    fieldConfig: { defaults, overrides },
    options: p.kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' } : p.kind === 'table' ? { showHeader: true } : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

/** The Grafana dashboard JSON model of `d`. */
export function renderGrafana(d: Dashboard): Record<string, unknown> {
  const usesProm = d.panels.some((p) => p.prom);
  const list: Record<string, unknown>[] = [
    { name: 'influx', label: 'InfluxDB (Flux)', type: 'datasource', query: 'influxdb', current: {}, hide: 0 },
    ...(usesProm ? [{ name: 'prometheus', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 }] : []),
  ];
  if (d.assetVariable) {
    list.push({
      name: 'asset_id',
      label: 'Asset',
      type: 'query',
      datasource: INFLUX,
      definition: grafanaFlux(d.assetVariable.flux),
      query: grafanaFlux(d.assetVariable.flux),
      // 2 = refresh on time range change; custom values let a case link name any asset.
      refresh: 2,
      allowCustomValue: true,
      includeAll: false,
      multi: false,
      current: {},
      hide: 0,
    });
  }
  const annotations = [
    { builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' },
    ...(d.annotations ?? []).map((a) => ({ name: a.name, enable: true, iconColor: a.color, datasource: INFLUX, target: { refId: a.flux.id, query: grafanaFlux(a.flux.flux) } })),
  ];
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['pdm'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: { from: d.from, to: 'now' },
    timepicker: {},
    refresh: '',
    templating: { list },
    annotations: { list: annotations },
    links: [{ title: 'PdM dashboards', type: 'dashboards', tags: ['pdm'], asDropdown: true }],
    panels: d.panels.map((p, i) => panel(p, i + 1)),
  };
}
