/**
 * The pure parts of the fleet view: Flux literals, the range and window arithmetic, the
 * bucketing of raw rows, the options' checks and the pages' escaping.
 */
import { describe, expect, it } from 'vitest';
import { ServiceConfigError } from '../runtime/errors.ts';
import { episodeRange, renderAssetPage } from './asset-page.ts';
import { failureWindow, renderFleetPage } from './fleet-page.ts';
import { bucketRows, MAX_WINDOWS, reducerOf, toColumns, windowFor, type FleetOverview } from './fleet-reader.ts';
import { esc, jsonScript } from './html.ts';
import { LOCAL_STACK_ENV } from '../kafka/env.ts';
import { topicNames } from '../kafka/topics.ts';
import { compileWebOptions, webSettingsFromEnv } from './options.ts';
import { assetSeriesFlux, fluxString } from './queries.ts';
import { parseTime, rangeOf } from './server.ts';

const H = 3_600_000;

describe('Flux literals', () => {
  it('escape quotes and backslashes, and split ${ so neither Flux 0.65 nor 2.x interpolates', () => {
    expect(fluxString('EV-1')).toBe('"EV-1"');
    expect(fluxString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(fluxString('a${b}$c')).toBe('("a" + "$" + "{" + "b}$c")');
  });
  it('aggregate the asset series in the given window', () => {
    const q = assetSeriesFlux('pdm/autogen', 'x', 0, 2 * H, 90_000);
    expect(q).toContain('aggregateWindow(every: 90s, fn: mean, createEmpty: false)');
    expect(q).toContain('range(start: 1970-01-01T00:00:00.000Z, stop: 1970-01-01T02:00:00.000Z)');
  });
});

describe('ranges and windows', () => {
  it('parse epoch ms and UTC date-times, and refuse anything else', () => {
    expect(parseTime('from', '1767571200000')).toBe(Date.UTC(2026, 0, 5));
    expect(parseTime('from', '2026-01-05T10:30')).toBe(Date.UTC(2026, 0, 5, 10, 30));
    expect(() => parseTime('to', 'soon')).toThrow('to=soon: not a time (epoch ms or YYYY-MM-DDTHH:MM UTC)');
  });
  it('default to the range ending a minute after the latest reading', () => {
    expect(rangeOf(new URLSearchParams(), 10 * H, 2 * H, 99 * H)).toEqual({ fromMs: 8 * H + 60_000, toMs: 10 * H + 60_000 });
    expect(rangeOf(new URLSearchParams(), null, 2 * H, 99 * H)).toEqual({ fromMs: 97 * H + 60_000, toMs: 99 * H + 60_000 });
    expect(() => rangeOf(new URLSearchParams('from=0&to=' + 500 * 24 * H), null, H, 0)).toThrow('range of 500 days: at most 400');
  });
  it('keep at most MAX_WINDOWS whole-minute windows, at least one minute', () => {
    expect(windowFor(0, 7 * 24 * H)).toBe(51 * 60_000);
    expect((7 * 24 * H) / windowFor(0, 7 * 24 * H)).toBeLessThanOrEqual(MAX_WINDOWS);
    expect(windowFor(0, 10 * 60_000)).toBe(60_000);
  });
  it('frame an episode as the case link does: 48 h before it to 24 h after its last event', () => {
    expect(episodeRange(100 * H, 110 * H)).toEqual({ fromMs: 52 * H, toMs: 134 * H });
  });
});

describe('bucketing raw rows', () => {
  it('keeps the mean of raw values, the peak of scores and the trough of health, stamped at the window end', () => {
    const rows = [
      { _time: new Date(0).toISOString(), temp_c: 10, score: 0.1, health: 0.9, score_temp_c: 0.2 },
      { _time: new Date(30_000).toISOString(), temp_c: 20, score: 0.7, health: 0.3, score_temp_c: null },
      { _time: new Date(60_000).toISOString(), temp_c: 5, score: 0, health: 1, score_temp_c: 0 },
    ];
    const cols = toColumns(bucketRows(rows, 0, 60_000));
    expect(cols).toEqual({ ts: [60_000, 120_000], fields: { health: [0.3, 1], score: [0.7, 0], score_temp_c: [0.2, 0], temp_c: [15, 5] } });
    expect([reducerOf('health'), reducerOf('score_x'), reducerOf('x_kpa')]).toEqual(['min', 'max', 'mean']);
  });
});

describe('options', () => {
  it('name every bad setting at once', () => {
    const base = { influx: { url: 'http://i', org: 'o', bucket: 'b', token: 't' }, brokers: ['k:9092'], registryUrl: 'http://r', topics: {} as never, caseUrl: 'https://sf/{caseId}' };
    expect(compileWebOptions(base).port).toBe(8080);
    expect(() => compileWebOptions({ ...base, port: 70_000, pageSize: 0, caseUrl: 'https://sf/' })).toThrow(ServiceConfigError);
    try {
      compileWebOptions({ ...base, port: 70_000, pageSize: 0, caseUrl: 'https://sf/' });
    } catch (err) {
      expect((err as ServiceConfigError).problems).toEqual(['port 70000: must be a TCP port (0-65535)', 'pageSize 0: must be an integer 1-500', 'caseUrl https://sf/: must contain {caseId}']);
    }
  });
});

describe('settings from the pipeline environment', () => {
  it("take its connections, link cases to its Salesforce, and compile", () => {
    const s = webSettingsFromEnv({ ...LOCAL_STACK_ENV, topicPrefix: 'demo-1.' }, topicNames('demo-1.'));
    expect(s.caseUrl).toBe('http://127.0.0.1:8443/{caseId}');
    expect(s.groupPrefix).toBe('demo-1.');
    expect(s.topics.cases).toBe('demo-1.case.events');
    expect(compileWebOptions(s).influx).toEqual(LOCAL_STACK_ENV.influx);
  });
});

describe('pages', () => {
  it('escape what they show and what they embed', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(jsonScript('d', { s: '</script><b>' })).toBe('<script type="application/json" id="d">{"s":"\\u003c/script>\\u003cb>"}</script>');
  });
  it('show the predicted failure window, or the estimate, or that there is no trend', () => {
    expect(failureWindow(2 * H, H, 3 * H)).toBe('1970-01-01 01:00 UTC – 1970-01-01 03:00 UTC');
    expect(failureWindow(2 * H, null, null)).toBe('1970-01-01 02:00 UTC');
    expect(failureWindow(null, null, null)).toBe('no trend yet');
  });
  it('render an empty fleet and an unknown asset without a table of nothing', () => {
    const fleet: FleetOverview = { bySeverity: { critical: 0, high: 0, medium: 0, low: 0 }, byMode: [], openTotal: 0, page: [], recentlyCleared: [], raisedPerDay: { ts: [], count: [] } };
    const page = renderFleetPage({ fleet, offset: 0, pageSize: 50, caseOf: () => undefined, caseUrl: (c) => c });
    expect(page).toContain('No asset is at risk.');
    expect(page).not.toContain('rel="next"');
    const asset = renderAssetPage({ asset: { assetId: '<x>', assetType: null, lastTs: null, health: null, episodes: [], maintenance: [] }, fromMs: 0, toMs: H, caseOf: () => undefined, caseUrl: (c) => c });
    expect(asset).toContain('<h1>&lt;x&gt;</h1><p class="empty">InfluxDB holds no reading, score or prediction of this asset.</p>');
  });
});
