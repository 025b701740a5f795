/**
 * One asset (`/asset/<id>`): its latest health, a time range to choose (presets end at the
 * asset's latest reading, since a quiet asset's "last 7 days" may hold nothing), charts of
 * its health and score, per-sensor scores and raw sensors (drawn in the browser from
 * /api/asset/<id>/series), its prediction episodes with their cases, and its repairs.
 */
import type { CaseLink } from './case-index.ts';
import { failureWindow } from './fleet-page.ts';
import type { AssetSummary } from './fleet-reader.ts';
import { assetPath, esc, jsonScript, layout, pct, utc } from './html.ts';

export interface AssetPageInput {
  asset: AssetSummary;
  fromMs: number;
  toMs: number;
  caseOf: (episodeId: string) => CaseLink | undefined;
  caseUrl: (caseId: string) => string;
}

const HOUR = 3_600_000;
/** Range presets, ending at the asset's latest reading. */
export const PRESETS: readonly { label: string; ms: number }[] = [
  { label: '6 h', ms: 6 * HOUR },
  { label: '1 day', ms: 24 * HOUR },
  { label: '7 days', ms: 7 * 24 * HOUR },
  { label: '30 days', ms: 30 * 24 * HOUR },
];

/** `datetime-local` value (UTC) of epoch ms. */
const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);

/** The range an episode is shown with, as the case's dashboard link frames it (case-content.ts). */
export function episodeRange(startTs: number, lastTs: number): { fromMs: number; toMs: number } {
  return { fromMs: startTs - 48 * HOUR, toMs: lastTs + 24 * HOUR };
}

export function renderAssetPage(p: AssetPageInput): string {
  const { asset, fromMs, toMs } = p;
  const id = asset.assetId;
  if (asset.assetType === null) {
    return layout(id, `<h1>${esc(id)}</h1><p class="empty">InfluxDB holds no reading, score or prediction of this asset.</p>`);
  }
  const end = (asset.lastTs ?? toMs) + 60_000;
  const presets = PRESETS.map((r) => `<a href="${esc(assetPath(id, `?from=${end - r.ms}&to=${end}`))}">${r.label}</a>`).join(' ');
  const open = asset.episodes.filter((e) => e.open);
  const episodes = asset.episodes
    .map((e) => {
      const last = e.events.at(-1)!;
      const c = p.caseOf(e.episodeId);
      const r = episodeRange(e.startTs, last.ts);
      return `<tr class="${e.open ? `open sev-${esc(last.severity)}` : 'cleared'}"><td>${esc(e.failureMode)}</td><td>${e.open ? 'open' : 'cleared'}</td>
<td><span class="badge">${esc(last.severity)}</span></td><td>${pct(last.probability)}</td><td>${utc(e.startTs)}</td><td>${utc(last.ts)} (${esc(last.kind)})</td>
<td>${esc(failureWindow(last.predictedFailureTs, last.predictedFailureLowTs, last.predictedFailureHighTs))}</td>
<td>${c ? `<a class="case" href="${esc(p.caseUrl(c.caseId))}">${esc(c.caseId)}</a>` : '<span class="muted">none</span>'}</td>
<td><a href="${esc(assetPath(id, `?from=${r.fromMs}&to=${r.toMs}`))}">show</a></td></tr>`;
    })
    .join('\n');
  const repairs = asset.maintenance.map((m) => `<tr><td>${utc(m.ts)}</td><td>${esc(m.failureMode)}</td><td>${esc(m.source)}</td><td>${esc(m.sensors || 'the mode’s own')}</td></tr>`).join('\n');
  const firstCase = open.map((e) => p.caseOf(e.episodeId)).find((c) => c !== undefined);
  const body = `<h1>${esc(id)} <span class="muted">${esc(asset.assetType)}</span></h1>
<section class="summary"><div class="cards">
<div class="card"><span class="n">${asset.health === null ? '–' : pct(asset.health)}</span><span>health</span></div>
<div class="card ${open.length ? 'sev-high' : ''}"><span class="n">${open.length}</span><span>open predictions</span></div>
<div class="card"><span class="n small">${utc(asset.lastTs)}</span><span>latest reading</span></div>
${firstCase ? `<div class="card"><a class="case n small" href="${esc(p.caseUrl(firstCase.caseId))}">${esc(firstCase.caseId)}</a><span>case</span></div>` : ''}
</div></section>
<form class="range" method="get" action="${esc(assetPath(id))}">
<span>Range:</span> ${presets}
<label>from <input type="datetime-local" name="from" value="${local(fromMs)}"></label>
<label>to <input type="datetime-local" name="to" value="${local(toMs)}"></label> <span class="muted">UTC</span>
<button>Show</button></form>
<section><h2>Health and anomaly score</h2><div id="health-chart" class="chart"></div>
<h2>Per-sensor anomaly scores</h2><div id="scores-chart" class="chart"></div>
<h2>Sensors</h2><div id="sensor-charts" class="grid"></div><p id="chart-status" class="muted">loading…</p></section>
<section><h2>Prediction episodes</h2><table id="episodes"><thead><tr><th>Failure mode</th><th>Status</th><th>Severity</th><th>Probability</th><th>Since</th><th>Latest event</th><th>Predicted failure (UTC)</th><th>Case</th><th></th></tr></thead>
<tbody>${episodes || '<tr><td colspan="9" class="muted">No prediction for this asset.</td></tr>'}</tbody></table></section>
<section><h2>Maintenance</h2><table id="maintenance"><thead><tr><th>Time</th><th>Failure mode</th><th>Source</th><th>Sensors re-learning</th></tr></thead>
<tbody>${repairs || '<tr><td colspan="4" class="muted">No repair recorded.</td></tr>'}</tbody></table></section>
${jsonScript('asset-data', {
  seriesUrl: `/api${assetPath(id)}/series?from=${fromMs}&to=${toMs}`,
  events: asset.episodes.flatMap((e) => e.events.map((ev) => ({ ts: ev.ts, label: `${ev.kind} ${e.failureMode}` }))),
  repairs: asset.maintenance.map((m) => ({ ts: m.ts, label: `repair ${m.failureMode}` })),
})}`;
  return layout(id, body, ['/static/uPlot.iife.min.js', '/static/charts.js', '/static/asset.js']);
}
