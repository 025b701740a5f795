/**
 * Integration test of the local InfluxDB (infra/stack/parts/influx.ts) through the same
 * client the pipeline uses, @influxdata/influxdb-client: the v2 write and Flux query APIs
 * work against it with the connection info the stack publishes, a replayed point overwrites
 * itself (the influx-sink relies on that for idempotent replay), and credentials and bucket
 * names are enforced the way a real server enforces them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import type { WriteApi } from '@influxdata/influxdb-client';
import { stackInfo, uniqueName } from './stack-env.ts';
import type { InfluxInfo } from './stack-env.ts';

/** One row of a Flux result as the client's collectRows() returns it (tag columns included). */
interface FluxRow {
  _time: string;
  _measurement: string;
  _field: string;
  _value: unknown;
  asset: string;
  mode: string;
}

/** A compact, sortable view of a row for exact comparisons. */
interface Cell {
  timeMs: number;
  asset: string;
  mode: string;
  field: string;
  value: unknown;
}

let info: InfluxInfo;
let client: InfluxDB;
/** Points are written one minute in the past, at explicit millisecond timestamps. */
const baseMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;

beforeAll(() => {
  info = stackInfo().influx;
  client = new InfluxDB({ url: info.url, token: info.token, timeout: 10_000 });
  // Expected failures below (401, 404) would otherwise print client warnings into the run.
  setLogger({ error: () => undefined, warn: () => undefined });
});

afterAll(() => {
  setLogger({ error: (m, e) => console.error(m, e), warn: (m, e) => console.warn(m, e) });
});

function writer(bucket = info.bucket, token = info.token): WriteApi {
  const c = token === info.token ? client : new InfluxDB({ url: info.url, token, timeout: 10_000 });
  // No retries: a failure must surface at flush() instead of being retried in the background.
  return c.getWriteApi(info.org, bucket, 'ms', { maxRetries: 0, batchSize: 1_000, flushInterval: 0 });
}

function reading(measurement: string, asset: string, mode: string, timeMs: number, temp: number, rpm: number, alarm: boolean): Point {
  return new Point(measurement)
    .tag('asset', asset)
    .tag('mode', mode)
    .floatField('temp', temp)
    .intField('rpm', rpm)
    .booleanField('alarm', alarm)
    .timestamp(timeMs);
}

async function queryCells(measurement: string): Promise<Cell[]> {
  const flux =
    `from(bucket: "${info.bucket}")` +
    ` |> range(start: ${new Date(baseMs - 3_600_000).toISOString()}, stop: ${new Date(baseMs + 3_600_000).toISOString()})` +
    ` |> filter(fn: (r) => r._measurement == "${measurement}")`;
  const rows = await client.getQueryApi(info.org).collectRows<FluxRow>(flux);
  for (const r of rows) expect(r._measurement).toBe(measurement);
  return rows
    .map((r) => ({ timeMs: Date.parse(r._time), asset: r.asset, mode: r.mode, field: r._field, value: r._value }))
    .sort((a, b) => a.timeMs - b.timeMs || a.asset.localeCompare(b.asset) || a.field.localeCompare(b.field));
}

/** The cells the readings above should produce, in queryCells() order. */
function cells(timeMs: number, asset: string, mode: string, temp: number, rpm: number, alarm: boolean): Cell[] {
  return [
    { timeMs, asset, mode, field: 'alarm', value: alarm },
    { timeMs, asset, mode, field: 'rpm', value: rpm },
    { timeMs, asset, mode, field: 'temp', value: temp },
  ];
}

/**
 * 1.8 answers errors as `{"error": "..."}`, not 2.x's `{"code", "message"}`, so the client
 * cannot lift a message out of the body: HttpError.message is `<status> <reason> : <body>`.
 * Code that reports InfluxDB errors should read `statusCode` and `body`, which work for both.
 */
function expectInfluxError(err: unknown, status: number, reason: string, error: string): void {
  expect(err).toBeInstanceOf(HttpError);
  const e = err as HttpError;
  expect(e.statusCode).toBe(status);
  const body = `${JSON.stringify({ error })}\n`;
  expect(e.body).toBe(body);
  expect(e.message).toBe(`${status} ${reason} : ${body}`);
}

