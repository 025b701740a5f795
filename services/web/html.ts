/**
 * The fleet view's HTML basics: escaping, the page frame and the formats every page uses.
 * Pages are rendered on the server as plain HTML (fast first paint, nothing to build); only
 * the charts run in the browser (static/*.js with uPlot).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value, escaped for HTML. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON for a `<script type="application/json">` block (no `</script>` can end it early). */
export function jsonScript(id: string, data: unknown): string {
  return `<script type="application/json" id="${esc(id)}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
}

/** `2026-01-11 14:18 UTC` (minutes are what a scheduler needs). */
export function utc(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A probability as a percentage with no decimals. */
export function pct(p: number): string {
  return Number.isFinite(p) ? `${Math.round(p * 100)}%` : '–';
}

/** Path of an asset's page. */
export function assetPath(assetId: string, query = ''): string {
  return `/asset/${encodeURIComponent(assetId)}${query}`;
}

/** The page frame: title, stylesheet, header with the way back to the fleet, and the scripts. */
export function layout(title: string, body: string, scripts: readonly string[] = []): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · pdm</title>
<link rel="stylesheet" href="/static/uPlot.min.css">
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header><a class="home" href="/">pdm · fleet</a><form action="/asset" method="get" class="find"><input name="id" placeholder="asset id" aria-label="asset id" required><button>Open</button></form></header>
<main>
${body}
</main>
${scripts.map((s) => `<script src="${esc(s)}"></script>`).join('\n')}
</body>
</html>
`;
}
