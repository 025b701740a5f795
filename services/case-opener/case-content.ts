/**
 * What a Salesforce Case says about a failure prediction: pure functions from a
 * PredictionEvent to Case field values and comment text, so the same event always gives the
 * same case (a replayed upsert rewrites identical values) and the text can be tested exactly.
 *
 * The reader is a field-service scheduler: the subject says what will fail, where and how
 * soon; the description gives the predicted time with its interval, the probability, the
 * evidence per sensor (with units), the configuration that decided, and a link to the
 * asset's dashboard. Nothing here reads a clock: times come from the event.
 */
import type { CompiledConfig, PredictionEvent, Severity } from '../core/types.ts';

/** Salesforce's standard Case Priority picklist has only High, Medium and Low. */
export type CasePriority = 'High' | 'Medium' | 'Low';

/**
 * Case Priority per severity. `critical` maps to High because the standard picklist has no
 * Critical value (an org may add one; it would then be a one-line change here). The
 * severity itself is kept exactly in PdM_Severity__c, so nothing is lost.
 */
export const PRIORITY_BY_SEVERITY: Readonly<Record<Severity, CasePriority>> = Object.freeze({
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'High',
});

/** Origin written on every case: tells a scheduler the case came from the pipeline, not a customer. */
export const CASE_ORIGIN = 'Predictive Maintenance';

/** Text limits of the Case and CaseComment fields written (Salesforce field lengths). */
const SUBJECT_MAX = 255;
const DESCRIPTION_MAX = 32_000;
/** CaseComment.CommentBody holds 4,000 bytes, not characters: multibyte text reaches it sooner. */
const COMMENT_MAX_BYTES = 4_000;
/** PdM_Probability__c is Number(1, 4): Salesforce rounds to 4 decimals; we round first so a replay compares equal. */
const PROBABILITY_SCALE = 4;

/** The Case fields the case opener writes (API names of infra/salesforce-standin/schema.ts). */
export interface CaseFields {
  Subject: string;
  Description: string;
  Priority: CasePriority;
  Origin: string;
  PdM_Asset_Id__c: string;
  PdM_Failure_Mode__c: string;
  PdM_Severity__c: Severity;
  /** Probability of failure within the horizon, 0..1, 4 decimals. */
  PdM_Probability__c: number;
  /** ISO-8601 UTC datetimes; null clears the field (no trend toward the limit). */
  PdM_Predicted_Failure__c: string | null;
  PdM_Predicted_Failure_Low__c: string | null;
  PdM_Predicted_Failure_High__c: string | null;
  PdM_Dashboard_Url__c: string;
  /** Salesforce Asset Id, set only when an Asset with SerialNumber = assetId exists. */
  AssetId?: string;
}

/** Inputs of the case text besides the event. */
export interface CaseContentOptions {
  /** Base URL of the ops dashboards (Grafana or `pdm web`); see {@link dashboardLink}. */
  dashboardUrl: string;
  /** Configuration for units and descriptions; without it names are derived from the ids. */
  config?: CompiledConfig;
}

/** Case Priority for a severity (see PRIORITY_BY_SEVERITY). */
export function priorityFor(severity: Severity): CasePriority {
  return PRIORITY_BY_SEVERITY[severity];
}

/** Units by sensor-name suffix, for sensors the configuration does not know (longest suffix first). */
const SUFFIX_UNITS: readonly (readonly [string, string])[] = [
  ['_mm_s', 'mm/s'],
  ['_kpa', 'kPa'],
  ['_pct', '%'],
  ['_lpm', 'L/min'],
  ['_rpm', 'rpm'],
  ['_bar', 'bar'],
  ['_kw', 'kW'],
  ['_hz', 'Hz'],
  ['_mm', 'mm'],
  ['_c', 'degC'],
  ['_v', 'V'],
  ['_a', 'A'],
  ['_w', 'W'],
  ['_g', 'g'],
];

/**
 * Unit of a sensor: from the configuration's asset type when it lists the sensor, else from
 * the name's suffix (`_c` degC, `_kpa` kPa, `_mm_s` mm/s, ...), else the empty string.
 */
export function sensorUnit(assetType: string, sensor: string, config?: CompiledConfig): string {
  const configured = config?.assetTypes.get(assetType)?.sensors.find((s) => s.name === sensor)?.unit;
  if (configured !== undefined) return configured;
  const lower = sensor.toLowerCase();
  return SUFFIX_UNITS.find(([suffix]) => lower.endsWith(suffix))?.[1] ?? '';
}

const humanize = (id: string): string => id.replace(/_/g, ' ');

/** The failure mode's configured description, or its name with spaces. */
export function failureModeDescription(ev: Pick<PredictionEvent, 'assetType' | 'failureMode'>, config?: CompiledConfig): string {
  return config?.assetTypes.get(ev.assetType)?.failureModes.find((m) => m.name === ev.failureMode)?.description ?? humanize(ev.failureMode);
}

