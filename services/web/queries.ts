/**
 * The Flux queries of `pdm web`, built from the request's parameters. Designed for a fleet of
 * 100,000 assets and more (benchmarks/README.md has the measured page times):
 * - the fleet page reads only the `prediction` measurement (a few points per episode, a tiny
 *   share of the data) and never the readings or scores of the whole fleet; sorting,
 *   counting and paging happen in Flux, and only one page of rows comes back;
 * - the asset page reads one asset's series (an indexed tag), aggregated in Flux to at most
 *   a few hundred windows per series whatever the range.
 * Pure: strings in, strings out; the reader (influx-reader.ts) runs them.
 */

/**
 * A Flux string expression equal to `s`. Backslash and quote are escaped; `${` (string
 * interpolation in Flux 2.x) is split into `"$" + "{"`, since InfluxDB 1.8's Flux accepts
 * neither `\$` nor a literal `${`.
 */
export function fluxString(s: string): string {
  const parts = s.split('${').map((p) => `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  return parts.length === 1 ? parts[0]! : `(${parts.join(' + "$" + "{" + ')})`;
}

/** An RFC 3339 time literal of epoch ms. */
export function fluxTime(ms: number): string {
  return new Date(ms).toISOString();
}

const SEVERITY_RANK = 'if r.severity == "critical" then 4 else if r.severity == "high" then 3 else if r.severity == "medium" then 2 else 1';

/**
 * The latest prediction event of each asset and failure mode, kept while its episode is
 * open (the latest event is not `cleared`). All time: an episode stays open until it clears.
 *
 * Written for a large fleet: kind and severity are tags, so every (asset, mode, kind,
 * severity) is its own series, and per-series steps (`pivot`, `last`, `group` by asset) cost
 * about a second per 10,000 series on InfluxDB 1.8. Here only the `probability` field is read,
 * merged into one table, sorted newest first, and `unique` keeps the first (latest) row of
 * each asset and mode: one pass over one table (measured in benchmarks/README.md).
 * `source` is the `from |> range` the events are read from (the dashboards' queries use
 * their own variables there).
 */
export function openPredictionsOf(source: string): string {
  return `${source}
  |> filter(fn: (r) => r._measurement == "prediction" and r._field == "probability")
  |> group()
  |> map(fn: (r) => ({r with key: r.asset_id + "|" + r.failure_mode}))
  |> sort(columns: ["_time"], desc: true)
  |> unique(column: "key")
  |> filter(fn: (r) => r.kind != "cleared")`;
}

function openPredictions(bucket: string): string {
  return openPredictionsOf(`from(bucket: ${fluxString(bucket)})
  |> range(start: 0)`);
}

/**
 * The fleet page's figures in one request, so the open set is computed once: results
 * `severity` (rows severity, _value = open predictions), `mode` (failure_mode, _value) and
 * `page`: `limit` open predictions from `offset`, most severe first, then most probable
 * (asset_id, asset_type, failure_mode, severity, kind, _time of the latest event, _value =
 * probability).
 */
export function fleetOverviewFlux(bucket: string, offset: number, limit: number): string {
  return `open = ${openPredictions(bucket)}
open
  |> group(columns: ["severity"])
  |> count()
  |> group()
  |> keep(columns: ["severity", "_value"])
  |> yield(name: "severity")
open
  |> group(columns: ["failure_mode"])
  |> count()
  |> group()
  |> keep(columns: ["failure_mode", "_value"])
  |> yield(name: "mode")
open
  |> map(fn: (r) => ({r with rank: ${SEVERITY_RANK}}))
  |> sort(columns: ["rank", "_value"], desc: true)
  |> limit(n: ${Math.trunc(limit)}, offset: ${Math.trunc(offset)})
  |> keep(columns: ["_time", "_value", "asset_id", "asset_type", "failure_mode", "severity", "kind"])
  |> yield(name: "page")`;
}

/**
 * The prediction events of the given assets in [startMs, stopMs] with their fields as
 * columns (episode id, predicted failure time and interval): the details of one page of the
 * fleet view, whose rows' latest events span that range. Reads only those assets' series
 * (an indexed tag) over that span.
 */
export function predictionDetailsFlux(bucket: string, assetIds: readonly string[], startMs: number, stopMs: number): string {
  const match = assetIds.map((id) => `r.asset_id == ${fluxString(id)}`).join(' or ');
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: ${fluxTime(startMs)}, stop: ${fluxTime(stopMs + 1)})
  |> filter(fn: (r) => r._measurement == "prediction" and (${match || 'false'}))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> keep(columns: ["_time", "asset_id", "failure_mode", "kind", "episode_id", "episode_start_ts", "predicted_failure_ts", "predicted_failure_low_ts", "predicted_failure_high_ts"])`;
}

/** Episodes that cleared most recently (the fleet page's "recently cleared"), at most `limit`. */
export function recentlyClearedFlux(bucket: string, limit: number): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "prediction" and r.kind == "cleared" and r._field == "episode_id")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: ${Math.trunc(limit)})
  |> keep(columns: ["_time", "asset_id", "asset_type", "failure_mode", "_value"])`;
}

/** Predictions raised per day over all time, for the fleet page's chart: rows `_time`, `_value`. */
export function raisedPerDayFlux(bucket: string): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "prediction" and r.kind == "raised" and r._field == "probability")
  |> group()
  |> aggregateWindow(every: 1d, fn: count, createEmpty: false)
  |> keep(columns: ["_time", "_value"])`;
}

