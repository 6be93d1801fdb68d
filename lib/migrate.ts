// Forward-only migrations: numbered plain SQL files, each applied in one transaction that also
// records it. An advisory lock per schema makes concurrent runs take turns; the second finds the
// work done. Identifiers are quoted by the server (format %I / %L), never spliced in here.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PROJECT_ROOT } from './config';
import { EtlError, isEtlError } from './errors';
import { SQLSTATE, sqlState } from './postgres';
import { migrateStreamTables, type StreamMigrateOptions, type StreamMigration, type StreamTables } from './stream-tables';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');
const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = FILE_PATTERN.exec(file);
      if (!match) throw new EtlError('MIGRATION_FAILED', `migration file ${file} must be named NNN_lowercase_name.sql`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return { version: Number(match[1]), name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && m.version === migrations[i - 1]!.version)
      throw new EtlError('MIGRATION_FAILED', `two migrations share version ${m.version}`);
  });
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
  /** The streams whose tables were created or changed from their declarations, with their new version. */
  streams: StreamMigration[];
}

async function inLockedTransaction<T>(client: pg.PoolClient, lockKey: string, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function executeFormatted(client: pg.PoolClient, template: string, args: string[]): Promise<void> {
  const placeholders = args.map((_, i) => `$${i + 2}::text`).join(', ');
  const { rows } = await client.query<{ stmt: string }>(`SELECT format($1::text, ${placeholders}) AS stmt`, [template, ...args]);
  await client.query(rows[0]!.stmt);
}

/**
 * The numbered migrations, then every stream's own tables from its declaration (lib/stream-tables.ts)
 * in one transaction: all of them change, or none.
 */
export async function migrate(
  pool: pg.Pool,
  schema: string,
  streams: readonly StreamTables[] = [],
  options: StreamMigrateOptions = {},
  migrations = readMigrations(),
): Promise<MigrateResult> {
  const client = await pool.connect();
  const result: MigrateResult = { applied: [], alreadyApplied: 0, streams: [] };
  const lockKey = `etl.migrate.${schema}`;
  try {
    await inLockedTransaction(client, lockKey, async () => {
      await executeFormatted(client, 'CREATE SCHEMA IF NOT EXISTS %I', [schema]);
      await client.query("SELECT set_config('search_path', $1, true)", [schema]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    });
    for (const m of migrations) {
      await inLockedTransaction(client, lockKey, async () => {
        await client.query("SELECT set_config('search_path', $1, true)", [schema]);
        const { rows } = await client.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [m.version]);
        if (rows[0]) {
          if (rows[0].checksum !== m.checksum) {
            throw new EtlError(
              'MIGRATION_CHANGED',
              `migration ${m.version}_${m.name}.sql was edited after it was applied; migrations are forward-only: revert the edit and add a new migration`,
            );
          }
          result.alreadyApplied++;
          return;
        }
        try {
          await client.query(m.sql);
        } catch (err) {
          throw new EtlError('MIGRATION_FAILED', `migration ${m.version}_${m.name}.sql failed: ${(err as Error).message}`, { cause: err });
        }
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        result.applied.push(`${m.version}_${m.name}`);
      });
    }
    await inLockedTransaction(client, lockKey, async () => {
      await client.query("SELECT set_config('search_path', $1, true)", [schema]);
      try {
        result.streams = await migrateStreamTables(client, streams, options);
      } catch (err) {
        if (isEtlError(err)) throw err;
        throw new EtlError('MIGRATION_FAILED', `the stream tables failed to migrate: ${(err as Error).message}`, { cause: err });
      }
    });
  } finally {
    client.release();
  }
  return result;
}

export type ReaderRoleOutcome = 'created' | 'updated' | 'skipped-no-privilege';

/**
 * The read-only role for analysts, dashboards and BI tools: it may read the schema and nothing more.
 * Roles are cluster-wide, so the lock is global. Without CREATEROLE (a managed database) this is
 * skipped and reported; the pipeline itself does not need the role.
 */
export async function ensureReaderRole(pool: pg.Pool, schema: string, user: string, password: string): Promise<ReaderRoleOutcome> {
  const client = await pool.connect();
  try {
    return await inLockedTransaction(client, 'etl.reader-role', async () => {
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
      const exists = (rowCount ?? 0) > 0;
      await executeFormatted(client, exists ? 'ALTER ROLE %I LOGIN PASSWORD %L' : 'CREATE ROLE %I LOGIN PASSWORD %L', [user, password]);
      await executeFormatted(client, 'GRANT USAGE ON SCHEMA %I TO %I', [schema, user]);
      await executeFormatted(client, 'GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', [schema, user]);
      await executeFormatted(client, 'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', [schema, user]);
      return exists ? 'updated' : 'created';
    });
  } catch (err) {
    if (sqlState(err) === SQLSTATE.INSUFFICIENT_PRIVILEGE) return 'skipped-no-privilege';
    throw err;
  } finally {
    client.release();
  }
}