/** ISO-8601 UTC with seconds, no milliseconds: 2026-11-23T14:05:00Z. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Whole hours from the event to the predicted failure (at least 1), or the probability's
 * horizon when there is no trend toward the limit.
 */
export function hoursToFailure(ev: Pick<PredictionEvent, 'ts' | 'predictedFailureTs' | 'horizonHours'>): number {
  if (ev.predictedFailureTs === null) return Math.max(1, Math.round(ev.horizonHours));
  return Math.max(1, Math.round((ev.predictedFailureTs - ev.ts) / 3_600_000));
}

/** "Predicted <failure mode description> on <asset type> <assetId> within ~Nh", at most 255 characters. */
export function caseSubject(ev: PredictionEvent, config?: CompiledConfig): string {
  const s = `Predicted ${failureModeDescription(ev, config)} on ${ev.assetType} ${ev.assetId} within ~${hoursToFailure(ev)}h`;
  return truncate(s, SUBJECT_MAX);
}

/** Path of the asset drill-down under the dashboard base URL: Grafana's `/d/<uid>/` (infra/dashboards), which `pdm web` also answers. */
export const DRILL_DOWN_PATH = 'd/pdm-asset/';
/** How much of the asset's history before the episode the link shows: the baseline the degradation left, ms. */
export const LINK_BEFORE_EPISODE_MS = 48 * 3_600_000;
/** How long after the event the link's window runs, so readings after the case was written show too, ms. */
export const LINK_AFTER_EVENT_MS = 24 * 3_600_000;

/**
 * Link to the asset's drill-down for the episode's time window: `<base>/d/pdm-asset/` with
 * the base URL's own query kept (Grafana's `orgId`), `var-asset_id`, and `from`/`to` in
 * epoch ms from 48 h before the episode started to 24 h after the event.
 */
export function dashboardLink(dashboardUrl: string, ev: Pick<PredictionEvent, 'assetId' | 'episodeStartTs' | 'ts'>): string {
  const base = new URL(dashboardUrl);
  const u = new URL(DRILL_DOWN_PATH, `${base.origin}${base.pathname.replace(/\/*$/, '/')}`);
  base.searchParams.forEach((value, key) => u.searchParams.append(key, value));
  u.searchParams.set('var-asset_id', ev.assetId);
  u.searchParams.set('from', String(ev.episodeStartTs - LINK_BEFORE_EPISODE_MS));
  u.searchParams.set('to', String(ev.ts + LINK_AFTER_EVENT_MS));
  return u.toString();
}

/** A number for people: up to `digits` decimals, no trailing zeros, "-0" shown as "0". */
function num(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return String(v);
  const s = v.toFixed(digits).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}
const withUnit = (v: string, unit: string): string => (unit ? `${v} ${unit}` : v);
const signed = (v: number, digits = 2): string => (v > 0 ? `+${num(v, digits)}` : num(v, digits));

/**
 * The evidence as a fixed-width text table (Description is plain text in Salesforce), read as
 * one story: the prediction follows each sensor's tracked level (its working values smoothed),
 * so the table shows that level beside the latest reading, and the trend and the hours to the
 * limit are the level's. The level is recovered exactly from the event (limit − trend × hours
 * to limit). A latest reading past the limit says so; the anomaly score is labelled for what
 * it is, the rarity of the latest reading for this sensor, which a slow degradation does not
 * raise and which is therefore no "all clear".
 */
export function evidenceTable(ev: PredictionEvent, config?: CompiledConfig): string {
  const header = ['Sensor', 'Latest reading', 'Tracked level', 'Trend/h of the level', 'Limit', 'Hours to limit', 'Anomaly score'];
  const direction = config?.assetTypes.get(ev.assetType)?.failureModes.find((m) => m.name === ev.failureMode)?.direction;
  const rows = ev.evidence.map((e) => {
    const unit = sensorUnit(ev.assetType, e.sensor, config);
    const level = e.hoursToLimit === null ? null : e.limit - e.trendPerHour * e.hoursToLimit;
    // Rising or falling: the configuration says; without it, the side of the limit the level is on.
    const rising = direction === undefined ? (level === null || level === e.limit ? null : level < e.limit) : direction === 'rising';
    const past = rising !== null && (rising ? e.value >= e.limit : e.value <= e.limit);
    return [
      e.sensor,
      withUnit(num(e.value), unit) + (past ? ' (past the limit)' : ''),
      e.hoursToLimit === 0 ? 'at or past the limit' : level === null ? 'no trend toward the limit' : withUnit(num(level), unit),
      withUnit(signed(e.trendPerHour, 3), unit ? `${unit}/h` : ''),
      withUnit(num(e.limit), unit),
      e.hoursToLimit === null ? 'not approaching' : num(e.hoursToLimit, 1),
      e.score >= 0.5 ? `${num(e.score)} (rare)` : num(e.score),
    ];
  });
  if (rows.length === 0) return '(no sensor evidence in this event)';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...rows.map(line),
    'The trend and the hours to the limit are those of the tracked level (the sensor\'s working values smoothed),',
    'which the prediction follows; the latest reading may lie on either side of it. The anomaly score is how rare',
    'the latest reading is for this sensor (0.5 or more: rarer than it has been); a slow degradation does not',
    'raise it, so a low score is no sign of health.',
  ].join('\n');
}