/** The asset's latest score point (its type, last reading time, health): one row or none. */
export function assetLatestFlux(bucket: string, assetId: string): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r.asset_id == ${fluxString(assetId)} and r._field == "health")
  |> last()
  |> keep(columns: ["_time", "_value", "asset_type"])`;
}

/**
 * The asset's series in [startMs, stopMs) aggregated into windows of `everyMs`: raw values
 * (mean), per-sensor scores and the asset score (max), health (min). One table per field.
 */
export function assetSeriesFlux(bucket: string, assetId: string, startMs: number, stopMs: number, everyMs: number): string {
  const src = (measurement: string, field: string) => `from(bucket: ${fluxString(bucket)})
  |> range(start: ${fluxTime(startMs)}, stop: ${fluxTime(stopMs)})
  |> filter(fn: (r) => r._measurement == "${measurement}" and r.asset_id == ${fluxString(assetId)}${field})`;
  const every = `${Math.max(1, Math.round(everyMs / 1000))}s`;
  return `import "strings"

readings = ${src('reading', '')}
  |> aggregateWindow(every: ${every}, fn: mean, createEmpty: false)
scores = ${src('anomaly_score', ' and (r._field == "score" or strings.hasPrefix(v: r._field, prefix: "score_"))')}
  |> aggregateWindow(every: ${every}, fn: max, createEmpty: false)
health = ${src('anomaly_score', ' and r._field == "health"')}
  |> aggregateWindow(every: ${every}, fn: min, createEmpty: false)
union(tables: [readings, scores, health])
  |> keep(columns: ["_time", "_value", "_field", "_measurement"])`;
}

/** How many scored readings the asset has in [startMs, stopMs): one row, `_value`. */
export function assetPointCountFlux(bucket: string, assetId: string, startMs: number, stopMs: number): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: ${fluxTime(startMs)}, stop: ${fluxTime(stopMs)})
  |> filter(fn: (r) => r._measurement == "anomaly_score" and r.asset_id == ${fluxString(assetId)} and r._field == "health")
  |> count()
  |> keep(columns: ["_value"])`;
}

/**
 * One measurement of the asset in [startMs, stopMs), raw, fields as columns (`reading`:
 * the sensors; `anomaly_score`: score, health, score_<sensor>). For ranges of up to some
 * thousands of readings this is several times cheaper on InfluxDB 1.8 than aggregating in
 * Flux, whose windows cost about 0.25 ms each per field (benchmarks/README.md).
 */
export function assetRawFlux(bucket: string, assetId: string, measurement: 'reading' | 'anomaly_score', startMs: number, stopMs: number): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: ${fluxTime(startMs)}, stop: ${fluxTime(stopMs)})
  |> filter(fn: (r) => r._measurement == "${measurement}" and r.asset_id == ${fluxString(assetId)}${measurement === 'anomaly_score' ? ' and r._field != "findings"' : ''})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> drop(columns: ["_start", "_stop", "_measurement", "asset_id", "asset_type"])`;
}

/** Every prediction event of the asset, fields as columns, oldest first. */
export function assetEventsFlux(bucket: string, assetId: string): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "prediction" and r.asset_id == ${fluxString(assetId)})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])`;
}

/** Every repair the scorer applied to the asset, oldest first. */
export function assetMaintenanceFlux(bucket: string, assetId: string): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: 0)
  |> filter(fn: (r) => r._measurement == "maintenance" and r.asset_id == ${fluxString(assetId)})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> keep(columns: ["_time", "failure_mode", "source", "sensors"])`;
}
