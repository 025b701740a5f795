/**
 * The ops dashboards as data: which panels each has, where they sit and which query of
 * queries.ts each shows. Rendered to Grafana JSON (render-grafana.ts) and to InfluxDB 2.x
 * templates (render-influxdb.ts) by `npm run dashboards:build`; the rendered files are
 * committed under grafana/ and influxdb/, and dashboards.test.ts fails when they differ from
 * what this file renders.
 */
import { FLUX, PROM, type FluxQuery, type PromQuery } from './queries.ts';

export type PanelKind = 'timeseries' | 'stat' | 'table' | 'bars';

/** One panel: a Flux query (InfluxDB data source) or Prometheus queries. */
export interface Panel {
  title: string;
  kind: PanelKind;
  /** Grid position in Grafana's 24-column grid: x, y, width, height (rows of 30 px). */
  at: readonly [number, number, number, number];
  flux?: FluxQuery;
  prom?: readonly PromQuery[];
  /** Grafana unit id (percentunit, short, s, ...). */
  unit?: string;
  min?: number;
  max?: number;
  /** A link from each row's asset_id to the drill-down (tables listing assets). */
  assetLink?: boolean;
}

export interface Dashboard {
  /** Grafana uid and file name. */
  uid: string;
  title: string;
  description: string;
  /** Default time range, Grafana syntax (now-7d). */
  from: string;
  /** Drill-down: the asset variable, filled by this query (and from the URL: var-asset_id). */
  assetVariable?: FluxQuery;
  /** Flux queries shown as annotations on every time-series panel (Grafana) / as tables (InfluxDB). */
  annotations?: readonly { name: string; color: string; flux: FluxQuery }[];
  panels: readonly Panel[];
}

/** Drill-down dashboard uid: the case's dashboard link opens /d/<uid>/ with the asset and the episode's window. */
export const ASSET_DASHBOARD_UID = 'pdm-asset';

export const DASHBOARDS: readonly Dashboard[] = [
  {
    uid: 'pdm-fleet',
    title: 'PdM fleet health',
    description: 'Assets at risk, open predictions by failure mode and severity, anomaly share and health over time.',
    from: 'now-7d',
    panels: [
      { title: 'Assets at risk', kind: 'stat', at: [0, 0, 6, 6], flux: FLUX.fleetAssetsAtRisk, unit: 'short' },
      { title: 'Open predictions by failure mode and severity', kind: 'table', at: [6, 0, 18, 6], flux: FLUX.fleetOpenByModeSeverity },
      { title: 'Assets at risk, most severe first', kind: 'table', at: [0, 6, 24, 9], flux: FLUX.fleetAtRiskTable, assetLink: true },
      { title: 'Anomaly share by asset type', kind: 'timeseries', at: [0, 15, 12, 8], flux: FLUX.fleetAnomalyShare, unit: 'percentunit', min: 0, max: 1 },
      { title: 'Mean health by asset type', kind: 'timeseries', at: [12, 15, 12, 8], flux: FLUX.fleetHealthByType, unit: 'percentunit', min: 0, max: 1 },
      { title: 'Predictions raised by failure mode', kind: 'bars', at: [0, 23, 24, 7], flux: FLUX.fleetRaisedPerWindow, unit: 'short' },
    ],
  },
  {
    uid: ASSET_DASHBOARD_UID,
    title: 'PdM asset drill-down',
    description: "One asset: raw sensors, per-sensor scores, health, with its prediction events and repairs as annotations.",
    from: 'now-7d',
    assetVariable: FLUX.assetIds,
    annotations: [
      { name: 'Predictions', color: 'red', flux: FLUX.assetPredictionEvents },
      { name: 'Maintenance', color: 'green', flux: FLUX.assetMaintenance },
    ],
    panels: [
      { title: 'Health and anomaly score', kind: 'timeseries', at: [0, 0, 24, 7], flux: FLUX.assetHealth, unit: 'percentunit', min: 0, max: 1 },
      { title: 'Sensors (raw values)', kind: 'timeseries', at: [0, 7, 24, 9], flux: FLUX.assetSensors },
      { title: 'Per-sensor anomaly scores', kind: 'timeseries', at: [0, 16, 24, 8], flux: FLUX.assetSensorScores, min: 0, max: 1 },
      { title: 'Prediction events', kind: 'table', at: [0, 24, 24, 8], flux: FLUX.assetEpisodes },
    ],
  },
  {
    uid: 'pdm-pipeline',
    title: 'PdM pipeline throughput and lag',
    description: "The services' Prometheus metrics (pdm_*): throughput, consumer lag, dead letters, InfluxDB and Salesforce writes.",
    from: 'now-1h',
    panels: [
      { title: 'Readings scored and anomalous per second', kind: 'timeseries', at: [0, 0, 12, 8], prom: [PROM.readingsScored, PROM.anomalies], unit: 'reqps' },
      { title: 'Records consumed per second', kind: 'timeseries', at: [12, 0, 12, 8], prom: [PROM.recordsConsumed], unit: 'reqps' },
      { title: 'Consumer lag', kind: 'timeseries', at: [0, 8, 12, 8], prom: [PROM.consumerLag], unit: 'short' },
      { title: 'InfluxDB points written per second', kind: 'timeseries', at: [12, 8, 12, 8], prom: [PROM.pointsWritten, PROM.influxRetries], unit: 'reqps' },
      { title: 'Dead letters per second', kind: 'timeseries', at: [0, 16, 12, 8], prom: [PROM.deadLetters], unit: 'reqps' },
      { title: 'Salesforce cases written per second', kind: 'timeseries', at: [12, 16, 12, 8], prom: [PROM.casesWritten], unit: 'reqps' },
      { title: 'Salesforce daily API limit used', kind: 'stat', at: [0, 24, 6, 5], prom: [PROM.salesforceApi], unit: 'percentunit', min: 0, max: 1 },
      { title: 'Scored readings stored in InfluxDB', kind: 'timeseries', at: [6, 24, 18, 5], flux: FLUX.pipelineScoresStored, unit: 'short' },
      { title: 'Fleet view requests per second', kind: 'timeseries', at: [0, 29, 24, 6], prom: [PROM.webRequests], unit: 'reqps' },
    ],
  },
  {
    uid: 'pdm-data-quality',
    title: 'PdM data quality',
    description: 'Data-quality findings (stale, stuck, out_of_range, nan, duplicate, out_of_order, ...) by kind, sensor and asset.',
    from: 'now-7d',
    panels: [
      { title: 'Findings by kind', kind: 'bars', at: [0, 0, 24, 8], flux: FLUX.qualityByKind, unit: 'short' },
      { title: 'Findings by sensor and kind', kind: 'table', at: [0, 8, 12, 10], flux: FLUX.qualityBySensor },
      { title: 'Assets with the most findings', kind: 'table', at: [12, 8, 12, 10], flux: FLUX.qualityTopAssets, assetLink: true },
    ],
  },
];

/** Every Flux query the dashboards use, each once, with the dashboard it is in. */
export function fluxQueriesOf(d: Dashboard): FluxQuery[] {
  const all = [...d.panels.flatMap((p) => (p.flux ? [p.flux] : [])), ...(d.annotations ?? []).map((a) => a.flux), ...(d.assetVariable ? [d.assetVariable] : [])];
  return [...new Map(all.map((q) => [q.id, q])).values()];
}
