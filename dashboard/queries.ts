// What the dashboard shows, computed in PostgreSQL from transactions_flat for the current filter.
// Amounts travel as strings (numeric, exact to the cent); counts as numbers.
import type pg from 'pg';
import { AMOUNT_BUCKETS, STATUSES } from '../streams/transactions/vocabulary';
import { filtered, filterValues, type Filter, type PageQuery } from './filters';

export interface Group {
  key: string;
  count: number;
  amount: string;
}
export interface Kpis {
  transactions: number;
  totalAmount: string;
  averageAmount: string | null;
  approvedCount: number;
  approvalRate: number | null;
}
export interface Summary {
  kpis: Kpis;
  byCategory: Group[];
  byCity: Group[];
  byStatus: Group[];
  topMerchants: Group[];
  amountBuckets: Group[];
  hourly: Group[];
  daily: Group[];
}

type Dim = 'total' | 'category' | 'city' | 'status' | 'amountBucket' | 'merchant' | 'day' | 'hour';

// One scan for every chart: each grouping set is one chart, () is the KPI row. Keys of days and
// hours are ISO strings (UTC), so they sort chronologically as text.
const SUMMARY_SQL = filtered(`
SELECT CASE
         WHEN GROUPING(category) = 0 THEN 'category'
         WHEN GROUPING(city) = 0 THEN 'city'
         WHEN GROUPING(status) = 0 THEN 'status'
         WHEN GROUPING(amount_bucket) = 0 THEN 'amountBucket'
         WHEN GROUPING(merchant) = 0 THEN 'merchant'
         WHEN GROUPING(event_hour) = 0 THEN 'hour'
         WHEN GROUPING(event_date) = 0 THEN 'day'
         ELSE 'total'
       END AS dim,
       coalesce(category, city, status, amount_bucket, merchant,
                to_char(event_date, 'YYYY-MM-DD') || coalesce('T' || lpad(event_hour::text, 2, '0') || ':00:00Z', '')) AS key,
       count(*) AS count,
       coalesce(sum(amount), 0)::text AS amount,
       count(*) FILTER (WHERE status = 'APPROVED') AS approved,
       round(avg(amount), 2)::text AS average
FROM filtered
GROUP BY GROUPING SETS ((category), (city), (status), (amount_bucket), (merchant), (event_date), (event_date, event_hour), ())
`);

interface SummaryRow {
  dim: Dim;
  key: string | null;
  count: number;
  amount: string;
  approved: number;
  average: string | null;
}

const byAmountDesc = (a: Group, b: Group) => Number(b.amount) - Number(a.amount) || a.key.localeCompare(b.key);
const byKey = (a: Group, b: Group) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const inOrder = (order: readonly string[]) => (a: Group, b: Group) => order.indexOf(a.key) - order.indexOf(b.key);

export async function summary(pool: pg.Pool, f: Filter): Promise<Summary> {
  const { rows } = await pool.query<SummaryRow>(SUMMARY_SQL, filterValues(f));
  const groups = (dim: Dim) => rows.filter((r) => r.dim === dim).map((r) => ({ key: r.key!, count: r.count, amount: r.amount }));
  const total = rows.find((r) => r.dim === 'total')!;
  return {
    kpis: {
      transactions: total.count,
      totalAmount: total.amount,
      averageAmount: total.average,
      approvedCount: total.approved,
      approvalRate: total.count ? total.approved / total.count : null,
    },
    byCategory: groups('category').sort(byAmountDesc),
    byCity: groups('city').sort(byAmountDesc),
    byStatus: groups('status').sort(inOrder(STATUSES)),
    topMerchants: groups('merchant').sort(byAmountDesc).slice(0, 10),
    amountBuckets: groups('amountBucket').sort(inOrder(AMOUNT_BUCKETS)),
    hourly: groups('hour').sort(byKey),
    daily: groups('day').sort(byKey),
  };
}

export interface TransactionRow {
  transaction_id: string;
  event_ts: string;
  merchant: string;
  category: string;
  city: string;
  status: string;
  amount: string;
  payment_method: string;
  currency: string;
  user_id: number;
}

// $1..$8 are the filter (filterValues); the page's own parameters follow.
const PAGE_SQL = filtered(`
SELECT transaction_id::text, to_char(event_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS event_ts, merchant, category, city,
       status, amount::text, payment_method, currency, user_id
FROM filtered
ORDER BY filtered.event_ts DESC, transaction_id DESC
LIMIT $9 OFFSET $10
`);
const COUNT_SQL = filtered('SELECT count(*) AS n FROM filtered');

/** Newest first; `total` counts every match so the pager knows the last page. */
export async function transactionsPage(
  pool: pg.Pool,
  q: PageQuery,
): Promise<{ total: number; page: number; pageSize: number; rows: TransactionRow[] }> {
  const values = filterValues(q);
  const [page, count] = await Promise.all([
    pool.query<TransactionRow>(PAGE_SQL, [...values, q.pageSize, (q.page - 1) * q.pageSize]),
    pool.query<{ n: number }>(COUNT_SQL, values),
  ]);
  return { total: count.rows[0]!.n, page: q.page, pageSize: q.pageSize, rows: page.rows };
}

export interface Options {
  categories: string[];
  cities: string[];
  statuses: string[];
  merchants: string[];
  minDate: string | null;
  maxDate: string | null;
  maxAmount: string | null;
}

/** The values the filter menus offer: what is actually in the table, not the whole vocabulary. */
export async function filterOptions(pool: pg.Pool): Promise<Options> {
  const { rows } = await pool.query<{ dim: string; values: string[] }>(`
    SELECT 'category' AS dim, array_agg(DISTINCT category ORDER BY category) AS values FROM transactions_flat
    UNION ALL SELECT 'city', array_agg(DISTINCT city ORDER BY city) FROM transactions_flat
    UNION ALL SELECT 'status', array_agg(DISTINCT status ORDER BY status) FROM transactions_flat
    UNION ALL SELECT 'merchant', array_agg(DISTINCT merchant ORDER BY merchant) FROM transactions_flat
    UNION ALL SELECT 'range', ARRAY[min(event_ts)::date::text, max(event_ts)::date::text, max(amount)::text] FROM transactions_flat`);
  const get = (dim: string) => rows.find((r) => r.dim === dim)?.values ?? [];
  const [minDate, maxDate, maxAmount] = get('range');
  return {
    categories: get('category'),
    cities: get('city'),
    statuses: get('status'),
    merchants: get('merchant'),
    minDate: minDate ?? null,
    maxDate: maxDate ?? null,
    maxAmount: maxAmount ?? null,
  };
}
