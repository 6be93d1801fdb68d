import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { Config } from './config';
import { classifyPostgresError } from './errors';

export type PostgresTlsConfig = Pick<Config, 'PG_SSLMODE' | 'PG_SSL_CA_FILE' | 'PG_SSL_CERT_FILE' | 'PG_SSL_KEY_FILE'>;
export type PostgresConnectionConfig = PostgresTlsConfig & Pick<Config, 'DATABASE_URL' | 'PG_PASSWORD' | 'PG_CONNECT_TIMEOUT_MS'>;

/**
 * node-postgres's `ssl` for PG_SSLMODE, with libpq's meaning: verify-full checks the chain and the
 * host name, verify-ca the chain only, require encrypts without checking (as libpq without a root cert).
 */
export function postgresTls(cfg: PostgresTlsConfig): ConnectionOptions | false {
  if (cfg.PG_SSLMODE === 'disable') return false;
  const files: ConnectionOptions = {
    ...(cfg.PG_SSL_CA_FILE ? { ca: readFileSync(cfg.PG_SSL_CA_FILE) } : {}),
    ...(cfg.PG_SSL_CERT_FILE ? { cert: readFileSync(cfg.PG_SSL_CERT_FILE), key: readFileSync(cfg.PG_SSL_KEY_FILE) } : {}),
  };
  if (cfg.PG_SSLMODE === 'require') return { ...files, rejectUnauthorized: false };
  if (cfg.PG_SSLMODE === 'verify-ca') return { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...files, rejectUnauthorized: true };
}

/**
 * DATABASE_URL without its ssl* parameters (pg would let them override `ssl`; config.ts reads them
 * into PG_SSLMODE and friends), with PG_PASSWORD as its password when that is set.
 */
export function connectionUrl(cfg: Pick<Config, 'DATABASE_URL' | 'PG_PASSWORD'>): string {
  let url: URL;
  try {
    url = new URL(cfg.DATABASE_URL);
  } catch {
    return cfg.DATABASE_URL;
  }
  for (const key of [...url.searchParams.keys()]) if (key.startsWith('ssl')) url.searchParams.delete(key);
  if (cfg.PG_PASSWORD) url.password = encodeURIComponent(cfg.PG_PASSWORD);
  return url.toString();
}

/** What every connection to the pipeline's database is made with: the pool, the stack's checks, tests. */
export function postgresConnection(cfg: PostgresConnectionConfig): pg.ClientConfig {
  return { connectionString: connectionUrl(cfg), ssl: postgresTls(cfg), connectionTimeoutMillis: cfg.PG_CONNECT_TIMEOUT_MS };
}

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
export function createPool(cfg: PostgresConnectionConfig & Pick<Config, 'PG_SCHEMA' | 'PG_POOL_MAX' | 'PG_STATEMENT_TIMEOUT_MS'>): pg.Pool {
  const pool = new pg.Pool({
    ...postgresConnection(cfg),
    max: cfg.PG_POOL_MAX,
    options: `-c search_path=${cfg.PG_SCHEMA} -c statement_timeout=${cfg.PG_STATEMENT_TIMEOUT_MS}`,
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

/**
 * The advisory-lock key of one of this deployment's objects (`$1`, e.g. `etl.load.42`): qualified by
 * the session's schema, so that deployments sharing a server (or tests side by side) never
 * contend for the same object number.
 */
export const OBJECT_LOCK_KEY = "hashtext(current_schema() || '.' || $1)";

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
