// The dashboard's only database access: the read-only role, so a bug (or a crafted request) here
// can never change pipeline data. Host and database come from DATABASE_URL; the credentials do not.
import pg from 'pg';
import type { Config } from '../lib/config';
import { EtlError } from '../lib/errors';
import { classifyPostgresError, SQLSTATE, sqlState } from '../lib/postgres';
import { connectionUrl, postgresAddress, postgresTls, type PostgresTlsConfig } from '../lib/postgres';

type ReaderConfig = Pick<Config, 'DATABASE_URL' | 'PG_SCHEMA' | 'PG_READER_USER' | 'PG_READER_PASSWORD'> & PostgresTlsConfig;

const INT8_OID = 20;
// Counts arrive as bigint; as strings they would be awkward in JSON. Row counts stay far below
// 2^53, so a JS number is exact. Numerics (amounts) stay strings: those must not lose cents.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function readerConnectionString(cfg: ReaderConfig): string {
  const url = new URL(connectionUrl({ DATABASE_URL: cfg.DATABASE_URL, PG_PASSWORD: '' })); // without its ssl* parameters
  url.username = encodeURIComponent(cfg.PG_READER_USER);
  url.password = encodeURIComponent(cfg.PG_READER_PASSWORD);
  return url.toString();
}

export function createReaderPool(cfg: ReaderConfig, max = 4): pg.Pool {
  const pool = new pg.Pool({
    connectionString: readerConnectionString(cfg),
    ssl: postgresTls(cfg),
    max,
    types,
    // UTC: hour and day buckets must match the pipeline's UTC calendar columns. Read-only
    // transactions on top of the role's grants: defence in depth, and it documents the intent.
    options: `-c search_path=${cfg.PG_SCHEMA} -c TimeZone=UTC -c statement_timeout=60000 -c default_transaction_read_only=on`,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'etl-dashboard',
  });
  pool.on('error', () => undefined); // a lost idle connection is replaced on the next query
  return pool;
}

/** Turns a database failure into the taxonomy, naming the reader role and what fixes it. */
export function classifyReaderError(err: unknown, cfg: ReaderConfig): unknown {
  const where = postgresAddress(cfg.DATABASE_URL);
  const state = sqlState(err);
  if (state === SQLSTATE.INVALID_PASSWORD || state === '28000') {
    return new EtlError(
      'CONFIG_INVALID',
      `the read-only role "${cfg.PG_READER_USER}" cannot log in to ${where} — run \`etl migrate\` (it creates the role) or fix PG_READER_USER / PG_READER_PASSWORD`,
      { cause: err },
    );
  }
  if (state === SQLSTATE.INSUFFICIENT_PRIVILEGE) {
    return new EtlError(
      'SCHEMA_NOT_MIGRATED',
      `the read-only role "${cfg.PG_READER_USER}" may not read schema "${cfg.PG_SCHEMA}" — run \`etl migrate\`, which grants it`,
      { cause: err },
    );
  }
  return classifyPostgresError(err, where) ?? err;
}

/** Fails fast, with the fix in the message, when the role, the schema or the server is missing. */
export async function checkReader(pool: pg.Pool, cfg: ReaderConfig): Promise<string> {
  try {
    await pool.query('SELECT 1 FROM transactions_flat LIMIT 0');
    const { rows } = await pool.query<{ role: string }>('SELECT current_user AS role');
    return rows[0]!.role;
  } catch (err) {
    throw classifyReaderError(err, cfg);
  }
}
