/**
 * The fleet at a glance (`/`): open predictions by severity and failure mode, then the assets
 * at risk, most severe and most probable first, each with its failure mode, severity,
 * predicted failure window and Salesforce case, paged; episodes cleared lately; and a chart of
 * predictions raised per day.
 */
import type { CaseLink } from './case-index.ts';
import type { FleetOverview } from './fleet-reader.ts';
import { SEVERITIES } from './fleet-reader.ts';
import { assetPath, esc, jsonScript, layout, pct, utc } from './html.ts';

export interface FleetPageInput {
  fleet: FleetOverview;
  offset: number;
  pageSize: number;
  caseOf: (episodeId: string) => CaseLink | undefined;
  caseUrl: (caseId: string) => string;
}

/** `low – high` of the predicted failure, or the point estimate, or a dash. */
export function failureWindow(ts: number | null, low: number | null, high: number | null): string {
  if (low !== null && high !== null) return `${utc(low)} – ${utc(high)}`;
  return ts === null ? 'no trend yet' : utc(ts);
}

export function renderFleetPage(p: FleetPageInput): string {
  const { fleet, offset, pageSize } = p;
  const cards = SEVERITIES.map((s) => `<div class="card sev-${s}"><span class="n">${fleet.bySeverity[s] ?? 0}</span><span>${s}</span></div>`).join('');
  const modes = fleet.byMode.map((m) => `<li>${esc(m.failureMode)} <b>${m.open}</b></li>`).join('');
  const rows = fleet.page
    .map((r) => {
      const c = r.episodeId ? p.caseOf(r.episodeId) : undefined;
      const caseCell = c ? `<a class="case" href="${esc(p.caseUrl(c.caseId))}">${esc(c.caseId)}</a>` : '<span class="muted">none yet</span>';
      return `<tr class="sev-${esc(r.severity)}" data-asset="${esc(r.assetId)}">
<td><a class="asset" href="${esc(assetPath(r.assetId))}">${esc(r.assetId)}</a><div class="muted">${esc(r.assetType)}</div></td>
<td>${esc(r.failureMode)}</td><td><span class="badge">${esc(r.severity)}</span> ${esc(r.kind)}</td><td>${pct(r.probability)}</td>
<td>${esc(failureWindow(r.predictedFailureTs, r.predictedFailureLowTs, r.predictedFailureHighTs))}</td><td>${utc(r.episodeStartTs)}</td><td>${caseCell}</td></tr>`;
    })
    .join('\n');
  const last = Math.min(offset + fleet.page.length, fleet.openTotal);
  const nav = [
    offset > 0 ? `<a rel="prev" href="/?offset=${Math.max(0, offset - pageSize)}">← previous</a>` : '',
    `<span>${fleet.openTotal === 0 ? 'none' : `${offset + 1}–${last} of ${fleet.openTotal}`}</span>`,
    last < fleet.openTotal ? `<a rel="next" href="/?offset=${offset + pageSize}">next →</a>` : '',
  ].join(' ');
  const cleared = fleet.recentlyCleared
    .map((c) => `<li><a href="${esc(assetPath(c.assetId))}">${esc(c.assetId)}</a> ${esc(c.failureMode)} <span class="muted">cleared ${utc(c.ts)}</span></li>`)
    .join('');
  const body = `<h1>Fleet</h1>
<section class="summary"><div class="cards">${cards}<div class="card"><span class="n">${fleet.openTotal}</span><span>open predictions</span></div></div>
<ul class="modes">${modes || '<li class="muted">no open prediction</li>'}</ul></section>
<section><h2>Assets at risk</h2>
<table id="at-risk"><thead><tr><th>Asset</th><th>Failure mode</th><th>Severity</th><th>Probability</th><th>Predicted failure (UTC)</th><th>Episode since</th><th>Case</th></tr></thead>
<tbody>${rows || '<tr><td colspan="7" class="muted">No asset is at risk.</td></tr>'}</tbody></table>
<nav class="pages">${nav}</nav></section>
<section class="two"><div><h2>Predictions raised per day</h2><div id="raised-chart" class="chart"></div></div>
<div><h2>Cleared lately</h2><ul class="cleared">${cleared || '<li class="muted">none</li>'}</ul></div></section>
${jsonScript('raised-data', fleet.raisedPerDay)}`;
  return layout('Fleet', body, ['/static/uPlot.iife.min.js', '/static/charts.js', '/static/fleet.js']);
}