/** The plain-text description a scheduler acts on (at most 32,000 characters, the field's length). */
export function caseDescription(ev: PredictionEvent, opts: CaseContentOptions): string {
  const mode = failureModeDescription(ev, opts.config);
  const typeDesc = opts.config?.assetTypes.get(ev.assetType)?.description;
  const predicted =
    ev.predictedFailureTs === null
      ? `no trend toward the limit yet; failure possible within the ${num(ev.horizonHours, 1)} h horizon`
      : `${isoUtc(ev.predictedFailureTs)}` +
        (ev.predictedFailureLowTs !== null && ev.predictedFailureHighTs !== null
          ? ` (interval ${isoUtc(ev.predictedFailureLowTs)} to ${isoUtc(ev.predictedFailureHighTs)})`
          : '') +
        `, about ${hoursToFailure(ev)} h after the latest reading`;
  const lines = [
    `Predictive maintenance: ${ev.assetType} ${ev.assetId}${typeDesc ? ` (${typeDesc})` : ''} is predicted to fail.`,
    '',
    `Failure mode: ${mode} [${ev.failureMode}]`,
    `Predicted failure (UTC): ${predicted}`,
    `Probability of failure within ${num(ev.horizonHours, 1)} h: ${(ev.probability * 100).toFixed(1)}%`,
    `Severity: ${ev.severity} (case priority ${priorityFor(ev.severity)})`,
    `Episode started: ${isoUtc(ev.episodeStartTs)}; latest reading: ${isoUtc(ev.ts)} (${ev.kind})`,
    '',
    'Evidence:',
    evidenceTable(ev, opts.config),
    '',
    `Dashboard: ${dashboardLink(opts.dashboardUrl, ev)}`,
    `Episode id: ${ev.episodeId}`,
    `Configuration version: ${ev.configVersion}`,
  ];
  return truncate(lines.join('\n'), DESCRIPTION_MAX);
}

/**
 * All Case fields for a prediction. Status is deliberately absent: a new case takes the
 * org's default Status (New), and a later upsert must not undo a dispatcher's change
 * (New → Working) when an escalation or a replay rewrites the case.
 */
export function caseFields(ev: PredictionEvent, opts: CaseContentOptions, assetSfId?: string): CaseFields {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    Subject: caseSubject(ev, opts.config),
    Description: caseDescription(ev, opts),
    Priority: priorityFor(ev.severity),
    Origin: CASE_ORIGIN,
    PdM_Asset_Id__c: ev.assetId,
    PdM_Failure_Mode__c: ev.failureMode,
    PdM_Severity__c: ev.severity,
    PdM_Probability__c: Number(ev.probability.toFixed(PROBABILITY_SCALE)),
    PdM_Predicted_Failure__c: iso(ev.predictedFailureTs),
    PdM_Predicted_Failure_Low__c: iso(ev.predictedFailureLowTs),
    PdM_Predicted_Failure_High__c: iso(ev.predictedFailureHighTs),
    PdM_Dashboard_Url__c: dashboardLink(opts.dashboardUrl, ev),
    ...(assetSfId ? { AssetId: assetSfId } : {}),
  };
}

/**
 * Marker that makes the "cleared" comment idempotent: the opener looks for it among the
 * case's comments before adding one, so a replayed or retried cleared event adds nothing.
 */
export function clearedMarker(episodeId: string): string {
  return `[pdm-cleared:${episodeId}]`;
}

/** Body of the comment added when an episode clears (ends with its marker). */
export function clearedComment(ev: PredictionEvent, config?: CompiledConfig): string {
  const body =
    `Episode cleared at ${isoUtc(ev.ts)}: asset recovered. ` +
    `${failureModeDescription(ev, config)} on ${ev.assetType} ${ev.assetId} is no longer predicted ` +
    `(probability ${(ev.probability * 100).toFixed(1)}% within ${num(ev.horizonHours, 1)} h). ` +
    `Check whether the planned visit is still needed.`;
  const marker = clearedMarker(ev.episodeId);
  return `${truncateBytes(body, COMMENT_MAX_BYTES - Buffer.byteLength(marker, 'utf8') - 1)}\n${marker}`;
}

/** `s` cut to at most `maxBytes` of UTF-8 (whole characters, ending in "…" when cut). */
export function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const room = maxBytes - Buffer.byteLength('…', 'utf8');
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > room) break;
    out += ch;
    used += n;
  }
  return `${out}…`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
