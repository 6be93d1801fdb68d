// The dashboard server on a database loaded by the real pipeline: every filter and aggregate
// equals the same figure computed here with independent SQL, the CSV export holds exactly the
// matching rows, bad parameters are 400s that say what is wrong, and the server reads as the
// read-only role. Also the BI views of migration 003.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { temporalUiUrl } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { produceTransactions } from '../../activities/ingest/produce';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { AMOUNT_BUCKETS, STATUSES } from '../../streams/transactions/vocabulary';
import { startDashboard, type DashboardServer } from '../../dashboard/server';
import type { Summary } from '../../dashboard/queries';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { parseCsv } from '../support/csv';

const ROWS = 3_000;
const DAY_MS = 86_400_000;
const gen = { seed: 23, startMs: Date.now() - 3 * DAY_MS, windowMs: 3 * DAY_MS - 60_000 };
/** Values a CSV must quote, and a filter must match exactly. */
const ODD_MERCHANT = 'Café "Le Coin", Paris';

/** Loads ROWS synthetic events, 3 with an awkward merchant name and 2 invalid ones (quarantined). */
async function loadFixture(env: TestEnv, workflowId: string): Promise<void> {
  await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS, batchSize: 1_000 });
  const producer = env.kafka.producer();
  await producer.connect();
  const odd = [1, 2, 3].map((i) => ({ ...syntheticTransaction(ROWS + i, gen), merchant: ODD_MERCHANT }));
  await producer.send({
    topic: env.topic(),
    messages: [
      ...odd.map((e) => ({ value: JSON.stringify(e) })),
      { value: '{"broken": ' },
      { value: JSON.stringify({ ...odd[0], transaction_id: 'not-a-uuid' }) },
    ],
  });
  await producer.disconnect();
  await runPipeline(env, workflowId);
}

type Query = Record<string, string | string[]>;

const CSV_HEADER = [
  'transaction_id',
  'event_ts',
  'event_date',
  'event_hour',
  'event_dayofweek',
  'user_id',
  'amount',
  'amount_bucket',
  'merchant',
  'category',
  'city',
  'status',
  'payment_method',
  'currency',
];

function qs(query: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of [v].flat()) p.append(k, one);
  return p.toString();
}

async function get(base: string, path: string, query: Query = {}): Promise<Response> {
  const q = qs(query);
  return fetch(new URL(q ? `${path}?${q}` : path, base));
}