describe('influx part (InfluxDB 1.8 through the v2 client API)', () => {
  it('publishes connection info the v2 client can use against 1.8', () => {
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.bucket).toBe('pdm/autogen');
    expect(info.token).toMatch(/^[^:]+:.+$/); // 1.8 reads the v2 token as user:password
  });

  it('answers /health with status pass and version 1.8.10', async () => {
    const res = await fetch(`${info.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; version: string };
    expect(body.status).toBe('pass');
    expect(body.version).toBe('1.8.10');
  });

  it('returns exactly the written points from a Flux query', async () => {
    const m = uniqueName('it_influx_points');
    const w = writer();
    w.writePoints([
      reading(m, 'pump-1', 'bearing', baseMs, 71.25, 1480, false),
      reading(m, 'pump-1', 'bearing', baseMs + 1_000, 72.5, 1490, true),
      reading(m, 'pump-2', 'seal', baseMs + 1_000, 40.125, 900, false),
    ]);
    await w.close();

    expect(await queryCells(m)).toEqual([
      ...cells(baseMs, 'pump-1', 'bearing', 71.25, 1480, false),
      ...cells(baseMs + 1_000, 'pump-1', 'bearing', 72.5, 1490, true),
      ...cells(baseMs + 1_000, 'pump-2', 'seal', 40.125, 900, false),
    ]);
  });

  it('overwrites a point replayed with the same measurement, tags and timestamp', async () => {
    const m = uniqueName('it_influx_replay');
    const first = writer();
    first.writePoints([
      reading(m, 'pump-3', 'bearing', baseMs, 60.5, 1200, false),
      reading(m, 'pump-3', 'bearing', baseMs + 1_000, 61.5, 1210, false),
    ]);
    await first.close();
    expect(await queryCells(m)).toHaveLength(6);

    // The replay changes every field of the second point; the point count must not grow.
    const replay = writer();
    replay.writePoint(reading(m, 'pump-3', 'bearing', baseMs + 1_000, 99.75, 1999, true));
    await replay.close();

    expect(await queryCells(m)).toEqual([
      ...cells(baseMs, 'pump-3', 'bearing', 60.5, 1200, false),
      ...cells(baseMs + 1_000, 'pump-3', 'bearing', 99.75, 1999, true),
    ]);
  });

  it('keeps the fields a replay leaves out (points merge field by field)', async () => {
    const m = uniqueName('it_influx_merge');
    const first = writer();
    first.writePoint(reading(m, 'pump-4', 'seal', baseMs, 50.5, 1000, false));
    await first.close();

    const partial = writer();
    partial.writePoint(new Point(m).tag('asset', 'pump-4').tag('mode', 'seal').floatField('temp', 55.5).timestamp(baseMs));
    await partial.close();

    expect(await queryCells(m)).toEqual(cells(baseMs, 'pump-4', 'seal', 55.5, 1000, false));
  });

  it('rejects a wrong token with HttpError 401 "authorization failed" on write and query', async () => {
    const badToken = `${info.token.split(':')[0]}:wrong-password`;
    const w = writer(info.bucket, badToken);
    w.writePoint(reading(uniqueName('it_influx_denied'), 'pump-5', 'seal', baseMs, 1, 1, false));
    const writeErr = await w.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expectInfluxError(writeErr, 401, 'Unauthorized', 'authorization failed');

    const q = new InfluxDB({ url: info.url, token: badToken, timeout: 10_000 }).getQueryApi(info.org);
    const queryErr = await q.collectRows(`from(bucket: "${info.bucket}") |> range(start: -1m)`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expectInfluxError(queryErr, 401, 'Unauthorized', 'authorization failed');
  });

  it('rejects a write to a database that does not exist with HttpError 404', async () => {
    const db = uniqueName('nosuchdb').replaceAll('-', '_');
    const w = writer(`${db}/autogen`);
    w.writePoint(reading(uniqueName('it_influx_nodb'), 'pump-6', 'seal', baseMs, 1, 1, false));
    const err = await w.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expectInfluxError(err, 404, 'Not Found', `database not found: "${db}"`);
  });
});
