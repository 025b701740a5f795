/**
 * The fleet view in a real browser: Debian's chromium (installed by infra/browser/chromium.ts
 * when missing) driven by playwright-core. The fleet page loads with its rows and its chart,
 * a click on an asset opens its page, whose charts are drawn with data; a screenshot of each
 * page is kept in test-output/web/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium, launchChromium } from '../../infra/browser/chromium.ts';
import { stackInfo } from '../../infra/test/stack-env.ts';
import { DEFAULT_CONFIG } from '../core/index.ts';
import { startWebFixture, type WebFixture } from './web-fixture.ts';

const OUT = join(import.meta.dirname, '..', '..', 'test-output', 'web');

let f: WebFixture;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  ensureChromium((line) => process.stderr.write(`browser: ${line}\n`));
  mkdirSync(OUT, { recursive: true });
  [f, browser] = await Promise.all([startWebFixture(stackInfo(), { assets: 200, cases: 5, pageSize: 20 }), launchChromium()]);
  page = await browser.context.newPage();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await f?.stop();
});

/** What the page's chart script reports: one entry per chart drawn, with its number of points. */
const drawn = (p: Page) => p.evaluate(() => (globalThis as unknown as { pdmCharts: { drawn: { id: string; points: number }[] } }).pdmCharts.drawn);

describe('the fleet view in chromium', () => {
  it('loads the fleet with its chart, and a click opens an asset whose charts have data', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(f.web.url);
    await page.waitForSelector('body[data-charts-ready]');
    expect(await page.locator('#at-risk tbody tr').count()).toBe(20);
    expect(await page.locator('#at-risk tbody tr').first().getAttribute('data-asset')).toBe(f.atRisk[0]!.asset.assetId);
    expect(await drawn(page)).toEqual([{ id: 'raised-chart', points: expect.any(Number) }]);
    expect((await drawn(page))[0]!.points).toBeGreaterThan(0);
    expect(await page.locator('#raised-chart canvas').count()).toBe(1);
    await page.screenshot({ path: join(OUT, 'fleet.png'), fullPage: true });

    const target = f.atRisk[0]!.asset;
    await Promise.all([page.waitForURL(`**/asset/${encodeURIComponent(target.assetId)}`), page.locator('#at-risk a.asset').first().click()]);
    await page.waitForSelector('body[data-charts-ready]');
    const charts = await drawn(page);
    const sensors = DEFAULT_CONFIG.assetTypes.get(target.assetType)!.sensors.map((s) => `sensor-${s.name}`);
    expect(charts.map((c) => c.id).sort()).toEqual(['health-chart', 'scores-chart', ...sensors].sort());
    for (const c of charts) expect(c.points, c.id).toBeGreaterThan(0);
    expect(await page.locator('canvas').count()).toBe(charts.length);
    expect(await page.locator('#chart-status').textContent()).toMatch(/^\d+-minute windows$/);
    expect(await page.locator('#episodes tbody tr.open').count()).toBe(1);
    await page.screenshot({ path: join(OUT, 'asset.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
