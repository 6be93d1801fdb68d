import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { Config } from './config';
import { EtlError, isEtlError } from './errors';
import { isNetworkError, TLS_REASONS, tlsFailure, type TlsFailure } from './network';

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

/** PostgreSQL SQLSTATEs this project reacts to, by name (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const SQLSTATE = {
  UNIQUE_VIOLATION: '23505',
  EXCLUSION_VIOLATION: '23P01',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  UNDEFINED_TABLE: '42P01',
  DUPLICATE_OBJECT: '42710',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
  TOO_MANY_CONNECTIONS: '53300',
  DISK_FULL: '53100',
  OUT_OF_MEMORY: '53200',
  LOCK_NOT_AVAILABLE: '55P03',
  PROGRAM_LIMIT_EXCEEDED: '54000',
  STATEMENT_TOO_COMPLEX: '54001',
  INVALID_PASSWORD: '28P01',
  INSUFFICIENT_PRIVILEGE: '42501',
} as const;

const TRANSIENT_SQLSTATES = new Set<string>([
  SQLSTATE.SERIALIZATION_FAILURE,
  SQLSTATE.DEADLOCK_DETECTED,
  SQLSTATE.ADMIN_SHUTDOWN,
  SQLSTATE.CRASH_SHUTDOWN,
  SQLSTATE.CANNOT_CONNECT_NOW,
  SQLSTATE.TOO_MANY_CONNECTIONS,
  SQLSTATE.DISK_FULL,
  SQLSTATE.OUT_OF_MEMORY,
  SQLSTATE.LOCK_NOT_AVAILABLE,
]);
/** Class 08, connection exception: the session is gone, the server may be fine or restarting. */
const CONNECTION_EXCEPTION_CLASS = '08';

/**
 * What node-postgres throws, without a SQLSTATE, when the server closed or dropped the session (a
 * restart) or did not accept one in time: the server is gone for now, not the statement wrong.
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|Query read timeout)/;

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const POSTGRES_TLS_FIX: Record<TlsFailure['kind'], string> = {
  untrusted: 'set PG_SSL_CA_FILE to the CA that signed the server certificate (your provider publishes it)',
  hostname: 'connect by a host name the certificate carries (in DATABASE_URL), or use PG_SSLMODE=verify-ca',
  expired: 'renew the expired certificate',
  'client-cert-missing': 'the server wants a client certificate: set PG_SSL_CERT_FILE and PG_SSL_KEY_FILE',
  'client-cert-rejected': 'the server refused PG_SSL_CERT_FILE: use a certificate its CA signed',
  'not-tls': 'the server does not offer TLS: set PG_SSLMODE=disable, or enable ssl on the server',
  'tls-required': 'set PG_SSLMODE=verify-full (with PG_SSL_CA_FILE for a private CA)',
  other: 'check PG_SSLMODE and PG_SSL_CA_FILE',
};

/** Logins the server refused, and TLS it required, refused or could not prove: no retry fixes these. */
function postgresSecurityError(err: unknown, address: string): EtlError | undefined {
  const state = sqlState(err);
  const message = (err as Error | null)?.message ?? '';
  if (state === '28000' && /no encryption/.test(message)) {
    return new EtlError(
      'POSTGRES_TLS_FAILED',
      `PostgreSQL at ${address} requires TLS and the connection had none — set PG_SSLMODE=verify-full (with PG_SSL_CA_FILE for a private CA)`,
      { cause: err },
    );
  }
  if (state === SQLSTATE.INVALID_PASSWORD || state === '28000') {
    return new EtlError(
      'POSTGRES_AUTH_FAILED',
      `PostgreSQL at ${address} refused the login (${message}) — check the user and password in DATABASE_URL (or PG_PASSWORD)`,
      {
        cause: err,
      },
    );
  }
  if (/The server does not support SSL connections/.test(message)) {
    return new EtlError(
      'POSTGRES_TLS_FAILED',
      `TLS to PostgreSQL at ${address} failed: ${TLS_REASONS['not-tls']} — ${POSTGRES_TLS_FIX['not-tls']}`,
      {
        cause: err,
      },
    );
  }
  const tls = tlsFailure(err);
  if (tls)
    return new EtlError('POSTGRES_TLS_FAILED', `TLS to PostgreSQL at ${address} failed: ${tls.reason} — ${POSTGRES_TLS_FIX[tls.kind]}`, {
      cause: err,
    });
  return undefined;
}

/** Classifies a PostgreSQL failure into the taxonomy, or returns undefined if it is not one we know. */
export function classifyPostgresError(err: unknown, address: string): EtlError | undefined {
  if (isEtlError(err)) return err;
  const security = postgresSecurityError(err, address);
  if (security) return security;
  const state = sqlState(err);
  if (
    isNetworkError(err) ||
    state?.startsWith(CONNECTION_EXCEPTION_CLASS) ||
    (!state && PG_CONNECTION_LOST.test((err as Error | null)?.message ?? ''))
  ) {
    return new EtlError(
      'POSTGRES_UNREACHABLE',
      `cannot reach PostgreSQL at ${address} — start it with \`etl stack up\` or set DATABASE_URL`,
      { cause: err },
    );
  }
  if (state === SQLSTATE.UNDEFINED_TABLE) {
    return new EtlError(
      'SCHEMA_NOT_MIGRATED',
      `PostgreSQL at ${address} lacks the pipeline tables (${(err as Error).message}) — run \`etl migrate\``,
      { cause: err },
    );
  }
  if (state && TRANSIENT_SQLSTATES.has(state)) {
    return new EtlError('POSTGRES_TRANSIENT', `PostgreSQL at ${address}: ${(err as Error).message} (SQLSTATE ${state})`, { cause: err });
  }
  return undefined;
}
