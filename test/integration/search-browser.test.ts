// The dashboard's Search tab in a real Chromium, over the real OpenSearch node: the tab shows when
// the sink is on, a query string finds what SQL counts in the flat table, the date histogram and
// the top terms add up to the hits, a top term narrows the query, and a hit opens its lineage.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@opensearch-project/opensearch';
import { searchSyncWorkflowId } from '../../activities/search/search-sync';
import { produceTransactions } from '../../activities/ingest/produce';
import { startDashboard, type DashboardServer } from '../../dashboard/server';
import { aliasName, createSearchClient } from '../../lib/search';
import { searchLag } from '../../lib/search-state';
import type { PipelineResult } from '../../workflows';
import { ARTIFACTS, launchOffline, type OfflineBrowser } from '../support/chromium';
import { dropTestIndexes, endSearchLane } from '../support/search';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const DAY = 86_400_000;
const ROWS = 800;
const gen = { seed: 41, startMs: Math.floor(Date.now() / DAY) * DAY - 10 * DAY, windowMs: 9 * DAY };

describe('dashboard Search tab in Chromium', () => {
  let env: TestEnv;
  let search: Client;
  let server: DashboardServer;
  let browser: OfflineBrowser;
  let origin: string;
  const problems: string[] = [];

  const count = async (where: string, values: unknown[] = []) =>
    (await env.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions_flat WHERE ${where}`, values)).rows[0]!.n;

  before(async () => {
    env = await isolatedEnv('searchui', { SEARCH_SINK: true, ARCHIVE_MAX_RECORDS_PER_OBJECT: 400 });
    search = createSearchClient(env.config);
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    await withWorker(env, async (client) => {
      const r = (await client.workflow.execute('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId: `pipeline-searchui-${env.id}`,
        args: [{ stream: 'transactions' }],
      })) as PipelineResult;
      assert.equal(r.rowsInserted, ROWS);
      const deadline = Date.now() + 60_000;
      while ((await searchLag(env.pool, 'transactions', 'transactions_flat')).rowsBehind > 0) {
        assert.ok(Date.now() < deadline, 'the search lane did not catch up');
        await new Promise((res) => setTimeout(res, 500));
      }
      await client.workflow.getHandle(searchSyncWorkflowId(env.config, 'transactions')).terminate('test done');
    });
    await search.indices.refresh({ index: aliasName(env.config, 'transactions') });
    server = await startDashboard(env.config, { host: '127.0.0.1', port: 0 });
    origin = new URL(server.url).origin;
    browser = await launchOffline(origin);
  });

  after(async () => {
    await endSearchLane(env);
    await browser?.close();
    await server?.close();
    await dropTestIndexes(env, search);
    await search?.close();
    await env?.cleanup();
  });

  it('queries the index, shows histogram and top terms for the query, and links a hit to its lineage', async () => {
    const page = await browser.context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const totalIs = (n: number) => page.locator('#total', { hasText: new RegExp(`^${n}$`) }).waitFor({ timeout: 20_000 });
    await page.goto(`${origin}/`);
    await page.locator('#search-tab').waitFor({ state: 'visible', timeout: 20_000 });
    // The pipeline panel shows the index's lag beside Kafka's: nothing behind, nothing refused.
    const lagRow = page.locator('#search-lag tbody tr', { hasText: 'transactions' });
    await lagRow.waitFor({ state: 'visible', timeout: 20_000 });
    assert.deepEqual((await lagRow.locator('td').allTextContents()).slice(0, 5), ['transactions', '0', '0', String(ROWS), '0']);
    await page.locator('#search-tab').click();
    await page.waitForURL(`${origin}/search`);
    await page.selectOption('#stream', 'transactions');
    await totalIs(ROWS);

    const histogram = await page.locator('#histogram .bar .num').allTextContents();
    assert.ok(histogram.length >= 8, `one bar per day: ${histogram.length}`);
    assert.equal(
      histogram.reduce((n, t) => n + Number(t), 0),
      ROWS,
      'the histogram adds up to the hits',
    );

    await page.fill('#q', 'status:APPROVED');
    await page.click('#go');
    const approved = await count("status = 'APPROVED'");
    await totalIs(approved);

    // A top term narrows the query to it: the hits become what SQL counts for both conditions.
    const field = await page.locator('#top-field').textContent();
    const first = page.locator('#top .bar button').first();
    const value = (await first.textContent())!;
    await first.click();
    const both = await count(`status = 'APPROVED' AND ${field} = $1`, [value]);
    await totalIs(both);
    assert.equal(await page.inputValue('#q'), `(status:APPROVED) AND ${field}:"${value}"`);

    // The first hit's lineage: its flat row's bronze object and Kafka position, as PostgreSQL has them.
    await page.locator('#hits tbody tr').first().locator('button.lineage-link').click();
    await page.locator('#lineage').waitFor({ state: 'visible', timeout: 20_000 });
    const key = await page.locator('#lineage-list dd').first().textContent();
    const { rows } = await env.pool.query<{ bronze_object_id: string; kafka_topic: string; kafka_partition: number; kafka_offset: string }>(
      'SELECT bronze_object_id, kafka_topic, kafka_partition, kafka_offset FROM transactions_flat WHERE transaction_id::text = $1',
      [key],
    );
    const row = rows[0]!;
    const text = await page.locator('#lineage-list').textContent();
    assert.ok(text?.includes(`${row.kafka_topic}[${row.kafka_partition}]@${row.kafka_offset}`), text ?? '');
    assert.ok(text?.includes(`#${row.bronze_object_id}`), text ?? '');
    // The bounded syntax reaches OpenSearch as checked: a range, NOT and a group count what SQL counts.
    await page.fill('#q', 'amount:[100 TO *] AND NOT (status:DECLINED OR status:REFUNDED)');
    await page.click('#go');
    await totalIs(await count("amount >= 100 AND status NOT IN ('DECLINED', 'REFUNDED')"));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-search.png'), fullPage: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(browser.external, []);

    // Outside the syntax: the page shows why, and OpenSearch never sees it.
    await page.fill('#q', 'status:/APPRO.*/');
    await page.click('#go');
    await page
      .locator('#error', { hasText: 'invalid query: /APPRO.*/: regular expressions are not supported' })
      .waitFor({ timeout: 20_000 });
  });
});
