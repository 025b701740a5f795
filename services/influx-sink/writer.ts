/**
 * The InfluxDB write adapter of the sink: one HTTP POST of line protocol to the v2 write
 * endpoint (`/api/v2/write?org&bucket&precision=ms`), which InfluxDB 1.8+ and 2.x both serve,
 * and a verdict on every failure.
 *
 * Why not the client's WriteApi: it buffers points and retries them in the background, so a
 * flush() can resolve while points still wait in its retry buffer, and the sink could commit
 * Kafka offsets for points InfluxDB never accepted. Here a write either resolved (InfluxDB
 * answered 2xx: every point is stored) or threw an {@link InfluxWriteError} saying what
 * retrying can do; the sink owns retries, pausing and offset commits.
 */
import type { InfluxConnection } from '../kafka/env.ts';
import { PipelineError, type RetryAfter } from '../runtime/errors.ts';

/**
 * What a failed write means for the batch:
 * - `retriable`: InfluxDB is down, overloaded or slow (network error, timeout, 5xx, 429): retry later.
 * - `rejected`: InfluxDB refused the data itself (400 bad line / field type conflict / partial
 *   write, 413 too large, 422 unprocessable): the same bytes will be refused again; find the
 *   offending records and dead-letter them.
 * - `fatal`: the sink is misconfigured (401 credentials, 403, 404 no such database/bucket, other
 *   4xx): no record is to blame and no retry helps; the service stops.
 */
export type WriteVerdict = 'retriable' | 'rejected' | 'fatal';

/** A failed InfluxDB write, with the HTTP status (undefined when no response came) and the server's retry hint. */
export class InfluxWriteError extends PipelineError implements RetryAfter {
  constructor(
    message: string,
    readonly verdict: WriteVerdict,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, verdict === 'retriable', options);
  }
}

/** Statuses where the data, not the server or the sink's settings, is at fault. */
const REJECTED_STATUSES = new Set([400, 413, 422]);

/** Parses Retry-After: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1_000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Classifies an HTTP status of a failed write. */
export function verdictOf(status: number): WriteVerdict {
  if (status >= 500 || status === 429 || status === 408) return 'retriable';
  if (REJECTED_STATUSES.has(status)) return 'rejected';
  return 'fatal';
}

export class InfluxWriter {
  private readonly endpoint: string;

  /** @param timeoutMs budget of one write request, ms; past it the write is retriable. */
  constructor(
    readonly conn: InfluxConnection,
    private readonly timeoutMs: number,
  ) {
    const q = new URLSearchParams({ org: conn.org, bucket: conn.bucket, precision: 'ms' });
    this.endpoint = `${conn.url.replace(/\/+$/, '')}/api/v2/write?${q.toString()}`;
  }

  /** Writes lines (epoch-ms timestamps); resolves only when InfluxDB accepted all of them. */
  async write(lines: readonly string[]): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { authorization: `Token ${this.conn.token}`, 'content-type': 'text/plain; charset=utf-8' },
        body: lines.join('\n'),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      const why = (cause as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : 'unreachable';
      throw new InfluxWriteError(`InfluxDB at ${this.conn.url} ${why} (write of ${lines.length} points)`, 'retriable', undefined, undefined, { cause });
    }
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    const body = (await res.text().catch(() => '')).trim().slice(0, 1_000);
    const verdict = verdictOf(res.status);
    throw new InfluxWriteError(
      `InfluxDB at ${this.conn.url} answered HTTP ${res.status} to a write of ${lines.length} points to bucket ${this.conn.bucket}: ${body}`,
      verdict,
      res.status,
      verdict === 'retriable' ? parseRetryAfter(res.headers.get('retry-after')) : undefined,
    );
  }

  /**
   * Checks the settings with an empty write, which InfluxDB authenticates and resolves to a
   * database like a real one but stores nothing: 204 when the token and bucket are good.
   */
  async check(): Promise<void> {
    await this.write([]);
  }
}