async function getJson<T>(base: string, path: string, query: Query = {}): Promise<T> {
  const res = await get(base, path, query);
  assert.equal(res.status, 200, `${path}?${qs(query)}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

interface Case {
  name: string;
  query: Query;
  where: string;
  values: unknown[];
}

describe('dashboard API', () => {
  let env: TestEnv;
  let server: DashboardServer;
  let base: string;
  let days: string[];
  const workflowId = `dashboard-api-${Date.now()}`;

  before(async () => {
    env = await isolatedEnv('dash_api', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 1_000 });
    await loadFixture(env, workflowId);
    server = await startDashboard(env.config, { host: '127.0.0.1', port: 0 });
    base = server.url;
    const { rows } = await env.pool.query<{ d: string }>(
      "SELECT DISTINCT (event_ts AT TIME ZONE 'UTC')::date::text AS d FROM transactions_flat ORDER BY 1",
    );
    days = rows.map((r) => r.d);
  });

  after(async () => {
    await server?.close();
    await env?.cleanup();
  });

  /** The expected figures, from SQL written independently of the server's. */
  async function expected(c: Case): Promise<Summary> {
    const q = async <T extends object>(select: string, tail = '') =>
      (await env.pool.query<T>(`SELECT ${select} FROM transactions_flat WHERE ${c.where} ${tail}`, c.values)).rows;
    const [k] = await q<{ n: number; total: string; average: string | null; approved: number }>(
      "count(*)::int AS n, coalesce(sum(amount), 0)::text AS total, round(avg(amount), 2)::text AS average, count(*) FILTER (WHERE status = 'APPROVED')::int AS approved",
    );
    const group = (expr: string, tail = 'GROUP BY 1 ORDER BY 1') =>
      q<{ key: string; count: number; amount: string }>(`${expr} AS key, count(*)::int AS count, sum(amount)::text AS amount`, tail);
    return {
      kpis: {
        transactions: k!.n,
        totalAmount: k!.total,
        averageAmount: k!.average,
        approvedCount: k!.approved,
        approvalRate: k!.n ? k!.approved / k!.n : null,
      },
      byCategory: await group('category'),
      byCity: await group('city'),
      byStatus: await group('status'),
      topMerchants: await group('merchant', 'GROUP BY 1 ORDER BY sum(amount) DESC, 1 LIMIT 10'),
      amountBuckets: await group('amount_bucket'),
      hourly: await group(`to_char(date_trunc('hour', event_ts AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24":00:00Z"')`),
      daily: await group("to_char(event_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
    };
  }

  const byKey = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  function cases(): Case[] {
    const mid = days[1]!;
    return [
      { name: 'no filter', query: {}, where: 'true', values: [] },
      { name: 'one day', query: { from: mid, to: mid }, where: "(event_ts AT TIME ZONE 'UTC')::date = $1::date", values: [mid] },
      { name: 'from only', query: { from: mid }, where: "(event_ts AT TIME ZONE 'UTC')::date >= $1::date", values: [mid] },
      { name: 'to only', query: { to: mid }, where: "(event_ts AT TIME ZONE 'UTC')::date <= $1::date", values: [mid] },
      { name: 'one category', query: { category: 'grocery' }, where: "category = 'grocery'", values: [] },
      { name: 'two categories', query: { category: ['travel', 'health'] }, where: "category IN ('travel', 'health')", values: [] },
      { name: 'city', query: { city: 'Paris' }, where: "city = 'Paris'", values: [] },
      { name: 'status', query: { status: 'DECLINED' }, where: "status = 'DECLINED'", values: [] },
      { name: 'merchant with quotes and comma', query: { merchant: ODD_MERCHANT }, where: 'merchant = $1', values: [ODD_MERCHANT] },
      {
        name: 'merchants with & and apostrophe',
        query: { merchant: ['H&M', "McDonald's"] },
        where: "merchant IN ('H&M', 'McDonald''s')",
        values: [],
      },
      { name: 'amount range', query: { minAmount: '100', maxAmount: '250.5' }, where: 'amount BETWEEN 100 AND 250.50', values: [] },
      { name: 'min amount only', query: { minAmount: '600' }, where: 'amount >= 600', values: [] },
      {
        name: 'everything at once',
        query: {
          from: days[0]!,
          to: mid,
          category: ['grocery', 'restaurants', 'transport'],
          city: ['Lyon', 'Nice', 'Paris'],
          status: ['APPROVED', 'PENDING'],
          minAmount: '10.5',
          maxAmount: '500',
        },
        where: `(event_ts AT TIME ZONE 'UTC')::date BETWEEN $1::date AND $2::date AND category IN ('grocery', 'restaurants', 'transport')
                AND city IN ('Lyon', 'Nice', 'Paris') AND status IN ('APPROVED', 'PENDING') AND amount >= 10.5 AND amount <= 500`,
        values: [days[0], mid],
      },
      { name: 'nothing matches', query: { merchant: 'Nobody' }, where: "merchant = 'Nobody'", values: [] },
    ];
  }

  it('loaded the fixture (the numbers below are not all zeros)', async () => {
    const s = await getJson<Summary>(base, '/api/summary');
    assert.equal(s.kpis.transactions, ROWS + 3);
    assert.ok(days.length >= 3, `events span several days: ${days.join(', ')}`);
  });

  it('computes every KPI and chart of every filter exactly as SQL does', async () => {
    for (const c of cases()) {
      const got = await getJson<Summary>(base, '/api/summary', c.query);
      const want = await expected(c);
      assert.deepEqual(got.kpis, want.kpis, `${c.name}: KPIs`);
      for (const key of ['byCategory', 'byCity', 'byStatus', 'amountBuckets', 'hourly', 'daily'] as const) {
        assert.deepEqual(byKey(got[key]), byKey(want[key]), `${c.name}: ${key}`);
      }
      assert.deepEqual(got.topMerchants, want.topMerchants, `${c.name}: top merchants`);
      if (c.name !== 'nothing matches') assert.ok(got.kpis.transactions > 0, `${c.name} matches something`);
    }
  });

  it('orders each chart for reading: amounts descending, vocabularies in their order, time ascending', async () => {
    const s = await getJson<Summary>(base, '/api/summary');
    for (const g of [s.byCategory, s.byCity, s.topMerchants]) {
      for (let i = 1; i < g.length; i++) assert.ok(Number(g[i - 1]!.amount) >= Number(g[i]!.amount));
    }
    assert.deepEqual(
      s.byStatus.map((g) => g.key),
      STATUSES.filter((st) => s.byStatus.some((g) => g.key === st)),
    );
    assert.deepEqual(
      s.amountBuckets.map((g) => g.key),
      AMOUNT_BUCKETS.filter((b) => s.amountBuckets.some((g) => g.key === b)),
    );
    assert.deepEqual(
      s.hourly.map((g) => g.key),
      [...s.hourly.map((g) => g.key)].sort(),
    );
    assert.deepEqual(
      s.daily.map((g) => g.key),
      days,
    );
    assert.equal(s.topMerchants.length, 10);
  });

  it('pages the matching transactions newest first, with the total', async () => {
    const c = cases().find((x) => x.name === 'everything at once')!;
    const { rows } = await env.pool.query<{ id: string }>(
      `SELECT transaction_id::text AS id FROM transactions_flat WHERE ${c.where} ORDER BY event_ts DESC, transaction_id DESC`,
      c.values,
    );
    const pageSize = 7;
    for (const page of [1, 2, Math.ceil(rows.length / pageSize)]) {
      const got = await getJson<{ total: number; page: number; rows: { transaction_id: string; event_ts: string; amount: string }[] }>(
        base,
        '/api/transactions',
        { ...c.query, page: String(page), pageSize: String(pageSize) },
      );
      assert.equal(got.total, rows.length);
      assert.equal(got.page, page);
      assert.deepEqual(
        got.rows.map((r) => r.transaction_id),
        rows.slice((page - 1) * pageSize, page * pageSize).map((r) => r.id),
        `page ${page}`,
      );
    }
    // Past the last page but within DASHBOARD_MAX_RESULT_WINDOW (10,000 rows): an empty page.
    const beyond = await getJson<{ rows: unknown[] }>(base, '/api/transactions', { ...c.query, page: '400' });
    assert.deepEqual(beyond.rows, []);
  });

  it('exports exactly the matching rows as CSV, streamed', async () => {
    for (const c of cases().filter((x) =>
      ['no filter', 'merchant with quotes and comma', 'everything at once', 'nothing matches'].includes(x.name),
    )) {
      const res = await get(base, '/api/transactions.csv', c.query);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="transactions-.*\.csv"$/);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed: no Content-Length, the size is not known up front');
      const [header, ...lines] = parseCsv(await res.text());
      const { rows } = await env.pool.query<{ event_ts: Date } & Record<string, string>>(
        `SELECT transaction_id::text, event_ts, event_date::text, event_hour::text, event_dayofweek, user_id::text, amount::text, amount_bucket,
                merchant, category, city, status, payment_method, currency
         FROM transactions_flat WHERE ${c.where} ORDER BY event_ts, transaction_id`,
        c.values,
      );
      assert.deepEqual(header, CSV_HEADER);
      assert.deepEqual(
        lines,
        rows.map((r) => CSV_HEADER.map((col) => (col === 'event_ts' ? r.event_ts.toISOString() : r[col]!))),
        c.name,
      );
    }
  });

  it('answers invalid filters with a 400 that names the parameter and what it expects', async () => {
    const bad: [string, Query, RegExp][] = [
      ['/api/summary', { from: '2026-02-30' }, /from: expected a date as YYYY-MM-DD, got "2026-02-30"/],
      ['/api/summary', { to: 'yesterday' }, /to: expected a date as YYYY-MM-DD/],
      ['/api/summary', { from: '2026-03-02', to: '2026-03-01' }, /date range is empty: from 2026-03-02 is after to 2026-03-01/],
      ['/api/summary', { status: 'LOST' }, /status: unknown status "LOST"; expected one of APPROVED, DECLINED, PENDING, REFUNDED/],
      ['/api/summary', { city: ['Paris', 'Atlantis'] }, /city: unknown city "Atlantis"/],
      ['/api/summary', { category: 'Grocery' }, /category: unknown category "Grocery"/],
      ['/api/summary', { merchant: '' }, /merchant: merchant must not be empty/],
      ['/api/summary', { minAmount: '-1' }, /minAmount: expected an amount in EUR such as 20 or 19\.99, got "-1"/],
      ['/api/summary', { maxAmount: '1e3' }, /maxAmount: expected an amount/],
      ['/api/summary', { minAmount: '1.999' }, /minAmount: expected an amount/],
      ['/api/summary', { minAmount: '50', maxAmount: '10' }, /amount range is empty: minAmount 50 is above maxAmount 10/],
      ['/api/summary', { from: ['2026-01-01', '2026-01-02'] }, /from: give from only once/],
      ['/api/summary', { colour: 'red' }, /unknown parameter colour; known: from, to, category/],
      ['/api/summary', { page: '2' }, /unknown parameter page/],
      ['/api/transactions', { page: '0' }, /page: page must be a whole number from 1/],
      ['/api/transactions', { pageSize: '1000' }, /pageSize: pageSize must be a whole number from 1 to 500/],
      ['/api/transactions', { page: 'two' }, /page: page must be a whole number from 1/],
      ['/api/transactions.csv', { status: "APPROVED' OR 1=1 --" }, /status: unknown status/],
    ];
    for (const [path, query, message] of bad) {
      const res = await get(base, path, query);
      const body = (await res.json()) as { error: string; message: string; issues: { param: string; message: string }[] };
      assert.equal(res.status, 400, `${path}?${qs(query)}`);
      assert.equal(body.error, 'INVALID_FILTER');
      assert.match(body.message, /^invalid filter: /);
      assert.match(body.message, message, `${path}?${qs(query)}`);
      assert.ok(body.issues.length >= 1 && body.issues.every((i) => i.param && i.message));
    }
  });

  it('reads as the read-only role, which cannot change anything', async () => {
    assert.equal(server.role, env.config.PG_READER_USER);
    const health = await getJson<{ role: string; schema: string }>(base, '/healthz');
    assert.deepEqual(health, { status: 'ok', role: env.config.PG_READER_USER, schema: env.config.PG_SCHEMA });
    const client = await server.pool.connect();
    try {
      const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
      assert.equal(rows[0]!.user, env.config.PG_READER_USER);
      // Lift the session's read-only default: what stops the writes must be the role's privileges.
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE');
      for (const sql of [
        "INSERT INTO quality_results (run_id, stream, check_name, passed) VALUES ('x', 'x', 'x', true)",
        'UPDATE transactions_flat SET amount = 1',
        'DELETE FROM loads',
        'TRUNCATE quarantine',
        'CREATE TABLE reader_was_here (id int)',
        'REFRESH MATERIALIZED VIEW daily_summary',
      ]) {
        await assert.rejects(client.query(sql), (err: { code?: string }) => err.code === '42501', sql);
      }
    } finally {
      client.release(true); // its session was changed: do not hand it back to the pool
    }
  });

  it('fills the pipeline panel from loads, quarantine, quality results and Kafka', async () => {
    const p = await getJson<{
      totals: { loaded_rows: number; quarantined: number; objects: number; pending_objects: number; unloaded_objects: number };
      runs: { workflow_id: string; temporal_url: string; inserted: number; quarantined: number; checks: number; checks_passed: number }[];
      loads: { workflow_id: string; temporal_url: string }[];
      perHour: { hour: string; loaded: number; quarantined: number }[];
      quality: { run_id: string; check_name: string; passed: boolean }[];
      lag: { available: boolean; topics: { topic: string; exists: boolean; lag: number; partitions: { high: number }[] }[] };
      temporalUi: string;
    }>(base, '/api/pipeline');
    const {
      rows: [db],
    } = await env.pool.query<{ loaded: number; quarantined: number; objects: number; checks: number }>(
      `SELECT (SELECT sum(inserted_count)::int FROM loads) AS loaded, (SELECT count(*)::int FROM quarantine) AS quarantined,
              (SELECT count(*)::int FROM bronze_objects) AS objects, (SELECT count(*)::int FROM quality_results WHERE run_id = $1) AS checks`,
      [workflowId],
    );
    assert.equal(p.totals.loaded_rows, ROWS + 3);
    assert.equal(p.totals.loaded_rows, db!.loaded);
    assert.equal(p.totals.quarantined, 2);
    assert.equal(p.totals.quarantined, db!.quarantined);
    assert.equal(p.totals.objects, db!.objects);
    assert.equal(p.totals.pending_objects + p.totals.unloaded_objects, 0);

    assert.equal(p.runs.length, 1);
    assert.equal(p.runs[0]!.workflow_id, workflowId);
    assert.equal(p.runs[0]!.temporal_url, temporalUiUrl(env.config, workflowId));
    assert.equal(p.runs[0]!.inserted, ROWS + 3);
    assert.equal(p.runs[0]!.quarantined, 2);
    assert.equal(p.runs[0]!.checks, db!.checks);
    assert.equal(p.runs[0]!.checks_passed, db!.checks);
    assert.ok(
      p.loads.length > 1 && p.loads.every((l) => l.workflow_id === workflowId && l.temporal_url === temporalUiUrl(env.config, workflowId)),
    );
    assert.equal(p.temporalUi, temporalUiUrl(env.config));

    assert.equal(p.perHour.length, 48);
    assert.equal(
      p.perHour.reduce((n, h) => n + h.loaded, 0),
      ROWS + 3,
    );
    assert.equal(
      p.perHour.reduce((n, h) => n + h.quarantined, 0),
      2,
    );
    assert.ok(p.quality.length > 0 && p.quality.length === db!.checks && p.quality.every((q) => q.run_id === workflowId && q.passed));

    assert.equal(p.lag.available, true);
    const topic = p.lag.topics.find((t) => t.topic === env.topic())!;
    assert.ok(topic.exists);
    assert.equal(
      topic.partitions.reduce((n, x) => n + x.high, 0),
      ROWS + 5,
      'end offsets count every message produced',
    );
    assert.equal(topic.lag, 0, 'the archive committed everything it read');
  });

  it('still answers, with a note, when Kafka is unreachable', async () => {
    const offline = await startDashboard({ ...env.config, KAFKA_BROKERS: ['127.0.0.1:1'] }, { host: '127.0.0.1', port: 0 });
    try {
      const p = await getJson<{ lag: { available: boolean; note: string }; totals: { loaded_rows: number } }>(offline.url, '/api/pipeline');
      assert.equal(p.lag.available, false);
      assert.match(p.lag.note, /Kafka at 127\.0\.0\.1:1 is unreachable .*consumer lag is unknown/);
      assert.equal(p.totals.loaded_rows, ROWS + 3);
    } finally {
      await offline.close();
    }
  });

  it('serves the page and Chart.js from local files only', async () => {
    const page = await get(base, '/');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<script src="\/assets\/chart\.umd\.min\.js"/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no asset from another host');
    const chart = await get(base, '/assets/chart.umd.min.js');
    assert.equal(chart.status, 200);
    assert.match(chart.headers.get('content-type') ?? '', /javascript/);
    assert.match(await chart.text(), /Chart\.js v4/);
    assert.match((await get(base, '/')).headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal((await get(base, '/assets/../package.json')).status, 404);
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const { port } = new URL(base);
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/api/summary', headers: { host: `attacker.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(status, 403);
  });

  it('refuses to start, saying how to fix it, when the reader role cannot log in', async () => {
    await assert.rejects(
      startDashboard({ ...env.config, PG_READER_PASSWORD: 'wrong-password' }, { host: '127.0.0.1', port: 0 }),
      (err: unknown) => err instanceof EtlError && err.code === 'CONFIG_INVALID' && /cannot log in.*etl migrate/.test(err.message),
    );
  });

  describe('BI views (migrations 003 and 007)', () => {
    const VIEWS = [
      'analytics_transactions',
      'analytics_daily_summary',
      'analytics_merchant_stats',
      'analytics_city_stats',
      'analytics_hourly_activity',
      'analytics_quality_results',
      'candles_1h',
      'candles_1d',
    ];

    it('are readable by the reader role and agree with transactions_flat', async () => {
      const r = (sql: string) => server.pool.query<Record<string, string | number>>(sql).then((x) => x.rows[0]!);
      const flat = await r(
        "SELECT count(*)::int AS n, sum(amount)::text AS total, count(*) FILTER (WHERE status = 'APPROVED')::int AS approved FROM transactions_flat",
      );
      assert.equal(flat.n, ROWS + 3);
      assert.deepEqual(
        await r(
          'SELECT count(*)::int AS n, sum(amount)::text AS total, count(*) FILTER (WHERE is_approved)::int AS approved FROM analytics_transactions',
        ),
        flat,
      );
      assert.deepEqual(
        await r(
          'SELECT sum(transaction_count)::int AS n, sum(total_amount)::text AS total, sum(approved_count)::int AS approved FROM analytics_daily_summary',
        ),
        flat,
      );
      assert.deepEqual(await r('SELECT sum(transaction_count)::int AS n, sum(total_amount)::text AS total FROM analytics_merchant_stats'), {
        n: flat.n,
        total: flat.total,
      });
      assert.deepEqual(await r('SELECT sum(transaction_count)::int AS n, sum(total_amount)::text AS total FROM analytics_city_stats'), {
        n: flat.n,
        total: flat.total,
      });
      assert.deepEqual(
        await r('SELECT sum(transaction_count)::int AS n, sum(total_amount)::text AS total FROM analytics_hourly_activity'),
        { n: flat.n, total: flat.total },
      );

      const paris = await r(
        "SELECT transaction_count::int AS n, approval_rate::text AS rate FROM analytics_city_stats WHERE city = 'Paris'",
      );
      const direct = await r(
        "SELECT count(*)::int AS n, round(count(*) FILTER (WHERE status = 'APPROVED')::numeric / count(*), 4)::text AS rate FROM transactions_flat WHERE city = 'Paris'",
      );
      assert.deepEqual(paris, direct);
      const hour = await r(`SELECT (SELECT min(hour_start) FROM analytics_hourly_activity)
                                 = (SELECT date_trunc('hour', min(event_ts) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' FROM transactions_flat) AS same`);
      assert.equal(hour.same, true, 'hour_start is the start of the UTC hour of the events');

      const q = await r(
        'SELECT count(*)::int AS n, bool_and(is_latest_run) AS latest, bool_and(passed) AS passed FROM analytics_quality_results',
      );
      assert.deepEqual(q, { n: (await getJson<{ quality: unknown[] }>(base, '/api/pipeline')).quality.length, latest: true, passed: true });
    });

    it('document themselves and every column', async () => {
      const { rows } = await env.pool.query<{ view: string; comment: string | null; undocumented: string[] }>(
        `SELECT c.relname AS view, obj_description(c.oid, 'pg_class') AS comment,
                array_remove(array_agg(CASE WHEN col_description(c.oid, a.attnum) IS NULL THEN a.attname END), NULL)::text[] AS undocumented
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
         WHERE n.nspname = $1 AND c.relkind = 'v' GROUP BY c.oid, c.relname ORDER BY 1`,
        [env.config.PG_SCHEMA],
      );
      assert.deepEqual(
        rows.map((r) => r.view),
        [...VIEWS].sort(),
      );
      for (const r of rows) {
        assert.ok(r.comment && r.comment.length > 20, `${r.view} has a comment`);
        assert.deepEqual(r.undocumented, [], `${r.view}: every column has a comment`);
      }
    });
  });
});
