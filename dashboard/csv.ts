// CSV export of every matching transaction, streamed: a server-side cursor (pg-query-stream)
// reads batches as the HTTP client accepts bytes, so memory stays flat whatever the row count.
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

// Every value as text from PostgreSQL: amounts keep their exact digits, times are ISO-8601 UTC.
const EXPORT_SQL = filtered(`
SELECT transaction_id::text, to_char(event_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS event_ts,
       event_date::text, event_hour::text, event_dayofweek, user_id::text, amount::text, amount_bucket,
       merchant, category, city, status, payment_method, currency
FROM filtered
ORDER BY filtered.event_ts, transaction_id
`);

/** RFC 4180: quote a field only when it holds a comma, a quote or a line break. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly (string | null)[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/**
 * A readable stream of the CSV (header first). The pool client is released when the stream ends,
 * fails or is destroyed (the browser went away), so an abandoned download frees its connection.
 */
export async function exportCsv(pool: pg.Pool, f: Filter): Promise<Readable> {
  const client = await pool.connect();
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  const rows = client.query(new QueryStream(EXPORT_SQL, filterValues(f), { batchSize: 1_000 }));
  let headerSent = false;
  const toCsv = new Transform({
    writableObjectMode: true,
    transform(row: Record<string, string | null>, _enc, done) {
      const header = headerSent ? '' : csvLine(CSV_COLUMNS);
      headerSent = true;
      done(null, header + csvLine(CSV_COLUMNS.map((c) => row[c] ?? null)));
    },
    flush(done) {
      done(null, headerSent ? '' : csvLine(CSV_COLUMNS));
    },
  });
  rows.on('error', (err) => {
    release(err);
    toCsv.destroy(err);
  });
  rows.on('end', () => release());
  // The HTTP response closed early: stop the cursor and give the connection back, marked broken
  // so that the pool does not reuse a connection still mid-query.
  toCsv.on('close', () => {
    if (!released) {
      rows.destroy();
      release(new Error('CSV download aborted'));
    }
  });
  return rows.pipe(toCsv);
}
