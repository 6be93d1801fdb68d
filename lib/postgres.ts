import pg from 'pg';
import type { Config } from './config';
import { classifyPostgresError } from './errors';

/** host:port of a connection string, without its credentials (safe to print). */
export function postgresAddress(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/**
 * A pool whose sessions see `schema` first, so SQL stays unqualified and a test can run the whole
 * pipeline in a schema of its own.
 */
export function createPool(cfg: Pick<Config, 'DATABASE_URL' | 'PG_SCHEMA' | 'PG_POOL_MAX'>): pg.Pool {
  const pool = new pg.Pool({
    connectionString: cfg.DATABASE_URL,
    max: cfg.PG_POOL_MAX,
    options: `-c search_path=${cfg.PG_SCHEMA} -c statement_timeout=600000`,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server (restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor may a checked-out one: pg emits the loss on the client itself, where nobody listens between
  // queries (the archive's advisory-lock session sits idle for the whole archive). Its queries fail
  // anyway, and pg-pool discards a broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `fn`, turning driver failures into the taxonomy with an actionable message. */
export async function withPostgresErrors<T>(databaseUrl: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyPostgresError(err, postgresAddress(databaseUrl)) ?? err;
  }
}

export async function pingPostgres(pool: pg.Pool, databaseUrl: string): Promise<void> {
  await withPostgresErrors(databaseUrl, () => pool.query('SELECT 1'));
}

export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
