// The dashboard's markets view in a real Chromium (Debian's package, driven by playwright-core):
// candlesticks with both forecasts and their bands, the forecast table, freshness with the stale
// source marked, the pick in the address bar, a phone screen, and nothing fetched from another
// host. Screenshots go to test-artifacts/ for a person to look at.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { DashboardServer } from '../../dashboard/server';
import type { TestEnv } from '../support/harness';
import { ARTIFACTS, launchOffline, type OfflineBrowser } from '../support/chromium';
import { marketsDashboard } from '../support/markets-fixture';

describe('markets view in Chromium', () => {
  let env: TestEnv;
  let server: DashboardServer;
  let base: string;
  let browser: OfflineBrowser;
  let context: BrowserContext;
  let external: string[] = [];
  const problems: string[] = [];

  before(async () => {
    ({ env, server } = await marketsDashboard('dash_markets_ui'));
    base = server.url;
    browser = await launchOffline(new URL(base).origin);
    context = browser.context;
    external = browser.external;
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await env?.cleanup();
  });
  const sql = async <T extends object>(text: string, values: unknown[] = []) => (await env.pool.query<T>(text, values)).rows;

  async function open(url: string): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(url);
    return page;
  }
  const rendered = (page: Page, pick: string) =>
    page.waitForSelector(`body[data-rendered=${JSON.stringify(pick)}]`, { state: 'attached', timeout: 20_000 });
  const sig7 = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 7 });

  it('draws the candles with both forecasts, the forecast table and the freshness of each source', async () => {
    const page = await open(`${base}markets?symbol=BTC-USD&source=simulator`);
    await rendered(page, 'BTC-USD|simulator|1m|180');
    const [last] = await sql<{ close: number }>(
      "SELECT close::float8 AS close FROM candles_1m WHERE symbol = 'BTC-USD' ORDER BY bucket_start DESC LIMIT 1",
    );
    assert.equal(Number(await page.locator('#m-close').getAttribute('data-value')), last!.close);
    assert.equal(await page.locator('#m-close').textContent(), sig7.format(last!.close));

    const drawn = (await page.evaluate(`(() => {
      const c = window.Chart.getChart('chart-price');
      return { type: c.config.type, sets: c.data.datasets.map((d) => [d.model ?? d.type, d.role ?? '', d.data.length]),
               volume: window.Chart.getChart('chart-volume').data.datasets[0].data.length };
    })()`)) as { type: string; sets: [string, string, number][]; volume: number };
    assert.equal(drawn.type, 'candlestick');
    assert.deepEqual(drawn.sets, [
      ['candlestick', '', 180],
      ...['linear_trend', 'holt_linear'].flatMap((m) => ['lower', 'upper', 'predicted'].map((r) => [m, r, 30])),
    ]);
    assert.equal(drawn.volume, 180 + 30, 'one bar per candle, and empty slots under the forecast so both charts share the time axis');

    const forecasts = await sql<{ model: string; predicted: number }>(
      "SELECT DISTINCT ON (model) model, predicted FROM price_forecasts WHERE symbol = 'BTC-USD' ORDER BY model, horizon_ts DESC",
    );
    assert.equal(await page.locator('#forecast tbody tr').count(), 2);
    for (const f of forecasts) {
      const cells = await page.locator(`#forecast tr[data-model="${f.model}"] td`).allTextContents();
      assert.equal(cells[3], sig7.format(f.predicted), f.model);
    }
    assert.equal(await page.locator('#freshness tr[data-source="yahoo"]').getAttribute('class'), 'stale');
    assert.equal(await page.locator('#freshness tr[data-source="yahoo"] .pill').textContent(), 'stale');
    assert.equal(await page.locator('#freshness tr[data-source="simulator"] .pill').textContent(), 'fresh');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-markets.png'), fullPage: true });
    await page.close();
  });

  it('keeps the pick in the address bar, opens on the first symbol, and links both views', async () => {
    const page = await open(`${base}markets`);
    await rendered(page, 'AAPL|yahoo|1m|180');
    await page.selectOption('#symbol', 'ETH-USD|simulator');
    await rendered(page, 'ETH-USD|simulator|1m|180');
    await page.selectOption('#interval', '1h');
    await rendered(page, 'ETH-USD|simulator|1h|180');
    assert.equal(new URL(page.url()).search, '?symbol=ETH-USD&source=simulator&interval=1h&limit=180');
    assert.match((await page.locator('#forecast tbody').textContent()) ?? '', /No forecast for this symbol and interval yet/);
    await page.goBack();
    await rendered(page, 'ETH-USD|simulator|1m|180');
    await page.click('a[href="/"]');
    await page.locator('a[href="/markets"]').waitFor();
    await page.close();
  });

  it('says what is wrong with an invalid address', async () => {
    const page = await context.newPage();
    await page.goto(`${base}markets?symbol=BTC-USD&source=nasdaq`);
    await page.locator('#error').waitFor({ state: 'visible' });
    assert.match((await page.locator('#error').textContent()) ?? '', /source: unknown source "nasdaq"/);
    await page.close();
  });

  it('fits a phone screen', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}markets?symbol=BTC-USD&source=simulator`);
    await rendered(page, 'BTC-USD|simulator|1m|180');
    const widths = (await page.evaluate('({ page: document.documentElement.scrollWidth, screen: window.innerWidth })')) as {
      page: number;
      screen: number;
    };
    assert.ok(widths.page <= widths.screen, `no sideways scrolling: page ${widths.page}px on a ${widths.screen}px screen`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-markets-phone.png'), fullPage: true });
    await page.close();
  });

  it('fetched nothing from another host and logged no error', () => {
    assert.deepEqual(external, []);
    assert.deepEqual(problems, []);
  });
});
