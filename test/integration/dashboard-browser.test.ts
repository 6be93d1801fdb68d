// The dashboard in a real Chromium (Debian's package, driven by playwright-core): on a freshly
// loaded database it shows the KPIs SQL computes, applies filters and puts them in the address,
// opens a shared address as the same view, downloads the CSV, refreshes itself when a new load
// lands, fits a phone screen, and fetches nothing from another host. Screenshots go to
// test-artifacts/ for a person to look at.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { temporalUiUrl } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import { startDashboard, type DashboardServer } from '../../dashboard/server';
import { ARTIFACTS, launchOffline, type OfflineBrowser } from '../support/chromium';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';

const ROWS = 2_000;
const MORE = 500;
const DAY_MS = 86_400_000;
const gen = { seed: 31, startMs: Date.now() - 2 * DAY_MS, windowMs: 2 * DAY_MS - 60_000 };

interface Expected {
  n: number;
  total: string;
  average: string | null;
  approved: number;
}

describe('dashboard in Chromium', () => {
  let env: TestEnv;
  let server: DashboardServer;
  let browser: OfflineBrowser;
  let context: BrowserContext;
  let origin: string;
  let days: string[];
  let external: string[] = [];
  const problems: string[] = [];
  const workflowId = `dashboard-browser-${Date.now()}`;

  async function expected(where: string, values: unknown[] = []): Promise<Expected> {
    const { rows } = await env.pool.query<Expected>(
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS total, round(avg(amount), 2)::text AS average,
              count(*) FILTER (WHERE status = 'APPROVED')::int AS approved
       FROM transactions_flat WHERE ${where}`,
      values,
    );
    return rows[0]!;
  }

  /** A page that records console errors, script errors and any request to another host. */
  async function openPage(url: string, watch = true): Promise<Page> {
    const page = await context.newPage();
    if (watch) {
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    }
    await page.goto(url);
    return page;
  }

  async function rendered(page: Page, query: string): Promise<void> {
    await page.waitForSelector(`body[data-rendered-query=${JSON.stringify(query)}]`, { state: 'attached', timeout: 20_000 });
  }

  async function kpis(page: Page) {
    const value = (id: string) => page.locator(`#${id}`).getAttribute('data-value');
    const text = (id: string) => page.locator(`#${id}`).textContent();
    return {
      n: Number(await value('kpi-transactions')),
      total: await value('kpi-total'),
      average: await value('kpi-average'),
      rate: Number(await value('kpi-approval')),
      shown: {
        n: await text('kpi-transactions'),
        total: await text('kpi-total'),
        average: await text('kpi-average'),
        rate: await text('kpi-approval'),
      },
    };
  }

  const eur = (v: string) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(Number(v));

  function assertKpis(got: Awaited<ReturnType<typeof kpis>>, want: Expected, what: string): void {
    assert.equal(got.n, want.n, `${what}: transactions`);
    assert.equal(got.total, want.total, `${what}: total`);
    assert.equal(got.average, want.average, `${what}: average`);
    assert.equal(got.rate, want.approved / want.n, `${what}: approval rate`);
    assert.deepEqual(
      got.shown,
      {
        n: want.n.toLocaleString('en-US'),
        total: eur(want.total),
        average: eur(want.average!),
        rate: `${((want.approved / want.n) * 100).toFixed(1)}%`,
      },
      `${what}: as displayed`,
    );
  }

  before(async () => {
    env = await isolatedEnv('dash_browser', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 800 });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS, batchSize: 1_000 });
    await runPipeline(env, workflowId);
    server = await startDashboard(env.config, { host: '127.0.0.1', port: 0 });
    origin = new URL(server.url).origin;
    const { rows } = await env.pool.query<{ d: string }>(
      "SELECT DISTINCT (event_ts AT TIME ZONE 'UTC')::date::text AS d FROM transactions_flat ORDER BY 1",
    );
    days = rows.map((r) => r.d);

    browser = await launchOffline(origin, { acceptDownloads: true });
    context = browser.context;
    external = browser.external;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await env?.cleanup();
  });

  it('shows the KPIs of everything loaded, the charts and the pipeline panel', async () => {
    const page = await openPage(server.url);
    await rendered(page, '');
    assertKpis(await kpis(page), await expected('true'), 'no filter');
    assert.equal(await page.locator('canvas').count(), 8);
    assert.match((await page.locator('#page-info').textContent()) ?? '', new RegExp(`^1–25 of ${ROWS.toLocaleString('en-US')}`));
    assert.equal(await page.locator('#tx tbody tr').count(), 25);
    const run = page.locator(`#runs a[href="${temporalUiUrl(env.config, workflowId)}"]`);
    await run.waitFor();
    assert.equal(await run.textContent(), workflowId);
    assert.equal(await page.locator('#p-loaded').getAttribute('data-value'), String(ROWS));
    assert.equal(await page.locator('#p-lag').getAttribute('data-value'), '0', (await page.locator('#lag-note').textContent()) ?? '');
    await page.close();
  });

  it('applies filters server-side, puts them in the address, and matches SQL', async () => {
    const page = await openPage(server.url);
    await rendered(page, '');
    await page.fill('input[name=from]', days[0]!);
    await page.fill('input[name=to]', days[1]!);
    await page.click('details[data-name=category] summary');
    await page.check('details[data-name=category] input[value=grocery]');
    await page.check('details[data-name=category] input[value=travel]');
    await page.click('details[data-name=status] summary');
    await page.check('details[data-name=status] input[value=APPROVED]');
    await page.check('details[data-name=status] input[value=DECLINED]');
    await page.fill('input[name=minAmount]', '25');
    await page.fill('input[name=maxAmount]', '600.5');
    await page.click('#apply');
    const query = `from=${days[0]}&to=${days[1]}&category=grocery&category=travel&status=APPROVED&status=DECLINED&minAmount=25&maxAmount=600.5`;
    await rendered(page, query);
    assert.equal(new URL(page.url()).search, `?${query}`);
    const want = await expected(
      `(event_ts AT TIME ZONE 'UTC')::date BETWEEN $1::date AND $2::date AND category IN ('grocery', 'travel')
       AND status IN ('APPROVED', 'DECLINED') AND amount BETWEEN 25 AND 600.50`,
      [days[0], days[1]],
    );
    assert.ok(want.n > 0 && want.n < ROWS);
    assertKpis(await kpis(page), want, 'filtered');
    assert.equal(await page.locator('details[data-name=category] .chosen').textContent(), '2 selected');
    assert.equal(await page.locator('details[data-name=category] summary').getAttribute('title'), 'grocery, travel');

    // The table holds only matching rows.
    const categories = await page.locator('#tx tbody tr td:nth-child(5)').allTextContents();
    assert.ok(categories.length > 0 && categories.every((c) => c === 'grocery' || c === 'travel'));
    await page.click('#next');
    await page.locator('#page-info', { hasText: /^26–50 of / }).waitFor();

    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-desktop.png'), fullPage: true });

    // The CSV is the whole filtered set, not the page on screen.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const file = path.join(ARTIFACTS, 'dashboard-export.csv');
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'transaction_id,event_ts,event_date,event_hour,event_dayofweek,user_id,amount,amount_bucket,merchant,category,city,status,payment_method,currency',
    );
    const { rows: ids } = await env.pool.query<{ id: string }>(
      `SELECT transaction_id::text AS id FROM transactions_flat WHERE (event_ts AT TIME ZONE 'UTC')::date BETWEEN $1::date AND $2::date
       AND category IN ('grocery', 'travel') AND status IN ('APPROVED', 'DECLINED') AND amount BETWEEN 25 AND 600.50 ORDER BY event_ts, transaction_id`,
      [days[0], days[1]],
    );
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      ids.map((r) => r.id),
    );

    // Back: the previous view, from the address alone.
    await page.goBack();
    await rendered(page, '');
    assert.equal(Number(await page.locator('#kpi-transactions').getAttribute('data-value')), ROWS);
    await page.close();

    // A shared address opens the same view, with the form showing its filters.
    const shared = await openPage(`${server.url}?${query}`);
    await rendered(shared, query);
    assertKpis(await kpis(shared), want, 'shared link');
    assert.equal(await shared.inputValue('input[name=minAmount]'), '25');
    assert.equal(await shared.isChecked('details[data-name=status] input[value=DECLINED]'), true);
    assert.equal(await shared.isChecked('details[data-name=city] input[value=Paris]'), false);
    await shared.close();
  });

  it('says what is wrong with an invalid shared address', async () => {
    const page = await openPage(`${server.url}?status=LOST&minAmount=abc`, false);
    await page.locator('#error').waitFor({ state: 'visible' });
    const message = (await page.locator('#error').textContent()) ?? '';
    assert.match(message, /status: unknown status "LOST"/);
    assert.match(message, /minAmount: expected an amount/);
    await page.close();
  });

  it('fits a phone screen', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(server.url);
    await rendered(page, '');
    const widths = (await page.evaluate('({ page: document.documentElement.scrollWidth, screen: window.innerWidth })')) as {
      page: number;
      screen: number;
    };
    assert.ok(widths.page <= widths.screen, `no sideways scrolling: page ${widths.page}px on a ${widths.screen}px screen`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await page.close();
  });

  it('refreshes itself when the pipeline loads more', async () => {
    const page = await openPage(server.url);
    await rendered(page, '');
    assert.equal(Number(await page.locator('#kpi-transactions').getAttribute('data-value')), ROWS);
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      ...gen,
      topic: env.topic(),
      rows: ROWS + MORE,
      startIndex: ROWS,
      batchSize: 1_000,
    });
    await runPipeline(env, `${workflowId}-2`);
    await page.waitForSelector(`#kpi-transactions[data-value="${ROWS + MORE}"]`, { state: 'attached', timeout: 30_000 });
    assertKpis(await kpis(page), await expected('true'), 'after the second run');
    await page.locator(`#runs a[href="${temporalUiUrl(env.config, `${workflowId}-2`)}"]`).waitFor();
    await page.close();
  });

  it('fetched nothing from another host and logged no error', () => {
    assert.deepEqual(external, []);
    assert.deepEqual(problems, []);
  });
});
