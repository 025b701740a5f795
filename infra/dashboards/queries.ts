/**
 * Every query of the ops dashboards, in one place: the Grafana dashboards and the InfluxDB
 * 2.x templates are rendered from these (render-grafana.ts, render-influxdb.ts), and
 * dashboards.int.test.ts runs each Flux query, as the rendered files carry it, against
 * InfluxDB after a simulated run. A renamed measurement, tag or field therefore fails a test
 * instead of leaving an empty panel in production.
 *
 * Flux queries are written against the variables both tools provide under `v`:
 * `v.timeRangeStart`, `v.timeRangeStop`, `v.windowPeriod`, plus two of ours, `v.bucket`
 * and `v.asset_id`; each renderer maps those two to its tool's form. They only use Flux
 * that InfluxDB 1.8.10 (Flux 0.65) runs, so they work on the local stack and on 2.x alike.
 *
 * What the sink writes is documented in README.md ("What the sink writes") and pinned by
 * services/influx-sink/points.ts.
 */
import { openPredictionsOf } from '../../services/web/queries.ts';

/** One Flux query of a dashboard panel, annotation or variable. */
export interface FluxQuery {
  /** Stable id: the Grafana target's refId, and the test's key for its expectations. */
  id: string;
  /** What the query answers, for a person reading the dashboard JSON. */
  description: string;
  flux: string;
}

/** One Prometheus query of a dashboard panel (the services' `pdm_*` metrics). */
export interface PromQuery {
  id: string;
  description: string;
  /** PromQL; `$__rate_interval` is Grafana's. */
  expr: string;
  /** Legend template, e.g. `{{service}} {{topic}}`. */
  legend: string;
}

/** Asset anomaly score from which a reading counts as anomalous (services/scorer/step.ts ANOMALY_SCORE). */
export const ANOMALY_THRESHOLD = 0.5;

const range = '|> range(start: v.timeRangeStart, stop: v.timeRangeStop)';

/**
 * The latest prediction event of each asset and failure mode up to the end of the range,
 * kept while its episode is still open (not cleared); `_value` is its probability. Starts at
 * 0, not at the range's start: an episode raised before the range and still open is still a
 * risk. The fleet view's shape (services/web/queries.ts says why it scales).
 */
const openPredictions = openPredictionsOf(`from(bucket: v.bucket)
  |> range(start: 0, stop: v.timeRangeStop)`);

const q = (id: string, description: string, flux: string): FluxQuery => ({ id, description, flux });

export const FLUX = {
  fleetAssetsAtRisk: q(
    'fleet_assets_at_risk',
    'Assets with at least one open failure prediction at the end of the range',
    `${openPredictions}
  |> distinct(column: "asset_id")
  |> count()`,
  ),
  fleetOpenByModeSeverity: q(
    'fleet_open_by_mode_severity',
    'Open predictions by failure mode and severity',
    `${openPredictions}
  |> group(columns: ["failure_mode", "severity"])
  |> count()
  |> group()
  |> rename(columns: {_value: "open"})
  |> keep(columns: ["failure_mode", "severity", "open"])
  |> sort(columns: ["open"], desc: true)`,
  ),
  fleetAtRiskTable: q(
    'fleet_at_risk_table',
    'Open predictions, most severe and most probable first (at most 200)',
    `${openPredictions}
  |> map(fn: (r) => ({r with rank: if r.severity == "critical" then 4 else if r.severity == "high" then 3 else if r.severity == "medium" then 2 else 1}))
  |> sort(columns: ["rank", "_value"], desc: true)
  |> limit(n: 200)
  |> map(fn: (r) => ({asset_id: r.asset_id, asset_type: r.asset_type, failure_mode: r.failure_mode, severity: r.severity, kind: r.kind, probability: r._value, last_event: r._time}))`,
  ),
  fleetAnomalyShare: q(
    'fleet_anomaly_share',
    `Share of scored readings whose asset anomaly score reached ${ANOMALY_THRESHOLD}, per asset type`,
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r._field == "score")
  |> map(fn: (r) => ({r with _value: if r._value >= ${ANOMALY_THRESHOLD} then 1.0 else 0.0}))
  |> group(columns: ["asset_type"])
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)`,
  ),
  fleetHealthByType: q(
    'fleet_health_by_type',
    'Mean asset health (0 failed .. 1 healthy) per asset type',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r._field == "health")
  |> group(columns: ["asset_type"])
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)`,
  ),
  fleetRaisedPerWindow: q(
    'fleet_raised_per_window',
    'Failure predictions raised per window, by failure mode',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "prediction" and r._field == "probability" and r.kind == "raised")
  |> group(columns: ["failure_mode"])
  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)`,
  ),
  assetIds: q(
    'asset_ids',
    'Assets that had a failure prediction in the range (the drill-down variable; any other id can be typed in)',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "prediction" and r._field == "probability")
  |> group()
  |> distinct(column: "asset_id")
  |> sort()`,
  ),
  assetSensors: q(
    'asset_sensors',
    "The asset's raw sensor values as the device sent them (mean per window)",
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "reading" and r.asset_id == v.asset_id)
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)`,
  ),
  assetSensorScores: q(
    'asset_sensor_scores',
    "The asset's per-sensor anomaly scores, 0..1 (max per window)",
    `import "strings"

