/**
 * `pdm web`: the fleet view's HTTP server. Composition root of the web service: it wires the
 * InfluxDB reader, the case-event index and the pages together and serves them with
 * node:http (six routes need no framework). {@link startWeb} is also what the demo calls to
 * show its fleet.
 *
 * Routes: `/` the fleet, `/asset/<id>` one asset (`?from=&to=` epoch ms or UTC
 * `YYYY-MM-DDTHH:MM`), `/api/asset/<id>/series` its charts' data (JSON), `/d/pdm-asset/`
 * the drill-down link a case carries (Grafana's form, redirected here), `/static/*` the
 * stylesheet, the chart scripts and uPlot from node_modules.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createKafka } from '../kafka/client.ts';
import { AvroCodec } from '../kafka/codec.ts';
import { describeError } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { Health } from '../runtime/health.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { renderAssetPage } from './asset-page.ts';
import { startCaseIndex, type CaseIndex } from './case-index.ts';
import { renderFleetPage } from './fleet-page.ts';
import { FleetReader } from './fleet-reader.ts';
import { assetPath, esc, layout } from './html.ts';
import { compileWebOptions, type WebOptions, type WebSettings } from './options.ts';

const require = createRequire(import.meta.url);

/** Static files by URL name: ours from static/, uPlot from node_modules (no copy, no build). */
const STATIC: ReadonlyMap<string, { path: string; type: string }> = new Map([
  ['uPlot.iife.min.js', { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' }],
  ['uPlot.min.css', { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' }],
  ...['charts.js', 'fleet.js', 'asset.js'].map((n) => [n, { path: fileURLToPath(new URL(`./static/${n}`, import.meta.url)), type: 'text/javascript' }] as const),
  ['style.css', { path: fileURLToPath(new URL('./static/style.css', import.meta.url)), type: 'text/css' }],
]);

/** Longest range the asset page charts, ms: beyond it the windows get too coarse to read. */
const MAX_RANGE_MS = 400 * 24 * 3_600_000;

/** A running fleet view. */
export interface RunningWeb extends RunningService {
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly cases: CaseIndex;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Epoch ms of a `from`/`to` parameter: digits are epoch ms, else a UTC date-time (`2026-01-05T10:00`). */
export function parseTime(name: string, v: string): number {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
  if (!Number.isFinite(ms)) throw new HttpError(400, `${name}=${v}: not a time (epoch ms or YYYY-MM-DDTHH:MM UTC)`);
  return ms;
}

/** The range of an asset request: from/to when given, else `defaultMs` ending at the asset's latest reading (or now). */
export function rangeOf(q: URLSearchParams, lastTs: number | null, defaultMs: number, now: number): { fromMs: number; toMs: number } {
  const f = q.get('from');
  const t = q.get('to');
  const toMs = t ? parseTime('to', t) : (lastTs ?? now) + 60_000;
  const fromMs = f ? parseTime('from', f) : toMs - defaultMs;
  if (fromMs >= toMs) throw new HttpError(400, `from must be before to (${new Date(fromMs).toISOString()} ≥ ${new Date(toMs).toISOString()})`);
  if (toMs - fromMs > MAX_RANGE_MS) throw new HttpError(400, `range of ${Math.round((toMs - fromMs) / 86_400_000)} days: at most ${MAX_RANGE_MS / 86_400_000}`);
  return { fromMs, toMs };
}

/** Starts the fleet view: follows the case events, then listens. */
export async function startWeb(settings: WebSettings & { metrics?: MetricsRegistry; logger?: Logger; health?: Health }): Promise<RunningWeb> {
  const o: Readonly<WebOptions> = compileWebOptions(settings);
  const metrics = settings.metrics ?? new MetricsRegistry();
  const log = settings.logger ?? createLogger('web');
  const requests = metrics.counter('pdm_web_requests_total', 'HTTP requests served by pdm web, by route and status');
  const reader = new FleetReader(o.influx, o.queryTimeoutMs);
  const kafka = createKafka({ brokers: o.brokers, clientId: 'pdm-web' });
  const cases = await startCaseIndex({ kafka, codec: new AvroCodec(o.registryUrl), topics: o.topics, partitions: o.partitions, groupPrefix: o.groupPrefix, onError: (err) => log.warn('case event not readable', { error: describeError(err) }) });
  const caseUrl = (caseId: string) => o.caseUrl.replace('{caseId}', encodeURIComponent(caseId));
  const caseOf = (episodeId: string) => cases.get(episodeId);

  // Static files are read once: a few small files, served on every page load.
  const files = new Map([...STATIC].map(([name, f]) => [name, { type: f.type, body: readFileSync(f.path) }]));
  /** Pages and data are never cached (they are the fleet's state now); static files for 5 minutes. */
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, cache = false) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': cache ? 'max-age=300' : 'no-store' }).end(body);
  };
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    const url = new URL(req.url ?? '/', 'http://web');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} not allowed`);
    if (path === '/') {
      const offset = Math.max(0, Math.trunc(Number(url.searchParams.get('offset') ?? 0)) || 0);
      const fleet = await reader.fleet(offset, o.pageSize);
      send(res, 200, 'text/html; charset=utf-8', renderFleetPage({ fleet, offset, pageSize: o.pageSize, caseOf, caseUrl }));
      return 'fleet';
    }
    if (path === '/asset') {
      const id = url.searchParams.get('id')?.trim();
      if (!id) throw new HttpError(400, 'id: an asset id is needed');
      res.writeHead(302, { location: assetPath(id) }).end();
      return 'find';
    }
    if (path === '/d/pdm-asset/' || path === '/d/pdm-asset') {
      const id = url.searchParams.get('var-asset_id');
      if (!id) throw new HttpError(400, 'var-asset_id: an asset id is needed');
      const range = ['from', 'to'].filter((k) => /^\d+$/.test(url.searchParams.get(k) ?? '')).map((k) => `${k}=${url.searchParams.get(k)}`);
      res.writeHead(302, { location: assetPath(id, range.length ? `?${range.join('&')}` : '') }).end();
      return 'drill-down';
    }
    const api = /^\/api\/asset\/([^/]+)\/series$/.exec(path);
    if (api) {
      const id = decodeURIComponent(api[1]!);
      const { fromMs, toMs } = rangeOf(url.searchParams, null, o.defaultRangeMs, Date.now());
      send(res, 200, 'application/json', JSON.stringify(await reader.series(id, fromMs, toMs)));
      return 'series';
    }
    const page = /^\/asset\/([^/]+)$/.exec(path);
    if (page) {
      const asset = await reader.asset(decodeURIComponent(page[1]!));
      const { fromMs, toMs } = rangeOf(url.searchParams, asset.lastTs, o.defaultRangeMs, Date.now());
      send(res, asset.assetType === null ? 404 : 200, 'text/html; charset=utf-8', renderAssetPage({ asset, fromMs, toMs, caseOf, caseUrl }));
      return 'asset';
    }
    const file = path.startsWith('/static/') ? files.get(path.slice('/static/'.length)) : undefined;
    if (file) {
      send(res, 200, file.type, file.body, true);
      return 'static';
    }
    throw new HttpError(404, `${path}: no such page`);
  };

  const health = settings.health ?? new Health();
  const server = createServer((req, res) => {
    route(req, res).then(
      (name) => {
        requests.inc({ route: name, status: String(res.statusCode) });
        if (name === 'fleet' || name === 'asset' || name === 'series') health.up('influxdb');
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 502;
        if (status >= 500) health.down('influxdb', describeError(err));
        const message = err instanceof HttpError ? err.message : `InfluxDB or Kafka did not answer: ${describeError(err)}`;
        if (status >= 500) log.warn('request failed', { url: req.url, error: describeError(err) });
        requests.inc({ route: 'error', status: String(status) });
        if (!res.headersSent) send(res, status, 'text/html; charset=utf-8', layout('Error', `<h1>${status}</h1><p>${esc(message)}</p>`));
        else res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host}:${port}`;
  log.info('fleet view listening', { url });

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await cases.stop();
      resolveDone();
    })());
  // Ready once listening; InfluxDB down while its queries fail (the page says so meanwhile).
  health.ready();
  return { name: 'web', metrics, health, url, cases, stop, done };
}
