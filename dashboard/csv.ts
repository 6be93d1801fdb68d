// CSV export of the matching transactions, streamed: a server-side cursor (pg-query-stream)
// reads batches as the HTTP client accepts bytes, so memory stays flat whatever the row count.
// Bounded twice: by rows (DASHBOARD_CSV_MAX_ROWS; a cut export says so before its first byte) and
// by time (DASHBOARD_CSV_MAX_SECONDS; past it the download is aborted, so a slow or stalled client
// cannot hold one of the reader's few connections for ever).
import { Transform, type Readable } from 'node:stream';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { filtered, filterValues, type Filter } from './filters';

export const CSV_COLUMNS = [
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
] as const;

/** Columns that PostgreSQL renders as plain numbers: a leading minus there is a sign, not a formula. */
const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['event_hour', 'user_id', 'amount']);

// Every value as text from PostgreSQL: amounts keep their exact digits, times are ISO-8601 UTC.
// $9 is the row cap; the cut is the same as the order of the file: the oldest rows first.
const EXPORT_SQL = filtered(`
SELECT transaction_id::text, to_char(event_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS event_ts,
       event_date::text, event_hour::text, event_dayofweek, user_id::text, amount::text, amount_bucket,
       merchant, category, city, status, payment_method, currency
FROM filtered
ORDER BY filtered.event_ts, transaction_id
LIMIT $9
`);
// How many rows the export will hold, counting no further than one past the cap.
const COUNT_SQL = filtered('SELECT count(*) AS n FROM (SELECT 1 FROM filtered LIMIT $9) capped');

/** RFC 4180: quote a field only when it holds a comma, a quote or a line break. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly (string | null)[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/**
 * A text cell a spreadsheet would run as a formula (OWASP, "CSV injection": a leading =, +, -, @,
 * tab or carriage return) gets a leading apostrophe, which spreadsheets show as text. Numeric
 * columns are left alone: their values are PostgreSQL's numbers, and -12.50 must stay a number.
 */
export function neutralized(column: string, value: string | null): string | null {
  if (value === null || NUMERIC_COLUMNS.has(column)) return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export interface CsvLimits {
  maxRows: number;
  maxSeconds: number;
  /** Called when the time bound aborts the stream (the caller logs it). */
  onTimeout?: () => void;
}

export interface CsvExport {
  stream: Readable;
  /** Data rows the file holds (the header aside). */
  rows: number;
  /** More rows matched than the file holds (maxRows cut it). */
  truncated: boolean;
}

/**
 * The CSV (header first) of the rows matching `f`, at most `maxRows`. Counted and streamed in one
 * snapshot (REPEATABLE READ), so `rows` and `truncated` describe exactly the file that follows. The
 * pool client is released when the stream ends, fails, times out or is destroyed (the browser went
 * away), so an abandoned download frees its connection.
 */
export async function exportCsv(pool: pg.Pool, f: Filter, limits: CsvLimits): Promise<CsvExport> {
  const client = await pool.connect();
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  let matched: number;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // A cursor's statement_timeout runs until the export ends, stalls of the client included: the
    // reader's 60 s would cut every long export. Its own bound instead, a little past the timer
    // below, which ends the export first and says why.
    await client.query("SELECT set_config('statement_timeout', $1, true)", [`${limits.maxSeconds + 5}s`]);
    const { rows } = await client.query<{ n: number }>(COUNT_SQL, [...filterValues(f), limits.maxRows + 1]);
    matched = rows[0]!.n;
  } catch (err) {
    release(err as Error);
    throw err;
  }
  const count = Math.min(matched, limits.maxRows);
  const rows = client.query(new QueryStream(EXPORT_SQL, [...filterValues(f), limits.maxRows], { batchSize: 1_000 }));
  let headerSent = false;
  const toCsv = new Transform({
    writableObjectMode: true,
    transform(row: Record<string, string | null>, _enc, done) {
      const header = headerSent ? '' : csvLine(CSV_COLUMNS);
      headerSent = true;
      done(null, header + csvLine(CSV_COLUMNS.map((c) => neutralized(c, row[c] ?? null))));
    },
    flush(done) {
      done(null, headerSent ? '' : csvLine(CSV_COLUMNS));
    },
  });
  const timer = setTimeout(() => {
    limits.onTimeout?.();
    toCsv.destroy(new Error(`CSV export took longer than ${limits.maxSeconds} s`));
  }, limits.maxSeconds * 1_000);
  rows.on('error', (err) => {
    release(err);
    toCsv.destroy(err);
  });
  rows.on('end', () => {
    // End the read-only transaction before the connection goes back to the pool.
    client.query('COMMIT').then(
      () => release(),
      (err: Error) => release(err),
    );
  });
  // The HTTP response closed early or the time ran out: stop the cursor and give the connection
  // back, marked broken so that the pool does not reuse a connection still mid-query.
  toCsv.on('close', () => {
    clearTimeout(timer);
    if (!released && !rows.readableEnded) {
      rows.destroy();
      release(new Error('CSV download aborted'));
    }
  });
  return { stream: rows.pipe(toCsv), rows: count, truncated: matched > limits.maxRows };
}
