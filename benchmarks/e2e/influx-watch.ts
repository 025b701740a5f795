/**
 * An HTTP proxy in front of InfluxDB that notes when each anomaly score became queryable:
 * the moment InfluxDB acknowledged (2xx) the write holding its point. InfluxDB 1.8 serves a
 * point from its in-memory cache as soon as the write is acknowledged, so this is when a
 * dashboard could show it, without polling queries that would load the server under test.
 * The extra loopback hop makes the figures slightly pessimistic, never optimistic.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InfluxWatch {
  url: string;
  /** `assetId|ts` of each acknowledged anomaly_score point → when (performance.now()) it was first acknowledged. */
  readonly acked: Map<string, number>;
  /** Called on each newly acknowledged score point. */
  onAck?: (key: string, at: number) => void;
  /** Lines acknowledged in all (every measurement). */
  lines: number;
  close(): Promise<void>;
}

const SCORE_PREFIX = 'anomaly_score,asset_id=';

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startInfluxWatch(target: string): Promise<InfluxWatch> {
  const watch: InfluxWatch = { url: '', acked: new Map(), lines: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const payload = await body(req);
      const upstream = await fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length')) as Record<string, string>,
        ...(payload.length > 0 ? { body: payload } : {}),
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      const at = performance.now();
      if (upstream.ok && req.url?.startsWith('/api/v2/write') && payload.length > 0) noteAcked(watch, payload.toString('utf8'), at);
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers.entries())).end(answer);
    })().catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  watch.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  watch.close = () => new Promise((resolve) => server.close(() => resolve()));
  return watch;
}

/** Records the score points of an acknowledged write (asset ids of the benchmark need no unescaping). */
function noteAcked(watch: InfluxWatch, text: string, at: number): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    watch.lines++;
    if (text.startsWith(SCORE_PREFIX, start)) {
      const idEnd = text.indexOf(',', start + SCORE_PREFIX.length);
      const tsStart = text.lastIndexOf(' ', end) + 1;
      const key = `${text.slice(start + SCORE_PREFIX.length, idEnd)}|${text.slice(tsStart, end)}`;
      if (!watch.acked.has(key)) {
        watch.acked.set(key, at);
        watch.onAck?.(key, at);
      }
    }
    start = end + 1;
  }
}