from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r.asset_id == v.asset_id and strings.hasPrefix(v: r._field, prefix: "score_"))
  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)`,
  ),
  assetHealth: q(
    'asset_health',
    "The asset's health (min per window) and anomaly score (max per window), 0..1",
    `health = from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r.asset_id == v.asset_id and r._field == "health")
  |> aggregateWindow(every: v.windowPeriod, fn: min, createEmpty: false)
score = from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r.asset_id == v.asset_id and r._field == "score")
  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)
union(tables: [health, score])`,
  ),
  assetPredictionEvents: q(
    'asset_prediction_events',
    "The asset's prediction events (raised, escalated, cleared) as annotations",
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "prediction" and r.asset_id == v.asset_id and r._field == "probability")
  |> group()
  |> sort(columns: ["_time"])
  |> map(fn: (r) => ({_time: r._time, kind: r.kind, failure_mode: r.failure_mode, severity: r.severity, text: r.kind + " " + r.failure_mode + " (" + r.severity + ", p=" + string(v: r._value) + ")"}))`,
  ),
  assetMaintenance: q(
    'asset_maintenance',
    'Repairs the scorer applied to the asset, as annotations',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "maintenance" and r.asset_id == v.asset_id and r._field == "source")
  |> group()
  |> sort(columns: ["_time"])
  |> map(fn: (r) => ({_time: r._time, failure_mode: r.failure_mode, text: "maintenance: " + r.failure_mode + " (" + r._value + ")"}))`,
  ),
  assetEpisodes: q(
    'asset_episodes',
    "The asset's prediction events with their fields, newest first",
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "prediction" and r.asset_id == v.asset_id)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> map(fn: (r) => ({_time: r._time, failure_mode: r.failure_mode, kind: r.kind, severity: r.severity, probability: r.probability, hours_to_failure: r.hours_to_failure, episode_id: r.episode_id}))`,
  ),
  pipelineScoresStored: q(
    'pipeline_scores_stored',
    'Scored readings stored in InfluxDB per window (what reached the dashboards)',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r._field == "score")
  |> group()
  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)`,
  ),
  qualityByKind: q(
    'quality_by_kind',
    'Data-quality findings per window, by kind',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "data_quality" and r._field == "count")
  |> group(columns: ["kind"])
  |> aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)`,
  ),
  qualityBySensor: q(
    'quality_by_sensor',
    'Data-quality findings in the range by sensor and kind, most first',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "data_quality" and r._field == "count")
  |> group(columns: ["sensor", "kind"])
  |> sum()
  |> group()
  |> rename(columns: {_value: "findings"})
  |> keep(columns: ["sensor", "kind", "findings"])
  |> sort(columns: ["findings"], desc: true)`,
  ),
  qualityTopAssets: q(
    'quality_top_assets',
    'The 20 assets with the most data-quality findings in the range',
    `from(bucket: v.bucket)
  ${range}
  |> filter(fn: (r) => r._measurement == "data_quality" and r._field == "count")
  |> group(columns: ["asset_id"])
  |> sum()
  |> group()
  |> rename(columns: {_value: "findings"})
  |> keep(columns: ["asset_id", "findings"])
  |> sort(columns: ["findings"], desc: true)
  |> limit(n: 20)`,
  ),
} as const satisfies Record<string, FluxQuery>;

const p = (id: string, description: string, expr: string, legend: string): PromQuery => ({ id, description, expr, legend });

export const PROM = {
  readingsScored: p('prom_readings_scored', 'Readings scored per second (scorer)', 'sum(rate(pdm_scorer_readings_total[$__rate_interval]))', 'scored'),
  anomalies: p('prom_anomalies', 'Anomalous readings per second (scorer)', 'sum(rate(pdm_scorer_anomalies_total[$__rate_interval]))', 'anomalous'),
  recordsConsumed: p('prom_records_consumed', 'Records consumed per second, by service and topic', 'sum by (service, topic) (rate(pdm_records_consumed_total[$__rate_interval]))', '{{service}} {{topic}}'),
  pointsWritten: p('prom_points_written', 'InfluxDB points written per second, by measurement', 'sum by (measurement) (rate(pdm_influx_points_written_total[$__rate_interval]))', '{{measurement}}'),
  consumerLag: p('prom_consumer_lag', 'Consumer lag (records behind the high watermark), by service and topic', 'sum by (service, topic) (pdm_consumer_lag)', '{{service}} {{topic}}'),
  deadLetters: p('prom_dead_letters', 'Dead letters per second, by service and reason', 'sum by (service, reason) (rate(pdm_dead_letters_total[$__rate_interval]))', '{{service}} {{reason}}'),
  influxRetries: p('prom_influx_retries', 'InfluxDB write retries per second', 'sum(rate(pdm_influx_write_retries_total[$__rate_interval]))', 'retries'),
  casesWritten: p('prom_cases_written', 'Salesforce cases written per second, by action', 'sum by (action) (rate(pdm_case_opener_cases_total[$__rate_interval]))', '{{action}}'),
  webRequests: p('prom_web_requests', 'Fleet view (pdm web) requests per second, by route and status', 'sum by (route, status) (rate(pdm_web_requests_total[$__rate_interval]))', '{{route}} {{status}}'),
  salesforceApi: p('prom_salesforce_api', 'Salesforce API requests used of the daily limit', 'max(pdm_case_opener_salesforce_api_used) / max(pdm_case_opener_salesforce_api_limit)', 'share of daily limit'),
} as const satisfies Record<string, PromQuery>;
